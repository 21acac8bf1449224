"""Data is never markup: file names, alert messages, watcher names and source text show literally."""

from __future__ import annotations

import sqlite3

from covtui.screens.file_view import FileViewScreen
from covtui.screens.files import FilesScreen, FilesTable
from covtui.widgets.alert_history import AlertHistory
from covtui.widgets.source_view import SourceView

from .conftest import NOW, loaded, make_app, screen_text, wait_for
from .fixtures import MARKUP_CLICK, MARKUP_RED, T0

EVIL = "[@click=app.quit]boom[/] and [red]red[/] and [b]bold"


async def test_markup_in_data_shows_literally_and_does_nothing(config, db):
    # A source file whose text looks like markup, too.
    on_disk = config.root / MARKUP_CLICK
    on_disk.parent.mkdir(parents=True)
    on_disk.write_text("".join(f"print('[red]{n}[/]')  # [@click=app.quit]\n" for n in range(1, 41)))
    app = make_app(config, db)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        # Another process raises an alert whose message is markup, and a watcher with a
        # markup name beats.
        with sqlite3.connect(db) as conn:
            conn.execute(
                "INSERT INTO alerts (snapshot_id, created_at, rule, severity, source, path, message) "
                "VALUES (29, ?, 'file_regression', 'critical', 'python', ?, ?)",
                (T0, MARKUP_CLICK, EVIL),
            )
            conn.execute(
                "INSERT INTO heartbeats (name, pid, started_at, beat_at, next_scan_at, state) "
                "VALUES ('[b]w[/b]', 1, ?, ?, NULL, '[red]sleeping[/]')",
                (NOW - 100, NOW - 5),
            )
        await wait_for(pilot, lambda: any(a.message == EVIL for a in app.state.alerts))
        await wait_for(pilot, lambda: app._notifications)
        await pilot.pause()
        text = screen_text(app)
        assert EVIL[:35] in text  # the alert panel (the message is cut to fit)
        assert any(n.message == EVIL for n in app._notifications)  # the toast, verbatim
        assert "watcher [b]w[/b]: alive ([red]sleeping[/])" in text
        assert f"{MARKUP_RED} lost" in text  # an alert message the rules wrote
        # Clicking the message does not run its "action".
        table = app.screen.query_one(AlertHistory)
        await pilot.click(AlertHistory, offset=(40, 2))
        await pilot.pause()
        assert not app._exit
        assert table.row_count == 4

        await pilot.press("f")
        screen = app.screen
        assert isinstance(screen, FilesScreen)
        await wait_for(pilot, lambda: screen.loaded)
        text = screen_text(app)
        assert MARKUP_RED in text
        assert MARKUP_CLICK in text
        await pilot.press(*"click")
        await wait_for(pilot, lambda: screen.query_one(FilesTable).row_count == 1)
        await pilot.click(FilesTable, offset=(20, 1))
        await pilot.press("enter")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, FileViewScreen)
        await wait_for(pilot, lambda: view.gaps)
        await pilot.pause()
        text = screen_text(app)
        assert MARKUP_CLICK in text
        assert "print('[red]1[/]')  # [@click=app.quit]" in text
        await pilot.click(SourceView, offset=(30, 3))
        await pilot.pause()
        assert not app._exit
