"""The exclusions audit: the latest snapshot's files, parsed again by coverage.py in a thread,
the files `omit` and covtui's generated-code rule leave out, the count over time, and the
counts per reason each scan recorded, against the comparable snapshot before."""

from __future__ import annotations

import asyncio

from covtui.config import Config
from covtui.domain.exclusions import (
    Audit,
    ExcludedPoint,
    reason_changes,
)
from covtui.query.components import generated_files
from covtui.readers.exclusions import start_audit
from covtui.store import Store

#: How many snapshots the count's history goes back.
HISTORY = 50


async def exclusions_audit(store: Store, config: Config) -> Audit:
    files = await store.files()
    stored: dict[str, int] = {}
    sources: dict[str, str] = {}
    for f in files:
        stored[f.path] = stored.get(f.path, 0) + f.numbers.n_excluded
        sources.setdefault(f.path, f.source)
    # Generated files count in coverage.py's total; covtui leaves them out of components.
    generated = await generated_files(config, list(stored)) if config.generated.leave_out else []
    # In a worker process: coverage.py changes directory to find its config.
    reading = start_audit(
        config.root, stored, sources, [(g.path, g.why) for g in generated],
        config.work_dir / "cache",
    )
    audited, left_out = await asyncio.to_thread(reading)
    good = [
        s for s in reversed(await store.snapshots(HISTORY))
        if s.status == "ok" and s.numbers is not None and s.numbers.has_data
    ]
    counted = await store.exclusion_counts([s.id for s in good])
    history = [
        ExcludedPoint(s.id, s.created_at, s.numbers.n_excluded, counted.get(s.id)) for s in good
    ]
    reasons = previous_id = None
    previous_recorded = False
    if good:
        latest = good[-1]
        before = await store.comparable_before(latest)
        previous = None
        if before is not None:
            previous_id = before.id
            previous = (await store.exclusion_counts([before.id])).get(before.id)
            previous_recorded = previous is not None
        if latest.id in counted:
            reasons = tuple(reason_changes(counted[latest.id], previous))
    return Audit(
        tuple(audited), tuple(left_out), tuple(history), reasons, previous_id, previous_recorded
    )
