"""Alert rules and phases: each threshold fires at its boundary and not below it."""

from __future__ import annotations

import pytest

from covtui.config import DEFAULT_PHASES, AlertConfig
from covtui.domain.alerts import (
    AlertInputs,
    FileChange,
    FileLeft,
    evaluate,
    is_test_file,
    lines_now_missed,
)
from covtui.domain.model import (
    CoverageReport,
    FileCoverage,
    RunMetrics,
    RunStatus,
    SnapshotDraft,
    SourceResult,
    TestOutcomes,
)
from covtui.domain.numbers import Numbers
from covtui.domain.phases import phase_status
from covtui.domain.recording import Baseline, PreviousTests


def numbers_at(pc: float) -> Numbers:
    """Numbers whose pc_covered is exactly `pc` (statements only, 10,000 of them)."""
    n_statements = 10_000
    return Numbers(n_files=1, n_files_covered=1, n_statements=n_statements,
                   n_missing=round(n_statements * (100 - pc) / 100))


def draft(status=RunStatus.OK, tests=None, wall_s=None) -> SnapshotDraft:
    report = CoverageReport("coverage.py", [FileCoverage("a.py", numbers_at(50))], False)
    return SnapshotDraft("scan", [SourceResult("python", status, report, tests, RunMetrics(wall_s=wall_s))])


def rules(alerts) -> list[str]:
    return [a.rule for a in alerts]


@pytest.mark.parametrize(("before", "after", "fires"), [(40.0, 39.5, True), (40.0, 39.51, False), (40.0, 41.0, False)])
def test_coverage_drop_threshold(before: float, after: float, fires: bool) -> None:
    inputs = AlertInputs(draft(), numbers_at(after), Baseline(7, 0.0, before))
    alerts = evaluate(inputs, AlertConfig(), DEFAULT_PHASES)
    assert ("coverage_drop" in rules(alerts)) is fires
    if fires:
        assert "snapshot #7" in alerts[0].message
        assert alerts[0].severity.value == "critical"


def test_failed_run_is_never_compared() -> None:
    inputs = AlertInputs(draft(RunStatus.FAILED), numbers_at(10), Baseline(1, 0.0, 60.0),
                         previous_failures={"python": 0})
    assert rules(evaluate(inputs, AlertConfig(), DEFAULT_PHASES)) == ["scan_failed"]


@pytest.mark.parametrize(("previous", "now", "fires"), [(3, 8, True), (3, 7, False)])
def test_test_failures_threshold(previous: int, now: int, fires: bool) -> None:
    inputs = AlertInputs(draft(tests=TestOutcomes(100, now)), numbers_at(50), None,
                         previous_failures={"python": previous})
    assert ("test_failures" in rules(evaluate(inputs, AlertConfig(), DEFAULT_PHASES))) is fires


def test_test_time_uses_median_so_one_noisy_run_does_not_cry_wolf() -> None:
    # One earlier run was very slow; the median ignores it.
    recent = [10.0, 10.0, 100.0, 10.0, 10.0]
    fast = AlertInputs(draft(wall_s=11.9), numbers_at(50), None, recent_wall_s={"python": recent})
    slow = AlertInputs(draft(wall_s=12.0), numbers_at(50), None, recent_wall_s={"python": recent})
    assert "test_time" not in rules(evaluate(fast, AlertConfig(), DEFAULT_PHASES))
    alerts = evaluate(slow, AlertConfig(), DEFAULT_PHASES)
    assert rules(alerts) == ["test_time"] and alerts[0].severity.value == "warning"


def test_milestone_reached_once_going_up() -> None:
    up = AlertInputs(draft(), numbers_at(25.0), Baseline(1, 0.0, 24.9))
    alerts = evaluate(up, AlertConfig(), DEFAULT_PHASES)
    assert rules(alerts) == ["milestone"] and "25%" in alerts[0].message
    same = AlertInputs(draft(), numbers_at(26.0), Baseline(1, 0.0, 25.0))
    assert rules(evaluate(same, AlertConfig(), DEFAULT_PHASES)) == []


