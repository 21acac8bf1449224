"""The poller with a database that tells of its commits: a check at each notification, a slow
poll besides, the regular poll and a reconnect when the feed is lost.

The feed here is a stand-in (the PostgreSQL one is tested against a server in
tests/store/test_pg_live.py): what is tested is what the poller does with it.
"""

from __future__ import annotations

import asyncio

import pytest

from covtui.errors import StoreError
from covtui.tui import poller as poller_module

from .conftest import loaded, make_app, wait_for
from .fixtures import T0, add_snapshot


class FakeFeed:
    """Tells a commit when `notify()` is called; fails when `lose()` is."""

    def __init__(self) -> None:
        self.told = asyncio.Event()
        self.lost: str | None = None
        self.closed = False

    def notify(self) -> None:
        self.told.set()

    def lose(self) -> None:
        self.lost = "connection lost"
        self.told.set()

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.told.wait(), timeout)
        except TimeoutError:
            return False
        self.told.clear()
        if self.lost:
            raise StoreError(f"change notifications lost: {self.lost}")
        return True

    async def close(self) -> None:
        self.closed = True


class Feeds(list):
    """The feeds the poller opened; while `refused`, opening one fails (a server that is
    down, or refuses connections)."""

    refused = False


@pytest.fixture
def feeds(monkeypatch: pytest.MonkeyPatch) -> Feeds:
    opened = Feeds()

    async def open_feed(target):
        if opened.refused:
            raise StoreError("cannot listen for changes: connection refused")
        opened.append(FakeFeed())
        return opened[-1]

    monkeypatch.setattr(poller_module, "open_change_feed", open_feed)
    return opened


async def test_a_notification_shows_a_new_snapshot_at_once_without_polling(config, db, feeds):
    config.poll_interval = 1.0
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: app.poller.listening)
        assert app.poller.interval == poller_module.FALLBACK_POLL_S
        before = app.state.latest.id
        await add_snapshot(db, config, created_at=T0 + 300, fraction_bump=0.5)
        await pilot.pause(1.5)  # a 1 s poll would have seen it by now; the slow one does not
        assert app.state.latest.id == before
        feeds[-1].notify()
        await wait_for(pilot, lambda: app.state.latest.id == before + 1, timeout=1.0)


async def test_a_lost_feed_falls_back_to_polling_and_reconnects(config, db, feeds):
    """The feed is lost and cannot be opened again for a while: the 0.2 s poll goes on."""
    config.poll_interval = 0.2
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: app.poller.listening)
        first = feeds[-1]
        feeds.refused = True
        first.lose()
        await wait_for(pilot, lambda: not app.poller.listening, timeout=1.0)
        assert first.closed
        assert app.poller.interval == 0.2
        # Meanwhile the regular poll still finds what is written.
        before = app.state.latest.id
        await add_snapshot(db, config, created_at=T0 + 300, fraction_bump=0.5)
        await wait_for(pilot, lambda: app.state.latest.id == before + 1, timeout=2.0)
        assert app.poll_status.error is None  # the database answers: nothing is stale
        assert len(feeds) == 1 and not app.poller.listening
        feeds.refused = False
        await wait_for(pilot, lambda: len(feeds) == 2 and app.poller.listening, timeout=3.0)
        assert app.poller.interval == poller_module.FALLBACK_POLL_S


async def test_the_feed_is_closed_when_the_dashboard_quits(config, db, feeds):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: app.poller.listening)
    assert feeds[-1].closed
    assert app.poller._feed_task is None
