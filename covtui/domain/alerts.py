"""Alert rules, evaluated when a snapshot is written (thresholds from `[tool.covtui.alerts]`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from covtui.config import AlertConfig, Phase
from covtui.domain.codec import encode_lines
from covtui.domain.exclusions import ReasonCount, largest_jump, reason_changes
from covtui.domain.model import Alert, AlertRule, RunStatus, Severity, SnapshotDraft
from covtui.domain.numbers import Numbers, pc_str
from covtui.domain.phases import milestones_crossed
from covtui.domain.recording import Baseline, PreviousTests
from covtui.domain.run_median import median_phrase, versus_median


@dataclass(frozen=True)
class FileChange:
    """A file whose result changed between the baseline and the new snapshot."""

    source: str
    path: str
    before: Numbers
    after: Numbers
    missing_before: frozenset[int]
    missing_after: tuple[int, ...]


@dataclass(frozen=True)
class FileLeft:
    """A file in the source's previous good report that its new report no longer has."""

    source: str
    path: str
    last: Numbers


@dataclass
class AlertInputs:
    """What the snapshot plan gathers from history so that the rules stay pure functions."""

    draft: SnapshotDraft
    overall: Numbers | None
    overall_baseline: Baseline | None
    #: Per source: failures (failed + errors) at its previous good run, if it had tests.
    previous_failures: dict[str, int] = field(default_factory=dict)
    #: Per source: wall times of its recent successful runs, newest first.
    recent_wall_s: dict[str, list[float]] = field(default_factory=dict)
    file_changes: list[FileChange] = field(default_factory=list)
    #: Per source: its tests at the previous good run that counted them.
    previous_tests: dict[str, PreviousTests] = field(default_factory=dict)
    files_left: list[FileLeft] = field(default_factory=list)
    #: Flaky lines (covered by chance) that were covered at the previous per-test coverage
    #: and are missed now: the drop rule leaves them out unless `count_flaky`.
    flaky_missed: int = 0
    #: What lost the most covered lines (`covtui explain`'s largest cause), when per-test
    #: coverage tells: the drop alert names it.
    largest_cause: str | None = None


def is_test_file(path: str, globs: Iterable[str]) -> bool:
    """Whether `path` matches one of the `test_files` globs (no "/": the name; else the path)."""
    name = path.rsplit("/", 1)[-1]
    return any(fnmatchcase(path if "/" in g else name, g) for g in globs)


def lines_now_missed(change: FileChange) -> tuple[int, tuple[int, ...]]:
    """Covered lines that still exist and are now missed: how many, and which when known.

    Coverage data has no line identity across edits, so: with the same number of statements
    the lines are taken to be where they were, and the newly missing ones are counted. When
    the file grew or shrank, line numbers may have moved: the count is the smaller of the
    rise in missed lines and the fall in covered ones, so deleted covered code (fewer covered,
    no more missed) and new untested code (more missed, no fewer covered) never count.
    """
    before, after = change.before, change.after
    if before.n_statements == after.n_statements:
        newly = tuple(n for n in change.missing_after if n not in change.missing_before)
        return len(newly), newly
    return max(0, min(after.n_missing - before.n_missing, before.n_executed - after.n_executed)), ()


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _summary(items: list[str], limit: int = 3) -> str:
    """The first few of a list, and how many more the detail has."""
    shown = ", ".join(items[:limit])
    return shown + (f", +{len(items) - limit:,} more" if len(items) > limit else "")


#: Removed test ids listed in an alert's detail, at most (the count is always exact).
MAX_LISTED_TESTS = 500


