"""`covtui explain`, the alert detail's explanation and the report's "Why coverage moved":
the two ends' files, per-test coverage and test outcomes, read and handed to the domain."""

from __future__ import annotations

from covtui.domain.explain import DiffReader, Ends, Explanation, FileSide, explain
from covtui.domain.flaky import Score
from covtui.domain.model import MAX_ID
from covtui.domain.records import SnapshotRow
from covtui.errors import CovtuiError
from covtui.store import Store

__all__ = ["DiffReader", "explanation", "read_ends"]


async def explanation(
    store: Store,
    from_id: int | None = None,
    to_id: int | None = None,
    diffs: DiffReader | None = None,
    half_life_days: float = 7.0,
) -> Explanation:
    """Why coverage moved from FROM to TO (default: the latest snapshot against the good
    snapshot before it over the same sources)."""
    to = await _snapshot(store, to_id)
    if from_id is None:
        before = await store.comparable_before(to)
        if before is None:
            raise CovtuiError(f"snapshot #{to.id}: no earlier good snapshot over the same sources")
    else:
        before = await _snapshot(store, from_id)
    if before.id == to.id:
        raise CovtuiError(f"FROM and TO are the same snapshot (#{to.id})")
    return explain(before.id, to.id, await read_ends(store, before, to, diffs, half_life_days))


async def read_ends(
    store: Store,
    before: SnapshotRow,
    to: SnapshotRow,
    diffs: DiffReader | None = None,
    half_life_days: float = 7.0,
) -> Ends:
    states_a, states_b = await store.states_at(before.id), await store.states_at(to.id)
    tests_a, tests_b = await store.line_tests(before.id), await store.line_tests(to.id)

    def sides(states, tests) -> dict:
        out = {}
        for key, f in states.items():
            t = tests.get(key)
            out[key] = FileSide(
                f.numbers.n_statements, f.numbers.n_missing, frozenset(f.missing_lines),
                t, t.content if t is not None else None,
            )
        return out

    changes = None
    if diffs is not None and before.git_commit and to.git_commit:
        changes = await diffs(before.git_commit, to.git_commit)
    return Ends(
        sides(states_a, tests_a), sides(states_b, tests_b), changes,
        await store.test_outcomes(to.id),
        {
            key: frozenset(
                line for line, value in lines.items()
                if Score(*value).is_flaky(to.created_at, half_life_days)
            )
            for key, lines in (await store.flaky_scores()).items()
        },
    )


async def _snapshot(store: Store, snapshot_id: int | None) -> SnapshotRow:
    if snapshot_id is None:
        row = await store.latest_snapshot()
        if row is None:
            raise CovtuiError(f"{store.path}: no snapshots yet")
        return row
    row = await store.snapshot(snapshot_id) if 0 < snapshot_id <= MAX_ID else None
    if row is None:
        raise CovtuiError(f"{store.path}: no snapshot #{snapshot_id}")
    return row
