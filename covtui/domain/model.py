"""The data that flows from readers and scans into the store, and from the store to the screen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from covtui.domain.contexts import LineTests
from covtui.domain.numbers import Numbers

if TYPE_CHECKING:
    from covtui.domain.exclusions import ExclusionCensus, ReasonCount

Arc = tuple[int, int]

#: The largest id a row can have (SQLite's largest integer); a bigger one names nothing.
MAX_ID = 2**63 - 1


class RunStatus(str, Enum):
    """How a scan or ingest ended. Only `OK` snapshots are compared for regressions."""

    OK = "ok"
    FAILED = "failed"  # the command exited non-zero or its report could not be read
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    #: A narrowed run (`pytest -k x`, `pytest tests/test_x.py`, `--lf`): stored, never compared.
    PARTIAL = "partial"


class Severity(str, Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class AlertRule(str, Enum):
    """The rule an alert comes from; its value is what the database and JSON hold."""

    SCAN_FAILED = "scan_failed"
    COVERAGE_DROP = "coverage_drop"
    MILESTONE = "milestone"
    TEST_FAILURES = "test_failures"
    TEST_TIME = "test_time"
    TESTS_REMOVED = "tests_removed"
    FILES_LEFT = "files_left"
    FILE_REGRESSION = "file_regression"
    EXCLUDED_LINES = "excluded_lines"
    COMPONENT_DROP = "component_drop"
    INCREMENTAL_DRIFT = "incremental_drift"

    def __str__(self) -> str:  # the value in f-strings and markup, on every Python
        return self.value


class FunctionCoverage(NamedTuple):
    """A function, method or class and how much of it ran (for gap analysis). A named tuple:
    a report holds thousands, read back at every snapshot, and a tuple is made three times
    faster than a frozen dataclass."""

    name: str
    kind: str  # "function", "method", "class", "async function", …
    start_line: int
    end_line: int
    n_statements: int
    n_missing: int

    @property
    def is_async(self) -> bool:
        return self.kind.startswith("async")

    @property
    def never_run(self) -> bool:
        return self.n_statements > 0 and self.n_missing == self.n_statements


@dataclass(frozen=True)
class FileCoverage:
    """One file's result: counts plus exactly which lines and branch arcs were missed.

    `path` is relative to the project root with "/" separators where the file is inside it.
    Arcs use coverage.py's convention: a negative destination is an exit from the code object.
    """

    path: str
    numbers: Numbers
    missing_lines: tuple[int, ...] = ()
    missing_arcs: tuple[Arc, ...] = ()
    functions: tuple[FunctionCoverage, ...] = ()
    #: Every measured line (statements; `DA` lines for lcov), for diff coverage. Not stored.
    #: Sorted; a compact `array` for lcov, whose reports can hold millions of lines.
    statements: Sequence[int] = field(default=(), compare=False, repr=False)


@dataclass
class CoverageReport:
    """What a coverage reader returns for one source."""

    format: str  # "coverage.py", "coverage.json", "lcov", "cobertura"
    files: list[FileCoverage]
    has_branches: bool
    read_s: float = 0.0  # time spent reading/analysing the report
    #: coverage.py data: whether `source` (or `source_pkgs`) was set, so that files no test
    #: imported appear at 0%; False: such files are invisible. None: not known (other formats).
    measures_unimported: bool | None = None
    #: Path → which contexts (tests) ran each line, when the data recorded per-test contexts.
    line_tests: dict[str, LineTests] | None = field(default=None, repr=False)
    #: coverage.py data: what its exclusions leave out of these files, counted by the read's
    #: worker when asked (`record.count_exclusions` uses it instead of a census of its own).
    exclusions: ExclusionCensus | None = field(default=None, repr=False, compare=False)
    #: coverage.py data: each Python file's source and analysis settings, as the read's
    #: analysis cache keys them (what an affected rescan's read checks before it reuses a
    #: file's last result).
    source_keys: dict[str, str] | None = field(default=None, repr=False, compare=False)
    #: coverage.py data: the content digest (`digests.content_digest`) of each Python file's
    #: bytes as the read analysed them, checked against the tree the tests started with.
    source_digests: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def numbers(self) -> Numbers:
        return sum((f.numbers for f in self.files), Numbers())


@dataclass(frozen=True)
class TestFailure:
    __test__ = False  # not a pytest class
    name: str
    message: str


@dataclass
class TestOutcomes:
    """Test results from JUnit XML (pytest `--junitxml`, nextest, jest-junit, …)."""

    __test__ = False  # not a pytest class

    n_tests: int = 0
    n_failed: int = 0
    n_errors: int = 0
    n_skipped: int = 0
    duration_s: float | None = None
    failures: list[TestFailure] = field(default_factory=list)
    #: Every test's id (`classname::name`), when the report names them.
    ids: list[str] = field(default_factory=list)

    @property
    def n_passed(self) -> int:
        return self.n_tests - self.n_failed - self.n_errors - self.n_skipped

    def __add__(self, other: TestOutcomes) -> TestOutcomes:
        durations = [d for d in (self.duration_s, other.duration_s) if d is not None]
        return TestOutcomes(
            self.n_tests + other.n_tests,
            self.n_failed + other.n_failed,
            self.n_errors + other.n_errors,
            self.n_skipped + other.n_skipped,
            sum(durations) if durations else None,
            self.failures + other.failures,
            self.ids + other.ids,
        )


@dataclass
class RunMetrics:
    """What running a source's command cost."""

    wall_s: float | None = None
    cpu_s: float | None = None
    peak_rss_kb: int | None = None
    exit_code: int | None = None
    output_tail: str = ""


