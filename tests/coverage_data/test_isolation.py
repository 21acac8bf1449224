"""Reading coverage.py data never changes the caller's directory or `sys.path`, and a data file
coverage.py can't read is one line (exit 2), never a traceback, with nothing stored."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from covtui.config import load_config
from covtui.scan import run_scan

from ..conftest import Project


class _WatchedPath(list):
    """`sys.path` that remembers every change made to it."""

    changes: list[str]

    def _note(name):  # noqa: N805 - builds methods
        def method(self, *args):
            self.changes.append(name)
            return getattr(list, name)(self, *args)

        return method

    append = _note("append")
    insert = _note("insert")
    pop = _note("pop")
    remove = _note("remove")
    extend = _note("extend")
    __setitem__ = _note("__setitem__")
    __delitem__ = _note("__delitem__")


def test_a_dashboard_scan_leaves_cwd_and_sys_path_alone(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard's `r` runs `run_scan` in its own process, next to the UI's threads."""
    # A configured plugin is what made the reader add the project to sys.path.
    plugins = Project(tmp_path / "plugins")
    plugins.write("cov_plugin.py", """
        import coverage

        def coverage_init(reg, options):
            reg.add_configurer(Noop())

        class Noop(coverage.CoveragePlugin):
            def configure(self, config):
                pass
    """)
    project.write("pyproject.toml", """
        [tool.coverage.run]
        source = ["pkg"]
        plugins = ["cov_plugin"]
    """)
    monkeypatch.setenv("PYTHONPATH", str(plugins.root))  # for the scan's `coverage run`
    config = load_config(project.root)
    monkeypatch.chdir(project.root.parent)
    cwd = os.getcwd()
    watched = _WatchedPath([str(plugins.root), *sys.path])
    watched.changes = []
    monkeypatch.setattr(sys, "path", watched)
    chdirs: list[str] = []
    real_chdir = os.chdir
    monkeypatch.setattr(os, "chdir", lambda p: (chdirs.append(str(p)), real_chdir(p)))
    seen: set[str] = set()
    stop = threading.Event()

    def ui_thread() -> None:  # what a UI thread resolving a relative path would see
        while not stop.is_set():
            seen.add(os.getcwd())
            stop.wait(0.0005)

    sampler = threading.Thread(target=ui_thread)
    sampler.start()
    try:
        outcome = asyncio.run(run_scan(config, trigger="rescan"))
    finally:
        stop.set()
        sampler.join()
    assert outcome.draft.sources[0].report is not None, outcome.draft.sources[0].message
    assert chdirs == []
    assert seen == {cwd} and os.getcwd() == cwd
    assert watched.changes == []


@pytest.fixture
def measured(project: Project) -> Project:
    """The project measured by coverage.py, and one good snapshot stored."""
    project.covtui("scan", check=True)
    return project


def _corrupt(project: Project, sql: str) -> Path:
    data = project.root / "bad.coverage"
    data.write_bytes((project.db.parent / "run" / "python" / ".coverage").read_bytes())
    con = sqlite3.connect(data)
    con.execute(sql)
    con.commit()
    con.close()
    return data


def _stored(project: Project) -> list[tuple]:
    con = sqlite3.connect(f"{project.db.as_uri()}?mode=ro", uri=True)
    try:
        return con.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE file SET path = CAST(X'706b672fff2e7079' AS TEXT) WHERE id = 1",
         "file.path of row 1 is not UTF-8 text"),
        ("UPDATE file SET path = NULL WHERE id = 1", "file.path of row 1 is null, not text"),
        ("UPDATE arc SET fromno = 'x' WHERE rowid = 1", "arc.fromno holds text, not integer"),
    ],
    ids=["path-not-utf8", "path-null", "fromno-text"],
)
def test_unreadable_coverage_data_is_one_line(measured: Project, sql: str, problem: str) -> None:
    bad = _corrupt(measured, sql)
    before = _stored(measured)
    proc = measured.covtui("ingest", str(bad), "--source", "python")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and problem in lines[0], proc.stderr
    assert _stored(measured) == before


def test_a_reader_process_that_dies_is_one_line_not_a_traceback() -> None:
    """A worker killed mid-read (out of memory, a signal, covtui replaced on disk so that its
    answer no longer unpickles) ends the read with one line, which a scan records as a failed
    run, instead of concurrent.futures' BrokenProcessPool."""
    from covtui.errors import CovtuiError
    from covtui.readers.worker import PendingRead

    with pytest.raises(CovtuiError, match="reader process ended without an answer"):
        PendingRead("os:_exit", 3).result()
