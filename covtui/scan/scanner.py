"""The scanner's contract: what the dashboard's `r` key and `covtui watch` call, and what it
returns. `run_scan` (covtui.scan) runs the project's tests; the demo's `demo_scan` pretends to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from covtui.config import Config
from covtui.domain.model import Alert, RunStatus, SnapshotDraft

#: Called with (source name, one line of the command's output) as the scan runs.
OnOutput = Callable[[str, str], None]


@dataclass
class ScanOutcome:
    snapshot_id: int
    status: RunStatus
    alerts: list[Alert]
    draft: SnapshotDraft
    pruned: int = 0
    #: One line per source on how it ran when asked for an affected rescan ("incremental:
    #: 37 of 412 tests", or why it ran every test).
    notes: list[str] = field(default_factory=list)


class Scanner(Protocol):
    """Scan the configured sources (or the named ones) and store one snapshot.

    `affected`: rerun only the tests the changes affect where that is exact (`run_scan`);
    a scanner that can't (the demo's) runs as usual.

    Raises ScanBusy when another scan holds the database. Cancelling the awaiting task stops
    the work and records a cancelled snapshot before re-raising.
    """

    async def __call__(
        self,
        config: Config,
        *,
        sources: list[str] | None = ...,
        trigger: str = ...,
        on_output: OnOutput | None = ...,
        affected: bool = ...,
    ) -> ScanOutcome: ...
