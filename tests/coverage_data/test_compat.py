"""A coverage.py whose private API moved: the capability check notices, and the public API
(`combine` + `json_report`) gives the same figures as `coverage json`."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from covtui import coverage_compat as compat
from covtui.readers import analysis_cache
from covtui.readers.coverage_data import read_with_stats

from .conftest import assert_agrees, coverage, coverage_json, write_files
from .test_agreement import PROJECT, PYPROJECT, branch_project  # noqa: F401 - a fixture


def test_capability_check_names_what_is_missing() -> None:
    code = (
        "import coverage.control as c, coverage.python as p\n"
        "del c.Coverage._analyze\n"
        "del p.PythonFileReporter\n"
        "from covtui import coverage_compat as m\n"
        "print(m.FAST_READER_PROBLEM)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == (
        f"coverage {compat.VERSION}: no coverage.python.PythonFileReporter; no Coverage._analyze"
    )


@pytest.fixture
def public_api(monkeypatch: pytest.MonkeyPatch) -> str:
    problem = f"coverage {compat.VERSION}: no Coverage._analyze (pretend)"
    monkeypatch.setattr(compat, "FAST_READER_PROBLEM", problem)
    return problem


def test_public_api_agrees_with_coverage_json(branch_project: Path, public_api: str) -> None:  # noqa: F811
    report, stats = read_with_stats(
        [branch_project / ".coverage"], root=branch_project, cache_dir=None, isolate=False
    )
    assert stats.public_api == public_api
    assert_agrees(report, coverage_json(branch_project), branch_project)
    assert report.format == "coverage.py" and report.has_branches
    fast, _ = read_with_stats([branch_project / ".coverage"], root=branch_project, cache_dir=None)
    assert report.numbers == fast.numbers


def test_public_api_combines_shards(tmp_path: Path, public_api: str) -> None:
    write_files(tmp_path, PROJECT | {"pyproject.toml": PYPROJECT})
    coverage(tmp_path, "run", "-p", "run.py", "50")
    coverage(tmp_path, "run", "-p", "run.py", "-3")
    shards = sorted(tmp_path.glob(".coverage.*"))
    before = [s.read_bytes() for s in shards]
    report, _ = read_with_stats(shards, root=tmp_path, cache_dir=None, isolate=False)
    assert [s.read_bytes() for s in shards] == before  # read from copies, never written
    combined = tmp_path.parent / (tmp_path.name + "-combined")
    shutil.copytree(tmp_path, combined)
    coverage(combined, "combine")
    assert_agrees(report, coverage_json(combined), tmp_path)


def test_a_parser_restored_differently_turns_caching_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on coverage 7.15.4, whose `with` fixers have another shape: attributes alone can't
    tell, so a restored parser is checked against a fresh one on a sample."""
    assert analysis_cache.caching_supported()
    real = analysis_cache.restore_parser

    def forgetful(sa: analysis_cache.StaticAnalysis, filename: str):
        return real(dataclasses.replace(sa, with_jump_fixers={}), filename)

    monkeypatch.setattr(analysis_cache, "restore_parser", forgetful)
    assert not analysis_cache.check_restore()


@pytest.mark.parametrize(("per_test", "contexts"), [(True, None), (True, ["test_a"]), (False, None)])
def test_the_arc_texts_made_by_sqlite_are_arcs_text_of_what_arcs_gives(
    tmp_path: Path, per_test: bool, contexts: list[str] | None
) -> None:
    write_files(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/one.py": "def f(x):\n    if x:\n        return 1\n    return 2\n",
        "pkg/two.py": "def g(x):\n    for i in range(x):\n        x += i\n    return x\n",
        "pkg/never.py": "def h():\n    return 3\n",
        "test_it.py": (
            "from pkg.one import f\nfrom pkg.two import g\n\n"
            "def test_a():\n    assert f(1) == 1\n\n"
            "def test_b():\n    assert f(0) == 2 and g(3) == 6\n"
        ),
    })
    # Per-test contexts from coverage.py itself: dynamic_context = test_function, so the same
    # arc is stored once per test that ran it (the text has it once, as arcs() does).
    if per_test:
        write_files(tmp_path, {".coveragerc": "[run]\ndynamic_context = test_function\n"})
    coverage(tmp_path, "run", "--branch", "--source=pkg", "-m", "pytest", "-q",
             "-p", "no:cacheprovider", "test_it.py")
    data = compat.open_data(tmp_path / ".coverage")
    data.read()
    if contexts is not None:
        data.set_query_contexts(contexts)
    names = sorted(data.measured_files()) + [str(tmp_path / "not_measured.py")]
    texts = compat.arc_texts_of_files(data, names)
    assert texts is not None
    by_file = {name: data.arcs(name) for name in names}
    assert texts == {n: compat.arcs_text(a) for n, a in by_file.items() if a is not None}
    assert any(by_file.values()) and by_file[names[-1]] is None
    # Negative line numbers (entries and exits) sort as numbers, as Python sorts them.
    assert any(",-" in t for t in texts.values())
    if contexts is not None:  # test_a ran f(1) only: fewer arcs than both tests together
        data.set_query_contexts(None)
        everything = compat.arc_texts_of_files(data, names)
        assert sum(map(len, texts.values())) < sum(map(len, everything.values()))


def test_arcs_text_is_one_text_for_one_set_of_arcs() -> None:
    assert compat.arcs_text([(3, -1), (-1, 2), (2, 3), (2, 3)]) == "-1,2;2,3;3,-1"
    assert compat.arcs_text([]) == ""
