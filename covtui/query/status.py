"""What `covtui status` shows: the latest snapshot, its sources and files, unacknowledged alerts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from covtui.config import Config
from covtui.domain.critical import critical_files
from covtui.domain.flaky import Score
from covtui.domain.model import Alert
from covtui.domain.records import CiRun, FileRow, SnapshotRow, SourceRow

if TYPE_CHECKING:
    from covtui.store import Store


@dataclass(frozen=True)
class Status:
    """The current coverage at a glance (no trend, unlike the dashboard's state)."""

    latest: SnapshotRow | None
    previous: SnapshotRow | None  # the comparable snapshot the change is measured against
    sources: list[SourceRow]
    files: list[FileRow]
    critical_files: list[FileRow]
    alerts: list[Alert]  # every unacknowledged one, newest first
    #: Lines flaky now (covered by chance); None when no per-test coverage was ever recorded.
    n_flaky_lines: int | None = None
    #: CI runs still waiting for shards (`ingest --run --shard`), oldest first.
    ci_runs: list[CiRun] = field(default_factory=list)


async def current_status(store: Store, config: Config) -> Status:
    """What `covtui status` shows, each part read once."""
    latest = await store.latest_snapshot()
    files = await store.files()
    unacknowledged = await store.alerts(unacknowledged_only=True)
    return Status(
        latest=latest,
        previous=await store.comparable_before(latest) if latest else None,
        sources=await store.sources(),
        files=files,
        critical_files=critical_files(files, config.critical_files),
        alerts=unacknowledged,
        n_flaky_lines=await count_flaky(store, config) if await store.line_test_snapshots() else None,
        ci_runs=await store.open_ci_runs(),
    )


async def count_flaky(store: Store, config: Config, now: float | None = None) -> int:
    """How many lines are flaky now, by their decayed scores."""
    t = time.time() if now is None else now
    half_life = config.alerts.flaky_half_life_days
    return sum(
        Score(*value).is_flaky(t, half_life)
        for lines in (await store.flaky_scores()).values() for value in lines.values()
    )
