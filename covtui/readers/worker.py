"""Reader processes: a read that runs in a process of its own, started at once.

A coverage.py read changes directory and `sys.path` as it goes, so it never runs in the
caller's process. This module is light on purpose (no coverage.py): a command can start the
read first and import the rest of what it needs (the store, the terminal) while the read runs
on the other core; `covtui ingest` starts the worker even before reading its config
(`start_early`). The function to run is named by its module path, imported in the worker.
A coverage.py read's files come back as text (`domain.codec.encode_file_result`), decoded
here: text crosses the process boundary several times faster than the objects would.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import io
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from multiprocessing import forkserver, resource_tracker
from pathlib import Path
from typing import Any

from covtui import collector
from covtui.errors import InputError, WorkerDied

#: The first bytes of an SQLite database: what a coverage.py data file starts with.
SQLITE_HEADER = b"SQLite format 3\x00"

#: The module a coverage.py read imports in its worker (coverage.py with it).
COVERAGE_READER = "covtui.readers.coverage_data"


@dataclass
class ReadStats:
    """What a coverage.py read cost: how many files came from the cache and how many were
    parsed. Defined here, not beside the read: unpickling it in the caller must not import
    the reader (and coverage.py with it)."""

    n_files: int = 0
    n_cached: int = 0  # static analysis from the cache (or the whole result, see n_results)
    n_results: int = 0  # finished results from the cache: same source, same measured data
    n_parsed: int = 0
    n_uncached: int = 0  # analysed by coverage.py directly (plugins, unreadable sources)
    used_pool: bool = False
    cache_rebuilt: bool = False
    public_api: str | None = None  # why the public API read the data (slower), if it did


#: What a worker forked from the server imports besides the module it was started for: the
#: executor's side of the pool, and a scan's read's exclusions census (about 15 ms of a
#: read, otherwise imported after the tests).
_PRELOAD_WITH = {
    COVERAGE_READER: ("concurrent.futures.process", "covtui.readers.exclusions", "covtui.readers.heads"),
}

#: A worker started ahead of its read (`start_early`): (the module it imported, its pool).
_early: tuple[str, concurrent.futures.ProcessPoolExecutor] | None = None


def start_early(preload: str) -> None:
    """Start a worker process now and have it import `preload` (module path), for the next
    `PendingRead` of that module to run in. A command that knows it will read starts the
    worker before its own start-up (config, the store's modules), so the reader's imports
    (coverage.py's) run on the other core meanwhile. `end_early()` ends it if it is unused.
    Nothing if such a worker is already waiting (`covtui`'s entry point may have started it).
    """
    global _early
    if _early is not None and _early[0] == preload:
        return
    end_early()
    executor = concurrent.futures.ProcessPoolExecutor(1, mp_context=worker_context(preload))
    try:
        executor.submit(_call, "covtui.readers.worker:_preload", preload).add_done_callback(
            _drop_result
        )
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    _early = (preload, executor)


def end_early() -> None:
    """End the worker `start_early()` started, if no read took it."""
    global _early
    if _early is not None:
        _, executor = _early
        _early = None
        executor.shutdown(wait=True, cancel_futures=True)


def _take_early(preload: str | None) -> concurrent.futures.ProcessPoolExecutor | None:
    global _early
    if _early is None or _early[0] != preload:
        return None
    executor = _early[1]
    _early = None
    return executor


def _preload(module: str) -> None:
    """In the worker: import `module` ahead of the read that needs it."""
    importlib.import_module(module)


def _drop_result(future: concurrent.futures.Future) -> None:
    future.exception()  # an import that failed fails again, and says so, in the read


def looks_like_coverage_data(path: Path) -> bool:
    """Whether `path` starts as an SQLite database does (`readers.detect_format`'s rule).
    Only a regular file is opened: a pipe would wait for a writer, or lose what is read."""
    if not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


class PendingRead:
    """A read running in a worker process; `result()` waits for it and lets the worker go."""

    def __init__(self, target: str, *args: Any, preload: str | None = None) -> None:
        early = _take_early(preload)
        self._executor = early or concurrent.futures.ProcessPoolExecutor(
            1, mp_context=worker_context(preload)
        )
        try:
            self._future = self._executor.submit(_call, target, *args)
        except BaseException:
            self._executor.shutdown(wait=False, cancel_futures=True)
            raise

    def answered(self) -> bool:
        return self._future.done()

    def result(self) -> Any:
        try:
            return self._future.result()
        except concurrent.futures.BrokenExecutor:  # BrokenProcessPool: the worker died
            # One line, and the scan records a failed run: never a traceback after the tests.
            raise WorkerDied(
                "covtui's reader process ended without an answer (killed, out of memory, or "
                "covtui changed on disk while it ran); nothing was read"
            ) from None
        finally:
            self._executor.shutdown(wait=True)


def start_coverage_read(
    paths: list[Path], *, root: Path, cache_dir: Path | None, leave_out: Sequence[Path] = (),
    census: bool = False, generated: Any = None,
) -> PendingCoverageRead:
    """Start `coverage_data`'s read of `paths` (absolute) in its worker now. `census`: the
    worker then counts what the exclusions leave out of the report's files too (the
    report's `exclusions`), and with `generated` (a `GeneratedConfig`) finds the generated
    files among them."""
    return PendingCoverageRead(paths, root, cache_dir, leave_out, census, generated)


class PendingCoverageRead:
    """A coverage.py read under way; `result()` is `read_with_stats()`'s (report, stats)."""

    def __init__(
        self, paths: list[Path], root: Path, cache_dir: Path | None, leave_out: Sequence[Path],
        census: bool = False, generated: Any = None,
    ) -> None:
        # Named, not imported: importing coverage_data would import coverage.py here.
        reader = COVERAGE_READER
        self._read = PendingRead(
            f"{reader}:_read_in_worker", paths, root, cache_dir, dict(os.environ),
            list(sys.path), tuple(leave_out), census, generated, preload=reader,
        )
        self._known: Any = None

    def reuse(self, files: Iterable[Any]) -> None:
        """Files known already (the store's current ones: `FileCoverage` and its stored
        texts): those the answer describes exactly are taken as they are, not decoded again
        (`codec.KnownResults`).
        Worth it only while the worker still works: this process has time then."""
        if not self._read.answered():
            from covtui.domain.codec import KnownResults

            self._known = KnownResults(files)

    def result(self) -> tuple[Any, Any]:
        kind, *rest = self._read.result()
        if kind == "error":
            raise InputError(*rest)
        from covtui.domain.codec import with_encoded_files

        report, encoded, stats = rest
        return with_encoded_files(report, encoded, self._known), stats


def prestart(preload: str = COVERAGE_READER) -> None:
    """Start the fork server now, with `preload` imported in it, so that a read started later
    forks from it in milliseconds instead of starting Python and coverage.py first (most of a
    second). A scan calls it (in a thread) as its tests start: the server starts on the
    other core meanwhile. Nothing when reads would fork this process directly."""
    ctx = worker_context(preload)
    if ctx.get_start_method() == "forkserver":
        forkserver.ensure_running()


def _call(target: str, *args: Any) -> Any:
    """In the worker: import `module:function` and call it."""
    collector.for_batch_work()
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


def worker_context(preload: str | None = None) -> multiprocessing.context.BaseContext:
    """fork while this process has one thread (the CLI); else forkserver, with `preload`
    imported in the server so a worker starts in milliseconds; else spawn.

    Not fork once there are threads (the dashboard, a scan): forking them is unsafe.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        if preload:
            ctx.set_forkserver_preload([preload, *_PRELOAD_WITH.get(preload, ())])
    else:
        ctx = multiprocessing.get_context("spawn")
    _start_helpers(ctx)
    return ctx


_helpers_lock = threading.Lock()


def _start_helpers(ctx: multiprocessing.context.BaseContext) -> None:
    """Start multiprocessing's resource tracker (and fork server) while `sys.stderr` is one
    without a file descriptor.

    The tracker hands its child `sys.stderr.fileno()`; inside the dashboard that is Textual's
    stand-in, whose fileno() is -1, and the launch fails with "bad value(s) in fds_to_keep".
    Started this way the helpers get no stderr at all, so nothing they might print can land
    on the dashboard's screen either.
    """
    try:
        if sys.stderr is not None and sys.stderr.fileno() >= 0:
            return
    except (AttributeError, OSError, ValueError):
        pass
    with _helpers_lock:
        saved, sys.stderr = sys.stderr, io.StringIO()
        try:
            resource_tracker.ensure_running()
            if ctx.get_start_method() == "forkserver":
                forkserver.ensure_running()
        finally:
            sys.stderr = saved
