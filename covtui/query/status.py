"""What `covtui status` shows: the latest snapshot, its sources and files, unacknowledged alerts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from covtui.config import Config
from covtui.domain.critical import critical_files
from covtui.domain.model import Alert
from covtui.domain.records import FileRow, SnapshotRow, SourceRow

if TYPE_CHECKING:
    from covtui.store import Store


@dataclass(frozen=True)
class Status:
    """The current coverage at a glance (no trend, unlike the dashboard's state)."""

    latest: SnapshotRow | None
    previous: SnapshotRow | None  # the comparable snapshot the change is measured against
    sources: list[SourceRow]
    files: list[FileRow]
    critical_files: list[FileRow]
    alerts: list[Alert]  # every unacknowledged one, newest first


async def current_status(store: Store, config: Config) -> Status:
    """What `covtui status` shows, each part read once."""
    latest = await store.latest_snapshot()
    files = await store.files()
    unacknowledged = await store.alerts(unacknowledged_only=True)
    return Status(
        latest=latest,
        previous=await store.comparable_before(latest) if latest else None,
        sources=await store.sources(),
        files=files,
        critical_files=critical_files(files, config.critical_files),
        alerts=unacknowledged,
    )
