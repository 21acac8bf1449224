"""A writer process for fault tests: stores snapshots from pickled real reports in a loop.

`python -m tests.faults.writer DB REPORTS.pickle COUNT LOG [TRIGGER]` (DB: a file, or a
postgresql:// URL) writes COUNT snapshots
(0: forever), cycling through the reports, and appends each stored id to LOG after its commit.
"""

from __future__ import annotations

import asyncio
import pickle
import random
import sys
from pathlib import Path

from covtui.config import Config
from covtui.domain.model import RunStatus, SnapshotDraft, SourceResult
from covtui.dsn import PostgresTarget, is_postgres
from covtui.record import record_snapshot
from covtui.store import Store


async def main(db: str, reports_path: Path, count: int, log: Path, trigger: str) -> None:
    reports = pickle.loads(reports_path.read_bytes())
    config = Config(root=log.parent)
    target = PostgresTarget.parse(db) if is_postgres(db) else Path(db)
    async with await Store.open(target) as store:
        print("ready", flush=True)
        i = 0
        while count == 0 or i < count:
            report = reports[i % len(reports)]
            draft = SnapshotDraft(trigger, [SourceResult("python", RunStatus.OK, report)])
            snapshot_id, _ = await record_snapshot(store, draft, config)
            with open(log, "a") as f:
                f.write(f"{snapshot_id}\n")
            i += 1
            # Real writers (a scan, an ingest) pause between snapshots; a few ms is plenty
            # less than any real loop, and keeps one writer from starving the other.
            await asyncio.sleep(random.uniform(0, 0.01))


if __name__ == "__main__":
    db, reports, count, log, *rest = sys.argv[1:]
    asyncio.run(main(db, Path(reports), int(count), Path(log), rest[0] if rest else "scan"))
