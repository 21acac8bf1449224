"""The dashboard as people run it, where Textual has replaced `sys.stdout`/`sys.stderr`
(pilot tests run inside pytest's capture and never see that)."""

from __future__ import annotations

import sqlite3

from ..conftest import Project
from ..terminal import Terminal


def _snapshots(project: Project) -> list[tuple]:
    with sqlite3.connect(project.db) as db:
        return db.execute("SELECT status, trigger FROM snapshots ORDER BY id").fetchall()


def test_r_rescans_a_real_project_and_stores_its_coverage(project: Project) -> None:
    """`r` runs the tests and reads coverage.py's data in a worker process; the worker's launch
    must not trip over Textual's stand-in stderr (its fileno() is -1: "bad value(s) in
    fds_to_keep" from multiprocessing's resource tracker, seen on a real project)."""
    project.covtui("scan", check=True)
    with Terminal(project.root) as term:
        term.wait_for_footer()
        term.press(b"r")
        term.wait_until(lambda: len(_snapshots(project)) == 2 or b"crashed" in term.screen,
                        120, "the rescan's snapshot")
        term.press(b"q")
        term.app.wait(timeout=30)
        assert b"scan crashed" not in term.screen, term.tail()
    assert _snapshots(project) == [("ok", "scan"), ("ok", "dashboard")]
    assert term.app.returncode == 0


def test_a_key_typed_right_after_q_does_nothing_while_the_app_quits(project: Project) -> None:
    """`q` then `a` at once: the Alerts screen used to be pushed onto an app that was closing,
    and its mount failed with a NoMatches traceback on the terminal."""
    project.covtui("scan", check=True)
    with Terminal(project.root) as term:
        term.wait_for_footer()
        term.press(b"qa")
        term.app.wait(timeout=30)
        assert b"Traceback" not in term.screen and b"NoMatches" not in term.screen, term.tail()
    assert term.app.returncode == 0