def evaluate(inputs: AlertInputs, config: AlertConfig, phases: list[Phase], precision: int = 2) -> list[Alert]:
    """Every alert the new snapshot raises, most severe rules first."""
    alerts: list[Alert] = []
    draft = inputs.draft
    for source in draft.sources:
        if source.status not in (RunStatus.OK, RunStatus.PARTIAL):
            alerts.append(
                Alert(
                    AlertRule.SCAN_FAILED,
                    # A cancel someone asked for is news, not an emergency; a timeout is.
                    Severity.INFO if source.status is RunStatus.CANCELLED else Severity.CRITICAL,
                    f"{source.name}: scan {source.status.value}"
                    + (f": {source.message}" if source.message else ""),
                    source=source.name,
                )
            )
    # Partial data from a failed or narrowed run is never compared: it is not a regression of
    # the suite.
    if draft.status is not RunStatus.OK:
        return alerts

    baseline = inputs.overall_baseline
    now = inputs.overall
    if baseline is not None and baseline.pc_covered is not None and now is not None and now.has_data:
        drop = baseline.pc_covered - now.pc_covered
        counted, note = drop, ""
        k = inputs.flaky_missed
        if k and not config.count_flaky:
            # As if the flaky lines had run: the points they cost are not counted.
            flaky_points = replace(now, n_missing=now.n_missing - k).pc_covered - now.pc_covered
            counted = drop - flaky_points
            note = (f" ({flaky_points:.{precision}f} points from {_plural(k, 'flaky line')} "
                    "not counted)")
        if drop > 0 and counted >= config.coverage_drop:
            alerts.append(
                Alert(
                    AlertRule.COVERAGE_DROP,
                    Severity.CRITICAL,
                    f"Coverage fell {drop:.{precision}f} points to {now.pc_covered_str(precision)}% "
                    f"(from {pc_str(baseline.pc_covered, precision)}% at {baseline.describe()})"
                    + note
                    + (f"; largest cause: {inputs.largest_cause}" if inputs.largest_cause else ""),
                    value=counted,
                    threshold=config.coverage_drop,
                )
            )
        if (
            config.excluded_lines > 0 and baseline.n_excluded is not None
            and now.n_excluded - baseline.n_excluded >= config.excluded_lines
        ):
            alerts.append(excluded_lines(now.n_excluded, baseline, config, draft.exclusions))
        for phase in milestones_crossed(baseline.pc_covered, now.pc_covered, phases):
            alerts.append(
                Alert(
                    AlertRule.MILESTONE,
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
                        AlertRule.TEST_FAILURES,
                        Severity.CRITICAL,
                        f"{source.name}: {rise} more failing tests ({failures} now)",
                        value=rise,
                        threshold=config.test_failures,
                        source=source.name,
                    )
                )
        # The one "vs median" of the Last-run panel and the help: domain/run_median.py.
        # A run of some of the tests is not timed against runs of all of them.
        slow = versus_median(
            source.run.wall_s, inputs.recent_wall_s.get(source.name) or [], config.test_time_window
        ) if draft.scope == "full" else None
        if slow is not None and slow.pc_change is not None and slow.pc_change >= config.test_time_pct:
            alerts.append(
                Alert(
                    AlertRule.TEST_TIME,
                    Severity.WARNING,
                    f"{source.name}: test run took {slow.value:.1f}s, {slow.change_str} vs "
                    f"{median_phrase(slow.n_runs)} ({slow.median:.1f}s)",
                    value=slow.pc_change,
                    threshold=config.test_time_pct,
                    source=source.name,
                )
            )
        previous = inputs.previous_tests.get(source.name)
        if tests is not None and previous is not None and config.tests_removed > 0:
            alert = tests_removed(source.name, previous, tests.n_tests, tests.ids, config)
            if alert is not None:
                alerts.append(alert)
    if config.files_left > 0:
        left = [
            f for f in inputs.files_left
            if f.last.n_statements and not is_test_file(f.path, config.test_files)
        ]
        if len(left) >= config.files_left:
            alerts.append(files_left(left, config, precision))

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
        regression = file_regressions(inputs.file_changes, config)
        if regression is not None:
            alerts.append(regression)
    return alerts


