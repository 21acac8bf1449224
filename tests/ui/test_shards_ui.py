"""The dashboard shows CI runs waiting for shards, and sources carried forward."""

from __future__ import annotations

import time

from covtui.store import Store

from .conftest import loaded, make_app, screen_text
from .fixtures import T0, add_snapshot


async def test_sources_panel_shows_an_incomplete_ci_run_and_a_carried_source(config, db):
    await add_snapshot(db, config, created_at=T0 + 60)  # runs python only: rust is carried
    async with await Store.open(db, create=False) as store:
        async with store.transaction():
            now = time.time()
            await store.lock_ci_run("991", "python", 4, now)
            for k in (1, 2, 4):
                await store.add_ci_shard("991", "python", k, f"digest{k}", now, [("lcov.info", "lcov", b"")])
        latest = (await store.latest_snapshot()).id
        rust = next(r for r in await store.sources() if r.source == "rust")
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "incomplete: 3 of 4 shards" in text
        assert f"carried from #{rust.snapshot_id}" in text and rust.snapshot_id < latest

