"""The cached demo database: built through covtui's own store, topped up to now on each use,
one builder at a time; and the config the demo dashboard runs with."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from covtui import __version__
from covtui.config import Config
from covtui.demo.timeline import DemoHistory
from covtui.domain.model import SnapshotDraft
from covtui.record import record_snapshots
from covtui.store import Store

Progress = Callable[[int, int], None]

#: Snapshots per transaction: a dashboard polling the file sees the history grow day by day.
BATCH = 288
RETENTION_DAYS = 90.0


async def _write(
    store: Store,
    drafts: Iterator[SnapshotDraft],
    total: int,
    config: Config,
    progress: Progress | None,
) -> None:
    batch: list[SnapshotDraft] = []
    done = 0
    for draft in drafts:
        batch.append(draft)
        if len(batch) >= BATCH:
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


def demo_database_path(seed: int = 2025) -> Path:
    """Where the cached demo database lives."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "covtui" / f"demo-{__version__}-{seed}.db"


async def ensure_demo_database(
    progress: Progress | None = None,
    *,
    seed: int = 2025,
    days: float = RETENTION_DAYS,
    rebuild: bool = False,
) -> Path:
    """The cached demo database, built on first use and topped up to now afterwards
    (snapshots older than `days` pruned), so it always looks live."""
    path = demo_database_path(seed)
    meta_path = path.with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.with_suffix(".lock")):
        meta = _read_meta(meta_path, seed)
        if not rebuild and meta is not None and meta["days"] == days and path.exists():
            history = DemoHistory(
                days=days, interval_s=meta["interval_s"], seed=seed, end=meta["end"]
            )
            now = time.time()
            async with await Store.open(path) as store:
                latest = await store.latest_snapshot()
                if latest is not None:
                    last = history.index_at(latest.created_at + 1e-3)
                    stop = history.index_at(now) + 1
                    if stop - last - 1 <= history.n:  # else a rebuild is as quick
                        drafts = itertools.islice(history.drafts(stop), last + 1, None)
                        config = Config(root=path.parent)
                        await _write(store, drafts, stop - last - 1, config, progress)
                        await store.prune(days, now=now)
                        return path
        # Build next to the final file and move it in: a killed build leaves no half database.
        # The metadata goes first and comes back last, so it never describes another build.
        with contextlib.suppress(FileNotFoundError):
            meta_path.unlink()
        end = time.time()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            await build_demo_database(tmp, days=days, seed=seed, end=end, progress=progress)
            _remove_database(path)
            os.replace(tmp, path)
        finally:
            _remove_database(tmp)
        tmp_meta = meta_path.with_name(f".{meta_path.name}.{os.getpid()}.tmp")
        meta = {"version": __version__, "seed": seed, "days": days, "interval_s": 300, "end": end}
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, meta_path)
        return path


def _read_meta(path: Path, seed: int) -> dict | None:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("version") != __version__ or meta.get("seed") != seed:
        return None
    return meta


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time (best effort where there is no fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def demo_config(path: Path) -> Config:
    """The config the demo dashboard runs with: the seed's two sources, the database at `path`."""
    from covtui.config import SourceConfig

    return Config(
        root=path.parent,
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
