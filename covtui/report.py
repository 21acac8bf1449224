"""`covtui report`: the coverage progression report, as Markdown or JSON."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from covtui.config import Config, Phase
from covtui.display import printable
from covtui.domain.critical import critical_files
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
from covtui.domain.gaps import FileGaps, analyse_source
from covtui.domain.model import MAX_ID, Alert
from covtui.domain.numbers import Numbers, pc_str
from covtui.domain.phases import PhaseStatus, phase_status
from covtui.domain.recommend import IMMEDIATE, SECONDARY, Recommendation, recommendations
from covtui.domain.records import FileRow, SnapshotRow
from covtui.errors import CovtuiError
from covtui.present.serialise import gaps_json, iso, snapshot_json, summary_json
from covtui.present.text import diff_coverage_parts, duration, local_time, memory, plural
from covtui.store import Store

#: Secondary recommendations after the critical files.
N_SECONDARY = 5
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

    @property
    def overall(self) -> Numbers | None:
        n = self.latest.numbers
        return n if n is not None and n.has_data else None

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
    overall = latest.numbers if latest.numbers is not None and latest.numbers.has_data else None

    candidates = critical_files(files, config.critical_files + N_SECONDARY)
    gaps = await _gaps(store, config, candidates)
    recs = recommendations(
        candidates,
        lambda row: gaps[(row.source, row.path)],
        total=sum((f.numbers for f in files), Numbers()),
        n_immediate=config.critical_files,
        limit=len(candidates),
    )

    recent = [s for s in await store.snapshots(200) if s.run.wall_s is not None]
    runs = [
        RunRow(s.id, s.created_at, s.run.wall_s, s.tests.test_s if s.tests else None, s.run.read_s,
               s.run.peak_rss_kb)
        for s in recent
    ]
    alerts = await store.alerts(since_snapshot_id=baseline.id)
    return ReportData(
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
        recommendations=recs,
        gaps=gaps,
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
    return s.status == "ok" and s.numbers is not None and s.numbers.has_data


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
        numbers = row.numbers if row.numbers is not None and row.numbers.has_data else None
        result.append(SourceSummary(name, numbers, before, row.status, row.message))
    return result


async def _gaps(store: Store, config: Config, files: list[FileRow]) -> dict[tuple[str, str], FileGaps]:
    details = [await store.file_detail(f.source, f.path) for f in files]

    def analyse() -> dict[tuple[str, str], FileGaps]:
        # Parsing sources is CPU work: off the event loop.
        return {
            (d.source, d.path): analyse_source(config.root, d)
            for d in details
            if d is not None
        }

    return await asyncio.to_thread(analyse)


# -- Markdown -----------------------------------------------------------------------------------

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the ones
# that can start emphasis, code, links, HTML, headings, tables or entities mid-line.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~!&$])")


def md_escape(text: object) -> str:
    """Data (paths, messages, names) made inert for Markdown, on one line."""
    flat = printable(" ".join(str(text).splitlines()))
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_code(text: str) -> str:
    """A code span that holds `text` whatever backticks it contains (not for table cells)."""
    flat = printable(" ".join(text.splitlines()))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _when(t: float | None, with_seconds: bool = False) -> str:
    return "unknown" if t is None else local_time(t, seconds=with_seconds)


def _snapshot_name(s: SnapshotRow) -> str:
    return f"snapshot #{s.id} at {_when(s.created_at)}"


def _pct(n: Numbers | None, precision: int) -> str:
    return f"{n.pc_covered_str(precision)}%" if n is not None and n.has_data else "no data"


def _pc_text(pc: float | None, precision: int) -> str:
    return pc_str(pc, precision) + ("%" if pc is not None else "")


def _points(change: float | None, precision: int) -> str:
    if change is None:
        return "no data"
    text = f"{change:+.{precision}f}"
    return "±0" if float(text) == 0 else text


def _duration(s: float | None) -> str:
    return duration(s, spaced=False, clock=False)


def _memory(kb: float | None) -> str:
    return memory(kb, decimals=1, gigabytes=False)


def _metric(name: str, value: float | None) -> str:
    return _memory(value) if name == "peak memory" else _duration(value)


def render_markdown(data: ReportData) -> str:
    """The report as GitHub-flavoured Markdown; everything from data is escaped."""
    p = data.precision
    out: list[str] = []
    add = out.append
    latest, overall = data.latest, data.overall

    add("# Coverage Progression Report")
    add("")
    add(f"- **Timestamp**: {_when(data.generated_at, with_seconds=True)}")
    add(f"- **Project**: {md_escape(data.project)}")
    git = ""
    if latest.git_commit:
        git = f", {md_escape(latest.git_branch or 'detached')}@{md_escape(latest.git_commit[:10])}"
        git += " (dirty)" if latest.git_dirty else ""
    add(f"- **Latest**: {_snapshot_name(latest)} ({md_escape(latest.status)}, {md_escape(latest.trigger)}{git})")
    add(f"- **Baseline**: {_snapshot_name(data.baseline)} ({md_escape(data.baseline_reason)})")
    if data.clock_note:
        add(f"- **Note**: {data.clock_note}")
    add("")

    add("## Current Coverage Baseline Assessment")
    add("")
    if overall is None:
        add("- **Overall coverage**: no data")
    else:
        add(f"- **Overall coverage**: {_pct(overall, p)}")
        add(f"- **Covered lines**: {overall.n_executed:,} out of {overall.n_statements:,}")
        if overall.n_branches:
            add(f"- **Branches taken**: {overall.n_executed_branches:,} out of {overall.n_branches:,}")
        add(f"- **Files with coverage**: {overall.n_files_covered:,} out of {overall.n_files:,}")
    add("")
    add("| Source | Coverage | Covered lines | Files with coverage | At baseline | Status |")
    add("|---|---:|---:|---:|---:|---|")
    for s in data.sources:
        n = s.numbers
        lines = f"{n.n_executed:,} / {n.n_statements:,}" if n else "—"
        with_cov = f"{n.n_files_covered:,} / {n.n_files:,}" if n else "—"
        status = md_escape(s.status) + (f": {md_escape(s.message)}" if s.message and s.status != "ok" else "")
        add(f"| {md_escape(s.name)} | {_pct(n, p)} | {lines} | {with_cov} | {_pct(s.baseline, p)} | {status} |")
    add("")

    add("## Change")
    add("")
    for label, change in (("Since the previous snapshot", data.change_previous),
                          ("Since the baseline", data.change_baseline)):
        if change is None:
            none = "no earlier comparable snapshot" if label.endswith("previous snapshot") else "the baseline is the latest snapshot"
            add(f"- **{label}**: {none}")
            continue
        line = (
            f"- **{label}** ({_snapshot_name(change.against)}): {_points(change.pc_change, p)} points "
            f"({_pc_text(change.pc_before, p)} → {_pc_text(change.pc_after, p)})"
        )
        new_sources = [s.name for s in data.sources if s.numbers is not None and s.baseline is None]
        if change.against.id == data.baseline.id and new_sources:
            line += f"; the baseline had no data for {', '.join(md_escape(n) for n in new_sources)}"
        add(line)
    add("")

    add("## Diff Coverage")
    add("")
    add(diff_coverage_text(latest, p, md_escape))
    add("")

    add("## Phase Status")
    add("")
    if data.phase is None:
        add("No coverage data yet: no phase.")
    else:
        ph = data.phase
        add(f"**{md_escape(ph.label)}**, progress to {ph.phase.end:g}%: {ph.pc_progress:.1f}%")
        add("")
        add("| Phase | Range | Status |")
        add("|---|---|---|")
        for i, phase in enumerate(data.phases, start=1):
            state = "reached" if i < ph.number else "current" if i == ph.number else "ahead"
            if i == ph.number:
                state += f", {ph.pc_progress:.1f}% of the way"
            add(f"| Phase {i}: {md_escape(phase.name)} | {phase.start:g}–{phase.end:g}% | {state} |")
    add("")

    add(f"## Top {len(data.critical)} Critical Files" if data.critical else "## Critical Files")
    add("")
    if not data.critical:
        add("Nothing left uncovered.")
    else:
        add("| # | File | Coverage | Missed / total | Change | Since baseline |")
        add("|---:|---|---:|---:|---:|---:|")
        for i, f in enumerate(data.critical, start=1):
            n = f.numbers
            add(
                f"| {i} | {_file_name(f.source, f.path, data)} | {_pct(n, p)} | "
                f"{n.n_missed_total:,} / {n.n_statements + n.n_branches:,} | "
                f"{'new' if f.pc_change is None else _points(f.pc_change, p)} | "
                f"{'new' if f.pc_change_baseline is None else _points(f.pc_change_baseline, p)} |"
            )
    add("")

    add("## Test Recommendations by Priority")
    add("")
    if not data.recommendations:
        add("No recommendations: every measured line and branch is covered.")
        add("")
    for priority, title in ((IMMEDIATE, "Immediate Priority"), (SECONDARY, "Secondary Priority")):
        recs = [r for r in data.recommendations if r.priority == priority]
        if not recs:
            continue
        phase = ""
        if data.phase is not None:
            phase = f" — {md_escape(data.phase.label)}" if priority == IMMEDIATE else ""
        add(f"### {title}{phase}")
        add("")
        for r in recs:
            head = r.headline(plain=lambda s, r=r: f"**{_file_name(r.source, s, data)}**", precision=p)
            add(f"{r.rank}. {head}; covering it adds {pc_str(r.pc_lift, p)} points "
                f"(to {pc_str(r.pc_after, p)}% with those above)")
            for action in r.actions:
                add(f"   - {action.describe(md_code, md_escape)}")
        add("")

    add("## Performance of Recent Runs")
    add("")
    if not data.runs:
        add("No timed runs yet (ingested reports carry no run times).")
    else:
        add("| Snapshot | When | Run time | Test time | Report read | Peak memory |")
        add("|---:|---|---:|---:|---:|---:|")
        for run in data.runs:
            add(
                f"| #{run.snapshot_id} | {_when(run.created_at)} | {_duration(run.wall_s)} | "
                f"{_duration(run.test_s)} | {_duration(run.read_s)} | {_memory(run.peak_rss_kb)} |"
            )
        add("")
        for t in data.trends:
            if t.recent is None:
                continue
            if t.previous is None:
                add(f"- **{t.name.capitalize()}**: {_metric(t.name, t.recent)} (too few runs for a trend)")
                continue
            change = t.pc_change
            trend = f"{change:+.1f}%" if change is not None else "no change"
            add(
                f"- **{t.name.capitalize()}**: median {_metric(t.name, t.recent)} over the last "
                f"{plural(t.n, 'run')}, {_metric(t.name, t.previous)} over the {t.n} before ({trend})"
            )
    add("")

    add("## Alerts Since the Baseline")
    add("")
    a = data.alerts
    if a.n_alerts == 0:
        add(f"No alerts since {_snapshot_name(data.baseline)}.")
    else:
        severities = ", ".join(
            f"{a.by_severity[s]:,} {s}" for s in ("critical", "warning", "info") if s in a.by_severity
        )
        add(f"{plural(a.n_alerts, 'alert')} ({severities}).")
        add("")
        add("| Rule | Alerts |")
        add("|---|---:|")
        for rule, n in a.by_rule.items():
            add(f"| {md_escape(rule)} | {n:,} |")
        add("")
        add(f"Latest {len(a.latest)}:")
        add("")
        for alert in a.latest:
            where = f" [{alert.source}]" if alert.source else ""
            add(
                f"- {_when(alert.created_at)} **{alert.severity.value}** {md_escape(alert.rule)}"
                f"{md_escape(where)}: {md_escape(alert.message)}"
                + (" (acknowledged)" if alert.acknowledged_at else "")
            )
    add("")

    add("## Forecast")
    add("")
    fc = data.forecast
    if fc.pc_per_day is None:
        add("Not enough history for a forecast (two snapshots with data, some time apart, are needed).")
    else:
        add(
            f"At the recent rate of change ({_points(fc.pc_per_day, p)} points a day, a linear fit "
            f"of {fc.n_points} snapshots since {_when(fc.since)}):"
        )
        add("")
        if not fc.milestones:
            add("Every milestone is reached.")
        else:
            add("| Milestone | Reached |")
            add("|---|---|")
            for m in fc.milestones:
                add(f"| {md_escape(m.phase.name)} ({m.phase.end:g}%) | {_eta(m.eta, latest.created_at)} |")
    add("")
    return "\n".join(out).rstrip("\n") + "\n"


def diff_coverage_text(latest: SnapshotRow, precision: int, plain: Callable[[str], str]) -> str:
    """"Changed lines since main (3f2a9c1): 71.43% of 21 (6 missed)", as the dashboard says it."""
    parts = diff_coverage_parts(latest, precision, plain)
    if parts is None:
        return "Not measured: the project is not in git, or it has no base to compare with."
    missed = f" ({latest.n_diff_missing or 0:,} missed)" if latest.n_diff_statements else ""
    sentence = "".join(parts) + missed
    return sentence[0].upper() + sentence[1:] + "."


def _eta(eta: float | None, from_time: float) -> str:
    if eta is None:
        return "not at the current rate"
    days = (eta - from_time) / DAY
    return f"{datetime.fromtimestamp(eta).strftime('%Y-%m-%d')} (in about {days:.0f} day{'' if round(days) == 1 else 's'})"


def _file_name(source: str, path: str, data: ReportData) -> str:
    """A path, with its source when more than one source has files."""
    several = sum(1 for s in data.sources if s.numbers is not None) > 1
    return md_escape(f"{source}: {path}" if several else path)


# -- JSON ---------------------------------------------------------------------------------------


def render_json(data: ReportData) -> dict:
    """The same content as the Markdown, for machines."""
    p = data.precision

    def change(c: Change | None) -> dict | None:
        if c is None:
            return None
        return {"against": snapshot_json(c.against), "percent_before": c.pc_before,
                "percent_after": c.pc_after, "change": c.pc_change}

    return {
        "generated_at": iso(data.generated_at),
        "project": data.project,
        "latest": snapshot_json(data.latest),
        "baseline": {**snapshot_json(data.baseline), "reason": data.baseline_reason,
                     **({"note": data.clock_note} if data.clock_note else {})},
        "totals": summary_json(data.overall, p),
        "sources": [
            {"name": s.name, "status": s.status, "message": s.message,
             "summary": summary_json(s.numbers, p), "baseline": summary_json(s.baseline, p)}
            for s in data.sources
        ],
        "change": {"previous": change(data.change_previous), "baseline": change(data.change_baseline)},
        "diff_coverage": None if data.latest.n_diff_statements is None else {
            "base": data.latest.diff_base,
            "statements": data.latest.n_diff_statements,
            "missing": data.latest.n_diff_missing,
            "percent_covered": data.latest.pc_diff,
            "text": diff_coverage_text(data.latest, p, printable),
        },
        "phase": None if data.phase is None else {
            "number": data.phase.number,
            "name": data.phase.phase.name,
            "label": data.phase.label,
            "start": data.phase.phase.start,
            "end": data.phase.phase.end,
            "percent_progress": data.phase.pc_progress,
        },
        "phases": [{"name": ph.name, "start": ph.start, "end": ph.end} for ph in data.phases],
        "critical_files": [
            {"source": f.source, "path": f.path, "summary": summary_json(f.numbers, p),
             "missed": f.numbers.n_missed_total, "total": f.numbers.n_statements + f.numbers.n_branches,
             "change": f.pc_change, "change_since_baseline": f.pc_change_baseline}
            for f in data.critical
        ],
        "recommendations": [
            {
                "priority": r.priority,
                "rank": r.rank,
                "source": r.source,
                "path": r.path,
                "percent_covered": r.numbers.pc_covered,
                "percent_covered_display": r.numbers.pc_covered_str(p),
                "lift": r.pc_lift,
                "percent_after": r.pc_after,
                "text": r.describe(precision=p),
                "actions": [
                    {"kind": a.kind, "text": a.describe(), "names": list(a.names), "counts": list(a.counts),
                     "detail": a.detail}
                    for a in r.actions
                ],
                "gaps": gaps_json(data.gaps.get((r.source, r.path))),
            }
            for r in data.recommendations
        ],
        "performance": {
            "runs": [
                {"snapshot_id": r.snapshot_id, "created_at": iso(r.created_at), "wall_s": r.wall_s,
                 "test_s": r.test_s, "read_s": r.read_s, "peak_rss_kb": r.peak_rss_kb}
                for r in data.runs
            ],
            "trends": [
                {"metric": t.name, "runs": t.n, "recent_median": t.recent,
                 "previous_median": t.previous, "percent_change": t.pc_change}
                for t in data.trends
            ],
        },
        "alerts": {
            "count": data.alerts.n_alerts,
            "by_rule": data.alerts.by_rule,
            "by_severity": data.alerts.by_severity,
            "latest": [
                {"id": a.id, "created_at": iso(a.created_at), "rule": a.rule,
                 "severity": a.severity.value, "source": a.source, "path": a.path,
                 "message": a.message, "snapshot_id": a.snapshot_id,
                 "acknowledged": a.acknowledged_at is not None}
                for a in data.alerts.latest
            ],
        },
        "forecast": {
            "percent_per_day": data.forecast.pc_per_day,
            "since": iso(data.forecast.since),
            "snapshots": data.forecast.n_points,
            "milestones": [
                {"name": m.phase.name, "percent": m.phase.end, "reached_at": iso(m.eta),
                 "text": _eta(m.eta, data.latest.created_at)}
                for m in data.forecast.milestones
            ],
        },
    }


# -- the command --------------------------------------------------------------------------------


#: What a file starts with when it is an SQLite database.
SQLITE_HEADER = b"SQLite format 3\x00"
_KINDS = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def output_target(path: Path, db_path: Path) -> Path:
    """The file `-o path` replaces: a symlink's target (the link stays), but never the monitoring
    database or its companions, another SQLite database, or anything but a regular file."""
    try:
        target = path.resolve()
        db = db_path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise CovtuiError(f"{path}: cannot resolve the path: {exc}") from None
    companions = {Path(f"{db}{suffix}") for suffix in ("", "-wal", "-shm", "-journal", ".scan-lock")}
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise CovtuiError(f"{path}: cannot write the report: {exc.strerror}") from None
    if target in companions or (st is not None and db.exists() and os.path.samefile(target, db)):
        raise CovtuiError(f"{path}: the monitoring database: not replaced")
    if st is None:
        return target
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS.items() if test(st.st_mode)), "not a plain file")
        raise CovtuiError(f"{path}: not a regular file ({kind}): not replaced")
    try:
        with open(target, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise CovtuiError(f"{path}: cannot write the report: {exc.strerror}") from None
    if head == SQLITE_HEADER:
        raise CovtuiError(f"{path}: an SQLite database: not replaced")
    return target


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader sees the old file or the new one, never half of one.

    A replaced file keeps its mode; a new one gets the usual mode (0666 less the umask).
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CovtuiError(f"{path}: the folder {directory} does not exist")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
