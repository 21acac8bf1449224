"""What an alert's one line leaves out, and what a coverage.py source cannot see."""

from __future__ import annotations

import dataclasses

from textual.widgets import Static

from covtui.record import record_snapshot
from covtui.store import Store
from covtui.tui.screens.alerts import AlertsScreen
from covtui.widgets.sources import SourcesPanel

from .conftest import loaded, make_app, screen_text, wait_for
from .fixtures import PYTHON_FILES, _file, fixture_drafts


async def test_grouped_alert_detail_and_the_unimported_notice(config, db):
    # One more snapshot: two code files lose covered lines; coverage.py had no `source`.
    draft = fixture_drafts()[-1]
    python = draft.sources[0]
    files = list(python.report.files)
    for k in (1, 2):
        path, statements, branches = PYTHON_FILES[k]
        files[k] = _file(path, statements, branches, 0.01)
    report = dataclasses.replace(python.report, files=files, measures_unimported=False)
    draft = dataclasses.replace(
        draft, sources=[dataclasses.replace(python, report=report)], created_at=draft.created_at + 1
    )
    async with await Store.open(db, create=False) as store:
        _, alerts = await record_snapshot(store, draft, config)
    (grouped,) = [a for a in alerts if a.rule == "file_regression"]
    assert grouped.message.startswith("2 files lost")

    app = make_app(config, db)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        sources = str(app.main_screen.query_one(SourcesPanel).render())
        assert "coverage.py's `source` is not set" in sources
        await pilot.press("a")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await wait_for(pilot, lambda: screen.loaded)
        pane = screen.query_one("#alert-detail", Static)
        # The newest alert (the grouped one) is selected: its detail shows under the table.
        await wait_for(pilot, lambda: pane.display)
        text = screen_text(app)
        for line in grouped.detail.splitlines():
            assert line in text
        await pilot.press("down")
        await wait_for(pilot, lambda: not pane.display)
