"""covtui's pytest plugin (`-p covtui_contexts`, from this folder on PYTHONPATH).

It names each test's coverage the way pytest-cov's `--cov-context=test` does
(`nodeid|setup`, `nodeid|run`, `nodeid|teardown`; "" before the first test), and writes each test's
outcome as JSON to $COVTUI_TEST_OUTCOMES. Each test module's collection (its import, its
parametrize arguments) is named `collect:<module node id>`, and with $COVTUI_COLLECTED the
modules collected, each with the files its collection imported first, are written as JSON.

With $COVTUI_SELECT (a JSON file: `tests`, `files`, `known`, `skip`; with $COVTUI_SELECT_WAIT
set, waited for: covtui writes it once it knows), it runs only the tests named, every test in
the files named and every test not `known` (new ones), deselecting the rest; the test module
files in `skip` are not collected at all (an incremental scan keeps their collection's
coverage from the last run). Standard library, pytest and coverage.py
only: it runs inside the project's test process, measured.

Under covtui's launcher (covtui_launch), which imports pytest before coverage.py starts and
pauses the measurement until pytest loads the first conftest, it first checks that
coverage.py would have measured none of what ran unmeasured.

PYTEST_DONT_REWRITE: it has no assert to rewrite (and the launcher may import it first).
"""

from __future__ import annotations

import json
import os
import sys

import pytest

OUTCOMES_ENV = "COVTUI_TEST_OUTCOMES"
SELECT_ENV = "COVTUI_SELECT"
#: Set: the selection file is written after this process started; wait for it (the value:
#: the pid of the covtui that will write it).
SELECT_WAIT_ENV = "COVTUI_SELECT_WAIT"
#: How long to wait for it (covtui decides in well under a second; it kills this process
#: group when it decides on a full run instead).
SELECT_WAIT_S = 300.0
COLLECTED_ENV = "COVTUI_COLLECTED"
#: covtui.domain.contexts.COLLECT (this plugin imports nothing of covtui's).
COLLECT = "collect:"


class _Contexts:
    def __init__(self, cov) -> None:
        self.cov = cov

    def _switch(self, context: str) -> None:
        self.cov.switch_context(context)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector):
        module = _module_of(collector)
        if module is None:
            yield
            return
        self._switch(f"{COLLECT}{module.nodeid}")
        try:
            yield
        finally:
            self._switch("")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item) -> None:
        self._switch(f"{item.nodeid}|setup")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item) -> None:
        self._switch(f"{item.nodeid}|run")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item) -> None:
        self._switch(f"{item.nodeid}|teardown")


class _Outcomes:
    def __init__(self, path: str) -> None:
        self.path = path
        self.outcomes: dict[str, str] = {}

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed:
            self.outcomes[report.nodeid] = "failed" if report.when == "call" else "error"
        elif report.skipped:
            self.outcomes.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcomes.setdefault(report.nodeid, "passed")

    def pytest_sessionfinish(self) -> None:
        try:
            with open(self.path, "w", encoding="utf-8") as f:
                json.dump(self.outcomes, f)
        except OSError:
            pass  # the scan then has no outcomes, as without this plugin


def _module_of(collector):
    """The test module a collector belongs to (itself, a class in it), or None."""
    try:
        return collector.getparent(pytest.Module)
    except Exception:  # noqa: BLE001 - a plugin's own collector: counted as no module
        return None


