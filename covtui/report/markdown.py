"""The report as GitHub-flavoured Markdown, every piece of data escaped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime

from covtui.display import printable
from covtui.domain.explain import by_size
from covtui.domain.forecast import DAY
from covtui.domain.numbers import pc_str
from covtui.domain.recommend import IMMEDIATE, SECONDARY
from covtui.domain.records import SnapshotRow
from covtui.present.components import component_rows, generated_line
from covtui.present.text import (
    coverage_text,
    diff_coverage_parts,
    duration,
    lift_text,
    local_time,
    memory,
    phase_progress,
    plural,
)
from covtui.report.data import ReportData, SourceSummary

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
    sections = (_heading, _assessment, _components, _change, _why, _diff, _phase, _critical,
                _recommendations, _performance, _alerts, _forecast)
    out = [line for section in sections if (lines := section(data)) for line in (*lines, "")]
    return "\n".join(out).rstrip("\n") + "\n"


def _table(columns: str, rows: Iterable[Iterable[object]]) -> list[str]:
    """A table; `columns` names the columns, "|" between them, ">" after a right-aligned one."""
    names = [c.strip() for c in columns.split("|")]
    return [
        "| " + " | ".join(n.rstrip(">") for n in names) + " |",
        "|" + "|".join("---:" if n.endswith(">") else "---" for n in names) + "|",
        *("| " + " | ".join(map(str, row)) + " |" for row in rows),
    ]


def _heading(data: ReportData) -> list[str]:
    latest = data.latest
    git = ""
    if latest.git_commit:
        git = f", {md_escape(latest.git_branch or 'detached')}@{md_escape(latest.git_commit[:10])}"
        git += " (dirty)" if latest.git_dirty else ""
    return [
        "# Coverage Progression Report",
        "",
        f"- **Timestamp**: {_when(data.generated_at, with_seconds=True)}",
        f"- **Project**: {md_escape(data.project)}",
        f"- **Latest**: {_snapshot_name(latest)} ({md_escape(latest.status)}, {md_escape(latest.trigger)}{git})",
        f"- **Baseline**: {_snapshot_name(data.baseline)} ({md_escape(data.baseline_reason)})",
        *([f"- **Note**: {data.clock_note}"] if data.clock_note else []),
    ]


def _assessment(data: ReportData) -> list[str]:
    p, overall = data.precision, data.overall
    out = ["## Current Coverage Baseline Assessment", ""]
    if overall is None:
        out.append("- **Overall coverage**: no data")
    else:
        out.append(f"- **Overall coverage**: {coverage_text(overall, p)}")
        out.append(f"- **Covered lines**: {overall.n_executed:,} out of {overall.n_statements:,}")
        if overall.n_branches:
            out.append(f"- **Branches taken**: {overall.n_executed_branches:,} out of {overall.n_branches:,}")
        out.append(f"- **Files with coverage**: {overall.n_files_covered:,} out of {overall.n_files:,}")
    out.append("")

    def row(s: SourceSummary) -> tuple[str, ...]:
        n = s.numbers
        status = md_escape(s.status) + (f": {md_escape(s.message)}" if s.message and s.status != "ok" else "")
        return (
            md_escape(s.name), coverage_text(n, p),
            f"{n.n_executed:,} / {n.n_statements:,}" if n else "—",
            f"{n.n_files_covered:,} / {n.n_files:,}" if n else "—",
            coverage_text(s.baseline, p), status,
        )

    return out + _table(
        "Source | Coverage> | Covered lines> | Files with coverage> | At baseline> | Status",
        map(row, data.sources),
    )


def _components(data: ReportData) -> list[str]:
    """Each component's coverage and gate; the total without generated files, labelled."""
    parts = data.components
    if parts is None:
        return []
    out = ["## Components", ""]
    rows = component_rows(parts, data.precision, data.phases)
    if rows:
        out += _table(
            "Component | Coverage> | Change> | Phase | Lines covered> | Files> | Gate | Note",
            ((md_escape(r.name), r.cover,
              "—" if r.pc_change is None else _points(r.pc_change, data.precision), md_escape(r.phase),
              r.lines, f"{r.n_files:,}", r.gate or "—", md_escape(r.note))
             for r in rows),
        )
        out.append("")
    if line := generated_line(parts, data.precision):
        out += [md_escape(line) + ": " + ", ".join(md_code(p) for p in parts.breakdown.generated), ""]
    for failure in (f for g in parts.gates for f in g.failures):
        out.append(f"- **Gate failed:** {md_escape(failure)}")
    return out[:-1] if out[-1] == "" else out


