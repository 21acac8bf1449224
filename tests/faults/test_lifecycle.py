"""Processes that must not outlive covtui: signals mid-scan, hanging hooks, escaped children."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from covtui import hooks
from covtui.config import Config
from covtui.model import Alert, Severity


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