class _Collected:
    """Writes every test module collected, with the files its collection imported first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.modules: dict[str, list[str]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector):
        if not isinstance(collector, pytest.Module):
            yield
            return
        before = set(sys.modules)
        try:
            yield
        finally:
            files = set()
            for name in set(sys.modules) - before:
                path = getattr(sys.modules.get(name), "__file__", None)
                if isinstance(path, str):
                    files.add(os.path.realpath(path))
            self.modules.setdefault(collector.nodeid, []).extend(sorted(files))

    def pytest_sessionfinish(self) -> None:
        try:
            with open(self.path, "w", encoding="utf-8") as f:
                json.dump(self.modules, f)
        except OSError:
            pass  # the scan then knows no module's collection: it collects them all next time


def _wait_for(path: str, covtui_pid: int | None) -> None:
    """Until `path` exists: covtui started this process before it knew which tests to run,
    so that Python's, coverage.py's and pytest's start-up overlap its decision. Not once
    covtui (`covtui_pid`) has ended: however it ended, nothing will write the file."""
    import time

    deadline = time.monotonic() + SELECT_WAIT_S
    polls = 0
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise pytest.UsageError(f"covtui: no test selection at {path} after {SELECT_WAIT_S:g}s")
        polls += 1
        if covtui_pid is not None and polls % 25 == 0 and not _alive(covtui_pid):
            raise pytest.UsageError(f"covtui: the scan that started these tests (pid {covtui_pid}) ended")
        time.sleep(0.002)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # there, but not ours to signal
    return True


class _Select:
    def __init__(self, path: str) -> None:
        waiting = os.environ.get(SELECT_WAIT_ENV)
        if waiting:
            _wait_for(path, int(waiting) if waiting.isdigit() else None)
        with open(path, encoding="utf-8") as f:
            chosen = json.load(f)
        self.tests = set(chosen["tests"])
        self.files = {os.path.normcase(p) for p in chosen["files"]}
        self.known = set(chosen["known"])
        self.skip = {os.path.normcase(p) for p in chosen.get("skip", ())}

    def pytest_ignore_collect(self, collection_path, config):
        if self.skip and os.path.normcase(os.path.realpath(collection_path)) in self.skip:
            return True
        return None

    def _wanted(self, item) -> bool:
        return (
            item.nodeid in self.tests
            or item.nodeid not in self.known
            or os.path.normcase(str(item.path)) in self.files
        )

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items) -> None:
        kept = [item for item in items if self._wanted(item)]
        left = [item for item in items if not self._wanted(item)]
        if left:
            config.hook.pytest_deselected(items=left)
            items[:] = kept


#: Under covtui's launcher (covtui_launch): the modules loaded before it imported pytest,
#: the plain command to start over with and its environment; None without the launcher.
_launch: tuple[frozenset[str], list[str], dict[str, str]] | None = None
#: The measurement the launcher started paused (`pause_until_conftests`), until the hook below.
_paused = None


def launched(before: frozenset[str], plain: list[str], environ: dict[str, str]) -> None:
    """Called by covtui's launcher: the modules loaded before it imported pytest (every
    other one, up to the first conftest, was imported unmeasured), and the plain `python -m
    coverage ...` command that imports them measured."""
    global _launch
    _launch = (before, plain, environ)


def pause_until_conftests(cov) -> bool:
    """Pause `cov`, just started by `coverage run`, until pytest is about to load the first
    conftest (`pytest_load_initial_conftests` below): pytest's start-up (its plugins, its
    ini file, its options) then runs untraced, about 20 ms sooner. The hook checks, as for
    the launcher's imports, that coverage.py would have measured nothing that ran meanwhile.
    Only with coverage.py's C or Python tracer and plain threads (the pause is the
    collector's own, as `Coverage.stop()` uses it); False: measuring from the start."""
    global _paused
    collector = getattr(cov, "_collector", None)
    if (
        collector is None or not hasattr(collector, "pause") or not hasattr(collector, "resume")
        or collector.tracer_name() not in ("CTracer", "PyTracer")
        or set(cov.config.concurrency) - {"thread"}
    ):
        return False
    collector.pause()
    _paused = cov
    return True


class _Frame:
    """What coverage.py reads of a frame running a module's code: its globals."""

    def __init__(self, module) -> None:
        self.f_globals = vars(module)


def measured_early(cov, imported: dict) -> list[str]:
    """The files among `imported`'s modules that `cov` would measure: their import, which
    ran unmeasured, is then missing from the data. When coverage.py can't say (its
    internals changed), every module's file: the caller runs plainly then."""
    should_trace = getattr(getattr(cov, "_inorout", None), "should_trace", None)
    here = os.path.dirname(os.path.realpath(__file__))  # covtui's own: never reported
    files = []
    for module in imported.values():
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith((".py", ".pyc", ".pyw")):
            continue  # no Python code of its own was run (a built-in, an extension)
        if os.path.basename(path).startswith("covtui_") and os.path.dirname(os.path.realpath(path)) == here:
            continue  # resolved only for ours: a realpath() per module took 5 ms
        if should_trace is None:
            files.append(path)
            continue
        try:
            if should_trace(path, _Frame(module)).trace:
                files.append(path)
        except Exception:  # noqa: BLE001 - unknown: counted as measured
            files.append(path)
    return files


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Before the first conftest and before pytest captures the output: a start over
    # here has run nothing of the project's.
    global _paused
    if _launch is not None:
        import threading

        import coverage

        before, plain, environ = _launch
        cov = _paused or coverage.Coverage.current()
        imported = {name: sys.modules[name] for name in set(sys.modules) - before if name in sys.modules}
        if cov is not None and (threading.active_count() > 1 or measured_early(cov, imported)):
            sys.stdout.flush()
            sys.stderr.flush()
            os.execve(plain[0], plain, environ)
        if _paused is not None:
            _paused, cov = None, _paused
            cov._collector.resume()
    yield


def _measuring():
    """The running coverage.py measurement this plugin may name contexts in, or None."""
    try:
        import coverage
    except ImportError:
        return None
    cov = coverage.Coverage.current()
    if cov is None or cov.config.dynamic_context:
        return None  # not measured, or the project names contexts itself
    return cov


def pytest_configure(config) -> None:
    if os.environ.get(SELECT_ENV):
        config.pluginmanager.register(_Select(os.environ[SELECT_ENV]), "covtui-select")
    if os.environ.get(OUTCOMES_ENV):
        config.pluginmanager.register(_Outcomes(os.environ[OUTCOMES_ENV]), "covtui-outcomes")
    # pytest-cov with --cov-context=test already names them, alike.
    if getattr(config.option, "cov_context", None):
        return
    cov = _measuring()
    if cov is not None:
        config.pluginmanager.register(_Contexts(cov), "covtui-contexts")
        # Only where each module's collection has its context: the scan's record of them.
        if os.environ.get(COLLECTED_ENV):
            config.pluginmanager.register(_Collected(os.environ[COLLECTED_ENV]), "covtui-collected")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    # The run is over: what is alive now is left to the process's end, where Python's last
    # collections over pytest's and coverage.py's objects would take about 20 ms of every
    # scan. Objects are still freed as their last reference goes; only the garbage cycles
    # among them go unfinalized at exit, as Python allows (atexit handlers run as ever).
    import gc

    gc.freeze()
