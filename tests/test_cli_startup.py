"""The lean start: the command line imports a command's module only when that command runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import clean_env

#: What `covtui --version` must not import: each costs start-up time.
HEAVY = ("asyncio", "coverage", "rich", "sqlite3", "textual", "covtui.store", "covtui.report",
         "covtui.domain", "covtui.cli.render", "psycopg")


def modules_after(*args: str) -> set[str]:
    """The modules imported by the time `covtui ARGS` exits (run in a fresh interpreter)."""
    code = (
        "import sys\n"
        "from covtui.cli import cli\n"
        "try:\n"
        f"    cli({list(args)!r}, prog_name='covtui')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                          text=True, check=True)
    return set(proc.stderr.split())


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


def test_version_imports_nothing_heavy() -> None:
    assert heavy(modules_after("--version")) == []


def test_sqlite_commands_never_import_the_postgresql_driver(tmp_path) -> None:
    loaded = modules_after("status", "--db", str(tmp_path / "none.db"))
    assert "covtui.store" in loaded  # it got as far as opening the database
    assert not {m for m in loaded if m.split(".")[0] == "psycopg" or m == "covtui.store.postgres"}


@pytest.mark.parametrize("command", ["alerts", "prune", "report"])
def test_a_command_loads_only_its_own_module(command: str) -> None:
    loaded = {m for m in modules_after(command, "--help") if m.startswith("covtui.cli.")}
    others = {"covtui.cli.scan", "covtui.cli.watch", "covtui.cli.dashboard", "covtui.cli.demo",
              "covtui.cli.ingest", "covtui.cli.status", "covtui.cli.alerts", "covtui.cli.prune",
              "covtui.cli.report"} - {f"covtui.cli.{command}"}
    assert f"covtui.cli.{command}" in loaded
    assert not loaded & others


def test_ingest_starts_its_read_before_importing_what_storing_needs(tmp_path) -> None:
    # The read runs in a worker process; the store, the event loop, rich and coverage.py itself
    # are imported in this one while it runs, on the other core.
    data = tmp_path / ".coverage"
    data.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # not a real one: the read fails
    code = (
        "import sys\n"
        "import covtui.readers.worker as worker\n"
        "start = worker.PendingRead.__init__\n"
        "def spy(self, *args, **kwargs):\n"
        "    print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
        "    start(self, *args, **kwargs)\n"
        "worker.PendingRead.__init__ = spy\n"
        "from covtui.cli import cli\n"
        "try:\n"
        f"    cli(['--project', {str(tmp_path)!r}, 'ingest', {str(data)!r}], prog_name='covtui')\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                          text=True, check=True)
    at_start = set(proc.stderr.splitlines()[0].split())
    assert "covtui.readers.worker" in at_start
    for module in ("coverage", "asyncio", "aiosqlite", "rich", "covtui.store", "covtui.record"):
        assert module not in at_start
    assert "isn't a coverage data file" in proc.stderr


def test_a_scan_starts_its_read_server_while_the_tests_run(tmp_path) -> None:
    # The read after the run forks from a server started with the run, not one it starts then
    # (Python and coverage.py imported first: most of a second after the tests).
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.covtui]\nsources = [{ name = "python", command = "pytest -q -p no:cacheprovider" }]\n'
    )
    code = (
        "import sys\n"
        "from multiprocessing import forkserver\n"
        "import covtui.readers.worker as worker\n"
        "events = []\n"
        "ensure, start = forkserver.ensure_running, worker.PendingRead.__init__\n"
        "def spy_ensure():\n"
        "    events.append('server')\n"
        "    ensure()\n"
        "def spy_start(self, *args, **kwargs):\n"
        "    events.append('read')\n"
        "    start(self, *args, **kwargs)\n"
        "forkserver.ensure_running, worker.PendingRead.__init__ = spy_ensure, spy_start\n"
        "from covtui.cli import cli\n"
        "try:\n"
        f"    cli(['--project', {str(tmp_path)!r}, 'scan', '-q'], prog_name='covtui')\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code, file=sys.stderr)\n"
        "print(' '.join(events), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                          text=True, check=True, cwd=tmp_path)
    assert "exit 0" in proc.stderr, proc.stdout + proc.stderr
    events = proc.stderr.splitlines()[-1].split()
    assert events[0] == "server" and "read" in events, events


def test_the_covtui_command_forks_an_ingests_reader_before_importing_anything(tmp_path) -> None:
    # Its entry point forks the reader's worker before click, the command line and the reader
    # module load; the command's own early start finds it waiting; the read takes it.
    data = tmp_path / ".coverage"
    data.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # not a real one: the read fails
    code = (
        "import sys, os\n"
        "fork = os.fork\n"
        "def spy_fork():\n"
        "    loaded = [m for m in ('click', 'covtui.readers', 'covtui.cli') if m in sys.modules]\n"
        "    pid = fork()\n"
        "    if pid:\n"
        "        print('fork', loaded, file=sys.stderr)\n"
        "        spy_on_the_worker()\n"
        "    return pid\n"
        "def spy_on_the_worker():\n"
        "    import covtui.readers.worker as worker\n"
        "    start, take = worker.start_early, worker._take_early\n"
        "    def spy_start(preload):\n"
        "        print('start', worker._early is not None, file=sys.stderr)\n"
        "        start(preload)\n"
        "    def spy_take(preload):\n"
        "        taken = take(preload)\n"
        "        print('take', type(taken).__name__, file=sys.stderr)\n"
        "        return taken\n"
        "    worker.start_early, worker._take_early = spy_start, spy_take\n"
        "os.fork = spy_fork\n"
        "from covtui.__main__ import main\n"
        f"sys.argv = ['covtui', '--project', {str(tmp_path)!r}, 'ingest', {str(data)!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('left', sys.modules['covtui.readers.worker']._early, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                          text=True, cwd=tmp_path)
    events = [line for line in proc.stderr.splitlines() if line.startswith(("fork", "start", "take", "left"))]
    # Forked with nothing loaded; the command's start finds it; the read takes it.
    assert events == ["fork []", "start True", "take _Forked", "left None"]
    assert proc.returncode == 2 and "isn't a coverage data file" in proc.stderr


@pytest.mark.parametrize(("args", "reads"), [
    (["ingest", "DATA"], True),
    (["--project", ".", "--db", "x.db", "ingest", "DATA"], True),
    (["--db=x.db", "ingest", "--label", "l", "DATA"], True),
    (["ingest", "--format", "coverage.py", "missing"], True),
    (["ingest", "--format=lcov", "DATA"], False),
    (["ingest", "lcov.info"], False),
    (["scan", "DATA"], False),
    (["--version"], False),
    ([], False),
    (["--db"], False),
])
def test_the_entry_point_guesses_an_ingest_of_coverage_data(tmp_path, monkeypatch, args, reads) -> None:
    from covtui.__main__ import _reads_coverage_data

    monkeypatch.chdir(tmp_path)
    (tmp_path / "DATA").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    (tmp_path / "lcov.info").write_text("TN:\nSF:a.c\nend_of_record\n")
    assert _reads_coverage_data(args) is reads


def test_an_ingest_that_only_asks_for_help_ends_the_reader_it_forked(tmp_path) -> None:
    data = tmp_path / ".coverage"
    data.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    code = (
        "import sys, os\n"
        "from covtui.__main__ import main\n"
        f"sys.argv = ['covtui', 'ingest', {str(data)!r}, '--help']\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    import covtui.readers.worker as worker\n"
        "    print('left', worker._early, file=sys.stderr)\n"
        "    try:\n"
        "        os.wait()\n"
        "    except ChildProcessError:\n"
        "        print('no child', file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and "Record a snapshot" in proc.stdout
    assert proc.stderr.split() == ["left", "None", "no", "child"]  # ended and reaped


def test_without_fork_the_entry_point_starts_the_pools_worker(tmp_path) -> None:
    data = tmp_path / ".coverage"
    data.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # not a real one: the read fails
    code = (
        "import multiprocessing, os, sys\n"
        "del os.fork\n"  # as where there is none: no fork start method either
        "multiprocessing.get_all_start_methods = lambda: ['spawn']\n"
        "from covtui.__main__ import main\n"
        f"sys.argv = ['covtui', 'ingest', {str(data)!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    import covtui.readers.worker as worker\n"
        "    print('left', worker._early, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and "isn't a coverage data file" in proc.stderr
    assert proc.stderr.split()[-2:] == ["left", "None"]


@pytest.mark.parametrize(("ends", "status", "stderr"), [
    ("pass", 0, ""),
    ("sys.exit(3)", 3, ""),
    ("sys.exit(-1)", 255, ""),
    ("sys.exit('one line')", 1, "one line"),
])
def test_the_command_exits_as_python_would_less_the_teardown(ends: str, status: int, stderr: str) -> None:
    code = (
        "import atexit, sys, threading, time\n"
        "import covtui.__main__ as entry\n"
        "def main():\n"
        "    atexit.register(lambda: print('exit handler ran', flush=False))\n"
        "    print('buffered', end='')\n"
        f"    {ends}\n"
        "entry.main = main\n"
        "entry.run()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == status
    assert proc.stdout == "bufferedexit handler ran\n"  # flushed, after the handlers
    assert proc.stderr.strip() == stderr


def test_the_command_waits_for_a_thread_python_would_wait_for(tmp_path) -> None:
    done = tmp_path / "done"
    code = (
        "import threading, time\n"
        "import covtui.__main__ as entry\n"
        "def work():\n"
        "    time.sleep(0.3)\n"
        f"    open({str(done)!r}, 'w').write('finished')\n"
        "entry.main = lambda: threading.Thread(target=work).start()\n"
        "entry.run()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=clean_env(), check=True, timeout=60)
    assert done.read_text() == "finished"
