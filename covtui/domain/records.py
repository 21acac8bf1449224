"""What the store hands to the query layer: plain, ready-to-show rows."""

from __future__ import annotations

from dataclasses import dataclass

from covtui.domain.model import Arc, FunctionCoverage
from covtui.domain.numbers import Numbers


@dataclass(frozen=True)
class TestCounts:
    n_tests: int
    n_failed: int
    n_errors: int
    n_skipped: int
    duration_s: float | None  # the database's test_s

    @property
    def n_passed(self) -> int:
        return self.n_tests - self.n_failed - self.n_errors - self.n_skipped


@dataclass(frozen=True)
class RunMetricsRow:
    """A run's RunMetrics as the database keeps them, with the time its report took to read."""

    wall_s: float | None
    cpu_s: float | None
    peak_rss_kb: int | None
    read_s: float | None


@dataclass(frozen=True)
class SnapshotRow:
    id: int
    created_at: float
    trigger: str
    label: str
    status: str
    git_commit: str | None
    git_branch: str | None
    git_dirty: bool | None
    measured: tuple[str, ...]
    numbers: Numbers | None  # None: no data
    tests: TestCounts | None
    run: RunMetricsRow
    diff_base: str | None = None
    n_diff_statements: int | None = None
    n_diff_missing: int | None = None
    #: "full", "incremental" or "partial" (see SnapshotDraft.scope); how many tests ran (None: all).
    scope: str = "full"
    n_tests_run: int | None = None

    @property
    def pc_covered(self) -> float | None:
        return self.numbers.pc_covered if self.numbers is not None else None

    @property
    def pc_diff(self) -> float | None:
        """Coverage of the changed lines; None when no changed line is a statement."""
        if not self.n_diff_statements:
            return None
        return 100.0 * (self.n_diff_statements - (self.n_diff_missing or 0)) / self.n_diff_statements


@dataclass(frozen=True)
class SourceRow:
    """A source's latest result, and the one before it that it is compared with."""

    source: str
    snapshot_id: int
    created_at: float
    status: str
    format: str | None
    numbers: Numbers | None
    tests: TestCounts | None
    run: RunMetricsRow
    message: str
    #: False: coverage.py's `source` is unset, so files no test imports are not in the report.
    measures_unimported: bool | None = None
    previous_pc: float | None = None
    previous_snapshot_id: int | None = None
    last_ok_snapshot_id: int | None = None

    @property
    def pc_covered(self) -> float | None:
        return self.numbers.pc_covered if self.numbers is not None else None


@dataclass(frozen=True)
class FileRow:
    source: str
    path: str
    numbers: Numbers
    previous: Numbers | None = None  # at the previous snapshot; None when the file is new

    @property
    def pc_change(self) -> float | None:
        if self.previous is None:
            return None
        return self.numbers.pc_covered - self.previous.pc_covered


@dataclass(frozen=True)
class FileDetail:
    source: str
    path: str
    numbers: Numbers
    missing_lines: tuple[int, ...]
    missing_arcs: tuple[Arc, ...]
    functions: tuple[FunctionCoverage, ...]
    snapshot_id: int
    created_at: float


@dataclass(frozen=True)
class TrendPoint:
    created_at: float
    pc_covered: float


@dataclass(frozen=True)
class Heartbeat:
    name: str
    pid: int
    started_at: float
    beat_at: float
    next_scan_at: float | None
    state: str


#: A CI run's states (`ci_runs.state`).
PENDING = "pending"
COMPLETE = "complete"
FAILED = "failed"


@dataclass(frozen=True)
class CiRun:
    """A CI run of one source: the shards that have arrived, and what became of it."""

    run_id: str
    source: str
    n_shards: int
    started_at: float  # when its first shard arrived
    state: str  # PENDING, COMPLETE or FAILED
    #: Shard number → digest of its inputs, for every shard that has arrived.
    shards: dict[int, str]
    snapshot_id: int | None = None
    message: str = ""

    @property
    def missing(self) -> list[int]:
        return [k for k in range(1, self.n_shards + 1) if k not in self.shards]

    @property
    def is_complete(self) -> bool:
        return not self.missing
