"""`covtui scan` end to end on real fixture projects: numbers, statuses, locks and processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui.domain.model import RunStatus
from covtui.errors import ScanBusy
from covtui.scan import run_scan
from covtui.scan.lock import ScanLock
from covtui.store import Store

from .conftest import Project, clean_env


def test_scan_numbers_equal_coverage_json(project: Project) -> None:
    proc = project.covtui("scan", check=True)
    assert "snapshot #1 stored (ok)" in proc.stdout
    expected = project.coverage_json(project.db.parent / "run" / "python" / ".coverage")
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    totals = status["totals"]
    for key in ("num_statements", "covered_lines", "missing_lines", "excluded_lines",
                "num_branches", "covered_branches", "missing_branches", "num_partial_branches",
                "percent_covered"):
        assert totals[key] == expected["totals"][key], key
    for path, data in expected["files"].items():
        mine = status["files"]["python"][path]["summary"]
        for key, value in data["summary"].items():
            if key in mine and not key.endswith("_display"):
                assert mine[key] == value, (path, key)


def test_scan_records_tests_and_run_cost(project: Project) -> None:
    project.write("tests/test_more.py", """
        import pytest

        def test_fails():
            assert 1 == 2

        @pytest.mark.skip
        def test_skipped():
            pass
    """)
    proc = project.covtui("scan", check=True)
    # pytest itself says how many passed/failed; covtui must agree.
    assert "1 failed, 2 passed, 1 skipped" in proc.stdout
    assert "tests 2 passed, 1 failed, 0 errors, 1 skipped" in " ".join(proc.stdout.split())

    async def latest():
        async with await Store.open(project.db, create=False) as store:
            return (await store.sources())[0]

    row = asyncio.run(latest())
    assert row.status == "ok"  # failing tests are measured, not a failed scan
    assert row.tests.n_failed == 1 and row.tests.n_skipped == 1
    assert row.run.wall_s > 0 and row.run.cpu_s > 0
    assert row.run.peak_rss_kb > 10_000  # a Python process: at least ~10 MB


def test_coverage_drop_raises_critical_alert_naming_baseline(project: Project) -> None:
    project.covtui("scan", check=True)
    project.write("tests/test_calc.py", "from pkg.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    proc = project.covtui("scan", "--fail-on-alert")
    assert proc.returncode == 1
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    drop = [a for a in alerts if a["rule"] == "coverage_drop"]
    assert len(drop) == 1
    assert drop[0]["severity"] == "critical"
    assert "snapshot #1" in drop[0]["message"]
    assert drop[0]["value"] >= 0.5
    regressions = [a for a in alerts if a["rule"] == "file_regression"]
    assert regressions and regressions[0]["path"] == "pkg/calc.py"


def test_failed_command_is_recorded_not_compared(project: Project) -> None:
    project.covtui("scan", check=True)
    project.write("tests/conftest.py", "raise SystemExit(3)\n")
    proc = project.covtui("scan")
    assert proc.returncode == 1
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert [a["rule"] for a in alerts] == ["scan_failed"]
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert status["snapshot"]["status"] == "failed"
    # The total still shows the last good numbers, not the partial run.
    assert status["totals"]["percent_covered"] > 0


def test_exit_zero_without_report_is_a_clear_failure(project: Project) -> None:
    project.write("covtui.toml", """
        [[sources]]
        name = "rust"
        command = "true"
        report = "target/lcov.info"
    """)
    proc = project.covtui("scan")
    assert proc.returncode == 1
    assert "target/lcov.info: the command exited 0 but wrote no coverage report" in proc.stdout


def test_command_not_found(project: Project) -> None:
    project.write("covtui.toml", """
        [[sources]]
        name = "rust"
        command = "no-such-program --flag"
        report = "lcov.info"
    """)
    proc = project.covtui("scan")
    assert proc.returncode == 1
    assert "command not found: no-such-program" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_timeout_kills_the_whole_process_group(project: Project, tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    project.write("covtui.toml", f"""
        [[sources]]
        name = "slow"
        command = "sh -c 'sleep 300 & echo $! > {marker}; wait'"
        report = "lcov.info"
        timeout = 1
    """)
    started = time.monotonic()
    proc = project.covtui("scan")
    assert time.monotonic() - started < 30
    assert proc.returncode == 1
    assert "timed out after 1s" in proc.stdout
    child = int(marker.read_text())
    time.sleep(0.2)
    assert not _alive(child)


def test_children_left_behind_are_gone_after_the_scan(project: Project, tmp_path: Path) -> None:
    marker = tmp_path / "orphan.pid"
    lcov = project.root / "lcov.info"
    lcov.write_text("SF:pkg/calc.py\nDA:2,1\nend_of_record\n")
    project.write("covtui.toml", f"""
        [[sources]]
        name = "c"
        command = "sh -c '(sleep 300 &) ; echo $(pgrep -n sleep) > {marker}; touch lcov.info'"
        report = "lcov.info"
    """)
    project.covtui("scan", check=True)
    time.sleep(0.2)
    orphan = int(marker.read_text())
    assert not _alive(orphan)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_second_scan_is_refused_with_holder(project: Project) -> None:
    lock = ScanLock(project.db)
    lock.acquire()
    try:
        proc = project.covtui("scan")
        assert proc.returncode == 3
        assert f"another scan is running (pid {os.getpid()}, since" in proc.stderr
    finally:
        lock.release()


def test_lock_of_killed_scan_does_not_block(project: Project) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from covtui.scan.lock import ScanLock; "
         f"ScanLock(__import__('pathlib').Path({str(project.db)!r})).acquire(); "
         "print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(ScanBusy):
        ScanLock(project.db).acquire()
    holder.kill()
    holder.wait()
    project.covtui("scan", check=True)


async def test_cancel_records_cancelled_snapshot(project: Project) -> None:
    project.write("tests/test_slow.py", "import time\n\ndef test_slow():\n    time.sleep(60)\n")
    config = project.config
    lines: list[str] = []
    task = asyncio.create_task(run_scan(config, on_output=lambda s, line: lines.append(line)))
    for _ in range(200):
        await asyncio.sleep(0.05)
        if any("test_slow" in line or "collected" in line for line in lines):
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with await Store.open(config.database_path, create=False) as store:
        latest = await store.latest_snapshot()
        alerts = await store.alerts()
    assert latest.status == RunStatus.CANCELLED.value
    assert alerts[0].rule == "scan_failed" and "cancelled" in alerts[0].message


async def test_the_last_runs_data_is_removed_off_the_event_loop(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parallel runs leave a shard per process: removing thousands of files on the dashboard's
    event loop would freeze it, so the scan does it in a thread."""
    import shutil

    import covtui.scan.run as scan
    from covtui.domain.model import RunMetrics
    from covtui.scan.runner import CommandResult

    config = project.config
    old_shard = config.database_path.parent / "run" / "python" / ".coverage.old"
    old_shard.parent.mkdir(parents=True)
    old_shard.write_text("")
    on_the_loop = []
    rmtree = shutil.rmtree

    def watched_rmtree(path, *args, **kwargs):
        try:
            asyncio.get_running_loop()
            on_the_loop.append(True)
        except RuntimeError:
            on_the_loop.append(False)
        return rmtree(path, *args, **kwargs)

    async def no_command(*args, **kwargs):
        return CommandResult(RunMetrics(wall_s=0.0), not_found="pytest")

    monkeypatch.setattr(shutil, "rmtree", watched_rmtree)
    monkeypatch.setattr(scan, "run_command", no_command)
    result = await scan.scan_source(config, config.sources[0])
    assert result.message == "command not found: pytest"
    assert on_the_loop == [False]
    assert not old_shard.exists() and old_shard.parent.is_dir()


