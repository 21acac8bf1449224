"""Cobertura reader: agrees with coverage.py's JSON, gcovr's and c8's own summaries."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from covtui.errors import InputError
from covtui.readers import read_coverage
from covtui.readers.cobertura import read_cobertura

from .conftest import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    assert_matches_c8_summary,
    coverage_cmd,
    lcov_summary,
    make_python_project,
    run,
)


def coverage_json_numbers(summary: dict) -> tuple[int, ...]:
    return (
        summary["num_statements"],
        summary["missing_lines"],
        summary["num_branches"],
        summary["missing_branches"],
        summary["num_partial_branches"],
    )


def our_numbers(numbers) -> tuple[int, ...]:
    return (
        numbers.n_statements,
        numbers.n_missing,
        numbers.n_branches,
        numbers.n_missing_branches,
        numbers.n_partial_branches,
    )


def exits_as_minus_one(arcs) -> list[tuple[int, int]]:
    """coverage.py's XML writes every exit as "exit"; the reader makes them -1."""
    return sorted((a, -1 if b < 0 else b) for a, b in arcs)


def test_matches_coverage_json(py_project: Path) -> None:
    report = read_cobertura(py_project / "coverage.xml", root=py_project)
    truth = json.loads((py_project / "coverage.json").read_text())
    assert report.format == "cobertura"
    assert report.has_branches
    ours = {fc.path: fc for fc in report.files}
    assert set(ours) == set(truth["files"])
    for name, entry in truth["files"].items():
        fc = ours[name]
        assert our_numbers(fc.numbers) == coverage_json_numbers(entry["summary"]), name
        assert list(fc.missing_lines) == entry["missing_lines"]
        assert exits_as_minus_one(fc.missing_arcs) == exits_as_minus_one(entry["missing_branches"])
    assert our_numbers(report.numbers) == coverage_json_numbers(truth["totals"])
    assert report.numbers.n_executed == truth["totals"]["covered_lines"]


def test_files_relative_to_several_source_dirs(tmp_path: Path) -> None:
    """With `source = pkg, lib` coverage.py writes names relative to each source directory."""
    project = make_python_project(tmp_path / "proj")
    (project / "lib" / "__init__.py").unlink()  # two "__init__.py" would be ambiguous
    (project / ".coveragerc").write_text("[run]\nbranch = true\nsource = pkg, lib\n")
    run(coverage_cmd("run", "main.py"), project)
    run(coverage_cmd("xml", "-o", "coverage.xml"), project)
    run(coverage_cmd("json", "-o", "coverage.json"), project)
    xml = (project / "coverage.xml").read_text()
    assert 'filename="helper.py"' in xml and "<source>" in xml  # the case under test

    report = read_cobertura(project / "coverage.xml", root=project)
    truth = json.loads((project / "coverage.json").read_text())
    assert {fc.path: our_numbers(fc.numbers) for fc in report.files} == {
        name: coverage_json_numbers(entry["summary"]) for name, entry in truth["files"].items()
    }


def test_root_elsewhere_and_files_elsewhere(py_project: Path, tmp_path: Path) -> None:
    report = read_cobertura(py_project / "coverage.xml", root=py_project.parent)
    assert f"{py_project.name}/pkg/mod.py" in {fc.path for fc in report.files}
    # A report whose files are not on this machine: trust its first <source>.
    moved = tmp_path / "moved.xml"
    moved.write_text(
        (py_project / "coverage.xml").read_text().replace(str(py_project), "/nowhere/proj")
    )
    paths = {fc.path for fc in read_cobertura(moved, root=tmp_path).files}
    assert "/nowhere/proj/pkg/mod.py" in paths


