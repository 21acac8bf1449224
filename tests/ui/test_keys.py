"""Every key of the dashboard, driven through the pilot."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from covtui.domain.model import RunStatus
from covtui.errors import ScanBusy
from covtui.store import Store
from covtui.tui.screens.alerts import AlertsScreen
from covtui.tui.screens.file_view import FileViewScreen
from covtui.tui.screens.files import FilesScreen, FilesTable
from covtui.tui.screens.help import HelpScreen
from covtui.tui.screens.main import MainScreen
from covtui.widgets.scan_log import ScanLog
from covtui.widgets.source_view import SourceView

from .conftest import loaded, make_app, screen_text, wait_for


def scan_log_text(app) -> str:
    log = app.main_screen.query_one(ScanLog)
    return "\n".join(line.text for line in log.lines)


async def test_q_quits(config, db):
    app = make_app(config, db)
    async with app.run_test() as pilot:
        await loaded(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app._exit


async def test_r_streams_the_scan_into_the_log(config, db):
    calls = []

    async def fake_scan(cfg, *, sources=None, trigger="scan", on_output=None, affected=False):
        calls.append(trigger)
        for i in range(3):
            on_output("python", f"test_{i} PASSED [red]not markup[/]")
            await asyncio.sleep(0.01)
        return SimpleNamespace(snapshot_id=42, status=RunStatus.OK, alerts=[])

    app = make_app(config, db, scanner=fake_scan)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: "scan ok: snapshot #42" in scan_log_text(app))
        assert calls == ["dashboard"]
        log = scan_log_text(app)
        assert "python test_0 PASSED [red]not markup[/]" in log
        assert "s python" in log  # elapsed seconds before each line
        assert app.main_screen.has_class("-scan-visible")
        assert app.scan_started_at is None
        # escape hides the log once the scan is over
        await pilot.press("escape")
        assert not app.main_screen.has_class("-scan-visible")


async def test_r_rescans_the_affected_tests_and_shift_r_every_test(config, db):
    calls = []

    async def fake_scan(cfg, *, sources=None, trigger="scan", on_output=None, affected=False):
        calls.append(affected)
        return SimpleNamespace(
            snapshot_id=len(calls), status=RunStatus.OK, alerts=[],
            notes=["incremental: 37 of 412 tests"] if affected else [],
        )

    app = make_app(config, db, scanner=fake_scan)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: "incremental: 37 of 412 tests" in scan_log_text(app))
        await wait_for(pilot, lambda: not app.scanning)
        await pilot.press("R")
        await wait_for(pilot, lambda: "scan ok: snapshot #2" in scan_log_text(app))
    assert calls == [True, False]


async def test_a_rescan_that_did_not_measure_says_why_in_its_summary(config, db):
    """A source saved while the tests ran (or any source not ok): the rescan's own line says
    why, not only "scan cancelled"."""
    from covtui.domain.model import SourceResult

    why = "lib/[b]x[/b].py changed while the tests ran: its figures are void; scan again"

    async def voided_scan(cfg, *, sources=None, trigger="scan", on_output=None, affected=False):
        draft = SimpleNamespace(sources=[
            SourceResult("python", RunStatus.CANCELLED, message=why),
            SourceResult("rust", RunStatus.OK),
        ])
        return SimpleNamespace(snapshot_id=7, status=RunStatus.CANCELLED, alerts=[], draft=draft)

    app = make_app(config, db, scanner=voided_scan)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: "scan cancelled: snapshot #7" in scan_log_text(app))
        log = scan_log_text(app)
        assert f"python: {why}" in log  # as written: a path is not markup
        assert "rust:" not in log


async def test_c_and_escape_cancel_the_scan(config, db):
    cancelled = []

    async def slow_scan(cfg, *, sources=None, trigger="scan", on_output=None, affected=False):
        on_output("python", "collecting…")
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    app = make_app(config, db, scanner=slow_scan)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        for key in ("c", "escape"):
            await pilot.press("r")
            await wait_for(pilot, lambda: app.scan_started_at is not None)
            await wait_for(pilot, lambda: "collecting" in scan_log_text(app))
            assert "scanning" in screen_text(app)
            await pilot.press(key)
            await wait_for(pilot, lambda: app.scan_started_at is None)
            await wait_for(pilot, lambda: "scan cancelled" in scan_log_text(app))
        assert cancelled == [True, True]
        assert not app.scanning


async def test_a_busy_scanner_says_who_holds_the_lock(config, db):
    async def busy(cfg, **kwargs):
        raise ScanBusy("another scan is running (pid 4242, covtui watch)")

    app = make_app(config, db, scanner=busy)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: "pid 4242" in scan_log_text(app))
        assert any("pid 4242" in n.message for n in app._notifications)


async def test_t_cycles_the_trend_range(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert "Trend · auto: " in screen_text(app)
        for name in ("hour", "day", "week", "90 days"):
            await pilot.press("t")
            await wait_for(pilot, lambda name=name: f"Trend · {name}" in screen_text(app))
        await pilot.press("t")
        await wait_for(pilot, lambda: "Trend · auto: " in screen_text(app))


async def test_question_mark_opens_help(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "never jumped" not in screen_text(app)
        assert "Keys" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_command_palette_offers_the_actions(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Rescan", "Cancel scan", "Alerts", "Files", "Trend range", "Help"):
            assert title in titles


async def test_a_space_and_shift_a_acknowledge(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert app.state.n_unacknowledged == 3
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await wait_for(pilot, lambda: screen.loaded)
        assert "3 of 3 alerts shown" in screen_text(app)
        # The newest alert is selected: space acknowledges it, in the database.
        await pilot.press("space")
        await wait_for(pilot, lambda: app.state.n_unacknowledged == 2)
        async with await Store.open(db, create=False) as other:
            unacknowledged = await other.alerts(unacknowledged_only=True)
        assert [a.id for a in unacknowledged] == [2, 1]
        # Filters: s cycles the severity, u the rule.
        await pilot.press("s")  # critical
        await wait_for(pilot, lambda: "1 of 3 alerts shown" in screen_text(app))
        await pilot.press("s", "s", "s")  # warning, info, all
        await wait_for(pilot, lambda: "3 of 3 alerts shown" in screen_text(app))
        await pilot.press("u")
        await wait_for(pilot, lambda: "1 of 3 alerts shown" in screen_text(app))
        await pilot.press("u", "u", "u")
        await wait_for(pilot, lambda: "3 of 3 alerts shown" in screen_text(app))
        await pilot.press("A")
        await wait_for(pilot, lambda: app.state.n_unacknowledged == 0)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_f_filters_sorts_and_opens_a_file(config, db):
    # One file on disk, written after the scan: the view says it changed.
    source = config.root / "src/pkg/client.py"
    source.parent.mkdir(parents=True)
    source.write_text("".join(f"x_{n} = {n}\n" for n in range(1, 461)))
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("f")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FilesScreen)
        await wait_for(pilot, lambda: screen.loaded)
        table = screen.query_one(FilesTable)
        assert table.row_count == 11
        first = [row.key.value for row in table.ordered_rows][0]
        assert first.endswith("src/pkg/utils/migration.py")  # most missed first
        await pilot.press("ctrl+s")  # by percent
        assert [row.key.value for row in table.ordered_rows][-1].endswith("client.py")
        await pilot.press("ctrl+s")  # by name
        assert [row.key.value for row in table.ordered_rows][0].endswith("crates/engine/src/index.rs")
        await pilot.press(*"client")
        await wait_for(pilot, lambda: table.row_count == 1)
        assert "1 of 11 files" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        view_screen = app.screen
        assert isinstance(view_screen, FileViewScreen)
        await wait_for(pilot, lambda: view_screen.gaps)
        await pilot.pause()
        text = screen_text(app)
        assert "src/pkg/client.py" in text
        assert "changed on disk since the scan" in text
        assert "never jumped to 3" in text
        view = view_screen.query_one(SourceView)
        # The view opens at the first gap.
        first_gap = view.current_gap
        assert first_gap == view_screen.gaps[0] and "gap 1 of" in screen_text(app)
        await pilot.press("n")
        assert view.current_gap.start > first_gap.start
        await pilot.press("N")
        assert view.current_gap == first_gap
        await pilot.press("N")  # wraps to the last gap
        assert view.current_gap == view_screen.gaps[-1]
        assert view.scroll_y > 0
        await pilot.press("escape")
        assert isinstance(app.screen, FilesScreen)
        await pilot.press("ctrl+u")  # clears the filter
        await wait_for(pilot, lambda: table.row_count == 11)
        await pilot.press(*"client", "escape")  # back at once, as on every screen
        assert isinstance(app.screen, MainScreen)


async def test_enter_on_a_critical_file_opens_it(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FileViewScreen)
        assert screen.path == "src/pkg/server.py"
        await wait_for(pilot, lambda: screen.gaps)
        await pilot.pause()
        assert "not found on disk" in screen_text(app)
        assert "line 1 never jumped to 3 and never returned" in screen_text(app)
        await pilot.press("N")  # the last gap: the run of lines that never ran
        assert "never ran" in screen_text(app)


async def test_o_on_a_file_alert_opens_the_file(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.press("o")  # the newest: a file_regression alert (enter: the alert in full)
        await pilot.pause()
        assert isinstance(app.screen, FileViewScreen)
        assert app.screen.path == "src/pkg/[red]x[/].py"
