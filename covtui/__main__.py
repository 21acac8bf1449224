"""The `covtui` command (and `python -m covtui`): the command line, with a head start.

`covtui ingest` of coverage.py data forks its reader's worker here, before anything else is
imported: the worker imports coverage.py and reads on the other core while this process
starts up (about a quarter of a warm ingest). `covtui scan` forks its tests here first
(covtui.scan.forked), gives them their command once the config is read (covtui.scan.early),
then forks its reader likewise. Nothing else is imported here, so every
other command starts as it would without it; every command ends without the interpreter's
teardown (`run`).
"""

from __future__ import annotations

import sys
from typing import NoReturn

#: The group's options that take a value (`--db PATH`, `--project DIR`), before the command.
_GROUP_OPTIONS = ("--db", "--project")


def main() -> None:
    import os

    try:
        os.getcwd()
    except FileNotFoundError:  # every path covtui (and coverage.py's import) resolves needs it
        sys.exit("covtui: the current directory no longer exists (deleted or moved): cd into the project again")
    from covtui import collector

    collector.for_batch_work()  # from the first import on (the dashboard sets its own)
    tests = _scans(sys.argv[1:])
    if tests:
        from covtui.scan import forked

        forked.fork_ahead()  # the tests: in the forked child, this runs them and ends it
    # A scan reads the tests' data when they end: its reader waits from now on too.
    early = tests or _reads_coverage_data(sys.argv[1:])
    try:
        if early and not tests:
            forked = _fork_reader()
        if tests:
            from covtui.scan import early as early_tests

            early_tests.start()
            # Forked once the tests are started, not before: forked first, it slowed this
            # process's way to their start and their own start by 25-30 ms each (measured).
            # It yields the CPU to their start, and has until they end.
            forked = _fork_reader(yielding=True)
        if early:
            _adopt_reader(*forked)
        from covtui.cli import main as run_command_line

        run_command_line()
    finally:  # also when a Ctrl-C comes before the command line is up
        started = sys.modules.get("covtui.scan.early")
        if started is not None:
            started.discard_warm()  # the dashboard's and watch's next tests
        if tests:
            from covtui.scan import early as early_tests

            early_tests.discard()  # if the scan never took them (--help, a usage error)
        if early:
            from covtui.readers.worker import end_early

            end_early()  # likewise


#: What `covtui scan` may be given for its tests to start here.
_SCAN_FLAGS = {"--affected", "-q", "--quiet", "--fail-on-alert"}


def _scans(args: list[str]) -> bool:
    """Whether `args` are `scan` (with only flags that leave the project, the database and
    the sources as the config says): its tests can start here."""
    return bool(args) and args[0] == "scan" and all(arg in _SCAN_FLAGS for arg in args[1:])


def _fork_reader(yielding: bool = False) -> tuple:
    """Fork the reader's worker now, with next to nothing imported (the pool's worker would
    start after 25 ms of imports here); it imports coverage.py and waits for its request.
    `yielding`: it runs at a lower priority (it has time until the tests end). Where there
    is no fork, the pool's worker as before. What `_adopt_reader` takes."""
    import os

    if not hasattr(os, "fork"):
        return ()
    requests, to_worker = os.pipe()
    from_worker, answers = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(to_worker)
            os.close(from_worker)
            if yielding:
                os.nice(19)
            from covtui.readers.worker import COVERAGE_READER, serve_forked

            serve_forked(requests, answers, COVERAGE_READER)
            code = 0
        finally:
            os._exit(code)  # never the parent's exit handlers, nor its buffers, twice
    os.close(requests)
    os.close(answers)
    return pid, to_worker, from_worker


def _adopt_reader(*forked: int) -> None:
    """The forked reader is the next coverage.py read's worker (none forked: a pool's)."""
    from covtui.readers.worker import COVERAGE_READER, adopt_forked, start_early

    if forked:
        adopt_forked(COVERAGE_READER, *forked)
    else:
        start_early(COVERAGE_READER)


def _reads_coverage_data(args: list[str]) -> bool:
    """Whether `args` ask `ingest` to read coverage.py data: `--format coverage.py`, or a
    path that starts as an SQLite database does (the rule `covtui ingest` applies again).
    A wrong guess costs a worker that is ended unused; it changes nothing else."""
    rest = iter(args)
    for arg in rest:
        if arg in _GROUP_OPTIONS:
            next(rest, None)
        elif not arg.startswith(_GROUP_OPTIONS):
            break
    else:
        return False
    if arg != "ingest":
        return False
    args = list(rest)
    for i, arg in enumerate(args):
        if arg == "--format" or arg.startswith("--format="):
            fmt = arg.partition("=")[2] or (args[i + 1] if i + 1 < len(args) else "")
            return fmt == "coverage.py"
    from covtui.sniff import looks_like_coverage_data

    return any(looks_like_coverage_data(a) for a in args if not a.startswith("-"))


def run() -> NoReturn:
    """The `covtui` command: `main()`, then the exit without the interpreter's teardown."""
    try:
        main()
    except SystemExit as exc:
        forked = sys.modules.get("covtui.scan.forked")
        if forked is not None and isinstance(exc, forked.TestsExit):
            raise  # the forked tests end as Python ends, every step of it
        _exit(exc.code)
    except KeyboardInterrupt:  # before the command line handles it: said alike, no traceback
        print("covtui: interrupted", file=sys.stderr)
        _exit(130)
    _exit(None)


def _exit(code: object) -> NoReturn:
    """Exit as Python would, less its teardown (freeing every module and object one by one,
    about 10 ms of each command, which the operating system does at once): the exit handlers
    run and the standard streams are flushed. While a thread that is not a daemon still runs,
    Python would wait for it: then so does this, by exiting as usual."""
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    import atexit
    import os

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - Python says so at exit and exits 120; so does this
            status = status or 120
    os._exit(status & 0xFF)


if __name__ == "__main__":
    run()
