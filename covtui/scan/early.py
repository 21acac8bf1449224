"""The tests of `covtui scan` (`--affected` or not), started by `covtui`'s entry point before
the command line and the scan are imported, so that Python's, coverage.py's and pytest's
start-up run on the other core meanwhile (a start within the scan comes about 0.1 s later).

They wait, as the scan's own early start does, for the selection (covtui's plugin,
$COVTUI_SELECT_WAIT): the affected tests, or every test for a full run.
The scan holds the lock they were started under (`take_lock`) and takes the process
(`take`) only if it would have started exactly that command; anything else ends them
(`discard`, also the entry point's last word), so a wrong guess costs a process start.

A covtui that stays open (the dashboard, `covtui watch`) starts the next scan's tests
further ahead (`prestart`): covtui's launcher imports pytest and coverage.py, then waits at
its gate, before anything of the project's is read, holding no lock and writing nothing. The
next scan takes them (`take_warm`) if they are its command, in the same environment, with the
same installed packages, and lets them go (`go`); else they are ended and it starts its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from covtui.scan import forked
from covtui.scan.lock import ScanLock


@dataclass
class Started:
    """A source's test process, started and waiting for its selection."""

    source: str
    argv: list[str]
    env: dict[str, str]  # on top of covtui's own environment
    environ: dict[str, str]  # covtui's own environment then
    cwd: Path
    process: subprocess.Popen
    started: float  # time.time() at the start
    started_perf: float  # time.perf_counter() at the start
    lock: ScanLock | None  # the scan lock, until the scan takes it
    #: Warm tests: where the launcher writes how long it waited at its gate (`waited`).
    waited_fd: int | None = None


_started: Started | None = None


def start() -> None:
    """Start the first source's tests for `covtui scan` in the current directory, if it is
    pytest under coverage.py with per-test contexts. Nothing (and no error: the scan
    reports it) when the config, the lock or the start fails."""
    global _started
    child = forked.take()  # forked by the entry point, waiting for its command
    discard()
    try:
        _started = _start(child)
    except Exception:  # noqa: BLE001 - the scan itself runs into it again, and says so
        _started = None
    finally:
        forked.drop(child)  # if it was not given the command


def _start(child) -> Started | None:
    from covtui.config import load_config
    from covtui.scan.plan import fresh_folder

    config = load_config(None)
    first = _first_plan(config)
    if first is None:
        return None
    lock = ScanLock(config.lock_base)
    lock.acquire()
    try:
        fresh_folder(first[1].work_dir)
        started = _send(config, *first, child) if child is not None else None
        if started is None:
            started = _popen(config, *first, gated=False)
    except BaseException:
        lock.release()
        raise
    started.lock = lock
    return started


def _send(config, source, plan, child) -> Started | None:
    """Give the forked tests their command; None if they are gone."""
    from covtui.scan.plan import command_env

    env = command_env(source, plan)
    environ = dict(os.environ)
    process = forked.send(child, plan.argv, {**environ, **env}, str(config.root))
    if process is None:
        return None
    # Timed from the fork, less the wait for the command (`waited`), as warm tests are.
    started = Started(
        source.name, plan.argv, env, environ, config.root, process, child.forked,
        child.forked_perf, None, child.waited,
    )
    child.waited = -1
    return started


def _first_plan(config):
    """(source, plan) of the config's first source, if it is pytest under coverage.py with
    per-test contexts (covtui's plugin waits there for its selection); else None."""
    from covtui.scan.plan import plan_source, waiting_env

    if not config.sources:
        return None
    source = config.sources[0]
    if not source.runs_under_coverage:
        return None
    plan = plan_source(config, source, None)
    if not plan.is_pytest or plan.outcomes is None or plan.work_dir is None:
        return None
    plan.env.update(waiting_env(plan.work_dir))
    return source, plan


def _popen(config, source, plan, *, gated: bool) -> Started:
    from covtui.scan.plan import LAUNCHER, command_env

    env = command_env(source, plan)
    environ = dict(os.environ)
    gate: dict[str, str] = {}
    waited_fd = told = None
    if gated:
        if plan.argv[1:2] != [str(LAUNCHER)]:
            raise ValueError("not run by covtui's launcher: no gate to wait at")
        waited_fd, told = os.pipe()
        gate = {GATE_ENV: str(told)}
    started, started_perf = time.time(), time.perf_counter()
    try:
        # Not through the measuring wrapper (a Python start on the tests' path): the scan
        # reaps it itself with wait4(), which gives what the run cost (covtui.scan.runner).
        process = subprocess.Popen(
            plan.argv, cwd=config.root, env={**environ, **env, **gate},
            stdin=subprocess.PIPE if gated else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one
            pass_fds=(told,) if told is not None else (),
        )
    except BaseException:
        if waited_fd is not None:
            os.close(waited_fd)
        raise
    finally:
        if told is not None:
            os.close(told)
    return Started(
        source.name, plan.argv, env, environ, config.root, process, started, started_perf, None,
        waited_fd,
    )


