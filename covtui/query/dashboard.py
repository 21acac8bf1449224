"""The dashboard's state: everything the main screen shows, read in a few indexed queries."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from covtui.config import Phase
from covtui.domain.components import numbers_at
from covtui.domain.critical import critical_files
from covtui.domain.model import Alert, AlertRule
from covtui.domain.numbers import Numbers
from covtui.domain.records import CiRun, FileRow, Heartbeat, SnapshotRow, SourceRow, TrendPoint
from covtui.domain.run_median import VersusMedian, versus_median

if TYPE_CHECKING:
    from covtui.query.components import ComponentFilter
    from covtui.store import Store

#: The median's window when no config says (the test-time alert's default).
MEDIAN_WINDOW = 10
#: Runs read for the last run's history (a sparkline where the panel has room); the median
#: takes the newest `window` of them.
HISTORY_RUNS = 40

#: What a trend range is called and how many seconds it spans, shortest first.
TREND_RANGES: list[tuple[str, float]] = [
    ("hour", 3600.0),
    ("day", 86400.0),
    ("week", 7 * 86400.0),
    ("90 days", 90 * 86400.0),
]
#: The range that picks one of those by itself (`auto_trend_range`).
AUTO = "auto"
#: Fewer snapshots than this in a range are not "movement" the automatic range zooms in on.
AUTO_MIN_POINTS = 5


async def auto_trend_range(store: Store, anchor: float, movement: float) -> tuple[str, float]:
    """The smallest range that shows the recent movement: the first (shortest first) that
    holds the whole history, or in which coverage moved by at least `movement` points over
    `AUTO_MIN_POINTS` snapshots or more (ten scans in four minutes with a 1.5-point drop: the
    hour); the longest when none does."""
    first = await store.first_snapshot_at()
    for name, span in TREND_RANGES:
        if first is None or first >= anchor - span:
            return name, span
        n, low, high = await store.coverage_range(anchor - span)
        if n >= AUTO_MIN_POINTS and low is not None and high - low >= movement:
            return name, span
    return TREND_RANGES[-1]


@dataclass(frozen=True)
class TrendAlert:
    """Alerts raised by one snapshot, for a mark on the trend line."""

    created_at: float
    severity: str  # the worst of them: "critical", "warning" or "info"
    n_alerts: int
    pc_covered: float | None  # the snapshot's overall coverage (None: it measured none)


@dataclass(frozen=True)
class SourceTime:
    """One source's test time in the last run, against its own good runs (as the alert does)."""

    source: str
    wall_s: float | None
    versus: VersusMedian | None
    #: Its good runs before, newest first (up to HISTORY_RUNS: the panel's sparkline).
    recent: tuple[float, ...] = ()


@dataclass(frozen=True)
class LastRunComparison:
    """The newest run against the median of the good runs before it (domain/run_median): each
    source's time against the source's good runs, the totals against good snapshots that ran
    the same sources."""

    run: SnapshotRow
    times: list[SourceTime]
    wall: VersusMedian | None
    passed: VersusMedian | None
    failed: VersusMedian | None
    peak: VersusMedian | None
    #: The good runs the totals are compared with (0: none yet).
    n_runs: int
    #: Good runs of the same sources before it, newest first (up to HISTORY_RUNS).
    history: tuple[SnapshotRow, ...] = ()


@dataclass(frozen=True)
class ComponentView:
    """The component the dashboard shows instead of the whole project."""

    name: str
    phases: list[Phase]
    #: Its floors in words ("" without).
    floor: str = ""


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
    recent_runs: list[SnapshotRow] = field(default_factory=list)  # the newest that ran something
    heartbeats: list[Heartbeat] = field(default_factory=list)
    n_snapshots: int = 0
    last_run: LastRunComparison | None = None
    #: The trend's range: one of TREND_RANGES' names (what "auto" chose, when it is auto).
    trend_range: str = ""
    #: The snapshots in the trend's range that raised alerts, oldest first.
    trend_alerts: list[TrendAlert] = field(default_factory=list)
    #: The component shown instead of the whole project: the figures, phases, critical
    #: files, trend and alerts are that component's (None: the whole project).
    component: ComponentView | None = None
    #: CI runs still waiting for shards (`ingest --run --shard`), oldest first.
    ci_runs: list[CiRun] = field(default_factory=list)