def test_parallel_config_shards_are_combined(project: Project) -> None:
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\nparallel = true\n')
    project.covtui("scan", check=True)
    shards = list((project.db.parent / "run" / "python").glob(".coverage.*"))
    assert shards, "parallel = true should leave shard files"
    # coverage.py's own view of the same shards, combined.
    import shutil
    import subprocess
    import sys

    from .conftest import clean_env

    work = project.root / "combined"
    work.mkdir()
    for shard in shards:
        shutil.copy(shard, work / shard.name)
    shutil.copy(project.root / "pyproject.toml", work / "pyproject.toml")
    subprocess.run([sys.executable, "-m", "coverage", "combine", "--rcfile", str(project.root / "pyproject.toml"), str(work)],
                   cwd=project.root, env=clean_env(), check=True, capture_output=True)
    expected = project.coverage_json(project.root / ".coverage")["totals"]
    totals = json.loads(project.covtui("status", "--json", check=True).stdout)["totals"]
    assert totals["percent_covered"] == expected["percent_covered"]
    assert totals["num_statements"] == expected["num_statements"]


# -- tests and files that vanish; file regressions only where covered code became missed -----

NO_SOURCE = "[tool.coverage.run]\nbranch = true\n"  # coverage.py measures only what is imported


def _alerts(project: Project) -> list[dict]:
    return json.loads(project.covtui("alerts", "--json", check=True).stdout)


