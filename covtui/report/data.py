"""What the report says, gathered from the database before it is rendered: the baseline, the
sources, the changes, critical files, recommendations, run costs, alerts and the forecast."""

from __future__ import annotations

import functools
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from covtui.config import Config, Phase
from covtui.domain.critical import critical_files
from covtui.domain.explain import Explanation
from covtui.domain.forecast import (
    DAY,
    FORECAST_DAYS,
    RUN_WINDOW,
    Forecast,
    MetricTrend,
    RunRow,
    forecast,
    measured_pc,
    run_trends,
)
from covtui.domain.gaps import FileGaps
from covtui.domain.model import MAX_ID, Alert
from covtui.domain.numbers import Numbers, measured
from covtui.domain.phases import PhaseStatus, phase_status
from covtui.domain.recommend import Recommendation
from covtui.domain.records import FileRow, SnapshotRow
from covtui.errors import CovtuiError
from covtui.present.components import shown as has_components
from covtui.query.components import ComponentState, component_state
from covtui.query.explain import explanation
from covtui.query.recommendations import recommend
from covtui.store import Store

#: Latest alerts listed (all are counted).
N_LATEST_ALERTS = 5
_ALL = 10**9  # "every snapshot" for Store.snapshots(limit=…)


# -- the data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSummary:
    name: str
    numbers: Numbers | None  # None: no data
    baseline: Numbers | None
    status: str  # "ok", "failed", …, or "never measured"
    message: str = ""


@dataclass(frozen=True)
class Change:
    """Overall coverage now against an earlier snapshot."""

    against: SnapshotRow
    pc_before: float | None
    pc_after: float | None

    @property
    def pc_change(self) -> float | None:
        if self.pc_before is None or self.pc_after is None:
            return None
        return self.pc_after - self.pc_before


@dataclass(frozen=True)
class CriticalFile:
    source: str
    path: str
    numbers: Numbers
    pc_change: float | None  # against the previous snapshot; None for a new file
    pc_change_baseline: float | None  # None when the file wasn't there at the baseline


@dataclass(frozen=True)
class AlertSummary:
    n_alerts: int
    by_rule: dict[str, int]
    by_severity: dict[str, int]
    latest: list[Alert]


@dataclass
class ReportData:
    """Everything the report says, before it is rendered."""

    generated_at: float
    project: str
    precision: int
    latest: SnapshotRow
    baseline: SnapshotRow
    baseline_reason: str  # how the baseline was chosen
    previous: SnapshotRow | None
    sources: list[SourceSummary]
    phase: PhaseStatus | None
    phases: list[Phase]
    critical: list[CriticalFile]
    runs: list[RunRow]  # newest first
    trends: list[MetricTrend]
    alerts: AlertSummary
    recommendations: list[Recommendation]
    gaps: dict[tuple[str, str], FileGaps] = field(default_factory=dict)
    forecast: Forecast = field(default_factory=lambda: Forecast(None, None, 0, []))
    #: Components, gates and generated files now; None when the project has none.
    components: ComponentState | None = None
    #: Why coverage moved since the previous comparable snapshot (None: there is none).
    why: Explanation | None = None

    @property
    def overall(self) -> Numbers | None:
        return measured(self.latest.numbers)

    @property
    def clock_note(self) -> str | None:
        """Said when the times run backwards: snapshots are ordered by number, not time."""
        if self.latest.created_at >= self.baseline.created_at:
            return None
        return (f"snapshot #{self.latest.id} is stamped before #{self.baseline.id} (the clock "
                "went back): snapshots are ordered by number, not by time")

    @property
    def change_previous(self) -> Change | None:
        return _change(self.previous, self.latest)

    @property
    def change_baseline(self) -> Change | None:
        return None if self.baseline.id == self.latest.id else _change(self.baseline, self.latest)


def _change(before: SnapshotRow | None, after: SnapshotRow) -> Change | None:
    if before is None:
        return None
    return Change(before, measured_pc(before), measured_pc(after))


# -- building it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Since:
    """A parsed `--since`: a snapshot id or a moment."""

    text: str
    snapshot_id: int | None = None
    at: float | None = None


def parse_since(value: str) -> Since:
    """`12` or `#12` is a snapshot; an ISO date or date-time (local time unless it says) a moment."""
    text = value.strip()
    if match := re.fullmatch(r"#?(\d+)", text):
        if int(match[1]) > MAX_ID:  # more than SQLite can hold: no such snapshot
            raise CovtuiError(f"--since {value!r}: no snapshot #{match[1]} in the database")
        return Since(value, snapshot_id=int(match[1]))
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise CovtuiError(
            f"--since {value!r}: not a snapshot id (12 or #12) or an ISO date "
            "(2026-11-20 or 2026-11-20T10:00)"
        ) from None
    return Since(value, at=moment.timestamp())  # naive: local time


