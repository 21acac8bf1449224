"""Components: named parts of the project and their numbers, summed from the stored files.

A component's files are those its globs match, with coverage.py's `--include` rules (its own
glob matcher, relative globs taken from the project root), or those an owner owns in
CODEOWNERS. Its numbers are the sum of its files' `Numbers`, exact like any sum of them. A
file in no component counts under "other"; a file in two counts in both, and is listed as
shared. Generated files (see `domain/generated.py`) are left out when the config says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from covtui.config import OTHER, Config
from covtui.coverage_compat import GlobMatcher
from covtui.domain.model import Alert, AlertRule, Severity
from covtui.domain.numbers import Numbers


class PathGlobs:
    """Globs matched as `coverage report --include` matches them, from the project `root`.

    coverage.py makes a glob that does not start with a wildcard absolute (from the current
    directory, which for covtui is the project root) and matches absolute file names; so
    does this, keeping the glob as given too, as coverage.py does.
    """

    def __init__(self, globs: Iterable[str], root: Path) -> None:
        self.globs = list(globs)
        self.root = str(root)
        prepped: list[str] = []
        for glob in self.globs:
            prepped.append(glob)
            if not glob.startswith(("*", "?")):
                prepped.append(os.path.join(self.root, glob))
        self._matcher = GlobMatcher(prepped, "covtui") if prepped else None

    def matches(self, path: str) -> bool:
        """Whether the stored `path` (relative to the root, or absolute) is one of these."""
        if self._matcher is None:
            return False
        return self._matcher.match(path if os.path.isabs(path) else os.path.join(self.root, path))


@dataclass(frozen=True)
class Component:
    """A component's name and the test of whether a stored path belongs to it."""

    name: str
    matches: Callable[[str], bool]


def components_of(config: Config) -> list[Component]:
    """The configured components, then (with `codeowners = true`) one per CODEOWNERS owner,
    in the order the owners first appear: a file belongs to the owners of the last rule that
    matches it, as GitHub and GitLab decide."""
    found = [Component(c.name, PathGlobs(c.paths, config.root).matches) for c in config.components]
    if config.codeowners_text is not None:
        found += owner_components(config.codeowners_text, {c.name for c in found})
    return found


def owner_components(text: str, taken: set[str] = frozenset()) -> list[Component]:
    from codeowners import CodeOwners

    owners = CodeOwners(text)
    names: list[str] = []
    for _, _, found, _, _ in reversed(owners.paths):
        names += [name for _, name in found if name not in names and name not in taken]

    def owned_by(name: str) -> Callable[[str], bool]:
        return lambda path: any(owner == name for _, owner in owners.of(path))

    return [Component(name, owned_by(name)) for name in names]


@dataclass(frozen=True)
class ComponentNumbers:
    """One component's numbers and files; "other" holds the files in no component."""

    name: str
    numbers: Numbers
    paths: tuple[str, ...]
    #: Its files that another component counts too.
    shared: tuple[str, ...] = ()

    @property
    def is_other(self) -> bool:
        return self.name == OTHER


@dataclass(frozen=True)
class Breakdown:
    """The project split into its components at one snapshot."""

    components: tuple[ComponentNumbers, ...]  # configured order; "other" last, when it has files
    #: Files left out as generated (they count in no component).
    generated: tuple[str, ...]
    #: Every file's numbers but the generated ones': coverage.py's total with them omitted.
    total: Numbers

    def get(self, name: str) -> ComponentNumbers | None:
        return next((c for c in self.components if c.name == name), None)


class _File:
    """What the breakdown needs of a stored file row (`FileRow` has these)."""

    path: str
    numbers: Numbers


def break_down(
    files: Sequence[_File], components: Sequence[Component], generated: Iterable[str] = ()
) -> Breakdown:
    """Sum each component's files (every source's row for a path counts, as in the total)."""
    left_out = set(generated)
    counted = [f for f in files if f.path not in left_out]
    member = {c.name: [f for f in counted if c.matches(f.path)] for c in components}
    homes: dict[str, int] = {}
    for rows in member.values():
        for path in {f.path for f in rows}:
            homes[path] = homes.get(path, 0) + 1
    result = [
        ComponentNumbers(
            name,
            sum((f.numbers for f in rows), Numbers()),
            _paths(rows),
            tuple(p for p in _paths(rows) if homes[p] > 1),
        )
        for name, rows in member.items()
    ]
    if components:
        other = [f for f in counted if f.path not in homes]
        if other:
            result.append(ComponentNumbers(OTHER, sum((f.numbers for f in other), Numbers()), _paths(other)))
    return Breakdown(
        tuple(result),
        tuple(sorted(left_out & {f.path for f in files})),
        sum((f.numbers for f in counted), Numbers()),
    )


def selection_numbers(files: Sequence[_File], globs: PathGlobs, generated: Iterable[str] = ()) -> Numbers:
    """The sum of the files `globs` match (generated ones left out)."""
    left_out = set(generated)
    return sum((f.numbers for f in files if f.path not in left_out and globs.matches(f.path)), Numbers())


def numbers_at(
    start: Iterable[tuple[str, str, Numbers]],
    changes: Iterable[tuple[int, str, str, Numbers | None]],
    at: Sequence[int],
    keeps: Callable[[str], bool],
) -> dict[int, Numbers]:
    """A selection's numbers at each snapshot in `at` (ascending), replaying the stored file
    changes: `start` holds every (source, path, numbers) at `at[0]`, `changes` those after it
    as (snapshot id, source, path, numbers; None: the file left), oldest first. Files `keeps`
    refuses count nowhere. Each result is the sum of the files' states then: the same
    figure as summing the files read at that snapshot."""
    state = {(source, path): n for source, path, n in start if keeps(path)}
    pending = iter(changes)
    change = next(pending, None)
    result: dict[int, Numbers] = {}
    total: Numbers | None = None  # the sum as of the last point; None once a change applies
    for sid in at:
        while change is not None and change[0] <= sid:
            _, source, path, n = change
            if keeps(path):
                total = None
                if n is None:
                    state.pop((source, path), None)
                else:
                    state[(source, path)] = n
            change = next(pending, None)
        if total is None:  # (most points change nothing: no new sum)
            total = sum(state.values(), Numbers())
        result[sid] = total
    return result


def _paths(rows: Iterable[_File]) -> tuple[str, ...]:
    return tuple(sorted({f.path for f in rows}))


def component_drops(
    before: Breakdown, after: Breakdown, config: Config
) -> list[Alert]:
    """A critical alert for each component whose coverage fell at least its `coverage_drop`
    (the project's `alerts.coverage_drop` when it has none) between two breakdowns."""
    own = {c.name: c.coverage_drop for c in config.components}
    alerts = []
    for now in after.components:
        then = before.get(now.name)
        if now.is_other or then is None or not now.numbers.has_data or not then.numbers.has_data:
            continue
        threshold = own.get(now.name) or config.alerts.coverage_drop
        drop = then.numbers.pc_covered - now.numbers.pc_covered
        if drop >= threshold:
            p = config.precision
            alerts.append(Alert(
                AlertRule.COMPONENT_DROP, Severity.CRITICAL,
                f"Component {now.name!r} fell {drop:.{p}f} points to {now.numbers.pc_covered_str(p)}% "
                f"(from {then.numbers.pc_covered_str(p)}% before this snapshot)",
                value=drop, threshold=threshold, source=None,
            ))
    return alerts
