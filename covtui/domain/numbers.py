"""Summable coverage counts, named and computed as coverage.py's `Numbers` does."""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter

#: The largest count a report may hold: exact as a float and in JSON, and the sum of many
#: still fits SQLite's 64-bit INTEGER.
MAX_COUNT = 2**53


@dataclass(frozen=True)
class Numbers:
    """Counts for one file, one source or a whole project; `sum()` of files gives the total.

    Statements are lines for lcov and Cobertura input. `pc_covered` follows coverage.py:
    100 × (executed statements + executed branches) / (statements + branches).
    """

    n_files: int = 0
    #: Files with at least one executed statement ("21 of 212 files have coverage").
    n_files_covered: int = 0
    n_statements: int = 0
    n_excluded: int = 0
    n_missing: int = 0
    n_branches: int = 0
    n_partial_branches: int = 0
    n_missing_branches: int = 0
    #: Functions, where the format reports them (lcov `FN`/`FNDA`); 0 otherwise.
    n_functions: int = 0
    n_missing_functions: int = 0

    @classmethod
    def of_file(cls, **counts: int) -> Numbers:
        """One file's counts: it has coverage when at least one of its statements ran."""
        executed = counts.get("n_statements", 0) - counts.get("n_missing", 0)
        return cls(n_files=1, n_files_covered=int(executed > 0), **counts)

    def __add__(self, other: Numbers) -> Numbers:
        return Numbers(*map(int.__add__, _values(self), _values(other)))

    def __radd__(self, other: int | Numbers) -> Numbers:
        # `sum()` starts from 0.
        if other == 0:
            return self
        return NotImplemented if not isinstance(other, Numbers) else other + self

    def out_of_range(self) -> tuple[str, int] | None:
        """The first count that is negative or above `MAX_COUNT`, as (name, value); else None."""
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0 <= value <= MAX_COUNT:
                return f.name, value
        return None

    @property
    def n_executed(self) -> int:
        return self.n_statements - self.n_missing

    @property
    def n_executed_branches(self) -> int:
        return self.n_branches - self.n_missing_branches

    @property
    def n_missed_total(self) -> int:
        """Missed statements plus missed branches: what covering this file would add."""
        return self.n_missing + self.n_missing_branches

    @property
    def has_data(self) -> bool:
        """False when nothing was measured: shown as "no data", never as 0%."""
        return self.n_files > 0

    @property
    def pc_covered(self) -> float:
        """Percent covered, as coverage.py computes it (100.0 when there is nothing to cover)."""
        denominator = self.n_statements + self.n_branches
        if denominator == 0:
            return 100.0
        return 100.0 * (self.n_executed + self.n_executed_branches) / denominator

    def pc_covered_str(self, precision: int = 2) -> str:
        """The percentage for display: "100" and "0" only ever mean exactly that."""
        return _display(self.pc_covered, precision)

    @property
    def pc_statements(self) -> float:
        if self.n_statements == 0:
            return 100.0
        return 100.0 * self.n_executed / self.n_statements

    @property
    def pc_branches(self) -> float:
        if self.n_branches == 0:
            return 100.0
        return 100.0 * self.n_executed_branches / self.n_branches

    def as_coverage_json(self, precision: int = 2) -> dict[str, object]:
        """A summary with coverage.py's JSON key names (`coverage json` → `totals`)."""
        return {
            "covered_lines": self.n_executed,
            "num_statements": self.n_statements,
            "percent_covered": self.pc_covered,
            "percent_covered_display": self.pc_covered_str(precision),
            "missing_lines": self.n_missing,
            "excluded_lines": self.n_excluded,
            "num_branches": self.n_branches,
            "num_partial_branches": self.n_partial_branches,
            "covered_branches": self.n_executed_branches,
            "missing_branches": self.n_missing_branches,
            "num_files": self.n_files,
            "num_files_covered": self.n_files_covered,
            "num_functions": self.n_functions,
            "missing_functions": self.n_missing_functions,
        }


_values = attrgetter(*(f.name for f in fields(Numbers)))


def measured(n: Numbers | None) -> Numbers | None:
    """`n`, or None when it is absent or measured nothing (shown as "no data", never as 0%)."""
    return n if n is not None and n.has_data else None


def pc_str(pc: float | None, precision: int = 2) -> str:
    """Display a stored percentage; None is "no data"."""
    return "no data" if pc is None else _display(pc, precision)


def _display(pc: float, precision: int) -> str:
    return display_covered(pc, precision)


def display_covered(pc: float, precision: int) -> str:
    """coverage.py's percentage display (`coverage.results.display_covered`): "0" and "100"
    only when exactly 0 and 100. Its rule, kept here: importing coverage.py to print a
    figure cost a command a tenth of its time; tests/test_numbers.py holds it to
    coverage.py's own function."""
    if precision < 0:
        raise ValueError(f"precision={precision} is invalid. Must not be negative.")
    near0 = 1.0 / 10**precision
    if 0 < pc < near0:
        pc = near0
    elif (100.0 - near0) < pc < 100:
        pc = 100.0 - near0
    else:
        pc = round(pc, precision)
    return f"{pc:.{precision}f}"
