"""`covtui scan` end to end on real fixture projects: numbers, statuses, locks and processes."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from covtui.errors import ScanBusy
from covtui.model import RunStatus
from covtui.scan import run_scan
from covtui.scan.lock import ScanLock
from covtui.store import Store

from .conftest import Project


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
