"""The status line against a real `covtui watch`: alive, next scan due, and a killed one."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from covtui.config import load_config

from .conftest import loaded, make_app, screen_text, wait_for

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/m.py": "def f(x):\n    if x:\n        return 1\n    return 2\n",
    "tests/test_m.py": "from pkg.m import f\n\n\ndef test_f():\n    assert f(1) == 1\n",
    "pyproject.toml": '[tool.coverage.run]\nsource = ["pkg"]\nbranch = true\n\n[tool.covtui]\n',
}


def _beat(db: Path) -> tuple[str, int, str] | None:
    if not db.exists():
        return None
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT name, pid, state FROM heartbeats").fetchone()
    except sqlite3.Error:
        return None


async def test_a_real_watcher_is_shown_alive_then_gone(tmp_path: Path):
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    config = load_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVTUI_"))}
    env.pop("PYTHONPATH", None)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "covtui", "watch", "--interval", "600"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # It scans at once, then idles until the next scan, ten minutes on.
        deadline = time.monotonic() + 60
        while (beat := _beat(config.database_path)) is None or beat[2] != "idle":
            assert watcher.poll() is None, "covtui watch ended"
            assert time.monotonic() < deadline, f"no idle heartbeat: {beat}"
            time.sleep(0.1)
        name, pid, _ = beat
        assert pid == watcher.pid
        app = make_app(config, config.database_path, clock=time.time)
        async with app.run_test(size=(160, 30)) as pilot:
            await loaded(pilot)
            await wait_for(pilot, lambda: f"watcher {name}: alive (idle), next scan in" in screen_text(app))
            assert "1 snapshot" in screen_text(app)
            # Killed: no goodbye, its row stays; the dashboard sees the process is gone.
            watcher.kill()
            watcher.wait()
            await wait_for(
                pilot, lambda: f"watcher {name}: stopped (pid {pid} is gone" in screen_text(app),
                timeout=5,
            )
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
