"""`coverage run ARGS` for a scan's pytest run, with pytest imported before coverage.py
starts measuring: `python covtui_launch.py run --branch ... -m pytest ...`.

Imported untraced, pytest and its built-in plugins take about 20 ms less of every scan's
start (coverage.py's tracer sees every call while they load); coverage.py, once started,
pauses until pytest is about to load the first conftest, so that pytest's own start-up
(plugins, ini file, options) runs untraced too, about 20 ms more. That changes no figure as
long as coverage.py would measure nothing that ran meanwhile: covtui's plugin asks
coverage.py, at that first conftest, about every module imported since this started
(`covtui_contexts.measured_early`), and when one would be measured (a project that measures
pytest or pluggy, or its own pytest plugin), or a thread was started, this process starts
over as the plain `python -m coverage ARGS` before any of the project's code runs. Standard library, pytest and
coverage.py only, like the plugin: it runs inside the project's test process.

With $COVTUI_LAUNCH_GATE set (a warm start: covtui.scan.early.prestart), it then waits for
a line on its standard input before coverage.py reads its config and pytest its own: a
covtui that stays open starts the next scan's tests this far ahead. Its input's end (that
covtui gone, however it ended) ends it. The variable names a file descriptor where it writes
the seconds it waited.
"""

import os
import stat
import sys

GATE_ENV = "COVTUI_LAUNCH_GATE"


def main() -> None:
    gated = os.environ.pop(GATE_ENV, None)
    environ = dict(os.environ)
    args = sys.argv[1:]
    if not sys.flags.safe_path:
        # Where `python -m coverage run -m pytest` has the working directory (and leaves
        # it): so that the same pytest is found.
        sys.path[0] = os.getcwd()
    before = set(sys.modules)
    load()
    launched(frozenset(before), args, environ)
    if gated and stat.S_ISFIFO(os.fstat(0).st_mode):  # covtui's pipe, not a stray variable
        _wait_at_gate(int(gated) if gated.isdigit() else None)
    sys.exit(run(args))


def load() -> None:
    """Import pytest, its built-in plugins, covtui's plugin and coverage.py's command line:
    all a run needs before the project's own code."""
    import importlib

    import pytest  # noqa: F401
    from _pytest import config

    for name in getattr(config, "default_plugins", ()):
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass  # imported (and reported) by pytest itself, measured, if it is needed
    import coverage.cmdline  # noqa: F401
    import covtui_contexts  # noqa: F401


def launched(before: frozenset[str], args: list[str], environ: dict[str, str]) -> None:
    """Tell covtui's plugin what was loaded before this (`before`: every other module was
    imported unmeasured) and how to start over plainly: `python -m coverage ARGS` in
    `environ`."""
    import covtui_contexts

    covtui_contexts.launched(before, [sys.executable, "-m", "coverage", *args], environ)


def run(args: list[str]) -> int:
    """`coverage run ARGS`, its measurement paused until pytest's first conftest; its status."""
    import coverage
    import covtui_contexts
    from coverage.cmdline import main as coverage_main

    start = coverage.Coverage.start

    def start_paused(cov) -> None:  # `coverage run` starts measuring once, then runs pytest
        coverage.Coverage.start = start
        start(cov)
        covtui_contexts.pause_until_conftests(cov)

    coverage.Coverage.start = start_paused
    return coverage_main(args)


def _wait_at_gate(tell: int | None) -> None:
    """Until covtui says go (a line on stdin); then stdin is /dev/null, as for a scan's tests.
    `tell`: the file descriptor where the seconds waited are written (covtui counts the run's
    time without them)."""
    import time

    arrived = time.perf_counter()
    with open(0, "rb", closefd=False) as gate:
        if not gate.readline():
            os._exit(0)  # covtui ended without a scan: nothing was run
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if tell is not None:
        try:
            os.write(tell, repr(time.perf_counter() - arrived).encode())
            os.close(tell)
        except OSError:
            pass  # the run is then timed with the wait in it


if __name__ == "__main__":
    main()
