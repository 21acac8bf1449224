"""What an alert's one line leaves out, and what a coverage.py source cannot see."""

from __future__ import annotations

import dataclasses

from covtui.record import record_snapshot
from covtui.store import Store
from covtui.tui.screens.alert_detail import AlertDetailScreen, quantity
from covtui.tui.screens.alerts import AlertsScreen, AlertsTable
from covtui.widgets.alert_history import AlertHistory
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
        # The newest alert (the grouped one) is selected: enter shows it in full.
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, AlertDetailScreen)
        await wait_for(pilot, lambda: detail.loaded)
        text = screen_text(app)
        for line in grouped.detail.splitlines():
            assert line in text
        assert f"snapshot #{grouped.snapshot_id}" in text
        await pilot.press("escape")
        assert app.screen is screen


async def test_enter_shows_the_whole_message_snapshot_baseline_and_values(config, db):
    async with await Store.open(db, create=False) as store:
        alerts = await store.alerts()
        (regression,) = [a for a in alerts if a.rule == "file_regression"]
        raised_by = await store.snapshot(regression.snapshot_id)
        baseline = await store.source_good_before(regression.snapshot_id, "python")
    assert baseline is not None and baseline.id < raised_by.id
    app = make_app(config, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        table = screen.query_one(AlertsTable)
        # At 80 columns the message is cut, and says so with an ellipsis, from the first paint.
        message_cell = table.get_cell(str(regression.id), "message")
        assert len(regression.message) > table.columns["message"].width
        assert message_cell.plain.endswith("…")
        assert len(message_cell.plain) <= table.columns["message"].width
        table.move_cursor(row=table.get_row_index(str(regression.id)))
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, AlertDetailScreen)
        await wait_for(pilot, lambda: detail.loaded)
        text = " ".join(screen_text(app).split())  # wrapped lines joined back
        assert regression.message in text
        assert f"Alert #{regression.id}" in text
        assert f"snapshot #{raised_by.id}" in text and f"commit {raised_by.git_commit}" in text
        assert f"Compared with snapshot #{baseline.id}" in text
        assert f"Value {int(regression.value):,} covered lines lost" in text
        assert "Threshold 1 covered line lost" in text  # the fixture config: 1 line
        assert "Acknowledged no" in text


async def test_acknowledging_is_undone_on_the_alerts_screen_and_in_the_detail(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.press("A")
        await wait_for(pilot, lambda: app.state.n_unacknowledged == 0)
        await pilot.press("z")  # takes back what A acknowledged, all three
        await wait_for(pilot, lambda: app.state.n_unacknowledged == 3)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.state.n_unacknowledged == 2)
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, AlertDetailScreen)
        await wait_for(pilot, lambda: detail.loaded and detail.alert.acknowledged_at is not None)
        assert "(z takes it back)" in screen_text(app)
        await pilot.press("z")
        await wait_for(pilot, lambda: detail.alert.acknowledged_at is None)
        await wait_for(pilot, lambda: app.state.n_unacknowledged == 3)
        await pilot.press("space")
        await wait_for(pilot, lambda: detail.alert.acknowledged_at is not None)
    async with await Store.open(db, create=False) as store:
        assert len(await store.alerts(unacknowledged_only=True)) == 2


async def test_enter_on_the_main_screens_alert_panel_opens_that_alert(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        panel = app.main_screen.query_one(AlertHistory)
        panel.focus()
        await pilot.press("down", "enter")
        detail = app.screen
        assert isinstance(detail, AlertDetailScreen)
        assert detail.alert.id == app.state.alerts[1].id
        await wait_for(pilot, lambda: detail.loaded)
        assert app.state.alerts[1].message in " ".join(screen_text(app).split())
        await pilot.press("escape")
        assert app.screen is app.main_screen


def test_values_are_written_as_the_messages_write_them():
    assert quantity("coverage_drop", 2.0, 2) == "2.00 points"
    assert quantity("coverage_drop", 1.456, 1) == "1.5 points"
    assert quantity("milestone", 99.9999, 2) == "99.99%"  # coverage.py's rule: never 100
    assert quantity("file_regression", 1, 2) == "1 covered line lost"
    assert quantity("tests_removed", 1234, 2) == "1,234 fewer tests"
    assert quantity("test_time", 113.4, 2) == "113% over the median"
    assert quantity("scan_failed", None, 2) == "—"
    assert quantity("component_drop", 3.0, 2) == "3.00 points"
    assert quantity("excluded_lines", 12, 2) == "12 more excluded lines"


def test_an_explanation_shows_only_where_one_exists():
    from rich.console import Console

    from covtui.domain.model import Alert, Severity
    from covtui.query.alerts import AlertContext
    from covtui.tui.screens.alert_detail import detail_table

    alert = Alert("coverage_drop", Severity.CRITICAL, "Coverage fell 1.00 points", value=1.0, threshold=1.0)

    def shown(context: AlertContext) -> str:
        console = Console(width=100, record=True, color_system=None)
        console.print(detail_table(context, 2))
        return console.export_text()

    assert "Why" not in shown(AlertContext(alert, None, None))
    text = shown(AlertContext(alert, None, None, explanation="tests_removed: test_a [red]x"))
    assert "Why" in text and "tests_removed: test_a [red]x" in text
    assert any(line.startswith("Value") and "1.00 points" in line for line in text.splitlines())


async def test_the_explanation_screenshot_shows_why_coverage_fell(why_config) -> None:
    """The README's explanation shot (covtui.tui.screenshots): the drop's detail names the
    deleted test and the added module, from two real scans with per-test coverage."""
    from covtui.demo.why import DELETED
    from covtui.tui.screenshots import _explanation

    app = make_app(why_config, why_config.database_path)
    async with app.run_test(size=(120, 24)) as pilot:
        await loaded(pilot)
        await _explanation(pilot)
        detail = app.screen
        assert isinstance(detail, AlertDetailScreen) and detail.loaded
        text = screen_text(app)
        assert "coverage_drop" in text
        assert "code_added: +0 covered, +5 missed lines in shop/shipping.py" in text
        assert "tests_removed: -4 covered, +4 missed lines in shop/pricing.py; tests" in text
        assert f"tests/test_shop.py::{DELETED}" in text
