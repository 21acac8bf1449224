"""Recording a snapshot: read the history it is judged against, plan it, store it."""

from __future__ import annotations

from collections.abc import Iterable

from covtui.config import Config
from covtui.domain.model import Alert, SnapshotDraft
from covtui.store import Store


async def record_snapshot(store: Store, draft: SnapshotDraft, config: Config) -> tuple[int, list[Alert]]:
    """Store `draft` and the alerts it raises, all in one transaction."""
    return await store.write_snapshot(draft, config)


async def record_snapshots(
    store: Store, drafts: Iterable[SnapshotDraft], config: Config
) -> list[tuple[int, list[Alert]]]:
    """Store many snapshots in one transaction (imports, the demo, benchmarks)."""
    return await store.write_snapshots(drafts, config)
