"""Per-test coverage: recorded by a real scan, stored compactly, answered by `covtui who`."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from covtui.coverage_compat import CoverageData
from covtui.domain.codec import decode_line_tests, encode_line_tests
from covtui.domain.contexts import LineTests, split_context
from covtui.store import Store

from .conftest import Project

WITH_FIXTURE = '''
import pytest
from pkg.calc import add, classify


@pytest.fixture
def two():
    return add(1, 1)


def test_add(two):
    assert two == 2


def test_classify():
    assert classify(5) == "pos"


@pytest.mark.parametrize("n", [0], ids=["[bold]zero"])
def test_zero(n):
    assert classify(n) == "zero"
'''


def _data_file(project: Project):
    return project.db.parent / "run" / "python" / ".coverage"


def _who(project: Project, where: str) -> dict:
    return json.loads(project.covtui("who", where, "--json", check=True).stdout)


def test_who_lists_exactly_the_contexts_coverage_py_gives(project: Project) -> None:
    project.write("tests/test_calc.py", WITH_FIXTURE)
    project.covtui("scan", check=True)
    data = CoverageData(str(_data_file(project)))
    data.read()
    expected = project.coverage_json(_data_file(project))
    checked = 0
    for measured in data.measured_files():
        by_line = data.contexts_by_lineno(measured)
        path = next(p for p in expected["files"] if measured.endswith(p))
        info = expected["files"][path]
        for line in info["executed_lines"]:
            answer = _who(project, f"{path}:{line}")
            assert answer["ran"] is True
            assert answer["contexts"] == sorted(by_line[line]), (path, line)
            tests = sorted({split_context(c)[0] for c in by_line[line]} - {""})
            assert [t["name"] for t in answer["tests"]] == tests
            checked += 1
        for line in info["missing_lines"]:
            answer = _who(project, f"{path}:{line}")
            assert answer["ran"] is False and answer["missed"] is True and answer["tests"] == []
    assert checked >= 8
    # The def lines ran at import only; the fixture's line only in test_add's setup.
    assert _who(project, "pkg/calc.py:2")["only_outside_tests"] is True
    # ...in test_calc.py's collection (covtui's scan names it), which is import
    assert _who(project, "pkg/calc.py:2")["contexts"] == ["collect:tests/test_calc.py"]
    assert _who(project, "pkg/calc.py:2")["at_import"] is True
    body = _who(project, "pkg/calc.py:3")
    assert body["tests"] == [{"name": "tests/test_calc.py::test_add", "phases": ["setup"]}]
    assert body["only_outside_tests"] is True


def test_who_prints_test_names_as_text_not_markup(project: Project) -> None:
    project.write("tests/test_calc.py", WITH_FIXTURE)
    project.covtui("scan", check=True)
    out = project.covtui("who", "pkg/calc.py:9", check=True).stdout
    assert "tests/test_calc.py::test_zero[[bold]zero]" in out


def test_who_refuses_bad_locations_in_one_line(project: Project) -> None:
    project.covtui("scan", check=True)
    for where, problem in (
        ("pkg/calc.py:x", "LINE should be a whole number, not 'x'"),
        ("pkg/calc.py:0", "LINE should be between 1"),
        ("pkg/calc.py", "give FILE:LINE"),
        ("pkg/nope.py:3", "pkg/nope.py: not measured with per-test coverage"),
    ):
        proc = project.covtui("who", where)
        assert proc.returncode != 0
        assert problem in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_contexts_off_records_none_and_numbers_are_the_same(project: Project) -> None:
    project.write("tests/test_calc.py", WITH_FIXTURE)
    project.covtui("scan", check=True)
    on = json.loads(project.covtui("status", "--json", check=True).stdout)["totals"]
    expected = project.coverage_json(_data_file(project))["totals"]
    project.write("pyproject.toml", (project.root / "pyproject.toml").read_text()
                  + '\n[[tool.covtui.sources]]\nname = "python"\ncontexts = false\n')
    project.covtui("scan", check=True)
    off = json.loads(project.covtui("status", "--json", check=True).stdout)["totals"]
    assert CoverageData(str(_data_file(project))).measured_contexts() in (set(), {""})
    for key in ("num_statements", "covered_lines", "missing_lines", "num_branches",
                "covered_branches", "percent_covered"):
        assert on[key] == off[key] == expected[key], key

    async def kept():
        async with await Store.open(project.db, create=False) as store:
            return await store.line_test_snapshots(), await store.test_outcomes(2)

    assert asyncio.run(kept()) == ([1], {})


def test_prune_keeps_per_test_coverage_of_the_newest_and_alerted_snapshots(
    project: Project,
) -> None:
    # No alerts from timing or milestones: only the drop at 2.
    project.write("pyproject.toml", (project.root / "pyproject.toml").read_text() + (
        "[tool.covtui.alerts]\ntest_time_pct = 1000000\n"
        '[[tool.covtui.phases]]\nname = "All"\nstart = 0\nend = 100\n'
    ))
    full = (project.root / "tests/test_calc.py").read_text()
    project.covtui("scan", check=True)  # 1
    project.write("tests/test_calc.py", "from pkg.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    project.covtui("scan", check=True)  # 2: a drop, alerted
    project.write("tests/test_calc.py", full)
    for _ in range(3):  # 3, 4, 5
        project.covtui("scan", check=True)
    alerted = {a["snapshot_id"] for a in json.loads(project.covtui("alerts", "--json").stdout)}
    assert alerted == {2}

    async def kept():
        async with await Store.open(project.db, create=False) as store:
            return await store.line_test_snapshots(), await store.line_tests(3)

    snapshots, third = asyncio.run(kept())
    assert snapshots == [5, 4, 2, 1]  # the newest two, the alerted one and its baseline
    assert third == {}
    with sqlite3.connect(project.db) as conn:
        # Snapshots 1, 4 and 5 measured the same: their files share blobs.
        n_blobs = conn.execute("SELECT count(*) FROM line_test_blobs").fetchone()[0]
        n_rows = conn.execute("SELECT count(*) FROM line_tests").fetchone()[0]
        outcomes = conn.execute("SELECT snapshot_id FROM test_runs ORDER BY 1").fetchall()
    assert n_rows == 4 * 2 and n_blobs < n_rows
    assert [r[0] for r in outcomes] == [1, 2, 4, 5]


def test_outcomes_name_each_test(project: Project) -> None:
    project.write("tests/test_more.py", "def test_fails():\n    assert 1 == 2\n")
    project.covtui("scan", check=True)

    async def outcomes():
        async with await Store.open(project.db, create=False) as store:
            return await store.test_outcomes(1)

    assert asyncio.run(outcomes()) == {"python": {
        "tests/test_calc.py::test_add": "passed",
        "tests/test_calc.py::test_classify": "passed",
        "tests/test_more.py::test_fails": "failed",
    }}


contexts = st.sampled_from(["", "t::a|run", "t::a|setup", "t::b|run", "t::[x]|teardown", "é\n"])


@given(st.dictionaries(st.integers(1, 5000), st.lists(contexts, max_size=4), max_size=60))
def test_line_tests_codec_round_trips(by_line: dict[int, list[str]]) -> None:
    tests = LineTests.of(by_line, content="abc")
    back = decode_line_tests(encode_line_tests(tests), "abc")
    assert back == tests
    for line, names in by_line.items():
        assert back.contexts_of(line) == sorted(set(names))
    assert encode_line_tests(LineTests.of(dict(reversed(by_line.items())))) == encode_line_tests(tests)


def test_contexts_default_follows_the_projects_size(project: Project) -> None:
    from covtui.scan import CONTEXTS_AUTO_MAX_FILES, plan_source

    config = project.config
    (source,) = config.sources
    assert source.contexts is None

    def plugin(previous_files: int | None) -> bool:
        return "covtui_contexts" in plan_source(config, source, previous_files).argv

    assert plugin(None) and plugin(212) and plugin(CONTEXTS_AUTO_MAX_FILES)
    assert not plugin(CONTEXTS_AUTO_MAX_FILES + 1)
    source.contexts = True
    assert plugin(2000)
    source.contexts = False
    assert not plugin(1)


def test_the_scans_plugin_leaves_the_finished_runs_objects_to_the_process_end(tmp_path) -> None:
    # Python's last collections over pytest's and coverage.py's objects took ~20 ms of every
    # scan's test process: the plugin freezes them once the run is over.
    import subprocess
    import sys

    from covtui.scan.plan import PLUGIN_DIR

    from .conftest import clean_env

    seen = tmp_path / "frozen"
    (tmp_path / "conftest.py").write_text(
        "import atexit, gc\n"
        f"atexit.register(lambda: open({str(seen)!r}, 'w').write(str(gc.get_freeze_count())))\n"
    )
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    env = {**clean_env(), "PYTHONPATH": str(PLUGIN_DIR)}
    for plugin, frozen in ((["-p", "covtui_contexts"], True), ([], False)):
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin],
                       cwd=tmp_path, env=env, check=True, capture_output=True)
        assert (int(seen.read_text()) > 0) is frozen
