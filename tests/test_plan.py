"""Snapshot planning as a pure function: a history in, the rows to store and the alerts out."""

from __future__ import annotations

import copy
from pathlib import Path

from covtui.config import Config
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
from covtui.domain.plan import file_sources, plan_snapshot, sources_key
from covtui.domain.recording import (
    Baseline,
    FileState,
    FileWrite,
    PreviousTests,
    SnapshotHistory,
    SourceHistory,
)

CONFIG = Config(root=Path("."))


def file(path: str, n_statements: int, missing: tuple[int, ...]) -> FileCoverage:
    return FileCoverage(
        path,
        Numbers(n_files=1, n_files_covered=int(len(missing) < n_statements),
                n_statements=n_statements, n_missing=len(missing)),
        missing,
    )


def python(files: list[FileCoverage], status: RunStatus = RunStatus.OK, **kwargs) -> SourceResult:
    return SourceResult("python", status, CoverageReport("coverage.py", files, False), **kwargs)


RUST_LAST_GOOD = Numbers(n_files=2, n_files_covered=2, n_statements=100, n_missing=10)


def test_the_total_carries_unmeasured_sources_and_compares_with_the_same_sources() -> None:
    files = [file("pkg/a.py", 100, tuple(range(1, 51)))]  # 50% of python
    draft = SnapshotDraft("scan", [python(files)], created_at=500.0)
    history = SnapshotHistory(
        last_good={"rust": RUST_LAST_GOOD},
        baselines={
            "python": Baseline(1, 100.0, 10.0),  # another set of sources: never compared
            "python,rust": Baseline(2, 200.0, 75.0),
        },
    )
    plan = plan_snapshot(draft, history, CONFIG, now=999.0)

    assert plan.sources_key == "python,rust" == sources_key(history.last_good, draft)
    assert plan.overall == files[0].numbers + RUST_LAST_GOOD
    assert plan.overall.pc_covered == 70.0  # (50 + 90) of 200 statements
    assert plan.created_at == 500.0
    drop = [a for a in plan.alerts if a.rule == "coverage_drop"]
    assert len(drop) == 1
    assert drop[0].value == 5.0
    assert "snapshot #2" in drop[0].message
    assert all(a.created_at == 500.0 for a in plan.alerts)
    # Only the measured source is written; rust's numbers are read, not stored again.
    assert [r.name for r in plan.measured] == ["python"]
    assert [w.path for w in plan.file_writes] == ["pkg/a.py"]


def test_a_failed_run_stores_no_files_and_counts_its_last_good_numbers() -> None:
    last = Numbers(n_files=1, n_files_covered=1, n_statements=10, n_missing=1)
    failed = SourceResult("python", RunStatus.FAILED, message="exit 2")
    draft = SnapshotDraft("scan", [failed])
    history = SnapshotHistory(
        last_good={"python": last},
        baselines={"python": Baseline(3, 0.0, 99.0)},  # a drop, but a failed run never compares
        sources={"python": SourceHistory(files={"a.py": FileState(1, file("a.py", 10, (1,)))})},
    )
    plan = plan_snapshot(draft, history, CONFIG, now=1234.5)

    assert file_sources(draft) == []
    assert plan.created_at == 1234.5
    assert plan.overall == last
    assert plan.sources_key == "python"
    assert plan.file_writes == []
    assert plan.files == {}
    assert plan.test_ids == {}
    assert [a.rule for a in plan.alerts] == ["scan_failed"]


def test_files_are_written_only_when_changed_and_departures_are_recorded() -> None:
    unchanged = file("pkg/same.py", 10, (3,))
    before = file("pkg/a.py", 10, (9,))
    after = file("pkg/a.py", 10, (2, 5, 9))  # lines 2 and 5 were covered
    new = file("pkg/new.py", 4, ())
    current = {
        "pkg/a.py": FileState(10, before),
        "pkg/same.py": FileState(11, unchanged),
        "pkg/gone.py": FileState(12, file("pkg/gone.py", 8, (1, 2))),
        "pkg/left_long_ago.py": FileState(13, None),
    }
    history = SnapshotHistory(sources={"python": SourceHistory(files=current)})
    kept = copy.deepcopy(current)
    draft = SnapshotDraft("scan", [python([after, unchanged, new])], created_at=1.0)
    plan = plan_snapshot(draft, history, CONFIG, now=2.0)

    assert plan.file_writes == [
        FileWrite("python", "pkg/a.py", 10, after),
        FileWrite("python", "pkg/new.py", None, new),
        FileWrite("python", "pkg/gone.py", 12, None),
    ]
    assert plan.files["python"] == {
        "pkg/a.py": FileState(10, after),
        "pkg/same.py": FileState(11, unchanged),
        "pkg/new.py": FileState(None, new),  # the store gives it an id when it inserts
        "pkg/gone.py": FileState(12, None),
        "pkg/left_long_ago.py": FileState(13, None),
    }
    assert current == kept  # the history is read, never changed
    by_rule = {a.rule: a for a in plan.alerts}
    assert set(by_rule) == {"file_regression", "files_left"}
    assert by_rule["file_regression"].message == "pkg/a.py lost 2 covered lines (now missing: 2,5)"
    assert by_rule["files_left"].path == "pkg/gone.py"


def test_tests_and_run_times_are_judged_against_the_sources_history() -> None:
    ids = [f"t::test_{i}" for i in range(94)]
    tests = TestOutcomes(94, n_failed=6, ids=ids)
    draft = SnapshotDraft("scan", [python([], tests=tests, run=RunMetrics(wall_s=13.0))])
    previous = PreviousTests(7, 100, frozenset(f"t::test_{i}" for i in range(100)), n_failures=1)
    history = SnapshotHistory(sources={"python": SourceHistory(previous, [10.0, 10.0, 11.0])})
    plan = plan_snapshot(draft, history, CONFIG, now=0.0)

    by_rule = {a.rule: a for a in plan.alerts}
    assert set(by_rule) == {"test_failures", "tests_removed", "test_time"}
    assert by_rule["test_failures"].value == 5  # 6 failing now, 1 before
    assert by_rule["tests_removed"].detail.split("\n") == [f"t::test_{i}" for i in range(94, 100)]
    assert by_rule["test_time"].value == 30.0
    assert plan.test_ids == {"python": ids}
    assert plan.tests.n_tests == 94
    assert plan.run.wall_s == 13.0