def test_phase_of_the_seed_report() -> None:
    status = phase_status(2.32, DEFAULT_PHASES)
    assert status.number == 1 and status.phase.name == "Foundation"
    assert f"{status.pc_progress:.1f}" == "9.3"
    assert phase_status(25.0, DEFAULT_PHASES).number == 2
    assert phase_status(100.0, DEFAULT_PHASES).pc_progress == 100.0


def test_display_rule_never_rounds_to_100_or_0() -> None:
    almost = Numbers(n_files=1, n_statements=100_000, n_missing=1)
    assert almost.pc_covered_str(2) == "99.99"
    barely = Numbers(n_files=1, n_statements=100_000, n_missing=99_999)
    assert barely.pc_covered_str(2) == "0.01"
    assert Numbers().has_data is False


# -- tests removed, files leaving the report, file regressions --------------------------------

def file_numbers(n_statements: int, missing: tuple[int, ...]) -> Numbers:
    return Numbers(n_files=1, n_files_covered=1, n_statements=n_statements, n_missing=len(missing))


def change(path: str, before: tuple[int, tuple[int, ...]], after: tuple[int, tuple[int, ...]]) -> FileChange:
    return FileChange("python", path, file_numbers(*before), file_numbers(*after),
                      frozenset(before[1]), after[1])


@pytest.mark.parametrize(("now", "fires"), [(97, True), (98, False), (120, False)])
def test_tests_removed_threshold_names_the_removed_ids(now: int, fires: bool) -> None:
    ids = [f"t::test_{i}" for i in range(now)]
    previous = PreviousTests(4, 100, frozenset(f"t::test_{i}" for i in range(100)))
    inputs = AlertInputs(draft(tests=TestOutcomes(now, ids=ids)), numbers_at(50), None,
                         previous_tests={"python": previous})
    alerts = [a for a in evaluate(inputs, AlertConfig(tests_removed=3), DEFAULT_PHASES)
              if a.rule == "tests_removed"]
    assert bool(alerts) is fires
    if fires:
        assert alerts[0].severity.value == "warning"
        assert alerts[0].message == (
            "python: 3 fewer tests than at snapshot #4 (100 → 97); "
            "gone: t::test_97, t::test_98, t::test_99"
        )
        assert alerts[0].detail.splitlines() == ["t::test_97", "t::test_98", "t::test_99"]


def test_tests_removed_without_ids_still_counts_and_zero_turns_it_off() -> None:
    inputs = AlertInputs(draft(tests=TestOutcomes(90)), numbers_at(50), None,
                         previous_tests={"python": PreviousTests(4, 100, None)})
    (alert,) = evaluate(inputs, AlertConfig(), DEFAULT_PHASES)
    assert alert.message == "python: 10 fewer tests than at snapshot #4 (100 → 90)"
    assert alert.detail == ""
    assert evaluate(inputs, AlertConfig(tests_removed=0), DEFAULT_PHASES) == []


def test_files_left_skips_test_files_and_lists_each_with_its_last_percentage() -> None:
    left = [
        FileLeft("python", "pkg/a.py", file_numbers(4, (1,))),
        FileLeft("python", "tests/test_a.py", file_numbers(4, ())),
        FileLeft("python", "pkg/b.py", file_numbers(8, (1, 2))),
        FileLeft("python", "pkg/__init__.py", file_numbers(0, ())),  # nothing to measure
    ]
    inputs = AlertInputs(draft(), numbers_at(50), None, files_left=left)
    (alert,) = evaluate(inputs, AlertConfig(), DEFAULT_PHASES)
    assert alert.rule == "files_left" and alert.severity.value == "warning"
    assert alert.message == "2 measured files left the report: pkg/a.py (was 75.00%), pkg/b.py (was 75.00%)"
    assert alert.detail.splitlines() == ["pkg/a.py (was 75.00%)", "pkg/b.py (was 75.00%)"]
    assert evaluate(inputs, AlertConfig(files_left=3), DEFAULT_PHASES) == []
    assert evaluate(inputs, AlertConfig(files_left=0), DEFAULT_PHASES) == []


