"""Reading coverage.py data never changes the caller's directory or `sys.path`, and a data file
coverage.py can't read is one line (exit 2), never a traceback, with nothing stored."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from covtui.config import load_config
from covtui.scan import run_scan

from ..conftest import Project, clean_env


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


#: A worker forked as `covtui`'s entry point forks the reader's (in a process of its own:
#: forking pytest's is not this test's business).
FORKED = """
import os, sys
from covtui.readers import worker
requests, to_worker = os.pipe()
from_worker, answers = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(to_worker); os.close(from_worker)
    worker.serve_forked(requests, answers, "json")
    os._exit(0)
os.close(requests); os.close(answers)
worker.adopt_forked("json", pid, to_worker, from_worker)
"""


def run_forked(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", FORKED + body], env=clean_env(),
                          capture_output=True, text=True, timeout=60)


def test_a_forked_reader_answers_its_one_request_and_is_reaped() -> None:
    proc = run_forked(
        "read = worker.PendingRead('json:dumps', {'a': [1, 2]}, preload='json')\n"
        "print(read.result())\n"
        "print(worker._early)\n"
        "os.waitpid(pid, os.WNOHANG)\n"  # reaped already: ChildProcessError
    )
    assert proc.stdout.splitlines()[:2] == ['{"a": [1, 2]}', "None"]
    assert "ChildProcessError" in proc.stderr


def test_a_forked_readers_exception_is_raised_in_the_caller() -> None:
    proc = run_forked(
        "try:\n"
        "    worker.PendingRead('json:loads', '{bad', preload='json').result()\n"
        "except ValueError as exc:\n"
        "    print('raised', type(exc).__name__)\n"
    )
    assert proc.stdout.strip() == "raised JSONDecodeError", proc.stderr


def test_a_forked_reader_that_dies_is_one_line_and_an_unused_one_is_ended() -> None:
    proc = run_forked(
        "import signal, time\n"
        "os.kill(pid, signal.SIGKILL)\n"
        # Dead (a zombie: its end of the request pipe closed) before the request is written.
        "while open(f'/proc/{pid}/stat').read().split(') ')[1][0] != 'Z':\n"
        "    time.sleep(0.01)\n"
        "try:\n"
        "    worker.PendingRead('json:dumps', 1, preload='json').result()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    assert proc.stdout.startswith("WorkerDied covtui's reader process ended without an answer"), proc.stderr
    proc = run_forked("worker.end_early()\nprint(os.waitpid(pid, os.WNOHANG))\n")
    assert "ChildProcessError" in proc.stderr  # ended and reaped: no process left behind


def test_coverage_pys_realpath_is_remembered_only_while_a_read_lasts(tmp_path, monkeypatch) -> None:
    from coverage import files

    from covtui.coverage_compat import realpaths_remembered

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "m.py").write_text("")
    (tmp_path / "b" / "m.py").write_text("")
    real = files.os.path.realpath
    calls = []
    monkeypatch.setattr(files.os.path, "realpath", lambda p, *a, **k: calls.append(p) or real(p, *a, **k))
    spied = files.os.path.realpath
    path = str(tmp_path / "a" / "m.py")
    with realpaths_remembered():
        assert [files.abs_file(path) for _ in range(3)] == [real(path)] * 3
        monkeypatch.chdir(tmp_path / "a")
        here = files.abs_file("m.py")
        monkeypatch.chdir(tmp_path / "b")
        there = files.abs_file("m.py")  # another folder, another file
        assert files.abs_file("m.py") == there
        assert os.path.realpath is not files.os.path.realpath  # the process's own is not touched
    assert calls == [path, "m.py", "m.py"]
    assert here == real(path) and there == real(str(tmp_path / "b" / "m.py"))
    assert files.os.path.realpath is spied  # restored
