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

import importlib
import io
import os
import pickle
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from covtui import collector
from covtui.errors import InputError, WorkerDied
from covtui.sniff import SQLITE_HEADER, looks_like_coverage_data  # noqa: F401 - theirs, from here

# The pool and its start methods are imported where used: the caller of a worker the entry
# point forked (`adopt_forked`) never needs them.
if TYPE_CHECKING:
    import concurrent.futures
    import multiprocessing

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
    n_reused: int = 0  # the last read's result: the same source and the same data (`reuse`)
    used_pool: bool = False
    cache_rebuilt: bool = False
    public_api: str | None = None  # why the public API read the data (slower), if it did


#: What a worker started ahead (by the fork server, or forked by the entry point) imports
#: besides the module it was started for: the read's exclusions census (about 15 ms of a
#: scan's read, otherwise imported after the tests). A pool's worker also imports the pool's
#: side of the executor (`_POOL_SIDE`); the entry point's forked worker has no pool.
_PRELOAD_WITH = {
    COVERAGE_READER: ("covtui.readers.exclusions", "covtui.readers.heads"),
}
_POOL_SIDE = "concurrent.futures.process"

#: What a read whose worker died says.
_DIED = (
    "covtui's reader process ended without an answer (killed, out of memory, or covtui "
    "changed on disk while it ran); nothing was read"
)

#: A worker started ahead of its read (`start_early`, `adopt_forked`): (the module it
#: imported, its pool or the process the entry point forked).
_early: tuple[str, concurrent.futures.ProcessPoolExecutor | _Forked] | None = None


def start_early(preload: str) -> None:
    """Start a worker process now and have it import `preload` (module path), for the next
    `PendingRead` of that module to run in. A command that knows it will read starts the
    worker before its own start-up (config, the store's modules), so the reader's imports
    (coverage.py's) run on the other core meanwhile. `end_early()` ends it if it is unused.
    Nothing if such a worker is already waiting (`covtui`'s entry point may have started it).
    """
    import concurrent.futures

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


def waiting(preload: str) -> bool:
    """Whether a worker started ahead waits for the next read of `preload`."""
    return _early is not None and _early[0] == preload


def end_early() -> None:
    """End the worker `start_early()` started, if no read took it."""
    global _early
    if _early is not None:
        _, executor = _early
        _early = None
        executor.shutdown(wait=True, cancel_futures=True)


def _take_early(preload: str | None) -> concurrent.futures.ProcessPoolExecutor | _Forked | None:
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


def adopt_forked(preload: str, pid: int, requests: int, answers: int) -> None:
    """Take the worker `covtui`'s entry point forked before anything was imported (it runs
    `serve_forked`) as the early worker for `preload`: the next read of it goes there."""
    global _early
    end_early()
    _early = (preload, _Forked(pid, requests, answers))


def serve_forked(requests: int, answers: int, preload: str) -> None:
    """In the process `covtui`'s entry point forked: import `preload`, then answer the one
    request the parent sends (`_Forked.submit`); none (the pipe closed empty): return."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the parent's, which ends this
    for module in (preload, *_PRELOAD_WITH.get(preload, ())):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - it fails again, and says so, in the call
            pass
    with os.fdopen(requests, "rb") as f:
        request = f.read()
    if not request:
        return
    target, args = pickle.loads(request)
    try:
        answer = ("ok", _call(target, *args))
    except BaseException as exc:  # noqa: BLE001 - handed to the caller, as the pool does
        answer = ("raise", exc)
    try:
        data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001
        data = pickle.dumps(("raise", WorkerDied(f"covtui's reader could not send its answer ({exc})")))
    with os.fdopen(answers, "wb") as f:
        f.write(data)


class _Forked:
    """The parent's side of `serve_forked`: one request, one answer, over two pipes. It
    stands where a pool and its future would (`submit`, `done`, `result`, `shutdown`)."""

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self.pid = pid
        self._requests: int | None = requests
        self._answers: int | None = answers
        self._reaped = False

    def submit(self, fn: Any, target: str, *args: Any) -> _Forked:
        assert fn is _call
        data = pickle.dumps((target, args), pickle.HIGHEST_PROTOCOL)
        fd, self._requests = self._requests, None
        try:
            with os.fdopen(fd, "wb") as f:  # closed: the worker reads to its end
                f.write(data)
        except BrokenPipeError:
            pass  # the worker is gone already: `result()` finds no answer and says so
        return self

    def done(self) -> bool:
        import select

        return self._answers is None or bool(select.select([self._answers], [], [], 0)[0])

    def result(self) -> Any:
        chunks = []
        if self._answers is not None:
            while chunk := os.read(self._answers, 1 << 20):
                chunks.append(chunk)
        self._reap()
        if not chunks:
            raise WorkerDied(_DIED)
        kind, value = pickle.loads(b"".join(chunks))
        if kind == "raise":
            raise value
        return value

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Let the worker go: ended if it has not answered (nothing waits for it)."""
        if not self._reaped:
            import signal

            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()

    def _reap(self) -> None:
        for fd in (self._requests, self._answers):
            if fd is not None:
                os.close(fd)
        self._requests = self._answers = None
        if not self._reaped:
            os.waitpid(self.pid, 0)
            self._reaped = True