async def build_report(
    store: Store, config: Config, *, since: str | None, now: float | None = None
) -> ReportData:
    """Collect the report's content from the database (and, for gap analysis, the sources)."""
    latest = await store.latest_snapshot()
    if latest is None:
        raise CovtuiError("no snapshots yet: run `covtui scan` or `covtui ingest` first")
    now = time.time() if now is None else now
    baseline, reason = await _baseline(store, config, since, now)
    history = await store.snapshots(_ALL, since=min(baseline.created_at, latest.created_at - FORECAST_DAYS * DAY))
    previous = await store.comparable_before(latest)

    files = await store.files()
    baseline_files = {(f.source, f.path): f.numbers for f in await store.files(snapshot_id=baseline.id)}
    sources = await _sources(store, config, baseline)

    critical = [
        CriticalFile(
            f.source,
            f.path,
            f.numbers,
            f.pc_change,
            _file_change(f, baseline_files.get((f.source, f.path))),
        )
        for f in critical_files(files, config.critical_files)
    ]
    overall = measured(latest.numbers)

    recommended = await recommend(store, config, files)

    recent = [s for s in await store.snapshots(200) if s.run.wall_s is not None]
    runs = [
        RunRow(s.id, s.created_at, s.run.wall_s, s.tests.duration_s if s.tests else None, s.run.read_s,
               s.run.peak_rss_kb)
        for s in recent
    ]
    alerts = await store.alerts(since_snapshot_id=baseline.id)
    parts = await component_state(store, config)
    why = None
    if previous is not None:
        from covtui.git.lines import file_diffs

        why = await explanation(
            store, previous.id, latest.id, functools.partial(file_diffs, config.root),
            config.alerts.flaky_half_life_days,
        )
    return ReportData(
        why=why,
        components=parts if has_components(parts) else None,
        generated_at=now,
        project=config.root.name,
        precision=config.precision,
        latest=latest,
        baseline=baseline,
        baseline_reason=reason,
        previous=previous,
        sources=sources,
        phase=phase_status(overall.pc_covered, config.phases) if overall else None,
        phases=sorted(config.phases, key=lambda p: p.start),
        critical=critical,
        runs=runs[:RUN_WINDOW],
        trends=run_trends(runs),
        alerts=AlertSummary(
            n_alerts=len(alerts),
            by_rule=dict(sorted(Counter(a.rule for a in alerts).items())),
            by_severity=dict(Counter(a.severity.value for a in alerts)),
            latest=alerts[:N_LATEST_ALERTS],
        ),
        recommendations=recommended.items,
        gaps=recommended.gaps,
        forecast=forecast(
            [(s.created_at, s.pc_covered) for s in history if _usable(s)],
            latest,
            since=max(baseline.created_at, latest.created_at - FORECAST_DAYS * DAY),
            phases=config.phases,
        ),
    )


async def _baseline(
    store: Store, config: Config, since: str | None, now: float
) -> tuple[SnapshotRow, str]:
    if since is not None:
        wanted = parse_since(since)
        if wanted.snapshot_id is not None:
            row = await store.snapshot(wanted.snapshot_id)
            if row is None:
                raise CovtuiError(f"--since {since!r}: no snapshot #{wanted.snapshot_id} in the database")
            return row, "as asked"
        after = await store.snapshots(_ALL, since=wanted.at)
        if not after:
            raise CovtuiError(f"--since {since!r}: no snapshot at or after that time")
        return _oldest(after), "the first snapshot at or after the date asked for"
    in_window = await store.snapshots(_ALL, since=now - config.retention_days * DAY)
    good = [s for s in in_window if _usable(s)]
    if good:
        return _oldest(good), f"the oldest within the {config.retention_days:g}-day retention window"
    everything = await store.snapshots(_ALL)
    good = [s for s in everything if _usable(s)] or everything
    return _oldest(good), "the first snapshot"


def _oldest(rows: list[SnapshotRow]) -> SnapshotRow:
    return min(rows, key=lambda s: s.id)


def _usable(s: SnapshotRow) -> bool:
    return s.status == "ok" and measured(s.numbers) is not None


def _file_change(row: FileRow, before: Numbers | None) -> float | None:
    return None if before is None else row.numbers.pc_covered - before.pc_covered


async def _sources(store: Store, config: Config, baseline: SnapshotRow) -> list[SourceSummary]:
    stored = {row.source: row for row in await store.sources()}
    names = [s.name for s in config.sources] + sorted(set(stored) - {s.name for s in config.sources})
    result = []
    for name in names:
        at_baseline = await store.files(name, snapshot_id=baseline.id)
        before = sum((f.numbers for f in at_baseline), Numbers()) if at_baseline else None
        row = stored.get(name)
        if row is None:
            result.append(SourceSummary(name, None, None, "never measured"))
            continue
        result.append(SourceSummary(name, measured(row.numbers), before, row.status, row.message))
    return result
