"""Why coverage moved: every line whose state changed between two snapshots, given one cause.

A file's lines at each end are its statements, split into covered (executed) and missing.
Old lines are carried to new ones by the source diff between the two (identity when the
file's content is the same); then each old statement is either gone (`code_removed`), no
longer a statement in an unchanged file (`config`), unchanged in state (no cause), or flipped:
lost coverage is put on the tests that covered it (`tests_removed` when they are all gone,
`tests_failing` when one of them now fails), on `flaky` for a known flaky line, else `other`.
New statements that no old one carries to are `code_added`. Every line is counted once, so
the causes' deltas add up exactly to the totals.

Where an end has no per-test coverage (its covered lines are not stored), a file's whole
change goes to one cause: `code_added`/`code_removed` for a file that came or went or whose
statement count grew or shrank, `other` otherwise.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from covtui.domain.contexts import FAILING, LineTests

CAUSES = (
    "code_added", "code_removed", "tests_removed", "tests_failing", "flaky", "config", "other",
)

#: (old_start, old_count, new_start, new_count) of a unified diff hunk (`-U0`).
Hunk = tuple[int, int, int, int]


@dataclass(frozen=True)
class FileDiff:
    """How a file changed between two commits (paths relative to the project root)."""

    old_path: str | None  # None: added
    new_path: str | None  # None: deleted
    hunks: tuple[Hunk, ...] = ()


#: (commit FROM, commit TO) → how files changed between them (None: can't tell): the
#: `covtui.git.lines.file_diffs`, bound to the project root, where git may be asked.
DiffReader = Callable[[str, str], Awaitable[Mapping[str, FileDiff] | None]]


def line_mapper(hunks: Iterable[Hunk]) -> Callable[[int], int | None]:
    """Old line → its new line number, or None where the diff removed or changed it."""
    ordered = sorted(hunks)
    # A hunk shifts every old line from `old_start + max(old_count, 1)` on (a pure insertion
    # `-5,0` comes after old line 5).
    starts = [h[0] + max(h[1], 1) for h in ordered]
    shifts = []
    total = 0
    for _, old_count, _, new_count in ordered:
        total += new_count - old_count
        shifts.append(total)

    def new_line(line: int) -> int | None:
        for old_start, old_count, _, _ in ordered:
            if old_count and old_start <= line < old_start + old_count:
                return None
        i = bisect.bisect_right(starts, line)
        return line + (shifts[i - 1] if i else 0)

    return new_line


@dataclass(frozen=True)
class FileSide:
    """A file at one end: its counts, missing lines and (when kept) per-test coverage."""

    n_statements: int
    n_missing: int
    missing: frozenset[int]
    tests: LineTests | None = None  # None: not kept; then covered lines are not known
    content: str | None = None  # digest of the source

    @property
    def n_covered(self) -> int:
        return self.n_statements - self.n_missing


def by_size(f: FileCause) -> tuple:
    """Files by how much they moved, most first (then by name)."""
    return (-abs(f.covered_lines_delta), -abs(f.missed_lines_delta), f.source, f.path)


@dataclass
class FileCause:
    source: str
    path: str
    covered_lines_delta: int = 0
    missed_lines_delta: int = 0
    lines: list[int] = field(default_factory=list)  # the lines (new numbers; old if removed)


@dataclass
class Cause:
    kind: str
    covered_lines_delta: int = 0
    missed_lines_delta: int = 0
    files: dict[tuple[str, str], FileCause] = field(default_factory=dict)
    tests: set[str] = field(default_factory=set)

    def add(self, source: str, path: str, covered: int, missed: int, line: int | None) -> None:
        self.covered_lines_delta += covered
        self.missed_lines_delta += missed
        f = self.files.get((source, path))
        if f is None:
            f = self.files[source, path] = FileCause(source, path)
        f.covered_lines_delta += covered
        f.missed_lines_delta += missed
        if line is not None:
            f.lines.append(line)

    def describe(self, listed: int = 3) -> str:
        """"tests_removed: -3 covered, +3 missed lines in pkg/a.py; tests t::a"."""
        files = [f.path for f in sorted(self.files.values(), key=by_size)]
        tests = sorted(self.tests)

        def some(items: list[str]) -> str:
            more = f" +{len(items) - listed:,} more" if len(items) > listed else ""
            return ", ".join(items[:listed]) + more

        text = (f"{self.kind}: {self.covered_lines_delta:+,} covered, "
                f"{self.missed_lines_delta:+,} missed lines")
        if files:
            text += f" in {some(files)}"
        if tests:
            text += f"; tests {some(tests)}"
        return text

    @property
    def n_lines(self) -> int:
        """How many line states this cause moved (a flipped line counts once)."""
        return sum(len(f.lines) for f in self.files.values()) or abs(self.covered_lines_delta)


@dataclass
class Explanation:
    from_id: int
    to_id: int
    covered_lines_delta: int
    missed_lines_delta: int
    causes: list[Cause]  # the causes that moved something, largest first
    #: Whether every changed file had per-test coverage at both ends (line-exact causes).
    exact: bool = True

    def largest_loss(self) -> Cause | None:
        """The cause that lost the most covered lines; None when none lost any."""
        pool = [c for c in self.causes if c.covered_lines_delta < 0]
        return min(pool, key=lambda c: c.covered_lines_delta) if pool else None


@dataclass(frozen=True)
class Ends:
    """What `explain` compares: per (source, path) the file at FROM and at TO."""

    before: Mapping[tuple[str, str], FileSide]
    after: Mapping[tuple[str, str], FileSide]
    #: (source, new path or old path for a deletion) → how git says it changed; None: no diff.
    diffs: Mapping[str, FileDiff] | None = None
    #: Test id → outcome at TO, per source; tests missing here are gone (when known).
    outcomes_after: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: (source, path) → the lines known to be flaky at TO.
    flaky: Mapping[tuple[str, str], frozenset[int]] = field(default_factory=dict)


def explain(from_id: int, to_id: int, ends: Ends) -> Explanation:
    causes = {kind: Cause(kind) for kind in CAUSES}
    exact = True
    renamed_from: dict[str, str] = {}  # old path → new path
    if ends.diffs:
        for d in ends.diffs.values():
            if d.old_path and d.new_path and d.old_path != d.new_path:
                renamed_from[d.old_path] = d.new_path
    paired: set[tuple[str, str]] = set()
    for key, side_a in ends.before.items():
        source, path = key
        new_key = key
        if key not in ends.after and path in renamed_from:
            new_key = (source, renamed_from[path])
        side_b = ends.after.get(new_key)
        if side_b is not None:
            paired.add(new_key)
        exact &= _file(causes, key, new_key, side_a, side_b, ends)
    for key, side_b in ends.after.items():
        if key not in paired and key not in ends.before:
            exact &= _file(causes, key, key, None, side_b, ends)
    moved = [c for c in causes.values() if c.files or c.covered_lines_delta or c.missed_lines_delta]
    moved.sort(key=lambda c: (-c.n_lines, CAUSES.index(c.kind)))
    for c in moved:
        for f in c.files.values():
            f.lines.sort()
    return Explanation(
        from_id, to_id,
        sum(c.covered_lines_delta for c in moved),
        sum(c.missed_lines_delta for c in moved),
        moved, exact,
    )


def _mapper(ends: Ends, a: FileSide, b: FileSide, path_a: str, path_b: str):
    """Old line → new line for one file, or None when the change can't be followed."""
    if a.content is not None and a.content == b.content:
        return lambda line: line
    if ends.diffs is None:
        return None
    d = ends.diffs.get(path_b) or ends.diffs.get(path_a)
    if d is None:
        # Not in the diff of the two commits: the same content, unless we know otherwise.
        if a.content is not None and b.content is not None:
            return None
        return lambda line: line
    return line_mapper(d.hunks)


