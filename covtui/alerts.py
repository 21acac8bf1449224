"""Alert rules, evaluated when a snapshot is written (thresholds from `[tool.covtui.alerts]`)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from covtui.config import AlertConfig, Phase
from covtui.model import Alert, RunStatus, Severity, SnapshotDraft
from covtui.numbers import Numbers, pc_str
from covtui.phases import milestones_crossed
from covtui.store.codec import encode_lines


@dataclass(frozen=True)
class Baseline:
    """The earlier snapshot a new one is compared with."""

    snapshot_id: int
    created_at: float
    pc_covered: float | None

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.created_at).strftime("%Y-%m-%d %H:%M")
        return f"snapshot #{self.snapshot_id} at {when}"


@dataclass(frozen=True)
class FileChange:
    """A file whose result changed between the baseline and the new snapshot."""

    source: str
    path: str
    before: Numbers
    after: Numbers
    missing_before: frozenset[int]
    missing_after: tuple[int, ...]


@dataclass
class AlertInputs:
    """What the store gathers from history so that the rules stay pure functions."""

    draft: SnapshotDraft
    overall: Numbers | None
    overall_baseline: Baseline | None
    #: Per source: failures (failed + errors) at its previous good run, if it had tests.
    previous_failures: dict[str, int] = field(default_factory=dict)
    #: Per source: wall times of its recent successful runs, newest first.
    recent_wall_s: dict[str, list[float]] = field(default_factory=dict)
    file_changes: list[FileChange] = field(default_factory=list)


def evaluate(inputs: AlertInputs, config: AlertConfig, phases: list[Phase], precision: int = 2) -> list[Alert]:
    """Every alert the new snapshot raises, most severe rules first."""
    alerts: list[Alert] = []
    draft = inputs.draft
    for source in draft.sources:
        if source.status is not RunStatus.OK:
            alerts.append(
                Alert(
                    "scan_failed",
                    Severity.CRITICAL,
                    f"{source.name}: scan {source.status.value}"
                    + (f": {source.message}" if source.message else ""),
                    source=source.name,
                )
            )
    # Partial data from a failed run is never compared: it is not a regression of the suite.
    if draft.status is not RunStatus.OK:
        return alerts

    baseline = inputs.overall_baseline
    now = inputs.overall
    if baseline is not None and baseline.pc_covered is not None and now is not None and now.has_data:
        drop = baseline.pc_covered - now.pc_covered
        if drop >= config.coverage_drop:
            alerts.append(
                Alert(
                    "coverage_drop",
                    Severity.CRITICAL,
                    f"Coverage fell {drop:.{precision}f} points to {now.pc_covered_str(precision)}% "
                    f"(from {pc_str(baseline.pc_covered, precision)}% at {baseline.describe()})",
                    value=drop,
                    threshold=config.coverage_drop,
                )
            )
        for phase in milestones_crossed(baseline.pc_covered, now.pc_covered, phases):
            alerts.append(
                Alert(
                    "milestone",
                    Severity.INFO,
                    f"Milestone reached: {phase.end:g}% ({phase.name} complete), "
                    f"now {now.pc_covered_str(precision)}%",
                    value=now.pc_covered,
                    threshold=phase.end,
                )
            )

    for source in draft.sources:
        tests = source.tests
        if tests is not None and source.name in inputs.previous_failures:
            failures = tests.n_failed + tests.n_errors
            rise = failures - inputs.previous_failures[source.name]
            if rise >= config.test_failures:
                alerts.append(
                    Alert(
                        "test_failures",
                        Severity.CRITICAL,
                        f"{source.name}: {rise} more failing tests ({failures} now)",
                        value=rise,
                        threshold=config.test_failures,
                        source=source.name,
                    )
                )
        recent = inputs.recent_wall_s.get(source.name) or []
        wall = source.run.wall_s
        if wall is not None and len(recent) >= 3:
            median = statistics.median(recent[: config.test_time_window])
            if median > 0:
                rise_pc = 100.0 * (wall - median) / median
                if rise_pc >= config.test_time_pct:
                    alerts.append(
                        Alert(
                            "test_time",
                            Severity.WARNING,
                            f"{source.name}: test run took {wall:.1f}s, {rise_pc:.0f}% over the "
                            f"median {median:.1f}s of the last {min(len(recent), config.test_time_window)} runs",
                            value=rise_pc,
                            threshold=config.test_time_pct,
                            source=source.name,
                        )
                    )

    diff = draft.diff
    diff_min = config.diff_coverage_min
    if (
        diff_min is not None
        and diff is not None
        and diff.pc_covered is not None
        and diff.pc_covered < diff_min
    ):
        alerts.append(
            Alert(
                "diff_coverage",
                Severity.CRITICAL,
                f"Changed lines since {diff.base} are {pc_str(diff.pc_covered, precision)}% "
                f"covered ({diff.n_missing} of {diff.n_statements} missed), below {diff_min:g}%",
                value=diff.pc_covered,
                threshold=diff_min,
            )
        )

    if config.file_regression_lines > 0:
        for change in inputs.file_changes:
            lost = change.before.n_executed - change.after.n_executed
            if lost >= config.file_regression_lines:
                newly_missing = [n for n in change.missing_after if n not in change.missing_before]
                where = f" (now missing: {encode_lines(newly_missing)})" if newly_missing else ""
                alerts.append(
                    Alert(
                        "file_regression",
                        Severity.WARNING,
                        f"{change.path} lost {lost} covered line{'s' if lost != 1 else ''}{where}",
                        value=lost,
                        threshold=config.file_regression_lines,
                        source=change.source,
                        path=change.path,
                    )
                )
    return alerts


def alert_json(alert: Alert) -> dict:
    """An alert for scripts and hooks: ISO times in the local zone."""

    def iso(t: float | None) -> str | None:
        return datetime.fromtimestamp(t).astimezone().isoformat() if t else None

    return {
        "id": alert.id,
        "created_at": iso(alert.created_at),
        "rule": alert.rule,
        "severity": alert.severity.value,
        "source": alert.source,
        "path": alert.path,
        "message": alert.message,
        "value": alert.value,
        "threshold": alert.threshold,
        "snapshot_id": alert.snapshot_id,
        "acknowledged_at": iso(alert.acknowledged_at),
    }
