"""covtui's pytest11 plugin on real fixture projects: pytest-cov and `coverage run -m pytest`
runs recorded, partial runs never compared, off by default, never in the way of the run."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from covtui.pytest_plugin import SCANNING_ENV, narrowing
from covtui.store import Store

from .conftest import Project, clean_env

MORE_TESTS = '''
from pkg.calc import classify, unused


def test_neg():
    assert classify(-1) == "neg"


def test_zero():
    assert classify(0) == "zero"


def test_unused():
    assert unused() == 4
'''


def pytest_run(project: Project, *args: str, coverage_run: bool = False) -> subprocess.CompletedProcess[str]:
    """pytest in the project, as a person would run it: `python -m pytest ARGS`, or under
    `coverage run --branch`."""
    prefix = ["-m", "coverage", "run", "--branch", "-m", "pytest"] if coverage_run else ["-m", "pytest"]
    return subprocess.run(
        [sys.executable, *prefix, *args],
        cwd=project.root, env=clean_env(), capture_output=True, text=True, timeout=300,
    )


def snapshots(project: Project) -> list:
    async def read():
        async with await Store.open(project.db, create=False) as store:
            return list(reversed(await store.snapshots(100)))

    return asyncio.run(read())


def alerts(project: Project) -> list:
    async def read():
        async with await Store.open(project.db, create=False) as store:
            return await store.alerts()

    return asyncio.run(read())


def covtui_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("covtui")]


def assert_equals_coverage_json(project: Project, data_file: Path) -> None:
    """The latest snapshot's totals and files are `coverage json`'s for that data file."""
    expected = project.coverage_json(data_file)
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert status["totals"]["percent_covered"] == expected["totals"]["percent_covered"]
    for key, value in expected["totals"].items():
        if key in status["totals"] and not key.endswith("_display"):
            assert status["totals"][key] == value, key
    assert set(status["files"]["python"]) == set(expected["files"])
    for path, data in expected["files"].items():
        mine = status["files"]["python"][path]["summary"]
        for key, value in data["summary"].items():
            if key in mine and not key.endswith("_display"):
                assert mine[key] == value, (path, key)


@pytest.fixture
def bigger(project: Project) -> Project:
    """The project with more tests, so a narrowed run covers far less than the whole suite."""
    project.write("tests/test_more.py", MORE_TESTS)
    return project


def test_a_pytest_cov_run_records_a_snapshot_equal_to_coverage_json(bigger: Project) -> None:
    proc = pytest_run(bigger, "-q", "--cov=pkg", "--cov-branch", "--covtui")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert covtui_lines(proc) == [covtui_lines(proc)[0]]
    assert covtui_lines(proc)[0].startswith("covtui: snapshot #1 recorded, ")
    (snapshot,) = snapshots(bigger)
    assert (snapshot.trigger, snapshot.status, snapshot.scope, snapshot.n_tests_run) == (
        "pytest", "ok", "full", None)
    assert snapshot.tests.n_tests == 5 and snapshot.tests.n_failed == 0
    assert_equals_coverage_json(bigger, bigger.root / ".coverage")


def test_a_coverage_run_records_a_snapshot_equal_to_coverage_json(bigger: Project) -> None:
    proc = pytest_run(bigger, "-q", "--covtui", coverage_run=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Recorded at exit, once coverage.py had saved: the line comes after pytest's summary.
    assert proc.stderr.strip().splitlines()[-1].startswith("covtui: snapshot #1 recorded, ")
    (snapshot,) = snapshots(bigger)
    assert (snapshot.status, snapshot.scope, snapshot.tests.n_tests) == ("ok", "full", 5)
    assert_equals_coverage_json(bigger, bigger.root / ".coverage")


def test_a_parallel_coverage_run_records_its_own_data_file(bigger: Project) -> None:
    """`parallel = true` writes `.coverage.<host>.<pid>.<random>`: the plugin reads that one
    file, not an older shard beside it."""
    bigger.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\nparallel = true\n')
    pytest_run(bigger, "-q", "tests/test_calc.py", coverage_run=True)  # an older shard, not recorded
    (older,) = bigger.root.glob(".coverage.*")
    proc = pytest_run(bigger, "-q", "--covtui", coverage_run=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (mine,) = set(bigger.root.glob(".coverage.*")) - {older}
    assert snapshots(bigger)[0].scope == "full"
    assert_equals_coverage_json(bigger, mine)


def test_a_keyword_run_is_partial_and_raises_no_alert_however_low(bigger: Project) -> None:
    full = pytest_run(bigger, "-q", "--cov=pkg", "--cov-branch", "--covtui")
    assert full.returncode == 0, full.stdout + full.stderr
    narrow = pytest_run(bigger, "-q", "--cov=pkg", "--cov-branch", "--covtui", "-k", "test_add")
    assert narrow.returncode == 0, narrow.stdout + narrow.stderr
    assert "partial run: 1 test (-k test_add), not compared" in covtui_lines(narrow)[0]
    first, partial = snapshots(bigger)
    # Far lower: the coverage.py data of the narrowed run says so itself.
    narrowed_pc = bigger.coverage_json(bigger.root / ".coverage")["totals"]["percent_covered"]
    assert narrowed_pc < first.pc_covered - 20
    assert (partial.status, partial.scope, partial.n_tests_run) == ("partial", "partial", 1)
    assert alerts(bigger) == []
    # The project's figure is still the full run's, and the status says what the run was.
    status = bigger.covtui("status", check=True).stdout
    assert "partial run: 1 test (-k test_add); not compared" in " ".join(status.split())
    summary = json.loads(bigger.covtui("status", "--json", check=True).stdout)
    assert summary["totals"]["percent_covered"] == first.pc_covered
    assert (summary["snapshot"]["scope"], summary["snapshot"]["n_tests_run"]) == ("partial", 1)
    # A partial run is no one's baseline: the next full run is compared with the first.
    again = pytest_run(bigger, "-q", "--cov=pkg", "--cov-branch", "--covtui")
    assert again.returncode == 0
    assert "partial" not in covtui_lines(again)[0]
    assert alerts(bigger) == []
    previous = json.loads(bigger.covtui("status", "--json", check=True).stdout)["snapshot"]
    assert previous["previous_id"] == first.id


def test_a_file_argument_and_a_node_id_are_partial(bigger: Project) -> None:
    bigger.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n\n'
                 '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    by_file = pytest_run(bigger, "-q", "--cov=pkg", "--covtui", "tests/test_more.py")
    by_node = pytest_run(bigger, "-q", "--cov=pkg", "--covtui", "tests/test_calc.py::test_add")
    whole = pytest_run(bigger, "-q", "--cov=pkg", "--covtui", "tests")  # = testpaths
    assert "partial run: 3 tests (tests/test_more.py)" in covtui_lines(by_file)[0]
    assert "partial run: 1 test (tests/test_calc.py::test_add)" in covtui_lines(by_node)[0]
    assert "partial" not in covtui_lines(whole)[0]
    assert [s.scope for s in snapshots(bigger)] == ["partial", "partial", "full"]


def test_off_by_default_the_database_is_untouched(bigger: Project) -> None:
    pytest_run(bigger, "-q", "--cov=pkg", "--covtui")
    before = hashlib.sha256(bigger.db.read_bytes()).hexdigest()
    for run in (pytest_run(bigger, "-q", "--cov=pkg"), pytest_run(bigger, "-q", coverage_run=True)):
        assert run.returncode == 0
        assert covtui_lines(run) == []
    assert hashlib.sha256(bigger.db.read_bytes()).hexdigest() == before
    assert len(snapshots(bigger)) == 1


def test_off_by_default_no_database_is_made(project: Project) -> None:
    proc = pytest_run(project, "-q", "--cov=pkg")
    assert proc.returncode == 0
    assert not (project.root / ".covtui").exists()


def test_record_pytest_in_the_config_turns_it_on(project: Project) -> None:
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n\n'
                  "[tool.covtui]\nrecord_pytest = false\n")
    assert pytest_run(project, "-q", coverage_run=True).returncode == 0
    assert not (project.root / ".covtui").exists()
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n\n'
                  "[tool.covtui]\nrecord_pytest = true\n")
    proc = pytest_run(project, "-q", coverage_run=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [s.trigger for s in snapshots(project)] == ["pytest"]


def test_a_broken_covtui_config_is_one_line_and_the_run_goes_on(project: Project) -> None:
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n\n'
                  '[tool.covtui]\nrecord_pytest = true\nprecision = 100000\n')
    proc = pytest_run(project, "-q", "--cov=pkg")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = covtui_lines(proc)
    assert line.startswith("covtui: this run was not recorded: ") and "'tool.covtui.precision'" in line
    assert not (project.root / ".covtui").exists()


def test_a_run_stopped_early_is_partial(bigger: Project) -> None:
    bigger.write("tests/test_bad.py", "def test_fails():\n    assert 1 == 2\n")
    proc = pytest_run(bigger, "-q", "-x", "--cov=pkg", "--covtui")
    assert proc.returncode == 1
    (snapshot,) = snapshots(bigger)
    assert (snapshot.status, snapshot.scope) == ("partial", "partial")
    assert "stopped early" in covtui_lines(proc)[0]


def test_a_covtui_scan_records_once_with_record_pytest_on(project: Project) -> None:
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n\n'
                  "[tool.covtui]\nrecord_pytest = true\n")
    project.covtui("scan", check=True)
    assert [s.trigger for s in snapshots(project)] == ["scan"]
    assert SCANNING_ENV == __import__("covtui.scan").scan.SCANNING_ENV


def test_a_failing_suite_is_recorded_with_its_outcomes(bigger: Project) -> None:
    bigger.write("tests/test_bad.py", """
        import pytest

        def test_fails():
            assert 1 == 2

        @pytest.fixture
        def broken():
            raise RuntimeError("no")

        def test_errors(broken):
            pass

        @pytest.mark.skip
        def test_skipped():
            pass
    """)
    proc = pytest_run(bigger, "-q", "--cov=pkg", "--cov-branch", "--covtui")
    assert proc.returncode == 1  # pytest's own: tests failed
    (snapshot,) = snapshots(bigger)
    assert snapshot.status == "ok"  # failing tests are measured, as in a scan
    t = snapshot.tests
    assert (t.n_tests, t.n_failed, t.n_errors, t.n_skipped) == (8, 1, 1, 1)
    assert [a.rule for a in alerts(bigger)] == []  # the first snapshot has nothing to compare
    assert_equals_coverage_json(bigger, bigger.root / ".coverage")


@pytest.mark.parametrize("coverage_run", [False, True], ids=["pytest-cov", "coverage-run"])
def test_a_broken_database_is_one_warning_and_the_exit_code_is_pytests(
    project: Project, coverage_run: bool
) -> None:
    project.write("tests/test_bad.py", "def test_fails():\n    assert 1 == 2\n")
    (project.root / "db-folder").mkdir()
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n\n'
                  '[tool.covtui]\ndatabase = "db-folder"\n')
    args = ["-q", "--covtui"] if coverage_run else ["-q", "--cov=pkg", "--covtui"]
    proc = pytest_run(project, *args, coverage_run=coverage_run)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = covtui_lines(proc)
    assert len(lines) == 1, lines
    assert lines[0].startswith("covtui: this run was not recorded: ")
    assert "db-folder" in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert list((project.root / "db-folder").iterdir()) == []


def test_a_run_that_measured_nothing_says_so_once(project: Project) -> None:
    proc = pytest_run(project, "-q", "--covtui")
    assert proc.returncode == 0
    assert covtui_lines(proc) == [
        "covtui: not recorded: this run measured no coverage (use pytest-cov's --cov, or "
        "coverage run -m pytest)"
    ]


def test_disabled_it_imports_nothing_of_covtui(project: Project) -> None:
    project.write("conftest.py", """
        import sys

        def pytest_unconfigure(config):
            loaded = sorted(m for m in sys.modules if m.startswith("covtui"))
            print("covtui modules:", ",".join(loaded))
    """)
    proc = pytest_run(project, "-q", "-s", "--co")
    assert "covtui modules: covtui,covtui.pytest_plugin\n" in proc.stdout


# -- what narrows a run (pure) ----------------------------------------------------------------


def _narrowing(tmp_path: Path, args: list[str], typed: list[str], testpaths=("tests",), cwd=None):
    (tmp_path / "tests" / "unit").mkdir(parents=True, exist_ok=True)
    (tmp_path / "docs").mkdir(exist_ok=True)
    return narrowing(
        args, typed, root=tmp_path, invocation_dir=cwd or tmp_path,
        testpaths=[tmp_path / p for p in testpaths],
    )


@pytest.mark.parametrize(
    ("args", "typed", "expected"),
    [
        (["tests"], [], []),  # pytest's testpaths
        (["."], ["."], []),
        (["tests"], ["tests"], []),
        (["tests", "docs"], ["tests", "docs"], []),
        (["tests/unit"], ["tests/unit"], ["tests/unit"]),
        (["tests/test_x.py"], ["tests/test_x.py"], ["tests/test_x.py"]),
        (["tests/test_x.py::test_y"], ["tests/test_x.py::test_y"], ["tests/test_x.py::test_y"]),
        (["tests"], ["-k", "add or sub"], ["-k add or sub"]),
        (["tests"], ["-m", "not slow", "-q"], ["-m not slow"]),
        (["tests"], ["--lf"], ["--lf"]),
        (["tests"], ["--last-failed"], ["--lf"]),
        (["tests"], ["--deselect", "tests/test_x.py::test_y"], ["--deselect tests/test_x.py::test_y"]),
        (["tests"], ["--sw"], ["--sw"]),
        (["tests"], ["--cov", "pkg", "--cov-report=term", "-x", "-p", "no:cacheprovider"], []),
        (["tests"], ["--ff"], []),  # failed first, then all of them
    ],
)
def test_what_narrows_a_run(tmp_path: Path, args, typed, expected) -> None:
    assert _narrowing(tmp_path, args, typed) == expected


def test_without_testpaths_the_rootdir_is_the_suite(tmp_path: Path) -> None:
    assert _narrowing(tmp_path, [str(tmp_path)], [], testpaths=()) == []
    assert _narrowing(tmp_path, ["tests"], ["tests"], testpaths=()) == ["tests"]


def test_a_run_started_in_a_subfolder_is_partial(tmp_path: Path) -> None:
    # No arguments: pytest collects the folder it was started in.
    sub = tmp_path / "tests" / "unit"
    assert _narrowing(tmp_path, [str(sub)], [], cwd=sub) == ["."]


def test_a_source_saved_during_the_run_is_not_recorded(project: Project, tmp_path: Path) -> None:
    """The run's data is of the code before the save, the report would read the code after:
    nothing is recorded, one line says why, pytest's exit code stands."""
    flag = tmp_path / "edit.flag"
    project.write("tests/test_zz_edit.py", (
        "import pathlib\n\n\n"
        "def test_saved_meanwhile():\n"
        f"    flag = pathlib.Path({str(flag)!r})\n"
        "    if flag.exists():\n"
        "        flag.unlink()\n"
        "        src = pathlib.Path('pkg/calc.py')\n"
        "        src.write_text('# saved\\n# meanwhile\\n' + src.read_text())\n"
    ))
    first = pytest_run(project, "-q", "--cov=pkg", "--cov-branch", "--covtui")
    assert first.returncode == 0 and covtui_lines(first)[0].startswith("covtui: snapshot #1 recorded")
    flag.write_text("")
    proc = pytest_run(project, "-q", "--cov=pkg", "--cov-branch", "--covtui")
    assert not flag.exists() and proc.returncode == 0, proc.stdout + proc.stderr
    assert covtui_lines(proc) == [
        "covtui: not recorded: pkg/calc.py changed while the tests ran: their coverage data is "
        "of the code before it, so its figures are void; run the tests again"
    ]
    assert len(snapshots(project)) == 1 and alerts(project) == []