def test_file_regression_counts_only_existing_lines_that_became_missed() -> None:
    # Same statements, line 3 now missed: that line.
    assert lines_now_missed(change("a.py", (10, (9,)), (10, (3, 9)))) == (1, (3,))
    # A covered function deleted (and every line after it moved up): nothing became missed.
    assert lines_now_missed(change("a.py", (10, (9,)), (8, (7,)))) == (0, ())
    # New untested code: more missed, but nothing that was covered.
    assert lines_now_missed(change("a.py", (10, (9,)), (14, (9, 11, 12, 13, 14)))) == (0, ())
    # Covered code deleted and another covered line now missed: that one.
    assert lines_now_missed(change("a.py", (10, ()), (8, (2,)))) == (1, ())


def test_file_regressions_are_one_alert_for_code_files_only() -> None:
    changes = [
        change("pkg/a.py", (10, ()), (10, (3,))),
        change("tests/test_a.py", (20, ()), (20, (5, 6))),
        change("pkg/b.py", (10, ()), (10, (4, 5))),
        change("pkg/c.py", (10, ()), (8, ())),  # deleted covered code
    ]
    inputs = AlertInputs(draft(), numbers_at(50), None, file_changes=changes)
    (alert,) = evaluate(inputs, AlertConfig(), DEFAULT_PHASES)
    assert alert.message == "2 files lost 3 covered lines: pkg/a.py (1), pkg/b.py (2)"
    assert alert.path is None and alert.value == 3
    assert alert.detail.splitlines() == [
        "pkg/a.py lost 1 covered line (now missing: 3)",
        "pkg/b.py lost 2 covered lines (now missing: 4-5)",
    ]
    (one,) = evaluate(inputs, AlertConfig(file_regression_lines=2), DEFAULT_PHASES)
    assert one.message == "pkg/b.py lost 2 covered lines (now missing: 4-5)" and one.path == "pkg/b.py"
    assert one.detail == ""
    # With no test globs, the test file is code like any other.
    (everything,) = evaluate(inputs, AlertConfig(test_files=[]), DEFAULT_PHASES)
    assert everything.message.startswith("3 files lost 5 covered lines")


@pytest.mark.parametrize(("path", "is_test"), [
    ("tests/test_urlutils.py", True), ("src/pkg/tests/helpers.py", True), ("conftest.py", True),
    ("pkg/sub/conftest.py", True), ("web/app.test.ts", True), ("server_test.go", True),
    ("pkg/urlutils.py", False), ("pkg/testing.py", False), ("contest.py", False),
])
def test_default_test_file_globs(path: str, is_test: bool) -> None:
    assert is_test_file(path, AlertConfig().test_files) is is_test


def test_test_file_globs_are_configurable(tmp_path) -> None:
    from covtui.config import ConfigError, config_from_table

    config = config_from_table({"alerts": {"test_files": ["spec/*"], "files_left": 2}}, root=tmp_path)
    assert config.alerts.test_files == ["spec/*"] and config.alerts.files_left == 2
    with pytest.raises(ConfigError, match="'alerts.test_files\\[0\\]' should be a str"):
        config_from_table({"alerts": {"test_files": [3]}}, root=tmp_path)


@pytest.mark.parametrize(("status", "severity"), [
    (RunStatus.CANCELLED, "info"), (RunStatus.TIMEOUT, "critical"), (RunStatus.FAILED, "critical"),
])
def test_a_cancel_you_asked_for_is_not_critical(status: RunStatus, severity: str) -> None:
    alerts = evaluate(AlertInputs(draft(status), numbers_at(50), None), AlertConfig(), DEFAULT_PHASES)
    assert rules(alerts) == ["scan_failed"]
    assert alerts[0].severity.value == severity
