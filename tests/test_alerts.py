"""Alert rules and phases: each threshold fires at its boundary and not below it."""

from __future__ import annotations

import pytest

from covtui.alerts import AlertInputs, Baseline, evaluate
from covtui.config import DEFAULT_PHASES, AlertConfig
from covtui.model import (
    CoverageReport,
    FileCoverage,
    RunMetrics,
    RunStatus,
    SnapshotDraft,
    SourceResult,
    TestOutcomes,
)
from covtui.numbers import Numbers
from covtui.phases import phase_status


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
