"""Live data: another process writes, the database vanishes, comes back, or turns to garbage."""

from __future__ import annotations

import os
import sqlite3

from covtui.widgets.status_line import StatusLine

from .conftest import NOW, loaded, make_app, screen_text, wait_for
from .fixtures import T0, add_snapshot, build_fixture_database


def _remove(path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists():
            p.unlink()


async def test_a_snapshot_written_elsewhere_shows_up(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        before = app.state.latest.id
        await add_snapshot(db, config, created_at=T0 + 300, fraction_bump=0.5)
        await wait_for(pilot, lambda: app.state.latest.id == before + 1, timeout=2.0)
        await pilot.pause()
        numbers = app.state.latest.numbers
        assert f"{numbers.n_executed:,} of {numbers.n_statements:,} lines" in screen_text(app)
        assert f"since #{before}" in screen_text(app)


async def test_new_alerts_raise_a_toast_and_the_bell(config, db, monkeypatch):
    config.bell = True
    app = make_app(config, db)
    rings = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert not app._notifications  # the history is not news
        # A big drop in the file with the most lines: a coverage_drop alert.
        await add_snapshot(db, config, created_at=T0 + 300, fraction_bump=0.0)
        await wait_for(pilot, lambda: len(app._notifications) > 0, timeout=2.0)
        assert rings
        messages = [n.message for n in app._notifications]
        assert any("Coverage fell" in m or "lost" in m for m in messages)


async def test_a_deleted_database_shows_stale_and_recovers(config, db):
    app = make_app(config, db, clock=lambda: NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        status = app.screen.query_one(StatusLine)
        _remove(db)
        await wait_for(pilot, lambda: app.poll_status.error is not None, timeout=2.0)
        await pilot.pause()
        assert status.has_class("-stale")
        assert "STALE" in screen_text(app)
        assert "missing" in screen_text(app)
        # The last good data stays on screen.
        assert "Top 5 critical files" in screen_text(app)
        await build_fixture_database(db, config)
        await wait_for(pilot, lambda: app.poll_status.error is None, timeout=3.0)
        await pilot.pause()
        assert not status.has_class("-stale")
        assert "● live" in screen_text(app)


async def test_a_garbage_file_and_a_newer_schema_are_errors_then_recover(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        _remove(db)
        db.write_bytes(b"this is not a database" * 100)
        await wait_for(pilot, lambda: app.poll_status.error is not None, timeout=2.0)
        assert "STALE" in screen_text(app)
        _remove(db)
        await build_fixture_database(db, config)
        await wait_for(pilot, lambda: app.poll_status.error is None, timeout=3.0)
        # A newer covtui wrote it: say so, and do not touch it.
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA user_version = 999")
        await wait_for(pilot, lambda: app.poll_status.error is not None, timeout=3.0)
        await pilot.pause()
        assert "newer covtui" in app.poll_status.error
        assert "newer covtui" in screen_text(app)


async def test_a_replaced_file_is_read_afresh(config, db, tmp_path):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        first = app.state.latest.id
        other = tmp_path / "other.db"
        await build_fixture_database(other, config, n=5)
        _remove(db)
        os.replace(other, db)
        await wait_for(pilot, lambda: app.state.latest.id == 5, timeout=3.0)
        assert first != 5


async def test_a_database_overwritten_in_place_goes_stale(config, db, tmp_path):
    app = make_app(config, db, clock=lambda: NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        inode = db.stat().st_ino
        # `cp garbage covtui.db`: same file, new bytes; its -wal and -shm stay behind.
        with open(db, "r+b") as f:
            f.truncate(0)
            f.write(b"this is not a database" * 100)
        assert db.stat().st_ino == inode
        await wait_for(pilot, lambda: app.poll_status.error is not None, timeout=2.0)
        await pilot.pause()
        assert "not a database" in app.poll_status.error
        assert "STALE" in screen_text(app)


async def test_a_status_posted_right_after_a_load_does_not_lose_the_load(config, db):
    # Textual drops a queued message when `message.can_replace(next one)`: a DashboardLoaded
    # followed at once by a PollSucceeded (the next quick poll) was dropped, and the dashboard
    # kept the old state until the database changed again (seen as a trend range not applied).
    import dataclasses

    from covtui.tui.messages import DashboardLoaded, PollSucceeded

    app = make_app(config, db)
    async with app.run_test() as pilot:
        await loaded(pilot)
        newer = dataclasses.replace(app.state, trend_range="90 days")
        app.post_message(DashboardLoaded(newer, app.poll_status))
        app.post_message(PollSucceeded(app.poll_status))
        await pilot.pause()
        await pilot.pause()
        assert app.state is newer