_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def trend_alerts(times: list[tuple[float, str, float | None]]) -> list[TrendAlert]:
    """One mark per snapshot that raised alerts (at its overall coverage, when it measured
    some), with the worst severity among them."""
    by_time: dict[float, list] = {}
    for created_at, severity, pc_covered in times:
        by_time.setdefault(created_at, [pc_covered]).append(severity)
    return [
        TrendAlert(t, min(sevs, key=lambda v: _SEVERITY_RANK.get(v, 3)), len(sevs), pc)
        for t, (pc, *sevs) in sorted(by_time.items())
    ]


async def last_run_comparison(
    store: Store, run: SnapshotRow, sources: list[SourceRow], window: int
) -> LastRunComparison:
    """`run` against the median of the `window` good runs before it (a partial run is compared
    with nothing: it ran only some of the tests)."""
    comparable = run.status != "partial"
    times = []
    for row in sources:
        if row.snapshot_id == run.id and row.source in run.measured:
            walls = (await store.good_walls(row.source, max(window, HISTORY_RUNS), before_id=run.id)
                     if comparable else [])
            times.append(
                SourceTime(row.source, row.run.wall_s, versus_median(row.run.wall_s, walls, window), tuple(walls))
            )
    times.sort(key=lambda t: run.measured.index(t.source))
    history = await store.good_runs(run.measured, run.id, max(window, HISTORY_RUNS)) if comparable else []
    before = history[:window]
    if run.scope == "incremental":
        # A run of some of the tests costs less than a run of all: its time and memory are
        # not compared with theirs (its merged test counts are).
        times = [SourceTime(t.source, t.wall_s, None, t.recent) for t in times]
        return LastRunComparison(
            run=run, times=times, wall=None,
            passed=versus_median(
                run.tests.n_passed if run.tests else None,
                (r.tests.n_passed for r in before if r.tests is not None), window,
            ),
            failed=versus_median(
                run.tests.n_failed + run.tests.n_errors if run.tests else None,
                (r.tests.n_failed + r.tests.n_errors for r in before if r.tests is not None),
                window,
            ),
            peak=None, n_runs=len(before), history=tuple(history),
        )
    with_tests = [r.tests for r in before if r.tests is not None]
    tests = run.tests
    return LastRunComparison(
        run=run,
        times=times,
        wall=versus_median(run.run.wall_s, (r.run.wall_s for r in before), window),
        passed=versus_median(
            tests.n_passed if tests else None, (t.n_passed for t in with_tests), window
        ),
        failed=versus_median(
            tests.n_failed + tests.n_errors if tests else None,
            (t.n_failed + t.n_errors for t in with_tests),
            window,
        ),
        peak=versus_median(run.run.peak_rss_kb, (r.run.peak_rss_kb for r in before), window),
        n_runs=len(before),
        history=tuple(history),
    )


