"""A CI run's lcov and Cobertura shards merged per file and line, against the real tools'
own merge: gcov counters accumulated over every run, and `coverage combine`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from covtui.readers import start_reading
from covtui.readers.lcov import read_lcov
from tests.conftest import CALC

from .conftest import build_c_project, coverage_cmd, run

#: What each shard runs the program with: together they take branches no one shard takes.
C_SHARDS = [["1", "50"], ["-3", "2"], ["7", "200", "2", "4", "5"]]


def _numbers(report) -> dict:
    return {f.path: f.numbers for f in report.files}


@pytest.fixture(scope="module")
def c_shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], Path]:
    """(project, one lcov tracefile per shard, gcovr's lcov of all runs accumulated)."""
    if not shutil.which("gcc") or not shutil.which("gcovr"):
        pytest.skip("gcc and gcovr are needed")
    project = build_c_project(tmp_path_factory.mktemp("cshards"))
    shards = []
    for k, args in enumerate(C_SHARDS, 1):
        for gcda in project.glob("*.gcda"):
            gcda.unlink()
        run(["./prog", *args], project)
        shards.append(project / f"shard{k}.info")
        run(["gcovr", "-r", ".", "--lcov", str(shards[-1])], project)
    for gcda in project.glob("*.gcda"):
        gcda.unlink()
    for args in C_SHARDS:
        run(["./prog", *args], project)
    combined = project / "all.info"
    run(["gcovr", "-r", ".", "--lcov", str(combined), "--json-summary", str(project / "all.json")], project)
    return project, shards, combined


def test_lcov_shards_merge_like_the_counters_of_every_run(c_shards) -> None:
    project, shards, combined = c_shards
    merged = start_reading(shards, "lcov", root=project, merge=True)()
    expected = read_lcov(combined, root=project)
    assert _numbers(merged) == _numbers(expected)
    # … which are gcovr's own figures for the accumulated runs.
    summary = json.loads((project / "all.json").read_text())
    n = merged.numbers
    assert (n.n_executed, n.n_statements) == (summary["line_covered"], summary["line_total"])
    assert (n.n_executed_branches, n.n_branches) == (summary["branch_covered"], summary["branch_total"])
    # More is covered together than by any one shard.
    for shard in shards:
        alone = read_lcov(shard, root=project).numbers
        assert alone.n_executed_branches < n.n_executed_branches


def test_cobertura_shards_merge_like_coverage_combine(tmp_path: Path) -> None:
    """coverage.py's XML names each line's missed branches, so the merge is exact. (The shards
    ran in one folder, as CI runners share the workspace path: Cobertura has no `[paths]`.)"""
    project = tmp_path / "py"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "calc.py").write_text(CALC)
    shards = [project / "shard_one.py", project / "shard_two.py"]
    shards[0].write_text("from pkg.calc import classify\n\nassert classify(-1) == 'neg'\n")
    shards[1].write_text("from pkg.calc import classify, unused\n\nassert classify(3) == 'pos'\n"
                         "assert unused() == 4\n")
    (project / "pyproject.toml").write_text('[tool.coverage.run]\nsource = ["pkg"]\n')
    xmls, datas = [], []
    for k, shard in enumerate(shards, 1):
        data = project / f".coverage.shard{k}"
        run(coverage_cmd("run", "--branch", f"--data-file={data}", "-m", shard.stem), project)
        xmls.append(project / f"shard{k}.xml")
        run(coverage_cmd("xml", f"--data-file={data}", "-o", str(xmls[-1])), project)
        datas.append(data)
    run(coverage_cmd("combine", "--keep", *map(str, datas)), project)
    run(coverage_cmd("json", "-o", "all.json"), project)
    expected = json.loads((project / "all.json").read_text())
    merged = start_reading(xmls, "cobertura", root=project, merge=True)()
    ours = _numbers(merged)
    assert set(ours) == set(expected["files"])
    for path, entry in [*expected["files"].items(), ("", expected)]:
        n = ours[path] if path else merged.numbers
        s = entry["summary"] if path else entry["totals"]
        assert (n.n_executed, n.n_statements) == (s["covered_lines"], s["num_statements"]), path
        assert (n.n_executed_branches, n.n_branches) == (s["covered_branches"], s["num_branches"]), path