def take_lock(base: Path) -> ScanLock | None:
    """The scan lock the tests were started under, if it is the scan's (`ScanLock(base)`)."""
    if _started is None or _started.lock is None or _started.lock.path != ScanLock(base).path:
        return None
    lock, _started.lock = _started.lock, None
    return lock


def take(source: str, argv: list[str], env: dict[str, str], cwd: Path) -> Started | None:
    """The waiting tests, if they are exactly `source`'s command as the scan would start it,
    in the same environment (ended otherwise). The caller owns the process from then on."""
    global _started
    if _started is None:
        return None
    if (_started.source, _started.argv, _started.env, _started.cwd, _started.environ) != (
        source, argv, env, cwd, dict(os.environ)
    ):
        discard()
        return None
    taken, _started = _started, None
    return taken


def discard() -> None:
    """End the tests started here if no scan took them (they have run nothing yet), and
    release the lock if the scan did not take it either; and the forked tests that were
    never given a command."""
    global _started
    left, _started = _started, None
    end(left)
    forked.drop()


def end(left: Started | None) -> None:
    """End tests started here that no scan runs (their group is killed, their lock released)."""
    if left is None:
        return
    try:
        os.killpg(left.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    left.process.wait()
    left.process.stdout.close()
    if left.process.stdin is not None:
        left.process.stdin.close()
    waited(left)
    if left.lock is not None:
        left.lock.release()


# -- warm starts, for a covtui that stays open -------------------------------------------------

#: covtui's launcher waits at its gate while this is set (covtui_launch.GATE_ENV).
GATE_ENV = "COVTUI_LAUNCH_GATE"


@dataclass
class _Warm:
    started: Started
    packages: str  # the installed packages then (covtui.scan.affected.packages)


_warm: _Warm | None = None
_warm_lock = threading.Lock()  # prestart runs in a thread, a scan may take meanwhile


def prestart(config) -> None:
    """Start the next scan's tests for `config`'s first source as far as they go without
    the project: pytest and coverage.py imported, waiting at the launcher's gate. Nothing
    when the source is not pytest under coverage.py with contexts; any earlier warm start
    is ended first. Blocking for a process start: call it off the event loop."""
    global _warm
    with _warm_lock:
        _discard_warm()
        try:
            first = _first_plan(config)
            if first is None:
                return
            from covtui.scan.affected import packages

            digest = packages(config.root)
            _warm = _Warm(_popen(config, *first, gated=True), digest)
        except Exception:  # noqa: BLE001 - the next scan starts its own, and says what fails
            _warm = None


def take_warm(source: str, argv: list[str], env: dict[str, str], cwd: Path) -> Started | None:
    """The warm tests, if alive and exactly `source`'s command as the scan would start it,
    in the same environment and with the same installed packages (ended otherwise). The
    caller empties the run's folder, then lets them `go`. Blocking for a few milliseconds
    (the packages' digest): call it off the event loop."""
    global _warm
    with _warm_lock:
        warm, _warm = _warm, None
    if warm is None:
        return None
    from covtui.scan.affected import packages

    started = warm.started
    if (
        started.process.poll() is not None
        or (started.source, started.argv, started.env, started.cwd, started.environ)
        != (source, argv, env, cwd, dict(os.environ))
        or warm.packages != packages(cwd)
    ):
        end(started)
        return None
    return started


def go(started: Started) -> None:
    """Let warm tests through their gate. Their run's files are from now on (`started`);
    its time is still counted from their start, less the wait at the gate (`waited`), so
    that it compares with a run that started cold."""
    started.started = time.time()
    try:
        started.process.stdin.write(b"go\n")
        started.process.stdin.close()
    except OSError:
        pass  # it ended: the scan sees its exit status and output as for any run


def waited(started: Started) -> float:
    """How long warm tests waited at their gate, once through it (0.0 otherwise, or for tests
    that were never warm); read once."""
    fd, started.waited_fd = started.waited_fd, None
    if fd is None:
        return 0.0
    try:
        os.set_blocking(fd, False)
        told = os.read(fd, 64)
    except OSError:
        told = b""
    finally:
        os.close(fd)
    try:
        seconds = float(told)
    except ValueError:
        return 0.0
    return seconds if 0.0 <= seconds < float("inf") else 0.0


def discard_warm() -> None:
    """End the warm tests, if any (they ran nothing of the project's)."""
    with _warm_lock:
        _discard_warm()


def _discard_warm() -> None:
    global _warm
    warm, _warm = _warm, None
    if warm is not None:
        end(warm.started)