@dataclass
class SourceResult:
    """One source's part of a snapshot."""

    name: str
    status: RunStatus
    report: CoverageReport | None = None
    tests: TestOutcomes | None = None
    run: RunMetrics = field(default_factory=RunMetrics)
    message: str = ""  # why it failed, in one line
    #: Test id (pytest node id, as in the contexts) → outcome, from covtui's pytest plugin.
    outcomes: dict[str, str] | None = None

    @property
    def numbers(self) -> Numbers | None:
        return self.report.numbers if self.report is not None else None


@dataclass
class GitInfo:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


@dataclass(frozen=True)
class DiffFile:
    path: str
    n_statements: int
    missing_lines: tuple[int, ...]


@dataclass(frozen=True)
class DiffCoverage:
    base: str  # the ref and commit compared with, e.g. "main (3f2a9c1)"
    n_statements: int
    n_missing: int
    files: tuple[DiffFile, ...]

    @property
    def pc_covered(self) -> float | None:
        """None when no changed line is a statement ("no data", not 0% or 100%)."""
        if self.n_statements == 0:
            return None
        return 100.0 * (self.n_statements - self.n_missing) / self.n_statements


@dataclass(frozen=True)
class ChangedLines:
    base: str
    #: path relative to the project root → changed line numbers (None: the whole file is new)
    lines: dict[str, frozenset[int] | None]


@dataclass
class SnapshotDraft:
    """A snapshot before it is stored: one or more sources measured at one moment."""

    trigger: str  # "scan", "ingest", "watch", "dashboard", "demo"
    sources: list[SourceResult]
    created_at: float | None = None  # epoch seconds; now when None
    label: str = ""
    git: GitInfo = field(default_factory=GitInfo)
    #: Coverage of the lines changed since the git base, when the project is a git repo.
    diff: DiffCoverage | None = None
    #: Excluded lines and left-out files per reason, counted by the scan or ingest that made
    #: it (domain.exclusions.ReasonCount); None: not counted.
    exclusions: tuple[ReasonCount, ...] | None = None
    #: How much of the suite ran: "full", "incremental" (the affected tests, merged exactly
    #: with the previous per-test coverage) or "partial" (a subset, never compared).
    scope: str = "full"
    #: How many tests ran when not all of them did (None: all).
    n_tests_run: int | None = None
    #: Alerts the scan itself raised (the incremental chain drifting from a full scan).
    scan_alerts: list[Alert] = field(default_factory=list)

    @property
    def status(self) -> RunStatus:
        """The worst status of its sources."""
        order = [
            RunStatus.CANCELLED, RunStatus.TIMEOUT, RunStatus.FAILED, RunStatus.PARTIAL,
            RunStatus.OK,
        ]
        statuses = {s.status for s in self.sources}
        return next((s for s in order if s in statuses), RunStatus.OK)


@dataclass
class Alert:
    """A rule that fired when a snapshot was written."""

    rule: str  # an AlertRule's value (read back from the database as a plain str)
    severity: Severity
    message: str  # one line
    value: float | None = None
    threshold: float | None = None
    source: str | None = None
    path: str | None = None
    #: What the one-line message leaves out (a file or test per line); "" when it says it all.
    detail: str = ""
    id: int | None = None
    snapshot_id: int | None = None
    created_at: float | None = None
    acknowledged_at: float | None = None