def test_removed_tests_and_a_file_leaving_the_report_are_noticed(project: Project) -> None:
    project.write("pyproject.toml", NO_SOURCE)
    project.write("pkg/extra.py", """
        def double(x):
            return 2 * x


        def triple(x):
            return 3 * x
    """)
    project.write("tests/test_extra.py", """
        from pkg.extra import double


        def test_double():
            assert double(2) == 4


        def test_double_zero():
            assert double(0) == 0
    """)
    first = project.covtui("scan", check=True)
    assert first.stdout.count("coverage.py's `source` is not set") == 1
    was = project.coverage_json(project.db.parent / "run" / "python" / ".coverage")
    was_pc = was["files"]["pkg/extra.py"]["summary"]["percent_covered"]
    (project.root / "tests" / "test_extra.py").unlink()
    project.covtui("scan", check=True)

    alerts = _alerts(project)
    removed = [a for a in alerts if a["rule"] == "tests_removed"]
    assert len(removed) == 1 and removed[0]["severity"] == "warning"
    assert removed[0]["value"] == 2 and "2 fewer tests than at snapshot #1 (4 → 2)" in removed[0]["message"]
    assert removed[0]["detail"].splitlines() == [
        "tests.test_extra::test_double", "tests.test_extra::test_double_zero",
    ]
    left = [a for a in alerts if a["rule"] == "files_left"]
    assert [(a["message"], a["path"], a["severity"]) for a in left] == [
        (f"pkg/extra.py left the report (was {was_pc:.2f}%)", "pkg/extra.py", "warning")
    ]
    # The deleted test file left too: the tests_removed alert says that, not a file alert.
    assert not any("tests/test_extra.py" in a["message"] + a["detail"] for a in alerts)

    status = project.covtui("status", check=True)
    assert "`source` is not set, so files no test imports are invisible" in status.stdout
    data = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert data["sources"]["python"]["measures_unimported"] is False


def test_with_source_set_there_is_no_notice(project: Project) -> None:
    proc = project.covtui("scan", check=True)
    assert "`source` is not set" not in proc.stdout
    data = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert data["sources"]["python"]["measures_unimported"] is True


def test_deleting_a_covered_function_is_not_a_file_regression(project: Project) -> None:
    from .conftest import CALC, TESTS

    project.covtui("scan", check=True)
    project.write("pkg/calc.py", CALC.replace("def add(a, b):\n    return a + b\n\n\n", ""))
    project.write("tests/test_calc.py", TESTS.replace("add, ", "").split("def test_add")[0]
                  + "def test_classify():\n    assert classify(5) == 'pos'\n")
    project.covtui("scan", check=True)
    rules = [a["rule"] for a in _alerts(project)]
    assert "file_regression" not in rules
    assert "tests_removed" in rules  # test_add went with it


def test_file_regressions_only_in_code_files_and_grouped(project: Project) -> None:
    project.write("pyproject.toml", NO_SOURCE)
    project.write("pkg/other.py", """
        def half(x):
            if x:
                return x / 2
            return 0
    """)
    tests = """
        from pkg.calc import add, classify
        from pkg.other import half


        def check(value, expected):
            assert value == expected


        def test_add():
            {add}


        def test_classify():
            assert classify(5) == "pos"
            {zero}
            assert half(4) == 2
            {half}
    """
    project.write("tests/test_calc.py", tests.format(
        add="check(add(1, 2), 3)", zero='assert classify(0) == "zero"', half="assert half(0) == 0"
    ))
    project.covtui("scan", check=True)
    data_file = project.db.parent / "run" / "python" / ".coverage"
    before = project.coverage_json(data_file)["files"]
    # The same number of lines, but a covered line of each file is now missed.
    project.write("tests/test_calc.py", tests.format(
        add="assert add(1, 2) == 3", zero="assert classify(1)", half="assert half(1)"
    ))
    project.covtui("scan", check=True)
    after = project.coverage_json(data_file)["files"]

    def newly_missed(path: str) -> list[int]:
        return sorted(set(after[path]["missing_lines"]) - set(before[path]["missing_lines"]))

    assert newly_missed("tests/test_calc.py"), "the test file lost a covered line too"
    regressions = [a for a in _alerts(project) if a["rule"] == "file_regression"]
    assert len(regressions) == 1
    alert = regressions[0]
    assert alert["message"] == "2 files lost 2 covered lines: pkg/calc.py (1), pkg/other.py (1)"
    assert alert["path"] is None and alert["source"] == "python" and alert["value"] == 2
    assert alert["detail"].splitlines() == [
        f"{path} lost 1 covered line (now missing: {newly_missed(path)[0]})"
        for path in ("pkg/calc.py", "pkg/other.py")
    ]
    shown = project.covtui("alerts", check=True).stdout
    assert f"pkg/other.py lost 1 covered line (now missing: {newly_missed('pkg/other.py')[0]})" in shown