def _change(data: ReportData) -> list[str]:
    p = data.precision
    out = ["## Change", ""]
    for label, change in (("Since the previous snapshot", data.change_previous),
                          ("Since the baseline", data.change_baseline)):
        if change is None:
            none = "no earlier comparable snapshot" if label.endswith("previous snapshot") else "the baseline is the latest snapshot"
            out.append(f"- **{label}**: {none}")
            continue
        line = (
            f"- **{label}** ({_snapshot_name(change.against)}): {_points(change.pc_change, p)} points "
            f"({_pc_text(change.pc_before, p)} → {_pc_text(change.pc_after, p)})"
        )
        new_sources = [s.name for s in data.sources if s.numbers is not None and s.baseline is None]
        if change.against.id == data.baseline.id and new_sources:
            line += f"; the baseline had no data for {', '.join(md_escape(n) for n in new_sources)}"
        out.append(line)
    return out


#: Files and tests named per cause in the report (the JSON names all).
WHY_LISTED = 5


def _why(data: ReportData) -> list[str]:
    """Why coverage moved since the previous snapshot: `covtui explain`'s causes."""
    e = data.why
    if e is None:
        return []
    out = ["## Why Coverage Moved", ""]
    head = (f"Since snapshot #{e.from_id}: {e.covered_lines_delta:+,} covered lines, "
            f"{e.missed_lines_delta:+,} missed lines.")
    if not e.causes:
        return [*out, head + " No line changed state."]
    out.append(head + ("" if e.exact else " Files without per-test coverage at both ends are "
                       "counted by file, not by line."))
    out.append("")

    def listed(items: list[str]) -> str:
        shown = ", ".join(md_escape(i) for i in items[:WHY_LISTED])
        return shown + (f" and {len(items) - WHY_LISTED:,} more" if len(items) > WHY_LISTED else "")

    rows = []
    for c in e.causes:
        files = [f.path for f in sorted(c.files.values(), key=by_size)]
        rows.append((md_code(c.kind), f"{c.covered_lines_delta:+,}", f"{c.missed_lines_delta:+,}",
                     listed(files) or "—", listed(sorted(c.tests)) or "—"))
    return out + _table("Cause | Covered lines> | Missed lines> | Files | Tests", rows)


def _diff(data: ReportData) -> list[str]:
    return ["## Diff Coverage", "", diff_coverage_text(data.latest, data.precision, md_escape)]


def _phase(data: ReportData) -> list[str]:
    ph = data.phase
    if ph is None:
        return ["## Phase Status", "", "No coverage data yet: no phase."]

    def state(i: int) -> str:
        if i == ph.number:
            return f"current, {ph.pc_progress:.1f}% of the way"
        return "reached" if i < ph.number else "ahead"

    return [
        "## Phase Status",
        "",
        f"**{md_escape(ph.label)}**: "
        + phase_progress(ph.pc_progress, ph.phase.start, ph.phase.end),
        "",
        *_table("Phase | Range | Status", (
            (f"Phase {i}: {md_escape(phase.name)}", f"{phase.start:g}–{phase.end:g}%", state(i))
            for i, phase in enumerate(data.phases, start=1)
        )),
    ]


def _critical(data: ReportData) -> list[str]:
    p = data.precision
    if not data.critical:
        return ["## Critical Files", "", "Nothing left uncovered."]

    def change(pc: float | None) -> str:
        return "new" if pc is None else _points(pc, p)

    return [
        f"## Top {len(data.critical)} Critical Files",
        "",
        *_table("#> | File | Coverage> | Missed / total> | Change> | Since baseline>", (
            (i, _file_name(f.source, f.path, data), coverage_text(f.numbers, p),
             f"{f.numbers.n_missed_total:,} / {f.numbers.n_statements + f.numbers.n_branches:,}",
             change(f.pc_change), change(f.pc_change_baseline))
            for i, f in enumerate(data.critical, start=1)
        )),
    ]


def _recommendations(data: ReportData) -> list[str]:
    p = data.precision
    out = ["## Test Recommendations by Priority", ""]
    if not data.recommendations:
        out += ["No recommendations: every measured line and branch is covered.", ""]
    for priority, title in ((IMMEDIATE, "Immediate Priority"), (SECONDARY, "Secondary Priority")):
        recs = [r for r in data.recommendations if r.priority == priority]
        if not recs:
            continue
        phase = ""
        if data.phase is not None:
            phase = f" — {md_escape(data.phase.label)}" if priority == IMMEDIATE else ""
        out += [f"### {title}{phase}", ""]
        for r in recs:
            head = r.headline(plain=lambda s, r=r: f"**{_file_name(r.source, s, data)}**", precision=p)
            out.append(f"{r.rank}. {head}; {lift_text(r.pc_lift, r.pc_after, p)}")
            out += [f"   - {action.describe(md_code, md_escape)}" for action in r.actions]
        out.append("")
    return out[:-1] if out[-1] == "" else out


