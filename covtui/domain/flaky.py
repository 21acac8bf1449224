"""Flaky lines: a line whose covered state flips between two snapshots in which its file's
content and the outcomes of the tests that ran it did not change.

Each flip adds 1 to the line's score, which halves every `half_life_days`; a line is flaky
while its score is at least `FLAKY_SCORE` (one flip keeps it flaky for one half-life).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from covtui.domain.contexts import LineTests

FLAKY_SCORE = 0.5


@dataclass(frozen=True)
class Score:
    value: float
    at: float  # epoch seconds of the last flip

    def now(self, t: float, half_life_days: float) -> float:
        return self.value * 0.5 ** (max(0.0, t - self.at) / (half_life_days * 86400.0))

    def is_flaky(self, t: float, half_life_days: float) -> bool:
        return self.now(t, half_life_days) >= FLAKY_SCORE


@dataclass(frozen=True)
class Measured:
    """A source's per-test coverage at one snapshot, what flips are judged on."""

    tests: Mapping[str, LineTests]  # path → its lines and their contexts
    missing: Mapping[str, frozenset[int]]  # path → missed statements
    outcomes: Mapping[str, str] | None  # test id → outcome (None: not recorded)
    commit: str | None = None
    dirty: bool | None = None


def comparable(before: Measured, after: Measured) -> bool:
    """Whether flips between the two can be nothing but chance: no code or test changed.

    With git: the same commit, clean at both. Without: the file's content is checked per
    file (tests can't be: their outcomes are).
    """
    if before.outcomes is None or after.outcomes is None:
        return False
    if before.commit is None and after.commit is None:
        return True
    return before.commit == after.commit and before.dirty is False and after.dirty is False


def flips(before: Measured, after: Measured) -> dict[str, frozenset[int]]:
    """Path → the lines whose covered state flipped by chance between the two snapshots."""
    if not comparable(before, after):
        return {}
    out: dict[str, frozenset[int]] = {}
    for path, now in after.tests.items():
        then = before.tests.get(path)
        if then is None or then.content is None or then.content != now.content:
            continue
        if then == now:
            continue  # the same lines run by the same contexts (by their blobs: not decoded)
        covered_then, covered_now = set(then.lines), set(now.lines)
        statements = (covered_then | before.missing.get(path, frozenset())) & (
            covered_now | after.missing.get(path, frozenset())
        )
        flipped = set()
        for line in (covered_then ^ covered_now) & statements:
            ran = set(then.tests_of(line)) | set(now.tests_of(line))
            if all(
                before.outcomes.get(t) == after.outcomes.get(t)  # type: ignore[union-attr]
                for t in ran
            ):
                flipped.add(line)
        if flipped:
            out[path] = frozenset(flipped)
    return out


def updated(
    scores: Mapping[int, Score], flipped: frozenset[int], t: float, half_life_days: float
) -> dict[int, Score]:
    """A file's new scores for the lines that flipped at time `t`."""
    return {
        line: Score((scores[line].now(t, half_life_days) if line in scores else 0.0) + 1.0, t)
        for line in flipped
    }