class PendingRead:
    """A read running in a worker process; `result()` waits for it and lets the worker go."""

    def __init__(self, target: str, *args: Any, preload: str | None = None) -> None:
        early = _take_early(preload)
        if early is None:
            import concurrent.futures

            early = concurrent.futures.ProcessPoolExecutor(1, mp_context=worker_context(preload))
        self._executor = early
        try:
            self._future = self._executor.submit(_call, target, *args)
        except BaseException:
            self._executor.shutdown(wait=False, cancel_futures=True)
            raise

    def answered(self) -> bool:
        return self._future.done()

    def result(self) -> Any:
        try:
            if isinstance(self._executor, _Forked):
                return self._future.result()  # a worker that died says so itself
            import concurrent.futures

            try:
                return self._future.result()
            except concurrent.futures.BrokenExecutor:  # BrokenProcessPool: the worker died
                # One line, and the scan records a failed run: never a traceback after the tests.
                raise WorkerDied(_DIED) from None
        finally:
            self._executor.shutdown(wait=True)


def start_coverage_read(
    paths: list[Path], *, root: Path, cache_dir: Path | None, leave_out: Sequence[Path] = (),
    census: bool = False, generated: Any = None, reuse: Any = None,
) -> PendingCoverageRead:
    """Start `coverage_data`'s read of `paths` (absolute) in its worker now. `census`: the
    worker then counts what the exclusions leave out of the report's files too (the
    report's `exclusions`), and with `generated` (a `GeneratedConfig`) finds the generated
    files among them. `reuse`: as `coverage_data.read_encoded`'s."""
    return PendingCoverageRead(paths, root, cache_dir, leave_out, census, generated, reuse)


class PendingCoverageRead:
    """A coverage.py read under way; `result()` is `read_with_stats()`'s (report, stats)."""

    def __init__(
        self, paths: list[Path], root: Path, cache_dir: Path | None, leave_out: Sequence[Path],
        census: bool = False, generated: Any = None, reuse: Any = None,
    ) -> None:
        # Named, not imported: importing coverage_data would import coverage.py here.
        reader = COVERAGE_READER
        self._read = PendingRead(
            f"{reader}:_read_in_worker", paths, root, cache_dir, dict(os.environ),
            list(sys.path), tuple(leave_out), census, generated, reuse, preload=reader,
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
    from multiprocessing import forkserver

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
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        if preload:
            ctx.set_forkserver_preload([preload, _POOL_SIDE, *_PRELOAD_WITH.get(preload, ())])
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
    from multiprocessing import forkserver, resource_tracker

    with _helpers_lock:
        saved, sys.stderr = sys.stderr, io.StringIO()
        try:
            resource_tracker.ensure_running()
            if ctx.get_start_method() == "forkserver":
                forkserver.ensure_running()
        finally:
            sys.stderr = saved