def test_a_file_split_over_classes_is_merged(py_project: Path, tmp_path: Path) -> None:
    """Jest/istanbul and gcovr may list one file in several <class> elements."""
    xml = (py_project / "coverage.xml").read_text()
    match = re.search(
        r'(<class [^>]*filename="pkg/mod.py".*?<lines>)(.*?)(</lines>\s*</class>)', xml, re.S
    )
    assert match
    head, body, tail = match.groups()
    lines = re.findall(r"<line .*?/>", body)
    half = len(lines) // 2
    split = head + "".join(lines[:half]) + tail + head + "".join(lines[half:]) + tail
    merged = tmp_path / "split.xml"
    merged.write_text(xml[: match.start()] + split + xml[match.end() :])

    original = read_cobertura(py_project / "coverage.xml", root=py_project)
    again = read_cobertura(merged, root=py_project)
    assert [fc.path for fc in again.files] == [fc.path for fc in original.files]
    assert again.numbers == original.numbers
    assert {fc.path: fc.missing_lines for fc in again.files} == {
        fc.path: fc.missing_lines for fc in original.files
    }


@pytest.fixture(scope="module")
def gcovr_outputs(c_project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not shutil.which("gcovr"):
        pytest.skip("gcovr is not installed (pip install gcovr)")
    out = tmp_path_factory.mktemp("gcovr")
    xml, summary = out / "gcovr.xml", out / "summary.json"
    run(["gcovr", "-r", ".", "--cobertura", str(xml), "--json-summary", str(summary)], c_project)
    return xml, summary


def test_gcovr_matches_its_json_summary(c_project: Path, gcovr_outputs) -> None:
    xml, summary_path = gcovr_outputs
    report = read_cobertura(xml, root=c_project)
    summary = json.loads(summary_path.read_text())
    ours = {fc.path: fc.numbers for fc in report.files}
    assert set(ours) == {f["filename"] for f in summary["files"]}
    for entry in [*summary["files"], summary]:
        numbers = ours[entry["filename"]] if "filename" in entry else report.numbers
        assert (numbers.n_executed, numbers.n_statements) == (
            entry["line_covered"],
            entry["line_total"],
        )
        assert (numbers.n_executed_branches, numbers.n_branches) == (
            entry["branch_covered"],
            entry["branch_total"],
        )
        assert (numbers.n_functions - numbers.n_missing_functions, numbers.n_functions) == (
            entry["function_covered"],
            entry["function_total"],
        )


def test_gcovr_agrees_with_lcov(c_project: Path, c_lcov: Path, gcovr_outputs) -> None:
    report = read_cobertura(gcovr_outputs[0], root=c_project)
    expected = lcov_summary(c_lcov)
    assert (report.numbers.n_executed, report.numbers.n_statements) == expected.lines
    assert (report.numbers.n_executed_branches, report.numbers.n_branches) == expected.branches


def test_istanbul_cobertura_from_c8(c8_project: Path) -> None:
    report = read_cobertura(c8_project / "coverage" / "cobertura-coverage.xml", root=c8_project)
    assert [fc.path for fc in report.files] == ["app.js"]
    assert_matches_c8_summary(report, c8_project)


def test_dispatch_detects_cobertura(py_project: Path) -> None:
    assert read_coverage([py_project / "coverage.xml"], root=py_project).format == "cobertura"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BILLION_LAUGHS.format(root="coverage"), "unsafe XML refused"),
        (EXTERNAL_ENTITY.format(root="coverage"), "unsafe XML refused"),
        ("<html><body/></html>", "root element is <html>"),
        ('<testsuites><testsuite name="x"/></testsuites>', "root element is <testsuites>"),
        ('<coverage clover="4"><project/></coverage>', "no <packages>"),
        ("<coverage><packages><package>", "not well-formed"),
        ("<coverage><packages><package><classes><class/>", "<class> without a filename"),
        (
            '<coverage><packages><package><classes><class filename="a.py"><lines>'
            '<line hits="1"/></lines></class></classes></package></packages></coverage>',
            "<line> without number",
        ),
        (
            '<coverage><packages><package><classes><class filename="a.py"><lines>'
            '<line number="1" hits="many"/></lines></class></classes></package></packages></coverage>',
            "hits is not a number",
        ),
        ("", "not well-formed"),
    ],
)
def test_bad_xml_is_an_input_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_cobertura(path, root=tmp_path)
    assert problem in caught.value.problem
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