def tests_removed(
    source: str, previous: PreviousTests, n_tests: int, ids: list[str], config: AlertConfig
) -> Alert | None:
    """Fewer tests than the previous good run: naming the removed ones when both runs did."""
    fewer = previous.n_tests - n_tests
    if fewer < config.tests_removed:
        return None
    removed = sorted(previous.ids - set(ids)) if previous.ids and ids else []
    message = (
        f"{source}: {_plural(fewer, 'fewer test')} than at "
        f"snapshot #{previous.snapshot_id} ({previous.n_tests:,} → {n_tests:,})"
    )
    if removed:
        message += f"; gone: {_summary(removed)}"
    listed = removed[:MAX_LISTED_TESTS]
    more = len(removed) - len(listed)
    detail = "\n".join(listed + ([f"… and {more:,} more"] if more else []))
    return Alert(
        AlertRule.TESTS_REMOVED, Severity.WARNING, message,
        value=fewer, threshold=config.tests_removed, source=source, detail=detail,
    )


def excluded_lines(
    n_excluded: int, baseline: Baseline, config: AlertConfig,
    reasons: Sequence[ReasonCount] | None = None,
) -> Alert:
    """More lines left out of measurement: a pragma that hides a regression is one. Names
    the reason whose lines rose the most, when both snapshots recorded their counts."""
    jump = n_excluded - (baseline.n_excluded or 0)
    why = ""
    detail = ""
    if reasons is not None and baseline.exclusions is not None:
        changes = reason_changes(reasons, baseline.exclusions)
        top = largest_jump(changes)
        if top is not None:
            why = f"; most from {top.now.reason} (+{top.lines_change:,})"
        detail = "\n".join(
            f"{c.now.reason}: {c.now.n_lines:,} lines ({c.lines_change:+,})"
            for c in changes if c.lines_change
        )
    elif reasons is not None:
        why = f"; the reasons were not recorded at snapshot #{baseline.snapshot_id}"
    return Alert(
        AlertRule.EXCLUDED_LINES, Severity.WARNING,
        f"{_plural(jump, 'more line')} excluded from coverage ({n_excluded:,}, from "
        f"{baseline.n_excluded:,} at {baseline.describe()}){why}: `covtui excluded` lists them",
        value=jump, threshold=config.excluded_lines, detail=detail,
    )


def files_left(left: list[FileLeft], config: AlertConfig, precision: int) -> Alert:
    """Measured code files gone from the report: deleted, or no longer imported by any test."""
    entries = [f"{f.path} (was {f.last.pc_covered_str(precision)}%)" for f in left]
    if len(left) == 1:
        message = f"{left[0].path} left the report (was {left[0].last.pc_covered_str(precision)}%)"
    else:
        message = f"{len(left):,} measured files left the report: {_summary(entries)}"
    sources = {f.source for f in left}
    return Alert(
        AlertRule.FILES_LEFT, Severity.WARNING, message,
        value=len(left), threshold=config.files_left,
        source=sources.pop() if len(sources) == 1 else None,
        path=left[0].path if len(left) == 1 else None,
        detail="" if len(left) == 1 else "\n".join(entries),
    )


def file_regressions(changes: Iterable[FileChange], config: AlertConfig) -> Alert | None:
    """One alert for every code file in which covered lines became missed."""
    hits: list[tuple[FileChange, int, tuple[int, ...]]] = []
    for change in changes:
        if is_test_file(change.path, config.test_files):
            continue
        n, lines = lines_now_missed(change)
        if n >= config.file_regression_lines:
            hits.append((change, n, lines))
    if not hits:
        return None

    def describe(change: FileChange, n: int, lines: tuple[int, ...]) -> str:
        where = f" (now missing: {encode_lines(lines)})" if lines else ""
        return f"{change.path} lost {_plural(n, 'covered line')}{where}"

    total = sum(n for _, n, _ in hits)
    sources = {change.source for change, _, _ in hits}
    if len(hits) == 1:
        message = describe(*hits[0])
    else:
        message = (
            f"{len(hits):,} files lost {_plural(total, 'covered line')}: "
            + _summary([f"{change.path} ({n:,})" for change, n, _ in hits])
        )
    return Alert(
        AlertRule.FILE_REGRESSION, Severity.WARNING, message,
        value=total, threshold=config.file_regression_lines,
        source=sources.pop() if len(sources) == 1 else None,
        path=hits[0][0].path if len(hits) == 1 else None,
        detail="" if len(hits) == 1 else "\n".join(describe(*hit) for hit in hits),
    )