async def dashboard_state(
    store: Store,
    *,
    trend_since: float,
    critical_n: int = 5,
    alert_limit: int = 50,
    median_window: int = MEDIAN_WINDOW,
    trend_range: str = "",
    component: ComponentFilter | None = None,
) -> DashboardState:
    """Everything the main screen shows, the trend from `trend_since` on; with `component`,
    the figures, critical files, trend and alerts of that component only."""
    latest = await store.latest_snapshot()
    previous = await store.comparable_before(latest) if latest else None
    files = await store.files()
    n_unacknowledged = await store.n_unacknowledged()
    recent_runs = await store.recent_runs(1)  # its comparison reads what it needs
    n_snapshots = await store.n_snapshots()
    sources = await store.sources()
    last_run = (
        await last_run_comparison(store, recent_runs[0], sources, median_window)
        if recent_runs
        else None
    )
    state = DashboardState(
        latest=latest,
        previous=previous,
        sources=sources,
        critical_files=critical_files(files, critical_n),
        alerts=await store.alerts(limit=alert_limit),
        n_unacknowledged=n_unacknowledged,
        trend={} if component else await store.trend(trend_since),  # (a component's: below)
        recent_runs=recent_runs,
        heartbeats=await store.heartbeats(),
        n_snapshots=n_snapshots,
        last_run=last_run,
        trend_range=trend_range,
        trend_alerts=[] if component else trend_alerts(await store.alert_times(trend_since)),
        ci_runs=await store.open_ci_runs(),
    )
    if component is not None:
        await _narrow_to(store, state, files, component, critical_n, alert_limit, trend_since)
    return state


def _with_numbers(snapshot: SnapshotRow | None, numbers: Numbers) -> SnapshotRow | None:
    """The snapshot with the component's numbers for its own (no files: no data); its diff
    coverage is the whole project's, so it is not shown for a component."""
    if snapshot is None:
        return None
    return dataclasses.replace(
        snapshot, numbers=numbers if numbers.has_data else None,
        diff_base=None, n_diff_statements=None, n_diff_missing=None,
    )


async def _narrow_to(
    store: Store, state: DashboardState, files: list[FileRow], component: ComponentFilter,
    critical_n: int, alert_limit: int, trend_since: float,
) -> None:
    """`state` made the component's: its files' sums at the latest and the comparable
    snapshot, its critical files, its alerts (about its files, or its own coverage drop) and
    its trend, replayed from the stored file changes at the overall line's snapshots."""
    mine = [f for f in files if component.holds(f.path)]
    state.component = ComponentView(component.name, component.phases, component.floor)
    state.latest = _with_numbers(state.latest, sum((f.numbers for f in mine), Numbers()))
    if state.previous is not None:
        before = [f for f in await store.files(snapshot_id=state.previous.id) if component.holds(f.path)]
        state.previous = _with_numbers(state.previous, sum((f.numbers for f in before), Numbers()))
    state.critical_files = critical_files(mine, critical_n)
    drop = f"Component {component.name!r} "

    def about(alert: Alert) -> bool:
        if alert.rule == AlertRule.COMPONENT_DROP.value:
            return alert.message.startswith(drop)
        return component.about(alert.path)

    mine_alerts = [a for a in await store.alerts() if about(a)]
    state.alerts = mine_alerts[:alert_limit]
    state.n_unacknowledged = sum(1 for a in mine_alerts if a.acknowledged_at is None)
    points = await store.trend_snapshots(trend_since)
    marked = [a for a in mine_alerts if a.snapshot_id is not None and a.created_at is not None
              and a.created_at >= trend_since]
    at = sorted({sid for sid, _ in points} | {a.snapshot_id for a in marked})
    numbers: dict[int, Numbers] = {}
    if at:
        start = [(f.source, f.path, f.numbers) for f in await store.files(snapshot_id=at[0])]
        changes = await store.file_changes_between(at[0], at[-1])
        # Sums at every point of a 90-day line: CPU work, off the event loop.
        numbers = await asyncio.to_thread(numbers_at, start, changes, at, component.holds)
    state.trend = {"overall": [
        TrendPoint(created_at, numbers[sid].pc_covered)
        for sid, created_at in points if numbers[sid].has_data
    ]}
    state.trend_alerts = trend_alerts([
        (a.created_at, a.severity.value,
         numbers[a.snapshot_id].pc_covered if numbers.get(a.snapshot_id, Numbers()).has_data else None)
        for a in marked
    ])
