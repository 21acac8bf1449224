"""The JSON shapes of snapshots, numbers, tests, alerts and gaps, with one time format, for
`covtui status --json`, `covtui alerts --json`, the report's JSON and the alert hook."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from covtui.config import Config
from covtui.domain.explain import Explanation
from covtui.domain.model import Alert
from covtui.domain.numbers import Numbers, measured
from covtui.domain.phases import phase_status
from covtui.domain.records import CiRun, FileRow, SnapshotRow, TestCounts
from covtui.domain.shards import is_overdue, state_text

if TYPE_CHECKING:  # the gap analysis (ast, its cache) is not needed to write the JSON
    from covtui.domain.gaps import FileGaps
    from covtui.query.status import Status
    from covtui.query.tests import LineAnswer


def iso(t: float | None) -> str | None:
    """A time as ISO 8601 in the local zone, with its offset."""
    return None if t is None else datetime.fromtimestamp(t).astimezone().isoformat()


def summary_json(n: Numbers | None, precision: int) -> dict | None:
    """Counts under coverage.py's JSON names; None when nothing was measured."""
    n = measured(n)
    return None if n is None else n.as_coverage_json(precision)


def snapshot_json(s: SnapshotRow) -> dict:
    n = measured(s.numbers)
    return {
        "id": s.id,
        "created_at": iso(s.created_at),
        "status": s.status,
        "trigger": s.trigger,
        "git_commit": s.git_commit,
        "git_branch": s.git_branch,
        "git_dirty": s.git_dirty,
        "percent_covered": None if n is None else n.pc_covered,
    }


def alert_json(alert: Alert) -> dict:
    """An alert for scripts and hooks."""
    return {
        "id": alert.id,
        "created_at": iso(alert.created_at),
        "rule": alert.rule,
        "severity": alert.severity.value,
        "source": alert.source,
        "path": alert.path,
        "message": alert.message,
        "detail": alert.detail,
        "value": alert.value,
        "threshold": alert.threshold,
        "snapshot_id": alert.snapshot_id,
        "acknowledged_at": iso(alert.acknowledged_at),
    }


def tests_json(tests: TestCounts | None) -> dict | None:
    if tests is None:
        return None
    return {
        "total": tests.n_tests,
        "passed": tests.n_passed,
        "failed": tests.n_failed,
        "errors": tests.n_errors,
        "skipped": tests.n_skipped,
        "duration_s": tests.duration_s,
    }


def gaps_json(g: FileGaps | None) -> dict | None:
    if g is None:
        return None
    return {
        "missed_lines": [list(r) for r in g.missed_ranges],
        "missed_arcs": [{"from": a.source_line, "to": a.target_line, "description": a.description}
                        for a in g.missed_arcs],
        "functions": [{"name": f.name, "kind": f.kind, "start_line": f.start_line, "end_line": f.end_line,
                       "statements": f.n_statements, "missing": f.n_missing} for f in g.functions],
        "uncovered_except_handlers": [
            {"line": h.line, "exception": h.exception, "function": h.function} for h in g.uncovered_handlers
        ],
        "uncovered_async_functions": [f.name for f in g.uncovered_async],
        "note": g.note,
    }


