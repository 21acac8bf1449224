"""Snapshot planning: from a draft and the history it is judged against, every row to store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from covtui.config import Config
from covtui.domain import alerts as alert_rules
from covtui.domain.alerts import AlertInputs, FileChange, FileLeft
from covtui.domain.model import FileCoverage, RunStatus, SnapshotDraft, SourceResult
from covtui.domain.numbers import Numbers
from covtui.domain.recording import (
    FileState,
    FileWrite,
    SnapshotHistory,
    SnapshotPlan,
    SourceHistory,
)
from covtui.domain.records import RunMetricsRow

__all__ = ["SnapshotHistory", "SnapshotPlan", "file_sources", "plan_snapshot", "sources_key"]

_UNSEEN = FileState(None, None)


def _measured(draft: SnapshotDraft) -> dict[str, SourceResult]:
    return {s.name: s for s in draft.sources}


def _contributing(last_good: Mapping[str, Numbers], draft: SnapshotDraft) -> dict[str, Numbers]:
    """Each source's numbers in the total: this run's when it measured them, else its last good."""
    contributing = dict(last_good)
    for name, result in _measured(draft).items():
        if result.status is RunStatus.OK and result.numbers is not None:
            contributing[name] = result.numbers
    return contributing


def sources_key(last_good: Mapping[str, Numbers], draft: SnapshotDraft) -> str:
    """The sources whose numbers make the draft's total: only snapshots over the same compare."""
    return ",".join(sorted(_contributing(last_good, draft)))


def file_sources(draft: SnapshotDraft) -> list[str]:
    """The measured sources whose files are compared and stored: good runs with a report."""
    return [
        name for name, result in _measured(draft).items()
        if result.status is RunStatus.OK and result.report is not None
    ]


def plan_snapshot(
    draft: SnapshotDraft, history: SnapshotHistory, config: Config, *, now: float
) -> SnapshotPlan:
    """Everything `draft` stores and the alerts it raises, given what is stored before it.

    `now`: the snapshot's time when the draft has none of its own.
    """
    created_at = draft.created_at if draft.created_at is not None else now
    measured = _measured(draft)
    contributing = _contributing(history.last_good, draft)
    overall = sum(contributing.values(), Numbers()) if contributing else None
    key = ",".join(sorted(contributing))

    tests = [s.tests for s in draft.sources if s.tests is not None]
    peak = [s.run.peak_rss_kb for s in draft.sources if s.run.peak_rss_kb is not None]
    read = [s.report.read_s for s in draft.sources if s.report is not None]

    def total(attr: str) -> float | None:
        values = [getattr(s.run, attr) for s in draft.sources if getattr(s.run, attr) is not None]
        return sum(values) if values else None

    previous_failures: dict[str, int] = {}
    previous_tests = {}
    recent_wall: dict[str, list[float]] = {}
    file_writes: list[FileWrite] = []
    files: dict[str, dict[str, FileState]] = {}
    changes: list[FileChange] = []
    left: list[FileLeft] = []
    with_files = set(file_sources(draft))
    for name, result in measured.items():
        past = history.sources.get(name) or SourceHistory()
        if past.previous_tests is not None:
            previous_failures[name] = past.previous_tests.n_failures
            previous_tests[name] = past.previous_tests
        recent_wall[name] = past.recent_wall_s
        if name in with_files:
            files[name] = _compare_files(
                name, result.report.files, past.files or {}, file_writes, changes, left
            )

    inputs = AlertInputs(
        draft=draft,
        overall=overall,
        overall_baseline=history.baselines.get(key),
        previous_failures=previous_failures,
        recent_wall_s=recent_wall,
        file_changes=changes,
        previous_tests=previous_tests,
        files_left=left,
    )
    alerts = alert_rules.evaluate(inputs, config.alerts, config.phases, config.precision)
    for alert in alerts:
        alert.created_at = created_at
    return SnapshotPlan(
        draft=draft,
        created_at=created_at,
        measured=list(measured.values()),
        sources_key=key,
        overall=overall,
        tests=sum(tests[1:], tests[0]) if tests else None,
        run=RunMetricsRow(total("wall_s"), total("cpu_s"), max(peak) if peak else None,
                    sum(read) if read else None),
        test_ids={
            name: result.tests.ids for name, result in measured.items()
            if result.status is RunStatus.OK and result.tests is not None
        },
        file_writes=file_writes,
        files=files,
        alerts=alerts,
    )


def _compare_files(
    source: str,
    report: Iterable[FileCoverage],
    current: Mapping[str, FileState],
    writes: list[FileWrite],
    changes: list[FileChange],
    left: list[FileLeft],
) -> dict[str, FileState]:
    """The source's files after this snapshot; the writes, changes and departures on the way.

    Only files whose result differs from their current state are written.
    """
    after: dict[str, FileState] = {}
    for f in report:
        file_id, old = current.get(f.path, _UNSEEN)
        if old is None or not (old is f or old == f):
            writes.append(FileWrite(source, f.path, file_id, f))
            if old is not None:
                changes.append(FileChange(
                    source, f.path, old.numbers, f.numbers, frozenset(old.missing_lines),
                    f.missing_lines,
                ))
        # The caller's object: the next draft often reuses it, and identity is the cheap check.
        after[f.path] = FileState(file_id, f)
    for path, state in current.items():
        if path in after:
            continue
        if state.coverage is not None:
            writes.append(FileWrite(source, path, state.file_id, None))
            left.append(FileLeft(source, path, state.coverage.numbers))
            state = FileState(state.file_id, None)
        after[path] = state
    return after
