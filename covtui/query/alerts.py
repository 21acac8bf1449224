"""Alert lists, and acknowledging alerts or taking that back (the one write a reader makes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from covtui.domain.model import MAX_ID, Alert, AlertRule
from covtui.domain.records import SnapshotRow
from covtui.errors import CovtuiError, ReadOnlyAccess
from covtui.query.explain import DiffReader, explanation
from covtui.store import Store


async def alert_list(
    store: Store, *, unacknowledged_only: bool = False, limit: int | None = None
) -> list[Alert]:
    """Alerts, newest first."""
    return await store.alerts(unacknowledged_only=unacknowledged_only, limit=limit)


#: Rules that compare the whole snapshot with the previous good one over the same sources.
OVERALL_RULES = frozenset(
    {AlertRule.COVERAGE_DROP.value, AlertRule.MILESTONE.value, AlertRule.EXCLUDED_LINES.value}
)
#: Rules that compare one source's result with its previous good one (that counted tests).
SOURCE_RULES = {
    AlertRule.FILE_REGRESSION.value: False,
    AlertRule.FILES_LEFT.value: False,
    AlertRule.TEST_FAILURES.value: True,
    AlertRule.TESTS_REMOVED.value: True,
}


@dataclass(frozen=True)
class AlertContext:
    """An alert with the snapshot that raised it and the one it was compared with."""

    alert: Alert
    #: None when the snapshot is gone (pruned) or the alert names none.
    snapshot: SnapshotRow | None
    #: None for rules that compare with no single snapshot (a failed scan, the test-time
    #: median, diff coverage against the merge base), or when it is gone.
    baseline: SnapshotRow | None
    #: Why coverage moved, one cause per line, where it is known (issue 12's explanations);
    #: None shows nothing rather than a guess.
    explanation: str | None = None


async def alert_context(
    store: Store, alert: Alert, diffs: DiffReader | None = None, half_life_days: float = 7.0
) -> AlertContext:
    """What `alert` was raised by and compared with, found as the rules found it; for an
    overall rule, why coverage moved between the two where per-test coverage tells it."""
    if alert.snapshot_id is None:
        return AlertContext(alert, None, None)
    snapshot = await store.snapshot(alert.snapshot_id)
    baseline = None
    if snapshot is not None and alert.rule in OVERALL_RULES:
        baseline = await store.comparable_before(snapshot)
    elif alert.rule in SOURCE_RULES and alert.source is not None:
        baseline = await store.source_good_before(
            alert.snapshot_id, alert.source, with_tests=SOURCE_RULES[alert.rule]
        )
    why = None
    if snapshot is not None and baseline is not None and alert.rule in OVERALL_RULES:
        e = await explanation(store, baseline.id, snapshot.id, diffs, half_life_days)
        if e.causes and e.exact:  # counted by file only: no guess shown
            why = "\n".join(c.describe() for c in e.causes)
    return AlertContext(alert, snapshot, baseline, why)


async def acknowledge(db_path: Path, ids: Iterable[int] | None, *, undo: bool = False) -> list[int]:
    """Acknowledge alerts (all when `ids` is None), or with `undo` take their acknowledgement
    back, through a connection of its own: readers hold read-only ones. Returns the ids whose
    state changed (what a later undo gives back)."""
    ids = None if ids is None else list(ids)
    async with await Store.open(db_path, create=False) as store:
        for alert_id in ids or ():
            if not 0 < alert_id <= MAX_ID:  # more than SQLite can hold: no such row
                raise CovtuiError(f"{db_path}: no alert with id {alert_id}")
        try:
            return await store.set_acknowledged(ids, not undo)
        except ReadOnlyAccess:
            raise ReadOnlyAccess(
                f"{db_path}: acknowledging alerts needs write access to the database; "
                "this user may only read it"
            ) from None
