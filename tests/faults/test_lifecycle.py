"""Processes that must not outlive covtui: signals mid-scan, hanging hooks, escaped children."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui import hooks
from covtui.config import Config
from covtui.domain.model import Alert, Severity

from ..conftest import Project, clean_env
from ..terminal import Terminal


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_a_hanging_hook_is_killed_with_its_group_at_the_timeout(tmp_path: Path, monkeypatch) -> None:
    # sh waits for a child that holds the hook's stderr pipe: killing sh alone is not enough.
    got, pids = tmp_path / "got.jsonl", tmp_path / "pids"
    script = tmp_path / "hook.sh"
    script.write_text(f"cat >> {got}\nsh -c 'echo $$ >> {pids}; exec sleep 100'\n")
    monkeypatch.setattr(hooks, "HOOK_TIMEOUT_S", 1.0)
    config = Config(root=tmp_path, on_alert=f"sh {script}")
    alerts = [Alert("coverage_drop", Severity.CRITICAL, f"alert {i}") for i in range(2)]
    log: list[str] = []
    started = time.monotonic()
    await asyncio.wait_for(hooks.run_alert_hook(config, alerts, log.append), 30)
    elapsed = time.monotonic() - started
    assert elapsed < 4, f"{elapsed:.1f}s for a hook timeout of 1s"
    assert got.read_text().count("alert 0") == 1
    assert not any(alive(int(pid)) for pid in pids.read_text().split())
    assert log == ["on_alert: sh took longer than 1s: its process group was killed; "
                   "1 more alert not sent"]


async def test_a_hook_running_when_covtui_is_stopped_goes_with_it(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "hook.sh"
    script.write_text(f"cat > /dev/null\nsh -c 'echo $$ >> {pids}; exec sleep 100'\n")
    config = Config(root=tmp_path, on_alert=f"sh {script}")
    task = asyncio.create_task(hooks.run_alert_hook(
        config, [Alert("coverage_drop", Severity.CRITICAL, "x")], lambda message: None
    ))
    while not pids.exists():
        await asyncio.sleep(0.02)
    task.cancel()  # what a stop signal does to the CLI's work
    with pytest.raises(asyncio.CancelledError):
        await task
    # Its group was sent SIGKILL before the cancel came through; a killed process takes a
    # moment to be gone (under load, longer than this assertion took to run).
    pid = int(pids.read_text())
    wait_until(lambda: not alive(pid), timeout=5)


async def test_a_cancel_while_the_command_starts_ends_its_whole_group(tmp_path: Path, monkeypatch) -> None:
    # asyncio, cancelled while it connects a new process's pipes, kills that process alone
    # (the measuring wrapper) and then waits for pipes the wrapper's command still holds.
    from asyncio import base_subprocess

    from covtui.scan.runner import run_command

    started = tmp_path / "command.pid"
    connect = base_subprocess.BaseSubprocessTransport._connect_pipes

    async def slow_connect(self, waiter):
        while not started.exists():  # the wrapper has started its command by now
            await asyncio.sleep(0.01)
        await connect(self, waiter)

    monkeypatch.setattr(base_subprocess.BaseSubprocessTransport, "_connect_pipes", slow_connect)
    script = f"import os, time; open({str(started)!r}, 'w').write(str(os.getpid())); time.sleep(100)"
    task = asyncio.create_task(run_command([sys.executable, "-c", script], cwd=tmp_path, timeout=60))
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    assert started.exists()
    task.cancel()  # a key, a signal, or a full run decided on after an early start
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 20)
    pid = int(started.read_text())
    wait_until(lambda: not alive(pid), timeout=10)


SLOW_TEST = """
    import os, time

    def test_slow():
        # Written whole, then renamed: the test never reads an empty marker.
        open({marker!r} + ".tmp", "w").write(str(os.getpid()))
        os.replace({marker!r} + ".tmp", {marker!r})
        time.sleep(120)
"""


def group_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])


def group_members(pgid: int) -> list[int]:
    """Live processes in process group `pgid`."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(group) == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def two_source_project(project: Project, tmp_path: Path) -> tuple[Path, Path]:
    """The tests hang in the first source; the second would leave a marker if it ever ran."""
    marker, second = tmp_path / "pytest.pid", tmp_path / "second.started"
    project.write("tests/test_slow.py", SLOW_TEST.format(marker=str(marker)))
    project.write("covtui.toml", f"""
        [[sources]]
        name = "python"
        command = "pytest -q"

        [[sources]]
        name = "second"
        command = "touch {second}"
        report = "{second}"
    """)
    return marker, second


