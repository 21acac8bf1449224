"""Snapshot planning: from a draft and the history it is judged against, every row to store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from covtui.config import Config
from covtui.domain import alerts as alert_rules
from covtui.domain.alerts import AlertInputs, FileChange, FileLeft
from covtui.domain.explain import Ends, FileDiff, FileSide, explain
from covtui.domain.flaky import Measured, Score, flips, updated
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
    flaky_writes: list[tuple[str, str, int, Score]] = []
    flaky_missed = 0
    ends: dict[str, tuple] = {}  # per source: what `explain` compares, for the drop's cause
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
            flaky_missed += _flaky(
                name, result, past, draft, created_at, config.alerts.flaky_half_life_days,
                flaky_writes, ends,
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
        flaky_missed=flaky_missed,
        largest_cause=_largest_cause(ends, history.diffs, count_flaky=config.alerts.count_flaky),
    )
    alerts = alert_rules.evaluate(inputs, config.alerts, config.phases, config.precision)
    alerts += draft.scan_alerts
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
        flaky_writes=flaky_writes,
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


def _flaky(
    source: str,
    result: SourceResult,
    past: SourceHistory,
    draft: SnapshotDraft,
    t: float,
    half_life_days: float,
    writes: list[tuple[str, str, int, Score]],
    ends: dict[str, tuple],
) -> int:
    """Score the lines that flipped by chance since the source's last per-test coverage;
    return how many flaky lines it covered then and misses now."""
    report = result.report
    if report is None or report.line_tests is None or past.measured is None:
        return 0
    now = Measured(
        report.line_tests,
        {f.path: frozenset(f.missing_lines) for f in report.files},
        result.outcomes,
        draft.git.commit,
        draft.git.dirty,
    )
    n_missed = 0
    flipped = flips(past.measured, now)
    flaky_now: dict[tuple[str, str], frozenset[int]] = {}
    for f in report.files:
        scores = dict(past.flaky.get(f.path, {}))
        new = updated(scores, flipped.get(f.path, frozenset()), t, half_life_days)
        writes.extend((source, f.path, line, score) for line, score in sorted(new.items()))
        scores.update(new)
        flaky_now[source, f.path] = frozenset(
            line for line, s in scores.items() if s.is_flaky(t, half_life_days)
        )
        then = past.measured.tests.get(f.path)
        n_missed += sum(
            1 for line in f.missing_lines
            if line in scores and scores[line].is_flaky(t, half_life_days)
            and then is not None and line in then.lines
        )
    ends[source] = (past.measured, now, flaky_now)
    return n_missed


def _largest_cause(
    ends: Mapping[str, tuple], diffs: Mapping[str, FileDiff] | None, count_flaky: bool
) -> str | None:
    """What lost the most covered lines since each source's last per-test coverage, as the
    drop alert names it: `explain`'s answer for the same two ends and git diff."""
    before: dict[tuple[str, str], FileSide] = {}
    after: dict[tuple[str, str], FileSide] = {}
    outcomes: dict[str, Mapping[str, str]] = {}
    flaky: dict[tuple[str, str], frozenset[int]] = {}
    for source, (then, now, flaky_now) in ends.items():
        for path, tests in then.tests.items():
            missing = then.missing.get(path, frozenset())
            before[source, path] = FileSide(
                len(set(tests.lines) | missing), len(missing), missing, tests, tests.content
            )
        for path, tests in now.tests.items():
            missing = now.missing.get(path, frozenset())
            after[source, path] = FileSide(
                len(set(tests.lines) | missing), len(missing), missing, tests, tests.content
            )
        if now.outcomes is not None:
            outcomes[source] = now.outcomes
        flaky.update(flaky_now)
    if not ends:
        return None
    losses = [
        c for c in explain(0, 0, Ends(before, after, diffs, outcomes, flaky)).causes
        if c.covered_lines_delta < 0 and (count_flaky or c.kind != "flaky")
    ]
    if not losses:
        return None
    cause = min(losses, key=lambda c: c.covered_lines_delta)
    tests = sorted(cause.tests)
    named = f": {', '.join(tests[:2])}" + (f" +{len(tests) - 2:,} more" if len(tests) > 2 else "")
    n = -cause.covered_lines_delta
    return f"{cause.kind}, {n:,} covered line{'s' if n != 1 else ''}{named if tests else ''}"
