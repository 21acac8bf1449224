"""`covtui watch` as a real process: file changes, heartbeats, signals and the alert hook."""

from __future__ import annotations

import dataclasses
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import watchfiles

from covtui.watch import ChangeFilter

from .conftest import Project, clean_env


def start_watch(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "covtui", "watch", *args],
        cwd=project.root, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )


def query(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []  # schema not created yet


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def statuses(project: Project) -> list[str]:
    return [r[0] for r in query(project.db, "SELECT status FROM snapshots ORDER BY id")]


def test_watch_rescans_on_change_beats_and_stops_on_sigterm(project: Project) -> None:
    watch = start_watch(project, "--interval", "300", "--on-change")
    try:
        wait_until(lambda: len(statuses(project)) == 1)
        beats = query(project.db, "SELECT pid, next_scan_at FROM heartbeats")
        wait_until(lambda: bool(query(project.db, "SELECT pid FROM heartbeats")), 15)
        beats = query(project.db, "SELECT pid, next_scan_at, state FROM heartbeats")
        assert beats[0][0] == watch.pid
        assert beats[0][1] > time.time() + 200  # next interval scan ~300 s away
        first = query(project.db, "SELECT pc_covered FROM snapshots")[0][0]
        # A real change: a test that covers more.
        project.write("tests/test_more.py", "from pkg.calc import unused\n\ndef test_unused():\n    assert unused() == 4\n")
        wait_until(lambda: len(statuses(project)) == 2)
        second = query(project.db, "SELECT pc_covered FROM snapshots ORDER BY id DESC LIMIT 1")[0][0]
        assert second > first
        watch.send_signal(signal.SIGTERM)
        out, _ = watch.communicate(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert watch.returncode == 0, out
    assert "stopped" in out
    assert query(project.db, "SELECT * FROM heartbeats") == []
    assert [r[0] for r in query(project.db, "SELECT trigger FROM snapshots")] == ["watch", "watch"]


def test_watch_sees_changes_when_the_database_sits_above_the_project(project: Project) -> None:
    """`cd proj && covtui --db ../m.db watch --on-change`: the DB's folder holds the project."""
    db = project.root.parent / "m.db"
    watch = subprocess.Popen(
        [sys.executable, "-m", "covtui", "--db", "../m.db", "watch", "--interval", "300",
         "--on-change"],
        cwd=project.root, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: len(query(db, "SELECT id FROM snapshots")) == 1)
        project.write("tests/test_more.py", "from pkg.calc import unused\n\ndef test_unused():\n    assert unused() == 4\n")
        wait_until(lambda: len(query(db, "SELECT id FROM snapshots")) == 2)
        watch.send_signal(signal.SIGTERM)
        out, _ = watch.communicate(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert watch.returncode == 0, out


def test_the_change_filter_ignores_only_what_covtui_writes(project: Project) -> None:
    source = str(project.root / "pkg" / "calc.py")
    for database in ("../m.db", "m.db", ".covtui/covtui.db"):
        config = dataclasses.replace(project.config, database=database)
        wanted = ChangeFilter(config).wanted
        db = config.database_path
        assert wanted(watchfiles.Change.modified, source), database
        for own in (db, db.with_name(db.name + "-wal"), db.parent / "cache" / "x.py"):
            assert not wanted(watchfiles.Change.modified, str(own)), (database, own)
    # The default folder is covtui's alone: anything in it is an output.
    inside = project.config.database_path.parent / "x.toml"
    assert not ChangeFilter(project.config).wanted(watchfiles.Change.modified, str(inside))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_a_signal_during_a_scan_records_cancelled_and_leaves_no_children(
    project: Project, tmp_path: Path, sig: int
) -> None:
    marker = tmp_path / "pytest.pid"
    project.write("tests/test_slow.py", f"""
        import os, time

        def test_slow():
            open({str(marker)!r} + ".tmp", "w").write(str(os.getpid()))
            os.replace({str(marker)!r} + ".tmp", {str(marker)!r})
            time.sleep(120)
    """)
    watch = start_watch(project, "--interval", "300")
    try:
        wait_until(marker.exists)
        pytest_pid = int(marker.read_text())
        watch.send_signal(sig)
        out, _ = watch.communicate(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert watch.returncode == 0, out
    assert "cancelled" in out
    assert statuses(project) == ["cancelled"]
    # A cancel you asked for is news, not an emergency.
    assert query(project.db, "SELECT rule, severity FROM alerts") == [("scan_failed", "info")]
    stat = Path(f"/proc/{pytest_pid}/stat")
    assert not stat.exists() or stat.read_text().split()[2] == "Z"
    with sqlite3.connect(project.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_alert_hook_gets_json_and_a_failing_hook_is_not_fatal(project: Project, tmp_path: Path) -> None:
    received = tmp_path / "alerts.jsonl"
    project.write("covtui.toml", f"""
        on_alert = "sh -c 'cat >> {received}; echo >> {received}'"
    """)
    project.covtui("scan", check=True)
    project.write("tests/test_calc.py", "def test_nothing():\n    pass\n")
    project.covtui("scan", check=True)
    alerts = [json.loads(line) for line in received.read_text().splitlines() if line]
    assert "coverage_drop" in {a["rule"] for a in alerts}
    assert all({"id", "severity", "message", "snapshot_id"} <= set(a) for a in alerts)

    project.write("covtui.toml", 'on_alert = "sh -c \'exit 7\'"\n')
    project.write("tests/test_calc.py", "from pkg.calc import add, classify, unused\n\ndef test_all():\n    add(1, 2); classify(-1); classify(0); classify(1); unused()\n")
    project.covtui("scan", check=True)
    project.write("tests/test_calc.py", "def test_nothing():\n    pass\n")
    proc = project.covtui("scan")
    assert proc.returncode == 0
    assert "on_alert: sh exited with 7" in proc.stderr


def test_an_on_change_scan_waits_until_the_changes_settle(project: Project) -> None:
    """A burst of changes (a save, then a formatter's rewrite) is one scan, started once no
    change came for `watch_settle` seconds: never before, and not much after."""
    import asyncio

    from covtui.config import load_config
    from covtui.watch import Watcher

    project.write("covtui.toml", "watch_settle = 0.4\n")
    watcher = Watcher(load_config(project.root), interval_s=3600, on_change=True, log=lambda _: None)
    assert watcher.settle_s == 0.4
    assert Watcher(load_config(project.root), interval_s=1, on_change=True, settle_s=0).settle_s == 0

    async def burst() -> tuple[float, float]:
        watcher.next_scan_at = time.time() + 3600
        waiting = asyncio.ensure_future(watcher._wait_for_trigger())
        last = 0.0
        for _ in range(4):  # a change every 0.2 s: each restarts the wait
            watcher.changed.set()
            last = time.monotonic()
            await asyncio.sleep(0.2)
            assert not waiting.done()
        await waiting
        return last, time.monotonic()

    last, triggered = asyncio.run(burst())
    assert triggered - last >= 0.4
    assert triggered - last < 10  # a generous bound: a loaded machine is slow, never early
    assert not watcher.changed.is_set()  # the burst is consumed: one scan, not one per change