def status_json(
    state: Status,
    files: list[FileRow],
    alerts: list[Alert],
    tests: TestCounts | None,
    config: Config,
    now: float | None = None,
) -> dict:
    """`covtui status --json`: the latest snapshot, its totals, sources, files, critical files,
    tests (`tests`: every source's summed), the unacknowledged `alerts` and the CI runs
    waiting for shards."""
    latest = state.latest
    p = config.precision
    result: dict = {"snapshot": None, "totals": None, "sources": {}, "files": {},
                    "alerts": [alert_json(a) for a in alerts]}
    if latest is not None:
        result["snapshot"] = {
            "id": latest.id,
            "created_at": iso(latest.created_at),
            "status": latest.status,
            "trigger": latest.trigger,
            "scope": latest.scope,
            "n_tests_run": latest.n_tests_run,
            "git_commit": latest.git_commit,
            "git_branch": latest.git_branch,
            "previous_id": state.previous.id if state.previous else None,
        }
        result["flaky_lines"] = state.n_flaky_lines
        result["diff_coverage"] = (
            None if latest.n_diff_statements is None else {
                "base": latest.diff_base,
                "num_statements": latest.n_diff_statements,
                "missing_lines": latest.n_diff_missing,
                "percent_covered": latest.pc_diff,
            }
        )
        result["totals"] = summary_json(latest.numbers, p)
        if (numbers := measured(latest.numbers)) is not None:
            phase = phase_status(numbers.pc_covered, config.phases)
            result["phase"] = {
                "number": phase.number,
                "name": phase.phase.name,
                "start": phase.phase.start,
                "end": phase.phase.end,
                "percent_progress": phase.pc_progress,
            }
    for row in state.sources:
        result["sources"][row.source] = {
            "status": row.status,
            "message": row.message,
            "snapshot_id": row.snapshot_id,
            # Not run by the latest snapshot: its last result is carried forward from here.
            "carried_from": row.snapshot_id if latest is not None and row.snapshot_id != latest.id else None,
            "measures_unimported": row.measures_unimported,
            "summary": summary_json(row.numbers, p),
            "tests": tests_json(row.tests),
        }
    result["tests"] = tests_json(tests)
    now = time.time() if now is None else now
    result["ci_runs"] = [ci_run_json(run, now, config.ci_shard_timeout) for run in state.ci_runs]
    for f in files:
        result["files"].setdefault(f.source, {})[f.path] = {"summary": summary_json(f.numbers, p)}
    result["critical_files"] = [
        {"source": f.source, "path": f.path, "summary": summary_json(f.numbers, p),
         "change": f.pc_change} for f in state.critical_files
    ]
    return result


def ci_run_json(run: CiRun, now: float, timeout_s: float) -> dict:
    """A CI run waiting for shards: "incomplete", or "timed_out" until a writer records it failed."""
    return {
        "run": run.run_id,
        "source": run.source,
        "state": "timed_out" if is_overdue(run, now, timeout_s) else "incomplete",
        "shards": run.n_shards,
        "arrived": sorted(run.shards),
        "missing": run.missing,
        "started_at": iso(run.started_at),
        "times_out_at": iso(run.started_at + timeout_s),
        "text": state_text(run, now, timeout_s),
    }


def line_answer_json(a: LineAnswer) -> dict:
    """`covtui who --json`: the tests that ran one line, and the raw context names."""
    return {
        "snapshot": a.snapshot_id,
        "source": a.source,
        "path": a.path,
        "line": a.line,
        "ran": a.ran,
        "missed": a.missed,
        "at_import": a.at_import,
        "only_outside_tests": a.only_outside_tests,
        "n_tests": a.n_tests,
        "tests": [{"name": t.name, "phases": list(t.phases)} for t in a.tests],
        "contexts": list(a.contexts),
    }


def explanation_json(e: Explanation) -> dict:
    """`covtui explain --json`: the totals and each cause's share (they add up exactly)."""
    return {
        "from": e.from_id,
        "to": e.to_id,
        "covered_lines_delta": e.covered_lines_delta,
        "missed_lines_delta": e.missed_lines_delta,
        "exact": e.exact,
        "causes": [
            {
                "kind": c.kind,
                "covered_lines_delta": c.covered_lines_delta,
                "missed_lines_delta": c.missed_lines_delta,
                "files": [
                    {
                        "source": f.source,
                        "path": f.path,
                        "covered_lines_delta": f.covered_lines_delta,
                        "missed_lines_delta": f.missed_lines_delta,
                        "lines": f.lines,
                    }
                    for f in sorted(c.files.values(), key=lambda f: (f.source, f.path))
                ],
                "tests": sorted(c.tests),
            }
            for c in e.causes
        ],
    }
