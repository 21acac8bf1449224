"""The tests of `covtui scan` (`--affected` or not), started by `covtui`'s entry point before
the command line and the scan are imported, so that Python's, coverage.py's and pytest's
start-up run on the other core meanwhile (a start within the scan comes about 0.1 s later).

They wait, as the scan's own early start does, for the selection (covtui's plugin,
$COVTUI_SELECT_WAIT): the affected tests, or every test for a full run.
The scan holds the lock they were started under (`take_lock`) and takes the process
(`take`) only if it would have started exactly that command; anything else ends them
(`discard`, also the entry point's last word), so a wrong guess costs a process start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

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


_started: Started | None = None


def start() -> None:
    """Start the first source's tests for `covtui scan` in the current directory, if it is
    pytest under coverage.py with per-test contexts. Nothing (and no error: the scan
    reports it) when the config, the lock or the start fails."""
    global _started
    discard()
    try:
        _started = _start()
    except Exception:  # noqa: BLE001 - the scan itself runs into it again, and says so
        _started = None


def _start() -> Started | None:
    from covtui.config import load_config
    from covtui.scan.plan import command_env, fresh_folder, plan_source, waiting_env

    config = load_config(None)
    if not config.sources:
        return None
    source = config.sources[0]
    if not source.runs_under_coverage:
        return None
    plan = plan_source(config, source, None)
    if not plan.is_pytest or plan.outcomes is None or plan.work_dir is None:
        return None
    lock = ScanLock(config.lock_base)
    lock.acquire()
    try:
        fresh_folder(plan.work_dir)
        plan.env.update(waiting_env(plan.work_dir))
        env = command_env(source, plan)
        environ = dict(os.environ)
        started, started_perf = time.time(), time.perf_counter()
        # Not through the measuring wrapper (a Python start on the tests' path): the scan
        # reaps it itself with wait4(), which gives what the run cost (covtui.scan.runner).
        process = subprocess.Popen(
            plan.argv, cwd=config.root, env={**environ, **env},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one
        )
    except BaseException:
        lock.release()
        raise
    return Started(
        source.name, plan.argv, env, environ, config.root, process, started, started_perf,
        lock,
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
    release the lock if the scan did not take it either."""
    global _started
    left, _started = _started, None
    if left is None:
        return
    try:
        os.killpg(left.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    left.process.wait()
    left.process.stdout.close()
    if left.lock is not None:
        left.lock.release()
