"""The cached demo database: built through covtui's own store, topped up to now on each use,
one builder at a time; and the config the demo dashboard runs with."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from covtui import __version__
from covtui.config import Config
from covtui.demo.paths import FORMAT, demo_database_path, demo_project_root, read_meta
from covtui.demo.paths import meta_path as _meta_path
from covtui.demo.timeline import DemoHistory
from covtui.domain.model import SnapshotDraft
from covtui.record import record_snapshots
from covtui.store import Store

Progress = Callable[[int, int], None]

#: Snapshots per transaction: a dashboard polling the file sees the history grow day by day.
BATCH = 288
#: The first transaction of a fill: an hour, so the dashboard has something to show at once.
FIRST_BATCH = 12
RETENTION_DAYS = 90.0


async def _write(
    store: Store,
    drafts: Iterator[SnapshotDraft],
    total: int,
    config: Config,
    progress: Progress | None,
    *,
    first_batch: int = BATCH,
) -> None:
    batch: list[SnapshotDraft] = []
    done = 0
    size = first_batch
    for draft in drafts:
        batch.append(draft)
        if len(batch) >= size:
            size = BATCH
            await record_snapshots(store, batch, config)
            done += len(batch)
            batch = []
            if progress:
                progress(done, total)
    if batch:
        await record_snapshots(store, batch, config)
        done += len(batch)
    if progress:
        progress(done, total)


def _remove_database(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


async def build_demo_database(
    path: Path,
    *,
    days: float = 90,
    interval_s: float = 300,
    seed: int = 2025,
    end: float | None = None,
    progress: Progress | None = None,
    scale: int = 1,
) -> None:
    """Write a demo history of `days` ending at `end` (default: now) to `path`, replacing
    any database there. `scale` multiplies the Python files (benchmarks)."""
    history = DemoHistory(days=days, interval_s=interval_s, seed=seed, end=end, scale=scale)
    path = Path(path)
    _remove_database(path)
    config = Config(root=path.parent)
    async with await Store.open(path) as store:
        await _write(store, history.drafts(history.n), history.n, config, progress)


@dataclass(frozen=True)
class DemoPlan:
    """What a cached demo database holds and what bringing it up to now takes.

    `history` fixes every snapshot (the seed and its end time); the database holds a prefix of
    it, `first` … `stop`-1 still to write. `complete`: the history proper (its first `n`
    snapshots) is all stored: a fill that was interrupted is not, and is continued.
    """

    path: Path
    history: DemoHistory
    first: int
    stop: int
    complete: bool

    @property
    def remaining(self) -> int:
        return max(0, self.stop - self.first)


async def plan_demo_database(
    path: Path,
    *,
    seed: int = 2025,
    days: float = RETENTION_DAYS,
    rebuild: bool = False,
    now: float | None = None,
) -> DemoPlan:
    """Look at the cache at `path` (call it holding `demo_lock`): what is stored, what is
    left to write. A new history (none yet, another version or length, `rebuild`, or a cache
    so old that starting over is as quick) gets an empty database and metadata that says it
    is incomplete: the database is never taken for complete before its fill has finished."""
    now = time.time() if now is None else now
    meta_path = _meta_path(path)
    meta = None if rebuild else read_meta(path, seed)
    if meta is not None and meta["days"] == days and path.exists():
        history = DemoHistory(days=days, interval_s=meta["interval_s"], seed=seed, end=meta["end"])
        async with await Store.open(path) as store:
            latest = await store.latest_snapshot()
        last = history.index_at(latest.created_at + 1e-3) if latest is not None else -1
        stop = max(history.n, history.index_at(now) + 1)
        if stop - last - 1 <= history.n:  # else starting over is as quick
            return DemoPlan(path, history, last + 1, stop, bool(meta.get("complete", True)))
    # A new history. The metadata goes first and is rewritten before anything is stored, so it
    # never describes another build; the database is made empty, ready for the dashboard.
    with contextlib.suppress(FileNotFoundError):
        meta_path.unlink()
    _remove_database(path)
    history = DemoHistory(days=days, interval_s=300, seed=seed, end=now)
    _write_meta(meta_path, history, complete=False)
    async with await Store.open(path):
        pass
    return DemoPlan(path, history, 0, history.n, False)


async def fill_demo_database(plan: DemoPlan, progress: Progress | None = None) -> None:
    """Write the snapshots `plan` still lacks, oldest first, a transaction per `BATCH` (the
    first one short, so a dashboard watching sees data at once); then mark the history
    complete and prune what fell out of the retention window. Interrupted anywhere, the
    database holds a prefix of the history, and the next plan continues it."""
    history = plan.history
    if plan.remaining:
        drafts = itertools.islice(history.drafts(plan.stop), plan.first, None)
        config = Config(root=plan.path.parent)
        async with await Store.open(plan.path) as store:
            await _write(store, drafts, plan.remaining, config, progress, first_batch=FIRST_BATCH)
            if plan.first > 0:  # a top-up: the window moved on
                await store.prune(history.days, now=time.time())
    if not plan.complete:
        _write_meta(_meta_path(plan.path), history, complete=True)


async def ensure_demo_database(
    progress: Progress | None = None,
    *,
    seed: int = 2025,
    days: float = RETENTION_DAYS,
    rebuild: bool = False,
) -> Path:
    """The cached demo database, built on first use and topped up to now afterwards
    (snapshots older than `days` pruned), so it always looks live. Returns when it is
    complete; `covtui demo` opens the dashboard at once instead and fills it behind."""
    path = demo_database_path(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with demo_lock(path):
        plan = await plan_demo_database(path, seed=seed, days=days, rebuild=rebuild)
        await fill_demo_database(plan, progress)
    return path


def _write_meta(meta_path: Path, history: DemoHistory, *, complete: bool) -> None:
    meta = {
        "version": __version__,
        "format": FORMAT,
        "seed": history.seed,
        "days": history.days,
        "interval_s": history.interval_s,
        "end": history.end,
        "complete": complete,
    }
    tmp = meta_path.with_name(f".{meta_path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, meta_path)


def demo_lock(
    path: Path, on_wait: Callable[[], contextlib.AbstractContextManager] | None = None
) -> contextlib.AbstractContextManager[None]:
    """One writer of the demo cache at `path` at a time; see `_locked` for `on_wait`."""
    return _locked(path.with_suffix(".lock"), on_wait)


@contextlib.contextmanager
def _locked(path: Path, on_wait: Callable[[], contextlib.AbstractContextManager] | None = None) -> Iterator[None]:
    """One builder at a time (best effort where there is no fcntl); `on_wait()`: a context
    to wait in when another one holds the lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        yield
        return
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            with on_wait() if on_wait else contextlib.nullcontext():
                fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def demo_config(path: Path) -> Config:
    """The config the demo dashboard runs with: the seed's two sources, the database at `path`,
    the project's sources materialised beside it (`materialise_sources`)."""
    from covtui.config import SourceConfig

    return Config(
        root=demo_project_root(path),
        database=str(path),
        sources=[
            SourceConfig("python", command="pytest -q"),
            SourceConfig(
                "rust",
                command="cargo llvm-cov --lcov --output-path target/lcov.info",
                report="target/lcov.info",
                format="lcov",
            ),
        ],
    )
