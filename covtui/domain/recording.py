"""What recording a snapshot passes between store and plan: the history read, the rows to write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from covtui.domain.exclusions import ReasonCount
from covtui.domain.explain import FileDiff
from covtui.domain.flaky import Measured, Score
from covtui.domain.model import Alert, FileCoverage, SnapshotDraft, SourceResult, TestOutcomes
from covtui.domain.numbers import Numbers
from covtui.domain.records import RunMetricsRow

# -- the history a draft is judged against ---------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """The earlier snapshot a new one is compared with."""

    snapshot_id: int
    created_at: float
    pc_covered: float | None
    #: Lines coverage.py excluded (pragmas, exclude regexes) in that snapshot; None: unknown.
    n_excluded: int | None = None
    #: Its counts per reason (None: not recorded).
    exclusions: tuple[ReasonCount, ...] | None = None

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.created_at).strftime("%Y-%m-%d %H:%M")
        return f"snapshot #{self.snapshot_id} at {when}"


@dataclass(frozen=True)
class PreviousTests:
    """A source's tests at its previous good run that counted them."""

    snapshot_id: int
    n_tests: int
    #: Their ids, when that run's report named them.
    ids: frozenset[str] | None = None
    #: Failed and errored tests in that run.
    n_failures: int = 0


class FileState(NamedTuple):
    """A file's latest stored result (None: it left the report) and the store's id for it."""

    file_id: int | None  # None: a file the store has not seen yet
    coverage: FileCoverage | None


@dataclass
class SourceHistory:
    """One measured source's past, as far back as the rules look."""

    previous_tests: PreviousTests | None = None
    #: Wall times of its recent good runs, newest first.
    recent_wall_s: list[float] = field(default_factory=list)
    #: Path → the file's current state; None when not read (the source brings no report).
    files: dict[str, FileState] | None = None
    #: Its per-test coverage at the newest snapshot that kept it (flaky lines are judged on it).
    measured: Measured | None = None
    #: Path → line → flaky score (lines that ever flipped by chance).
    flaky: dict[str, dict[int, Score]] = field(default_factory=dict)


@dataclass
class SnapshotHistory:
    """What the store holds that a new snapshot is planned against (read in its transaction)."""

    #: Each source's last good numbers: the total carries sources a snapshot did not measure.
    last_good: dict[str, Numbers] = field(default_factory=dict)
    #: sources_key → the latest good snapshot over exactly those sources.
    baselines: dict[str, Baseline] = field(default_factory=dict)
    #: The measured sources' histories, by name.
    sources: dict[str, SourceHistory] = field(default_factory=dict)
    #: How files changed (git) since the per-test coverage the drop's cause is judged on;
    #: None where git can't say: then a changed file counts as removed and added.
    diffs: Mapping[str, FileDiff] | None = None


# -- the rows a snapshot writes ---------------------------------------------------------------


@dataclass(frozen=True)
class FileWrite:
    """A file's new state at the snapshot (`coverage` None: the file left the report)."""

    source: str
    path: str
    file_id: int | None  # None: a file the store has not seen yet
    coverage: FileCoverage | None


@dataclass
class SnapshotPlan:
    """Everything a snapshot stores, decided before the first write.

    After `Store.insert_snapshot`, its alerts and new files carry the ids the store gave them.
    """

    draft: SnapshotDraft
    created_at: float
    #: One result per source name, in the draft's order (a repeated name: its last result).
    measured: list[SourceResult]
    #: The sources whose numbers make the total, sorted and comma-joined: what compares.
    sources_key: str
    overall: Numbers | None  # None: no source has data
    tests: TestOutcomes | None  # summed over the sources that counted tests
    run: RunMetricsRow  # summed over the sources (peak memory: the largest)
    #: Per source: the test ids to keep (its good runs that counted tests).
    test_ids: dict[str, list[str]]
    #: Files whose state changed or that left the report, source by source.
    file_writes: list[FileWrite]
    #: Per source with a report: every file's state after this snapshot.
    files: dict[str, dict[str, FileState]]
    alerts: list[Alert]
    #: (source, path, line, score): lines that flipped by chance at this snapshot.
    flaky_writes: list[tuple[str, str, int, Score]] = field(default_factory=list)
