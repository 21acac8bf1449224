"""Test recommendations: which files to test first, and what in them, from the gap analysis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from covtui.domain.critical import critical_files
from covtui.domain.gaps import (
    SOURCE_CHANGED,
    SOURCE_NOT_AVAILABLE,
    SOURCE_OUTSIDE,
    FileGaps,
    UncoveredFunction,
)
from covtui.domain.numbers import Numbers
from covtui.domain.records import FileRow

IMMEDIATE = "immediate"
SECONDARY = "secondary"

Code = Callable[[str], str]  # formats a name (a Markdown code span, or plain backticks)
Plain = Callable[[str], str]  # formats data text (Markdown-escaped, or as is)


def backticks(name: str) -> str:
    return f"`{name}`"


def as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class Action:
    """One concrete thing to test in a file."""

    kind: str  # "functions", "handlers", "async", "branches", "lines", "note"
    names: tuple[str, ...] = ()  # function names, biggest gap first
    counts: tuple[int, ...] = ()  # uncovered lines per name; or (n,) for a count
    detail: str = ""  # an arc description, a line range, or a note

    def describe(self, code: Code = backticks, plain: Plain = as_is) -> str:
        if self.kind == "functions":
            first, *rest = [
                f"{code(name)} ({n:,} line{'s' if n != 1 else ''} uncovered)"
                for name, n in zip(self.names, self.counts, strict=True)
            ]
            return f"start with {first}" + (f", then {', '.join(rest)}" if rest else "")
        n = self.counts[0] if self.counts else 0
        if self.kind == "handlers":
            where = f" (in {', '.join(code(s) for s in self.names)})" if self.names else ""
            return f"{n} uncovered except handler{'s' if n != 1 else ''}{where} → error-path tests"
        if self.kind == "async":
            names = f" ({', '.join(code(s) for s in self.names)})" if self.names else ""
            verb = "functions never run" if n != 1 else "function never run"
            return f"{n} async {verb}{names} → async tests"
        if self.kind == "branches":
            example = f", e.g. {plain(self.detail)}" if self.detail else ""
            return f"{n} branch arc{'s' if n != 1 else ''} never taken{example} → tests for the other side of those conditions"
        if self.kind == "lines":
            return f"uncovered {plain(self.detail)}"
        if self.detail in (SOURCE_NOT_AVAILABLE, SOURCE_OUTSIDE):
            return f"{self.detail}: except handlers not counted"
        if self.detail == SOURCE_CHANGED:
            return f"{self.detail}: line numbers may have moved; except handlers not counted"
        return plain(self.detail)


@dataclass(frozen=True)
class Recommendation:
    """What to test in one file, and how much covering it would lift the total."""

    priority: str  # IMMEDIATE or SECONDARY
    rank: int  # 1-based within its priority
    source: str
    path: str
    numbers: Numbers
    #: Points the overall percentage gains if this file were fully covered.
    pc_lift: float
    #: Overall percentage once this file and every one ranked before it are covered.
    pc_after: float
    actions: tuple[Action, ...]

    def headline(self, plain: Plain = as_is, precision: int = 2) -> str:
        n = self.numbers
        text = (f"{plain(self.path)} — {n.pc_covered_str(precision)}% of {n.n_statements:,} "
                f"statement{'s' if n.n_statements != 1 else ''}")
        if n.n_branches:
            text += f" and {n.n_branches:,} branch{'es' if n.n_branches != 1 else ''}"
        return text

    def describe(self, code: Code = backticks, plain: Plain = as_is, precision: int = 2) -> str:
        """One line: "server.py — 0% of 1,109 statements: start with `create_app` (…); …"."""
        parts = [a.describe(code, plain) for a in self.actions]
        return self.headline(plain, precision) + (": " + "; ".join(parts) if parts else "")


def file_actions(gaps: FileGaps, n_functions: int = 3) -> tuple[Action, ...]:
    """The concrete steps for one file, most valuable first."""
    actions: list[Action] = []
    # Classes count their methods' lines again: name the functions and methods instead.
    targets = sorted(
        (f for f in gaps.functions if f.kind != "class" and f.n_missing > 0),
        key=lambda f: (-f.n_missing, f.start_line, f.name),
    )
    if targets:
        top = targets[:n_functions]
        actions.append(Action("functions", tuple(f.name for f in top), tuple(f.n_missing for f in top)))
    elif gaps.missed_ranges:
        first, last = max(gaps.missed_ranges, key=lambda r: (r[1] - r[0], -r[0]))
        where = f"line {first}" if first == last else f"lines {first}–{last}"
        actions.append(Action("lines", detail=where))
    if gaps.uncovered_handlers:
        owners = _unique(h.function for h in gaps.uncovered_handlers if h.function)
        actions.append(Action("handlers", tuple(owners[:n_functions]), (gaps.n_uncovered_handlers,)))
    never = gaps.uncovered_async
    if never:
        actions.append(Action("async", tuple(_names(never, n_functions)), (len(never),)))
    # Branches matter most where the lines already run: name one to start from.
    partial = [a for a in gaps.missed_arcs if not _in_never_run(a.source_line, gaps.functions)]
    if partial:
        actions.append(Action("branches", counts=(len(partial),), detail=partial[0].description))
    if gaps.note:
        actions.append(Action("note", detail=gaps.note))
    return tuple(actions)


def recommendations(
    files: list[FileRow],
    gaps_for: Callable[[FileRow], FileGaps],
    *,
    total: Numbers | None = None,
    n_immediate: int = 5,
    limit: int = 10,
) -> list[Recommendation]:
    """Prioritised recommendations: the critical files first ("immediate", the current phase),
    then the next ones ("secondary"). `total` (default: the sum of `files`) is what the lift
    is measured against. Ties are broken by path and source, so the order never varies."""
    total = total if total is not None else sum((f.numbers for f in files), Numbers())
    denominator = total.n_statements + total.n_branches
    covered = total.n_executed + total.n_executed_branches
    chosen = critical_files(sorted(files, key=lambda f: (f.path, f.source)), limit)
    result: list[Recommendation] = []
    for i, row in enumerate(chosen):
        missed = row.numbers.n_missed_total
        covered += missed
        immediate = i < n_immediate
        result.append(
            Recommendation(
                priority=IMMEDIATE if immediate else SECONDARY,
                rank=(i if immediate else i - n_immediate) + 1,
                source=row.source,
                path=row.path,
                numbers=row.numbers,
                pc_lift=100.0 * missed / denominator if denominator else 0.0,
                pc_after=100.0 * covered / denominator if denominator else 100.0,
                actions=file_actions(gaps_for(row)),
            )
        )
    return result


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def _names(functions: tuple[UncoveredFunction, ...], n: int) -> list[str]:
    return [f.name for f in sorted(functions, key=lambda f: (-f.n_missing, f.start_line))[:n]]


def _in_never_run(line: int, functions: tuple[UncoveredFunction, ...]) -> bool:
    return any(
        f.never_run and f.kind != "class" and f.start_line <= line <= f.end_line for f in functions
    )