def _performance(data: ReportData) -> list[str]:
    out = ["## Performance of Recent Runs", ""]
    if not data.runs:
        return [*out, "No timed runs yet (ingested reports carry no run times)."]
    out += _table("Snapshot> | When | Run time> | Test time> | Report read> | Peak memory>", (
        (f"#{run.snapshot_id}", _when(run.created_at), _duration(run.wall_s), _duration(run.test_s),
         _duration(run.read_s), _memory(run.peak_rss_kb))
        for run in data.runs
    ))
    out.append("")
    for t in data.trends:
        if t.recent is None:
            continue
        if t.previous is None:
            out.append(f"- **{t.name.capitalize()}**: {_metric(t.name, t.recent)} (too few runs for a trend)")
            continue
        change = t.pc_change
        trend = f"{change:+.1f}%" if change is not None else "no change"
        out.append(
            f"- **{t.name.capitalize()}**: median {_metric(t.name, t.recent)} over the last "
            f"{plural(t.n, 'run')}, {_metric(t.name, t.previous)} over the {t.n} before ({trend})"
        )
    return out


def _alerts(data: ReportData) -> list[str]:
    a = data.alerts
    if a.n_alerts == 0:
        return ["## Alerts Since the Baseline", "", f"No alerts since {_snapshot_name(data.baseline)}."]
    severities = ", ".join(
        f"{a.by_severity[s]:,} {s}" for s in ("critical", "warning", "info") if s in a.by_severity
    )
    return [
        "## Alerts Since the Baseline",
        "",
        f"{plural(a.n_alerts, 'alert')} ({severities}).",
        "",
        *_table("Rule | Alerts>", ((md_escape(rule), f"{n:,}") for rule, n in a.by_rule.items())),
        "",
        f"Latest {len(a.latest)}:",
        "",
        *(
            f"- {_when(alert.created_at)} **{alert.severity.value}** {md_escape(alert.rule)}"
            f"{md_escape(f' [{alert.source}]' if alert.source else '')}: {md_escape(alert.message)}"
            + (" (acknowledged)" if alert.acknowledged_at else "")
            for alert in a.latest
        ),
    ]


def _forecast(data: ReportData) -> list[str]:
    fc = data.forecast
    if fc.pc_per_day is None:
        return ["## Forecast", "",
                "Not enough history for a forecast (two snapshots with data, some time apart, are needed)."]
    milestones = ["Every milestone is reached."] if not fc.milestones else _table("Milestone | Reached", (
        (f"{md_escape(m.phase.name)} ({m.phase.end:g}%)", eta_text(m.eta, data.latest.created_at))
        for m in fc.milestones
    ))
    return [
        "## Forecast",
        "",
        f"At the recent rate of change ({_points(fc.pc_per_day, data.precision)} points a day, a linear fit "
        f"of {fc.n_points} snapshots since {_when(fc.since)}):",
        "",
        *milestones,
    ]


def diff_coverage_text(latest: SnapshotRow, precision: int, plain: Callable[[str], str]) -> str:
    """"Changed lines since main (3f2a9c1): 71.43% of 21 (6 missed)", as the dashboard says it."""
    parts = diff_coverage_parts(latest, precision, plain)
    if parts is None:
        return "Not measured: the project is not in git, or it has no base to compare with."
    missed = f" ({latest.n_diff_missing or 0:,} missed)" if latest.n_diff_statements else ""
    sentence = "".join(parts) + missed
    return sentence[0].upper() + sentence[1:] + "."


def eta_text(eta: float | None, from_time: float) -> str:
    if eta is None:
        return "not at the current rate"
    days = (eta - from_time) / DAY
    return f"{datetime.fromtimestamp(eta).strftime('%Y-%m-%d')} (in about {days:.0f} day{'' if round(days) == 1 else 's'})"


def _file_name(source: str, path: str, data: ReportData) -> str:
    """A path, with its source when more than one source has files."""
    several = sum(1 for s in data.sources if s.numbers is not None) > 1
    return md_escape(f"{source}: {path}" if several else path)