# -- a run that did not complete is a failed scan ---------------------------------------------

def _status(project: Project) -> dict:
    return json.loads(project.covtui("status", "--json", check=True).stdout)


def test_collection_error_is_a_failed_scan_not_a_drop(project: Project) -> None:
    project.covtui("scan", check=True)
    before = _status(project)
    project.write("tests/test_x.py", "def test_x(:\n    pass\n")
    proc = project.covtui("scan", "-q")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reason = "pytest: 1 error during collection: tests/test_x.py"
    assert reason in proc.stdout
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert [(a["rule"], a["severity"]) for a in alerts] == [("scan_failed", "critical")]
    assert alerts[0]["message"] == f"python: scan failed: {reason}"
    after = _status(project)
    assert after["snapshot"]["status"] == "failed"
    # The total and the source's coverage still show the last good run, not the partial one.
    assert after["totals"] == before["totals"]
    assert after["sources"]["python"]["summary"] == before["sources"]["python"]["summary"]
    assert after["sources"]["python"]["message"] == reason
    # The failed run is never a baseline: the next good run compares with snapshot #1.
    (project.root / "tests" / "test_x.py").unlink()
    project.covtui("scan", "-q", check=True)
    assert _status(project)["snapshot"]["previous_id"] == 1


def test_empty_suite_is_a_failed_scan(project: Project) -> None:
    project.covtui("scan", check=True)
    (project.root / "tests" / "test_calc.py").unlink()
    proc = project.covtui("scan", "-q")
    assert proc.returncode == 1
    assert "python: failed: pytest collected no tests" in proc.stdout
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert [a["rule"] for a in alerts] == ["scan_failed"]
    assert _status(project)["snapshot"]["status"] == "failed"


def test_failing_command_without_its_report_is_a_failed_scan(project: Project) -> None:
    project.write("covtui.toml", """
        [[sources]]
        name = "rust"
        command = "sh -c 'exit 3'"
        report = "target/lcov.info"
    """)
    proc = project.covtui("scan")
    assert proc.returncode == 1
    assert "target/lcov.info: the command exited with 3 and wrote no coverage report" in proc.stdout
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert [a["rule"] for a in alerts] == ["scan_failed"]


PYTEST_CASES = {
    # name: (files, pytest args, exit code, the one-line reason)
    "two collection errors": (
        {"t/test_a.py": "def test_a(:\n", "t/test_b.py": "import no_such_module\n"},
        ["-q", "t"], 2, "pytest: 2 errors during collection: t/test_a.py, t/test_b.py",
    ),
    "collection error, no summary": (
        {"t/test_a.py": "def test_a(:\n"}, ["-q", "-rN", "t"], 2,
        "pytest: 1 error during collection: t/test_a.py",
    ),
    "interrupted by pytest.exit": (
        {"t/test_a.py": "import pytest\n\ndef test_a():\n    pytest.exit('enough', returncode=2)\n"},
        ["t"], 2, "pytest was interrupted: _pytest.outcomes.Exit: enough",
    ),
    "internal error": (
        {"t/test_a.py": "def test_a():\n    pass\n",
         "t/conftest.py": "def pytest_collection_modifyitems(items):\n    raise RuntimeError('boom')\n"},
        ["t"], 3, "pytest: internal error: RuntimeError: boom",
    ),
    "unknown option": ({}, ["--no-such-option"], 4,
                       "pytest: usage error: unrecognized arguments: --no-such-option"),
    "missing path": ({}, ["missing"], 4, "pytest: usage error: file or directory not found: missing"),
    "broken conftest": (
        {"t/test_a.py": "def test_a():\n    pass\n", "t/conftest.py": "import no_such_module\n"},
        ["t"], 4,
        "pytest could not load t/conftest.py: "
        "ModuleNotFoundError: No module named 'no_such_module'",
    ),
    "no tests": ({"t/__init__.py": ""}, ["t"], 5, "pytest collected no tests"),
    "all deselected": ({"t/test_a.py": "def test_a():\n    pass\n"}, ["-k", "zzz", "t"], 5,
                       "pytest collected no tests (1 deselected)"),
    "a test failed": ({"t/test_a.py": "def test_a():\n    assert 0\n"}, ["t"], 1, None),
}


