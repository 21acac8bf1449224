"""The report as JSON: the Markdown's content, for machines."""

from __future__ import annotations

import json
import re

from covtui.display import printable
from covtui.present.components import components_json
from covtui.present.serialise import (
    explanation_json,
    gaps_json,
    iso,
    snapshot_json,
    summary_json,
)
from covtui.report.data import Change, ReportData
from covtui.report.markdown import diff_coverage_text, eta_text


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
        "why": None if data.why is None else explanation_json(data.why),
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
        **({} if data.components is None else components_json(data.components, data.precision)),
        "forecast": {
            "percent_per_day": data.forecast.pc_per_day,
            "since": iso(data.forecast.since),
            "snapshots": data.forecast.n_points,
            "milestones": [
                {"name": m.phase.name, "percent": m.phase.end, "reached_at": iso(m.eta),
                 "text": eta_text(m.eta, data.latest.created_at)}
                for m in data.forecast.milestones
            ],
        },
    }


def render_json_text(data: ReportData) -> str:
    """`render_json` as the text `covtui report --format json` writes."""
    text = json.dumps(render_json(data), indent=2, ensure_ascii=False) + "\n"
    # JSON escapes C0 controls itself; DEL and C1 (a lone CSI) too, so none reaches a terminal.
    return re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m[0]):04x}", text)
