"""The dashboard as people run it: its own process in a pseudo-terminal, where Textual has
replaced `sys.stdout`/`sys.stderr` (pilot tests run inside pytest's capture and never see that)."""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import sys
import threading
import time

from ..conftest import Project, clean_env


def _wait_until(predicate, timeout: float, what: str, screen: bytearray) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = bytes(screen[-3000:]).decode(errors="replace")
            raise AssertionError(f"timed out waiting for {what}; the screen's last bytes:\n{tail}")
        time.sleep(0.1)


def _snapshots(project: Project) -> list[tuple]:
    with sqlite3.connect(project.db) as db:
        return db.execute("SELECT status, trigger FROM snapshots ORDER BY id").fetchall()


def test_r_rescans_a_real_project_and_stores_its_coverage(project: Project) -> None:
    """`r` runs the tests and reads coverage.py's data in a worker process; the worker's launch
    must not trip over Textual's stand-in stderr (its fileno() is -1: "bad value(s) in
    fds_to_keep" from multiprocessing's resource tracker, seen on a real project)."""
    project.covtui("scan", check=True)
    master, slave = pty.openpty()
    app = subprocess.Popen(
        [sys.executable, "-m", "covtui"], cwd=project.root,
        env={**clean_env(), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "36"},
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
    )
    os.close(slave)
    screen = bytearray()

    def drain() -> None:  # a terminal reads what the app writes, or the app blocks
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    try:
        _wait_until(lambda: b"Rescan" in screen, 60, "the footer", screen)
        time.sleep(0.5)
        os.write(master, b"r")
        _wait_until(lambda: len(_snapshots(project)) == 2 or b"crashed" in screen, 120,
                    "the rescan's snapshot", screen)
        os.write(master, b"q")
        app.wait(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        os.close(master)
    assert b"scan crashed" not in screen, bytes(screen[-3000:]).decode(errors="replace")
    assert _snapshots(project) == [("ok", "scan"), ("ok", "dashboard")]
    assert app.returncode == 0
