"""The dashboard's state: everything the main screen shows, read in a few indexed queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from covtui.domain.critical import critical_files
from covtui.domain.model import Alert
from covtui.domain.records import FileRow, Heartbeat, SnapshotRow, SourceRow, TrendPoint

if TYPE_CHECKING:
    from covtui.store import Store

#: Runs kept for the medians the last-run panel compares with.
N_RECENT_RUNS = 20


@dataclass
class DashboardState:
    """Everything the main screen shows, loaded in a few indexed queries."""

    latest: SnapshotRow | None
    previous: SnapshotRow | None  # the comparable snapshot the change is measured against
    sources: list[SourceRow]
    critical_files: list[FileRow]
    alerts: list[Alert]
    n_unacknowledged: int
    trend: dict[str, list[TrendPoint]]  # "overall" and one per source
    recent_runs: list[SnapshotRow] = field(default_factory=list)  # newest first, for medians
    heartbeats: list[Heartbeat] = field(default_factory=list)
    n_snapshots: int = 0


async def dashboard_state(
    store: Store, *, trend_since: float, critical_n: int = 5, alert_limit: int = 50
) -> DashboardState:
    """Everything the main screen shows, the trend from `trend_since` on."""
    latest = await store.latest_snapshot()
    previous = await store.comparable_before(latest) if latest else None
    files = await store.files()
    n_unacknowledged = await store.n_unacknowledged()
    recent_runs = await store.recent_runs(N_RECENT_RUNS)
    n_snapshots = await store.n_snapshots()
    return DashboardState(
        latest=latest,
        previous=previous,
        sources=await store.sources(),
        critical_files=critical_files(files, critical_n),
        alerts=await store.alerts(limit=alert_limit),
        n_unacknowledged=n_unacknowledged,
        trend=await store.trend(trend_since),
        recent_runs=recent_runs,
        heartbeats=await store.heartbeats(),
        n_snapshots=n_snapshots,
    )