@pytest.mark.parametrize("case", list(PYTEST_CASES))
def test_pytest_failure_reason_from_real_output(case: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    from covtui.scan.outcome import pytest_failure

    from .conftest import clean_env

    files, args, code, reason = PYTEST_CASES[case]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert pytest_failure(proc.returncode, proc.stdout + proc.stderr, tmp_path) == reason


def test_covtuis_own_pytest_plugin_is_never_in_the_figures(project: Project) -> None:
    # Without `source`, coverage.py measures every file outside the standard library and
    # site-packages: an editable install's plugin (`-p covtui_contexts`) would count too.
    import subprocess
    import sys

    from .conftest import clean_env

    project.write("pyproject.toml", "")
    project.covtui("scan", check=True)
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    # What the project's own run says: pytest under coverage.py, no covtui anywhere (its
    # pytest11 plugin, installed with it, turned off).
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", "--data-file=own.coverage",
         "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:covtui"],
        cwd=project.root, env=clean_env(), check=True, capture_output=True,
    )
    expected = project.coverage_json(project.root / "own.coverage")
    assert sorted(status["files"]["python"]) == sorted(expected["files"])
    for key in ("num_statements", "covered_lines", "num_branches", "covered_branches",
                "percent_covered"):
        assert status["totals"][key] == expected["totals"][key], key


def test_the_snapshot_names_the_commit_branch_and_dirt_of_what_was_tested(project: Project) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=project.root, check=True, capture_output=True, text=True,
            env={**clean_env(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                 "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"},
        ).stdout.strip()

    git("init", "-q", "-b", "trunk")
    (project.root / ".gitignore").write_text(".covtui/\n.coverage*\n")
    git("add", "-A")
    git("commit", "-q", "-m", "first")
    project.covtui("scan", "-q", check=True)
    calc = project.root / "pkg" / "calc.py"
    calc.write_text(calc.read_text() + "\n\ndef more():\n    return 1\n")
    project.covtui("scan", "-q", check=True)

    async def rows():
        async with await Store.open(project.db, read_only=True) as store:
            return [await store.snapshot(i) for i in (1, 2)]

    clean, dirty = asyncio.run(rows())
    head = git("rev-parse", "HEAD")
    assert (clean.git_commit, clean.git_branch, clean.git_dirty) == (head, "trunk", False)
    assert (dirty.git_commit, dirty.git_branch, dirty.git_dirty) == (head, "trunk", True)


AFTER_THE_RUN = """
import asyncio, sys
import covtui.scan.run as run
from covtui.config import load_config

late, over = [], []

def hook(event, args):
    if event == "import" and over and args[0] not in sys.modules:
        late.append(args[0])

sys.addaudithook(hook)
command, warm, warmed = run.run_command, run._import_what_follows, []

def import_what_follows():
    warm()
    warmed.append(True)

async def run_command(*args, **kwargs):
    result = await command(*args, **kwargs)
    while not warmed:  # the scan waits for it too, before it reads the results
        await asyncio.sleep(0.01)
    over.append(True)
    return result

run.run_command, run._import_what_follows = run_command, import_what_follows
asyncio.run(run.run_scan(load_config(run.Path('.'))))
print(sorted({m for m in late if m.startswith(("covtui", "xml", "defusedxml"))}))
"""


def test_what_reads_a_runs_results_is_imported_while_the_tests_run(project: Project) -> None:
    """Nothing of covtui's (the JUnit reader and its XML parsers above all) is imported
    between the tests' end and the snapshot: the scan imports it while it waits."""
    proc = subprocess.run([sys.executable, "-c", AFTER_THE_RUN], cwd=project.root,
                          env=clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
