"""Alert lists, and acknowledging alerts (the one write a reader makes)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from covtui.domain.model import MAX_ID, Alert
from covtui.errors import CovtuiError
from covtui.store import Store


async def alert_list(
    store: Store, *, unacknowledged_only: bool = False, limit: int | None = None
) -> list[Alert]:
    """Alerts, newest first."""
    return await store.alerts(unacknowledged_only=unacknowledged_only, limit=limit)


async def acknowledge(db_path: Path, ids: Iterable[int] | None) -> int:
    """Acknowledge alerts (all when `ids` is None) through a connection of its own: readers
    hold read-only ones. Returns how many were acknowledged."""
    async with await Store.open(db_path, create=False) as store:
        for alert_id in ids or ():
            if not 0 < alert_id <= MAX_ID:  # more than SQLite can hold: no such row
                raise CovtuiError(f"{db_path}: no alert with id {alert_id}")
        return await store.acknowledge(ids)