def start_scan(project: Project, temp: Path) -> subprocess.Popen[str]:
    # Its own TMPDIR: the runner's temp files can be counted without other tests' in the way.
    return subprocess.Popen(
        [sys.executable, "-m", "covtui", "scan"], cwd=project.root,
        env={**clean_env(), "TMPDIR": str(temp)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize(("sig", "code"), [
    (signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129),
])
def test_a_signal_mid_scan_ends_the_command_group_and_records_a_cancel(
    project: Project, tmp_path: Path, sig: int, code: int
) -> None:
    marker, second = two_source_project(project, tmp_path)
    temp = tmp_path / "temp"
    temp.mkdir()
    scan = start_scan(project, temp)
    group = None
    try:
        wait_until(marker.exists)
        pytest_pid = int(marker.read_text())
        group = group_of(pytest_pid)  # measure.py's group: it, coverage/pytest, their children
        assert group != group_of(scan.pid)
        scan.send_signal(sig)
        out, err = scan.communicate(timeout=60)
        left = group_members(group)
    finally:
        if scan.poll() is None:
            scan.kill()
        if group is not None and group_members(group):
            os.killpg(group, signal.SIGKILL)  # don't leave a failed test's processes behind
    assert scan.returncode == code, out + err
    assert err.strip().splitlines() == [f"covtui: interrupted by {signal.Signals(sig).name}"]
    assert left == []
    assert list(temp.glob("covtui-run-*")) == []
    assert not second.exists(), "the second source ran after the signal"
    assert rows(project.db, "SELECT status FROM snapshots") == [("cancelled",)]
    assert rows(project.db, "SELECT source, status FROM source_results") == [("python", "cancelled")]
    assert rows(project.db, "SELECT rule, severity FROM alerts") == [("scan_failed", "info")]


def test_a_child_that_setsids_away_is_reported_in_one_line(project: Project, tmp_path: Path) -> None:
    daemon = tmp_path / "daemon.pid"
    project.write("daemonize.sh", f"""
        setsid sleep 60 &
        echo $! > {daemon}
        printf 'SF:pkg/calc.py\\nDA:2,1\\nend_of_record\\n' > lcov.info
    """)
    project.write("covtui.toml", """
        [[sources]]
        name = "c"
        command = "sh daemonize.sh"
        report = "lcov.info"
    """)
    try:
        proc = project.covtui("scan")
    finally:
        if daemon.exists():
            os.kill(int(daemon.read_text()), signal.SIGKILL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    pid = daemon.read_text().strip()
    notes = [line for line in proc.stdout.splitlines() if "left the command's process group" in line]
    assert notes == [
        f"c │ covtui: pid {pid} (sleep) left the command's process group and still holds its "
        "output: covtui stopped reading it and left it running"
    ]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGHUP, 129), (signal.SIGTERM, 143)])
def test_closing_the_dashboards_terminal_during_a_rescan_ends_the_command(
    project: Project, tmp_path: Path, sig: int, code: int
) -> None:
    """The dashboard in a real pseudo-terminal; `r`, then the signal a closing terminal sends."""
    project.covtui("scan", check=True)  # something to show
    marker = tmp_path / "pytest.pid"
    project.write("tests/test_slow.py", SLOW_TEST.format(marker=str(marker)))
    temp = tmp_path / "temp"
    temp.mkdir()
    group = None
    with Terminal(project.root, env={"TMPDIR": str(temp)}) as term:
        try:
            term.wait_for_footer()
            term.press(b"r")
            wait_until(marker.exists, 60)
            group = group_of(int(marker.read_text()))
            term.app.send_signal(sig)
            term.app.wait(timeout=60)
            left = group_members(group)
        finally:
            if group is not None and group_members(group):
                os.killpg(group, signal.SIGKILL)
    app, screen = term.app, term.screen
    assert app.returncode == code, screen[-2000:].decode(errors="replace")
    assert left == []
    assert list(temp.glob("covtui-run-*")) == []
    assert rows(project.db, "SELECT status, trigger FROM snapshots ORDER BY id") == [
        ("ok", "scan"), ("cancelled", "dashboard")
    ]
