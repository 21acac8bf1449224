"""coverage json reader: per-file and total numbers equal the report coverage.py wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from covtui.errors import InputError
from covtui.readers import read_coverage
from covtui.readers.coverage_json import read_coverage_json

from .conftest import coverage_cmd, make_python_project, run

SUMMARY_KEYS = (
    "covered_lines",
    "num_statements",
    "missing_lines",
    "excluded_lines",
    "num_branches",
    "num_partial_branches",
    "covered_branches",
    "missing_branches",
)


def summary_of(numbers) -> dict[str, int]:
    ours = numbers.as_coverage_json()
    return {key: ours[key] for key in SUMMARY_KEYS}


def test_totals_and_files_equal_the_report(py_project: Path) -> None:
    path = py_project / "coverage.json"
    truth = json.loads(path.read_text())
    report = read_coverage_json(path, root=py_project)
    assert report.format == "coverage.json"
    assert report.has_branches
    assert report.read_s > 0
    assert summary_of(report.numbers) == {k: truth["totals"][k] for k in SUMMARY_KEYS}
    assert report.numbers.pc_covered == pytest.approx(truth["totals"]["percent_covered"])
    assert report.numbers.n_files == len(truth["files"])
    ours = {fc.path: fc for fc in report.files}
    assert set(ours) == set(truth["files"])
    for name, entry in truth["files"].items():
        fc = ours[name]
        assert summary_of(fc.numbers) == {k: entry["summary"][k] for k in SUMMARY_KEYS}
        assert list(fc.missing_lines) == entry["missing_lines"]
        assert [list(arc) for arc in fc.missing_arcs] == entry["missing_branches"]


def test_functions_and_classes(py_project: Path) -> None:
    path = py_project / "coverage.json"
    entry = json.loads(path.read_text())["files"]["pkg/mod.py"]
    report = read_coverage_json(path, root=py_project)
    fc = next(f for f in report.files if f.path == "pkg/mod.py")
    regions = {(f.kind, f.name): f for f in fc.functions}
    expected = {("function", n): r for n, r in entry["functions"].items() if n} | {
        ("class", n): r for n, r in entry["classes"].items() if n
    }
    assert set(regions) == set(expected)
    for key, region in expected.items():
        ours = regions[key]
        assert ours.start_line == region["start_line"]
        assert ours.n_statements == region["summary"]["num_statements"]
        assert ours.n_missing == region["summary"]["missing_lines"]
        lines = region["executed_lines"] + region["missing_lines"] + region["excluded_lines"]
        assert ours.end_line == max([region["start_line"], *lines])
    assert [f.start_line for f in fc.functions] == sorted(f.start_line for f in fc.functions)


def test_format_2_without_regions(py_project: Path, tmp_path: Path) -> None:
    doc = json.loads((py_project / "coverage.json").read_text())
    doc["meta"]["format"] = 2
    for entry in doc["files"].values():
        entry.pop("functions", None)
        entry.pop("classes", None)
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(doc))
    report = read_coverage_json(path, root=py_project)
    assert summary_of(report.numbers) == {k: doc["totals"][k] for k in SUMMARY_KEYS}
    assert all(fc.functions == () for fc in report.files)


def test_without_branch_coverage(tmp_path: Path) -> None:
    project = make_python_project(tmp_path / "proj")
    run(coverage_cmd("run", "main.py"), project)
    run(coverage_cmd("json", "-o", "coverage.json"), project)
    truth = json.loads((project / "coverage.json").read_text())
    report = read_coverage([project / "coverage.json"], root=project)
    assert report.format == "coverage.json"
    assert not report.has_branches
    assert report.numbers.n_branches == 0
    assert report.numbers.n_statements == truth["totals"]["num_statements"]
    assert report.numbers.n_missing == truth["totals"]["missing_lines"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2, 3]", 'no "files" object'),
        ('{"name": "package.json"}', 'no "files" object'),
        ('{"files": {"a.py": 3}}', "is not an object"),
        ('{"files": {"a.py": {}}}', "has no summary"),
        ('{"files": {"a.py": {"summary": {"num_statements": "7"}}}}', "num_statements"),
        (
            '{"files": {"a.py": {"summary": {"num_statements": 2, "missing_lines": true}}}}',
            "missing_lines",
        ),
        (
            '{"files": {"a.py": {"summary": {"num_statements": 2, "missing_lines": 1},'
            ' "missing_branches": [[1]]}}}',
            "not [from, to]",
        ),
        ('{"files": {"a.py": ', "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ("", "not valid JSON"),
    ],
)
def test_json_that_is_not_coverage_is_an_input_error(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_coverage_json(path, root=tmp_path)
    assert problem in caught.value.problem
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
