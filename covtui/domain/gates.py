"""Gates: floors on a component's or a glob's coverage, and the ratchet that raises them.

A floor is a percentage (`fail_under`, checked as coverage.py checks its own: at the
display precision, and 100 only by 100) or a count (`max_uncovered`: at most that many
missing lines, Istanbul's negative thresholds). The ratchet moves a floor only up (a
percentage up, a count down), to what held for the last N good snapshots less a margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from covtui.config import Config, RatchetConfig
from covtui.domain.numbers import Numbers, display_covered

COMPONENT = "components"
GATE = "gates"


@dataclass(frozen=True)
class Floor:
    """One configured gate: where it is in the config, what it covers, its limits."""

    kind: str  # COMPONENT or GATE: the config list it is in
    index: int  # its place in that list
    label: str  # "component 'daemon'" or "gate 'src/core/*'"
    name: str  # the component's name, or the gate's label
    fail_under: float | None
    max_uncovered: int | None


def floors_of(config: Config) -> list[Floor]:
    """Every component and gate with at least one floor, in config order."""
    found = [
        Floor(COMPONENT, i, f"component {c.name!r}", c.name, c.fail_under, c.max_uncovered)
        for i, c in enumerate(config.components)
        if c.fail_under is not None or c.max_uncovered is not None
    ]
    found += [
        Floor(GATE, i, f"gate {g.label!r}", g.label, g.fail_under, g.max_uncovered)
        for i, g in enumerate(config.gates)
    ]
    return found


def should_fail_under(pc: float, fail_under: float, precision: int) -> bool:
    """coverage.py's rule (`coverage.results.should_fail_under`): compare at the display
    precision, except that 100 needs exactly 100."""
    if fail_under == 100.0 and pc != 100.0:
        return True
    return round(pc, precision) < fail_under


@dataclass(frozen=True)
class GateResult:
    floor: Floor
    numbers: Numbers | None  # None or no files: no data, which fails
    failures: tuple[str, ...]  # one line each; empty when it passed

    @property
    def passed(self) -> bool:
        return not self.failures


def check(floor: Floor, numbers: Numbers | None, precision: int) -> GateResult:
    """Whether `numbers` keep above the floor; a gate over no measured file fails ("no data")."""
    if numbers is None or not numbers.has_data:
        return GateResult(floor, numbers, (f"{floor.label}: no data (its globs match no measured file)",))
    failures = []
    if floor.fail_under is not None and should_fail_under(numbers.pc_covered, floor.fail_under, precision):
        failures.append(
            f"{floor.label}: {display_covered(numbers.pc_covered, precision)}% is below "
            f"fail_under {_pc(floor.fail_under)}%"
        )
    if floor.max_uncovered is not None and numbers.n_missing > floor.max_uncovered:
        failures.append(
            f"{floor.label}: {numbers.n_missing:,} uncovered lines, more than "
            f"max_uncovered {floor.max_uncovered:,}"
        )
    return GateResult(floor, numbers, tuple(failures))


@dataclass(frozen=True)
class Raise:
    """A floor the ratchet moves: `key` of the entry at `kind[index]`, from `old` to `new`."""

    floor: Floor
    key: str  # "fail_under" or "max_uncovered"
    old: float | int
    new: float | int

    def describe(self) -> str:
        if self.key == "fail_under":
            return f"{self.floor.label}: fail_under {_pc(self.old)} -> {_pc(self.new)}"
        return f"{self.floor.label}: max_uncovered {self.old:,} -> {self.new:,}"


def ratchet(
    floor: Floor, history: Sequence[Numbers | None], settings: RatchetConfig, precision: int
) -> tuple[list[Raise], str | None]:
    """The raises for `floor` given its numbers at the latest good snapshots (newest first),
    or why there are none (too little history, no data)."""
    held = list(history[: settings.snapshots])
    if len(held) < settings.snapshots:
        return [], f"{floor.label}: {len(held)} of {settings.snapshots} good snapshots so far"
    if any(n is None or not n.has_data for n in held):
        return [], f"{floor.label}: no data in one of the last {settings.snapshots} snapshots"
    raises = []
    if floor.fail_under is not None:
        lowest = min(n.pc_covered for n in held)
        # Down to the precision, so the new floor never exceeds what held.
        scale = 10**precision
        target = math.floor((lowest - settings.margin) * scale) / scale
        if target > floor.fail_under:
            raises.append(Raise(floor, "fail_under", floor.fail_under, min(target, 100.0)))
    if floor.max_uncovered is not None:
        target = max(n.n_missing for n in held) + settings.margin_lines
        if target < floor.max_uncovered:
            raises.append(Raise(floor, "max_uncovered", floor.max_uncovered, target))
    return raises, None


def _pc(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else repr(float(x))
