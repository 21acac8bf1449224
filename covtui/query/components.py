"""Components, gates and the ratchet's history, computed from the stored per-file numbers.

Nothing new is stored: a component's numbers at a snapshot are the sum of its files' states
at that snapshot, which the store keeps already.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from covtui.config import OTHER, Config, Phase
from covtui.domain.components import (
    Breakdown,
    PathGlobs,
    break_down,
    components_of,
    selection_numbers,
)
from covtui.domain.gates import GATE, Floor, GateResult, Raise, check, floors_of, ratchet
from covtui.domain.generated import GeneratedFile
from covtui.domain.numbers import Numbers
from covtui.domain.records import FileRow
from covtui.readers.heads import find_generated_files
from covtui.store import Store


@dataclass(frozen=True)
class ComponentState:
    """The components and gates at one snapshot."""

    snapshot_id: int | None
    breakdown: Breakdown
    generated: list[GeneratedFile]
    gates: list[GateResult]
    #: The components at the comparable snapshot before (the one the overall change is
    #: against), when there is one and the change was asked for.
    previous: Breakdown | None = None
    previous_snapshot_id: int | None = None
    #: Components with phases of their own (the others use the project's).
    phases: dict[str, list[Phase]] = field(default_factory=dict)

    def pc_change(self, name: str) -> float | None:
        """A component's change in points since `previous`; None when either has no data."""
        now = self.breakdown.get(name)
        before = self.previous.get(name) if self.previous is not None else None
        if now is None or before is None or not now.numbers.has_data or not before.numbers.has_data:
            return None
        return now.numbers.pc_covered - before.numbers.pc_covered


async def generated_files(config: Config, paths: Sequence[str]) -> list[GeneratedFile]:
    """The generated files among `paths`, by name or by the header on disk (read in a thread)."""
    return await asyncio.to_thread(find_generated_files, config, paths)


def _left_out(config: Config, generated: list[GeneratedFile]) -> set[str]:
    return {g.path for g in generated} if config.generated.leave_out else set()


def floor_numbers(
    config: Config, floor: Floor, files: Sequence[FileRow], breakdown: Breakdown, left_out: set[str]
) -> Numbers | None:
    """The numbers a floor is checked against."""
    if floor.kind == GATE:
        return selection_numbers(files, PathGlobs(config.gates[floor.index].paths, config.root), left_out)
    found = breakdown.get(floor.name)
    return found.numbers if found is not None else None


async def component_state(
    store: Store, config: Config, snapshot_id: int | None = None,
    generated: list[GeneratedFile] | None = None,
) -> ComponentState:
    """The components, generated files and gates at `snapshot_id` (default: now, with each
    component's change since the comparable snapshot before)."""
    files = await store.files(snapshot_id=snapshot_id)
    if generated is None:
        generated = await generated_files(config, [f.path for f in files])
    left_out = _left_out(config, generated)
    components = components_of(config)
    breakdown = break_down(files, components, left_out)
    results = [
        check(floor, floor_numbers(config, floor, files, breakdown, left_out), config.precision)
        for floor in floors_of(config)
    ]
    previous = previous_id = None
    latest = await store.latest_snapshot() if snapshot_id is None and components else None
    before = await store.comparable_before(latest) if latest is not None else None
    if before is not None:
        previous_id = before.id
        previous = break_down(await store.files(snapshot_id=before.id), components, left_out)
    own = {c.name: c.phases for c in config.components if c.phases}
    return ComponentState(snapshot_id, breakdown, generated, results, previous, previous_id, own)


@dataclass(frozen=True)
class ComponentFilter:
    """One component, for showing the dashboard as if the project were only that: which
    paths it holds (generated ones left out as its figures leave them out), its phases, its
    alert threshold, its gate."""

    name: str
    holds: Callable[[str], bool]
    phases: list[Phase]
    coverage_drop: float
    #: Its floors in words ("at least 80%", "at most 10 uncovered lines"); "" without.
    floor: str = ""

    def about(self, path: str | None) -> bool:
        return path is not None and self.holds(path)


async def component_filter(store: Store, config: Config, name: str) -> ComponentFilter | None:
    """The filter for component `name` ("other": the files in no component); None when the
    config names no such component."""
    components = components_of(config)
    if name == OTHER:
        def matches(path: str) -> bool:
            return not any(c.matches(path) for c in components)
    else:
        found = next((c for c in components if c.name == name), None)
        if found is None:
            return None
        matches = found.matches
    # Only its own files' headers are read (in a thread): every reload asks again.
    paths = {f.path for f in await store.files() if matches(f.path)}
    left_out = _left_out(config, await generated_files(config, sorted(paths))) if components else set()
    own = next((c for c in config.components if c.name == name), None)
    floors = []
    if own is not None and own.fail_under is not None:
        floors.append(f"at least {own.fail_under:g}%")
    if own is not None and own.max_uncovered is not None:
        floors.append(f"at most {own.max_uncovered:,} uncovered lines")
    return ComponentFilter(
        name,
        lambda path: path not in left_out and matches(path),
        (own.phases if own is not None and own.phases else None) or config.phases,
        (own.coverage_drop if own is not None else None) or config.alerts.coverage_drop,
        " and ".join(floors),
    )


@dataclass(frozen=True)
class RatchetPlan:
    raises: list[Raise]
    notes: list[str]  # floors left as they are, and why


async def ratchet_plan(store: Store, config: Config) -> RatchetPlan:
    """What `covtui ratchet` would change: each floor against its last good snapshots."""
    floors = floors_of(config)
    ids = await store.good_snapshot_ids(config.ratchet.snapshots)
    history: dict[Floor, list[Numbers | None]] = {f: [] for f in floors}
    generated: list[GeneratedFile] | None = None
    for sid in ids:
        state = await component_state(store, config, sid, generated)
        generated = state.generated  # found once: the disk does not change between snapshots
        for result in state.gates:
            history[result.floor].append(result.numbers)
    raises: list[Raise] = []
    notes: list[str] = []
    for floor in floors:
        found, note = ratchet(floor, history[floor], config.ratchet, config.precision)
        raises += found
        if note:
            notes.append(note)
    return RatchetPlan(raises, notes)


async def component_trend(store: Store, config: Config, n: int = 20) -> dict[str, list[float | None]]:
    """Each component's coverage at the latest `n` good snapshots, oldest first (None: no
    data then); generated files found once, on disk now."""
    ids = list(reversed(await store.good_snapshot_ids(n)))
    components = components_of(config)
    trend: dict[str, list[float | None]] = {c.name: [] for c in components}
    left_out: set[str] | None = None
    for i, sid in enumerate(ids):
        files = await store.files(snapshot_id=sid)
        if left_out is None:
            left_out = _left_out(config, await generated_files(config, [f.path for f in files]))
        for found in break_down(files, components, left_out).components:  # "other" too
            trend.setdefault(found.name, [None] * i).append(
                found.numbers.pc_covered if found.numbers.has_data else None
            )
        for values in trend.values():
            values += [None] * (i + 1 - len(values))
    return trend
