"""The report's look ahead: when each milestone is reached at the recent rate, and how run
costs move (medians of the latest runs against the runs before them)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from covtui.config import Phase
from covtui.domain.numbers import measured
from covtui.domain.records import SnapshotRow

DAY = 86400.0
#: Days of history the forecast's rate of change is fitted over.
FORECAST_DAYS = 7.0
#: Forecasts further out than this are "not at the current rate".
FORECAST_HORIZON_DAYS = 3650.0
#: Recent runs shown, and the most each median of the performance trend is taken over.
RUN_WINDOW = 5


@dataclass(frozen=True)
class RunRow:
    snapshot_id: int
    created_at: float
    wall_s: float | None
    test_s: float | None
    read_s: float | None
    peak_rss_kb: int | None


@dataclass(frozen=True)
class MetricTrend:
    """Median of the latest `n` runs against the `n` before them."""

    name: str
    n: int
    recent: float | None
    previous: float | None

    @property
    def pc_change(self) -> float | None:
        if self.recent is None or not self.previous:
            return None
        return 100.0 * (self.recent - self.previous) / self.previous


@dataclass(frozen=True)
class Milestone:
    phase: Phase
    #: When the milestone is reached at the current rate; None: not at the current rate.
    eta: float | None


@dataclass(frozen=True)
class Forecast:
    #: Points of overall coverage gained per day (linear fit); None without enough history.
    pc_per_day: float | None
    since: float | None  # the first snapshot of the fit
    n_points: int
    milestones: list[Milestone]

    @property
    def rising(self) -> bool:
        return self.pc_per_day is not None and self.pc_per_day > 1e-9


def measured_pc(snapshot: SnapshotRow) -> float | None:
    """A snapshot's overall coverage; None when it measured nothing."""
    n = measured(snapshot.numbers)
    return None if n is None else n.pc_covered


def run_trends(runs: list[RunRow]) -> list[MetricTrend]:
    """Each run metric's median over the latest runs against the same number before them."""
    metrics: list[tuple[str, Callable[[RunRow], float | None]]] = [
        ("run time", lambda r: r.wall_s),
        ("test time", lambda r: r.test_s),
        ("report read time", lambda r: r.read_s),
        ("peak memory", lambda r: r.peak_rss_kb),
    ]
    result = []
    for name, get in metrics:
        values = [v for v in map(get, runs) if v is not None]
        n = min(RUN_WINDOW, len(values) // 2)
        if n == 0:
            result.append(MetricTrend(name, 0, values[0] if values else None, None))
            continue
        result.append(
            MetricTrend(name, n, statistics.median(values[:n]), statistics.median(values[n : 2 * n]))
        )
    return result


def forecast(
    points: list[tuple[float, float]], latest: SnapshotRow, *, since: float, phases: list[Phase]
) -> Forecast:
    """When each milestone ahead is reached at the rate of a linear fit since `since`."""
    used = sorted((t, pc) for t, pc in points if t >= since and t <= latest.created_at)
    current = measured_pc(latest)
    ahead = sorted((p for p in phases if current is None or p.end > current), key=lambda p: p.end)
    if len(used) < 2 or used[-1][0] - used[0][0] <= 0 or current is None:
        return Forecast(None, used[0][0] if used else None, len(used), [Milestone(p, None) for p in ahead])
    slope = _slope([(t / DAY, pc) for t, pc in used])
    milestones = []
    for p in ahead:
        eta = None
        if slope > 1e-9:
            days = (p.end - current) / slope
            if days <= FORECAST_HORIZON_DAYS:
                eta = latest.created_at + days * DAY
        milestones.append(Milestone(p, eta))
    return Forecast(slope, used[0][0], len(used), milestones)


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx if sxx else 0.0
