"""The exclusions audit: every line and file coverage.py (or covtui) leaves out, and why.

coverage.py excludes a line when an exclusion regex matches it, and with it the block that
line starts (a `def … # pragma: no cover` takes its body). So each excluded line is put down
to the regex that matched it, or else to the matched line nearest above it (the block's
header), or below it (a statement spread over lines, matched on a later one).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: coverage.py's default exclusion regex (`coverage.config.DEFAULT_EXCLUDE`).
PRAGMA_NO_COVER = r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)"


#: How a file left out of the figures is named, per kind (the rest of its reason says why).
OMIT = "omit pattern"
GENERATED = "generated"


def regex_reason(regex: str, defaults: Sequence[str] = (), also: Sequence[str] = ()) -> str:
    """How a regex is named in the audit: the pragma, another of coverage.py's defaults
    (`...` stubs, `if TYPE_CHECKING:`), one from `exclude_also`, or one from `exclude_lines`."""
    if regex == PRAGMA_NO_COVER:
        return "pragma: no cover"
    if regex in defaults:
        return f"coverage.py default '{regex}'"
    if regex in also:
        return f"exclude_also '{regex}'"
    return f"exclude regex '{regex}'"


@dataclass(frozen=True)
class ExcludedLine:
    line: int
    reason: str
    #: The line the regex matched (this line itself, or the header of its block).
    by_line: int
    text: str = ""


def attribute(
    excluded: frozenset[int] | set[int],
    matched: dict[int, frozenset[int]],
    regexes: Sequence[str],
    text: dict[int, str] | None = None,
    defaults: Sequence[str] = (),
    also: Sequence[str] = (),
) -> list[ExcludedLine]:
    """Each excluded line with the regex that excluded it (see the module's docstring)."""
    text = text or {}
    starts: dict[int, int] = {}  # matched line -> index of the first regex matching it
    for index in sorted(matched):
        for line in matched[index]:
            starts.setdefault(line, index)
    ordered = sorted(n for n in starts if n in excluded)
    result = []
    for line in sorted(excluded):
        if line in starts:
            by = line
        elif ordered:
            at = bisect_left(ordered, line)
            by = ordered[at - 1] if at > 0 else ordered[0]
        else:
            result.append(ExcludedLine(line, "excluded (no regex matches it now)", line, text.get(line, "")))
            continue
        result.append(ExcludedLine(line, regex_reason(regexes[starts[by]], defaults, also), by, text.get(line, "")))
    return result


@dataclass(frozen=True)
class AuditFile:
    """One measured file's excluded lines."""

    path: str
    lines: tuple[ExcludedLine, ...]
    #: The count stored at the latest snapshot (coverage.py's `excluded_lines` then); it
    #: differs from `len(lines)` when the file changed on disk since.
    n_stored: int | None = None
    #: A source that measured it (where the file view finds it).
    source: str = ""

    @property
    def changed_since(self) -> bool:
        return self.n_stored is not None and self.n_stored != len(self.lines)


@dataclass(frozen=True)
class LeftOutFile:
    path: str
    reason: str  # "omit pattern 'x'" or "generated (why)"

    @property
    def kind(self) -> str:
        """The reason it is counted under: "omit pattern 'x'", or "generated" (whatever
        made it look generated)."""
        return GENERATED if self.reason.startswith(GENERATED) else self.reason


@dataclass(frozen=True)
class ExclusionCensus:
    """What coverage.py's exclusions leave out of one read's files, worked out beside the
    read (the same config, the same bytes on disk): what a snapshot's counts are made of."""

    #: Each file's excluded lines per reason (files with none are not listed).
    lines: Mapping[str, Mapping[str, int]]
    #: Files under the `source` folders that an `omit` pattern leaves out: (path, pattern).
    omitted: tuple[tuple[str, str], ...]
    #: The files it counted (the read's files).
    paths: frozenset[str]
    #: The generated files among them, (path, why); None when not looked for.
    generated: tuple[tuple[str, str], ...] | None = None


def omitted_left_out(omitted: Iterable[tuple[str, str]]) -> list[LeftOutFile]:
    """The files `omit` leaves out, (path, pattern), as left-out files."""
    return [LeftOutFile(path, f"{OMIT} {pattern!r}") for path, pattern in omitted]


def generated_left_out(generated: Iterable[tuple[str, str]]) -> list[LeftOutFile]:
    """The files covtui leaves out as generated, (path, why), as left-out files."""
    return [LeftOutFile(path, f"{GENERATED} ({why})") for path, why in generated]


@dataclass(frozen=True)
class ReasonCount:
    """How much one reason leaves out at a snapshot: excluded lines (None for a reason that
    leaves out whole files) and the files it touches."""

    reason: str
    n_lines: int | None
    n_files: int


def reason_counts(files: Sequence[AuditFile], left_out: Sequence[LeftOutFile]) -> tuple[ReasonCount, ...]:
    """Lines and files per reason: the line reasons (most lines first), then the file ones
    (most files first). The lines add up to coverage.py's excluded lines over `files`."""
    return count_reasons([Counter(line.reason for line in f.lines) for f in files], left_out)


def count_reasons(
    per_file: Iterable[Mapping[str, int]], left_out: Sequence[LeftOutFile]
) -> tuple[ReasonCount, ...]:
    """`reason_counts()` from each file's excluded lines per reason (as `ExclusionCensus`
    keeps them) instead of the lines themselves."""
    lines: Counter[str] = Counter()
    touched: Counter[str] = Counter()
    for mine in per_file:
        mine = {reason: n for reason, n in mine.items() if n}
        lines.update(mine)
        touched.update(mine.keys())
    whole = Counter(left.kind for left in left_out)
    return tuple(
        [ReasonCount(r, n, touched[r]) for r, n in sorted(lines.items(), key=lambda x: (-x[1], x[0]))]
        + [ReasonCount(r, None, n) for r, n in sorted(whole.items(), key=lambda x: (-x[1], x[0]))]
    )


@dataclass(frozen=True)
class ReasonChange:
    """A reason's counts at a snapshot and the change since the comparable one before
    (None: not counted then, which is not 0)."""

    now: ReasonCount
    lines_change: int | None
    files_change: int | None


def reason_changes(
    now: Sequence[ReasonCount], before: Sequence[ReasonCount] | None
) -> list[ReasonChange]:
    """Each reason now (and each one gone since, at 0) against `before`; no change without
    `before` (its counts were not recorded)."""
    if before is None:
        return [ReasonChange(r, None, None) for r in now]
    then = {r.reason: r for r in before}
    result = []
    for r in now:
        old = then.pop(r.reason, None)
        if old is None:
            old = ReasonCount(r.reason, None if r.n_lines is None else 0, 0)
        lines = None if r.n_lines is None else r.n_lines - (old.n_lines or 0)
        result.append(ReasonChange(r, lines, r.n_files - old.n_files))
    for old in then.values():  # gone since
        gone = ReasonCount(old.reason, None if old.n_lines is None else 0, 0)
        result.append(ReasonChange(
            gone, None if old.n_lines is None else -old.n_lines, -old.n_files
        ))
    return result


def largest_jump(changes: Sequence[ReasonChange]) -> ReasonChange | None:
    """The reason whose excluded lines rose the most (None: none rose)."""
    rising = [c for c in changes if c.lines_change is not None and c.lines_change > 0]
    return max(rising, key=lambda c: (c.lines_change, c.now.reason), default=None)


@dataclass(frozen=True)
class ExcludedPoint:
    """The project's excluded lines at one good snapshot (the trend of the count)."""

    snapshot_id: int
    created_at: float
    n_excluded: int
    #: Its counts per reason (None: not recorded: a snapshot stored before covtui kept them,
    #: or one written without a scan's census).
    reasons: tuple[ReasonCount, ...] | None = None


@dataclass(frozen=True)
class Audit:
    files: tuple[AuditFile, ...]
    left_out: tuple[LeftOutFile, ...]
    history: tuple[ExcludedPoint, ...]  # oldest first
    #: The counts per reason stored at the latest good snapshot (`history[-1]`), against
    #: the comparable snapshot before it; None: that snapshot did not record them.
    reasons: tuple[ReasonChange, ...] | None = None
    #: The snapshot the change is against, and whether it recorded its counts.
    previous_id: int | None = None
    previous_recorded: bool = False

    @property
    def n_lines(self) -> int:
        return sum(len(f.lines) for f in self.files)

    def counts(self) -> dict[str, int]:
        """Lines per reason, then files per reason ("file: omit pattern …"), most first."""
        lines = Counter(line.reason for f in self.files for line in f.lines)
        files = Counter(
            ("file: " + f.reason.split(" (")[0]) if f.reason.startswith("generated") else f"file: {f.reason}"
            for f in self.left_out
        )
        return dict(lines.most_common()) | dict(files.most_common())

    @property
    def change(self) -> int | None:
        """Excluded lines at the latest good snapshot less those at the one before."""
        if len(self.history) < 2:
            return None
        return self.history[-1].n_excluded - self.history[-2].n_excluded


def census_counts(
    census: ExclusionCensus, generated: Sequence[tuple[str, str]] = ()
) -> tuple[ReasonCount, ...]:
    """A census's counts per reason, with the `generated` files (path, why) covtui leaves out."""
    left_out = omitted_left_out(census.omitted) + generated_left_out(generated)
    return count_reasons(census.lines.values(), left_out)
