"""The exclusions audit: every line and file coverage.py (or covtui) leaves out, and why.

coverage.py excludes a line when an exclusion regex matches it, and with it the block that
line starts (a `def … # pragma: no cover` takes its body). So each excluded line is put down
to the regex that matched it, or else to the matched line nearest above it (the block's
header), or below it (a statement spread over lines, matched on a later one).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

#: coverage.py's default exclusion regex (`coverage.config.DEFAULT_EXCLUDE`).
PRAGMA_NO_COVER = r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)"


def regex_reason(regex: str, defaults: Sequence[str] = ()) -> str:
    """How a regex is named in the audit: the pragma, another of coverage.py's defaults
    (`...` stubs, `if TYPE_CHECKING:`), or one from `exclude_lines` / `exclude_also`."""
    if regex == PRAGMA_NO_COVER:
        return "pragma: no cover"
    if regex in defaults:
        return f"coverage.py default '{regex}'"
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
        result.append(ExcludedLine(line, regex_reason(regexes[starts[by]], defaults), by, text.get(line, "")))
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


@dataclass(frozen=True)
class ExcludedPoint:
    """The project's excluded lines at one good snapshot (the trend of the count)."""

    snapshot_id: int
    created_at: float
    n_excluded: int


@dataclass(frozen=True)
class Audit:
    files: tuple[AuditFile, ...]
    left_out: tuple[LeftOutFile, ...]
    history: tuple[ExcludedPoint, ...]  # oldest first

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