def _file(causes, key_a, key_b, a: FileSide | None, b: FileSide | None, ends: Ends) -> bool:
    """Attribute one file's change; False when it could only be counted, not followed."""
    source, path = key_b if b is not None else key_a
    if a is None or b is None:
        side = a or b
        assert side is not None
        sign = -1 if b is None else 1
        if b is None and ends.diffs is not None and _still_there(ends, key_a[1]):
            kind = _left_report(a, source, ends)
        else:
            kind = "code_removed" if b is None else "code_added"
        if kind == "tests_removed" and a is not None and a.tests is not None:
            causes[kind].tests.update(a.tests.all_tests())
        if side.tests is not None:
            for line in sorted(side.tests.lines):
                causes[kind].add(source, path, sign, 0, line)
            for line in sorted(side.missing):
                causes[kind].add(source, path, 0, sign, line)
            return True
        causes[kind].add(source, path, sign * side.n_covered, sign * side.n_missing, None)
        return False
    if a.tests is None or b.tests is None:
        d_cov, d_miss = b.n_covered - a.n_covered, b.n_missing - a.n_missing
        if d_cov or d_miss:
            d_stmt = b.n_statements - a.n_statements
            kind = "code_added" if d_stmt > 0 else "code_removed" if d_stmt < 0 else "other"
            causes[kind].add(source, path, d_cov, d_miss, None)
        # Only counted by file; exact all the same where nothing moved.
        return not (d_cov or d_miss) and a.missing == b.missing
    if key_a == key_b and a.content is not None and a.content == b.content and a.missing == b.missing and a.tests == b.tests:
        return True  # the same lines, run by the same contexts: nothing moved (not decoded)
    covered_a, covered_b = set(a.tests.lines), set(b.tests.lines)
    statements_b = covered_b | b.missing
    new_line = _mapper(ends, a, b, key_a[1], key_b[1])
    same_content = a.content is not None and a.content == b.content
    carried: set[int] = set()
    outcomes = ends.outcomes_after.get(source)
    flaky = ends.flaky.get(key_b, frozenset())
    for line in sorted(covered_a | a.missing):
        was_covered = line in covered_a
        n = new_line(line) if new_line is not None else None
        if n is None or n not in statements_b:
            kind = "config" if (n is not None and same_content) else "code_removed"
            causes[kind].add(source, path, -was_covered, -(not was_covered), line)
            continue
        carried.add(n)
        is_covered = n in covered_b
        if is_covered == was_covered:
            continue
        if was_covered:  # lost
            kind, tests = _why_lost(a.tests.tests_of(line), outcomes, n in flaky)
            causes[kind].add(source, path, -1, 1, n)
        else:  # gained
            tests = set(b.tests.tests_of(n))
            kind = "flaky" if n in flaky else "other"
            causes[kind].add(source, path, 1, -1, n)
        causes[kind].tests.update(tests)
    for n in sorted(statements_b - carried):
        causes["code_added"].add(source, path, int(n in covered_b), int(n not in covered_b), n)
    return True


def _why_lost(
    tests: list[str], outcomes: Mapping[str, str] | None, flaky: bool
) -> tuple[str, set[str]]:
    """The cause of a covered line gone missing, and the tests it names."""
    if tests and outcomes is not None:
        gone = {t for t in tests if t not in outcomes}
        if len(gone) == len(tests):
            return "tests_removed", gone
        failing = {t for t in tests if outcomes.get(t) in FAILING}
        if failing:
            return "tests_failing", failing
    if flaky:
        return "flaky", set(tests)
    return "other", set(tests)


def _still_there(ends: Ends, path: str) -> bool:
    """Whether git says the file still exists at TO (it left the report, not the code)."""
    d = ends.diffs.get(path) if ends.diffs is not None else None
    return d is None or d.new_path is not None


def _left_report(a: FileSide, source: str, ends: Ends) -> str:
    """A file that left the report but not the code: its tests went, or the config changed."""
    outcomes = ends.outcomes_after.get(source)
    if a.tests is not None and outcomes is not None:
        tests = a.tests.all_tests()
        if tests and not any(t in outcomes for t in tests):
            return "tests_removed"
    return "config"
