"""The Files, Alerts and What-to-test screens: title bars, whole columns beside a scrollbar,
home/end, and a footer that never cuts a key."""

from __future__ import annotations

import dataclasses
import re

from textual.widgets import Input

from covtui.domain.model import FileCoverage
from covtui.domain.numbers import Numbers
from covtui.record import record_snapshot
from covtui.store import Store
from covtui.tui.screens.alerts import AlertsScreen, AlertsTable
from covtui.tui.screens.file_view import FileViewScreen
from covtui.tui.screens.files import FilesScreen, FilesTable
from covtui.tui.screens.help import HelpScreen
from covtui.tui.screens.main import MainScreen
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.source_view import SourceView
from covtui.widgets.title_bar import TitleBar
from covtui.widgets.uncovered_list import function_row, line_row

from .conftest import loaded, make_app, screen_text, wait_for
from .fixtures import fixture_drafts


async def test_files_columns_fit_beside_the_scrollbar_and_home_end_go_to_rows(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(80, 12)) as pilot:  # 11 files in fewer rows: a scrollbar
        await loaded(pilot)
        await pilot.press("f")
        screen = app.screen
        assert isinstance(screen, FilesScreen)
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.pause()
        table = screen.query_one(FilesTable)
        assert table.show_vertical_scrollbar
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if "Missed/total" in line)
        assert header.rstrip().endswith("Change") or "Change " in header
        # Every change figure shown is whole ("▼ −5.88", "= 0.00"), not cut by the scrollbar.
        rows = [line for line in lines if line.startswith(" python") or line.startswith(" rust")]
        assert rows and all(re.search(r"([=▲▼] [+−]?\d+\.\d\d|new)( |$)", r) for r in rows), rows
        assert screen.query_one(Input).has_focus
        await pilot.press("end")
        assert table.cursor_coordinate.row == table.row_count - 1
        assert table.scroll_x == 0
        await pilot.press("home")
        assert table.cursor_coordinate.row == 0
        title = screen.query_one(TitleBar)
        assert "Files · 11 of 11 files · sorted by missed" in str(title.render())
        await pilot.press(*"pkg")
        await wait_for(pilot, lambda: "filter: pkg" in str(title.render()))
        await pilot.press("escape")  # back at once, with a filter typed
        assert isinstance(app.screen, MainScreen)


async def test_the_footer_leaves_out_whole_keys_at_80_columns(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        for key, screen_type in (("a", AlertsScreen), ("f", FilesScreen)):
            await pilot.press(key)
            await wait_for(
                pilot, lambda t=screen_type: isinstance(app.screen, t) and app.screen.loaded
            )
            await pilot.pause(0.1)
            footer_line = screen_text(app).splitlines()[-1]
            assert footer_line.rstrip().endswith("^p palette"), footer_line
            footer = app.screen.query_one(KeyFooter)
            shown = [k for k in footer.query("FooterKey") if k.display]
            # Each shown key lies wholly left of the palette key, and help is among them.
            palette = next(k for k in shown if k.has_class("-command-palette"))
            assert all(k.region.right <= palette.region.x for k in shown if k is not palette)
            assert any(k.action.endswith("show_help") for k in shown)
            await pilot.press("escape")


async def test_wrapped_recommendation_lines_keep_their_indent(real_config, real_db):
    app = make_app(real_config, real_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("g")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.pause()
        lines = screen_text(app).splitlines()
        title = lines[0]
        assert title.startswith(" What to test · 2 immediate · 0 secondary")
        start = next(i for i, line in enumerate(lines) if "• start with `create_app`" in line)
        bullet_at = lines[start].index("•")
        # The action wraps: its next line starts under the text, not at the left edge.
        following = lines[start + 1]
        assert "uncovered" in following
        text_at = len(following) - len(following.lstrip())
        assert text_at > bullet_at, (lines[start], following)


async def test_the_file_view_opens_at_the_first_gap_with_whole_notes(config, db):
    # The source the fixture measured: partial branches on lines 1, 2, 3, … (as in the snapshots).
    source = config.root / "src/pkg/client.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "".join(
            f"def step_{n}(x):\n    if x > {n}:\n        return x - {n}\n    return x\n\n"
            for n in range(1, 93)
        )
    )
    app = make_app(config, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.open_file("python", "src/pkg/client.py")
        view = app.screen
        assert isinstance(view, FileViewScreen)
        await wait_for(pilot, lambda: view.gaps and view.file_gaps is not None)
        await pilot.pause()
        assert view.gap_index == 0
        source = view.query_one(SourceView)
        assert source.current_gap == view.gaps[0]
        lines = screen_text(app).splitlines()
        assert any(line.startswith(" gap 1 of") for line in lines)
        # Each branch note beside the code is whole, or cut with an ellipsis at the pane's edge.
        notes = [line[line.index("↳"):] for line in lines if "↳" in line]
        assert notes
        for note in notes:
            body = note.rstrip(" ▁▂▃▄▅▆▇█▔▏▕│┃")
            assert body.endswith("…") or body.endswith("never returned") or body[-1].isdigit(), note
        assert not any("exited" in line or "jumped to 4 or jumped" in line for line in lines)


def test_uncovered_functions_wrap_under_their_name():
    """A long name's kind ("method") wraps under the name, never to the panel's edge."""
    from rich.console import Console
    from rich.style import Style
    from rich.text import Text

    row = function_row(12, 30, "SQLiteStateManager.checkpoint_write_ahead_log", "method", Style(), Style())
    console = Console(width=30, record=True, color_system=None)
    console.print(row)
    lines = console.export_text().splitlines()
    assert lines[0].startswith("  12/30   SQLiteStateManager")
    assert len(lines) >= 2
    for line in lines[1:]:
        assert line[:10].strip() == "", lines  # under the name (column 10), not at column 0
    assert "method" in "".join(lines)
    console = Console(width=24, record=True, color_system=None)
    console.print(line_row(129, Text("except (PermissionError, IsADirectoryError) in load"), Style()))
    lines = console.export_text().splitlines()
    assert lines[0].startswith(" 129 except")
    assert len(lines) >= 2 and all(line[:5].strip() == "" for line in lines[1:]), lines


async def test_help_lists_the_keys_of_the_screen_it_was_opened_on(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = help_screen.text
        assert "## Keys on Alerts" in text
        assert "- `z`: take back the last acknowledgement" in text
        assert "- `enter`: the selected alert in full\n" in text
        assert "- `home` / `end`: the first / last row\n" in text
        assert "Next gap" not in text and "next missed run" not in text  # the file view's
        assert "filter box" not in text
        await pilot.press("escape")
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)
        await pilot.press("question_mark")  # types into the filter: help says so
        assert isinstance(app.screen, FilesScreen)
        assert app.screen.query_one(Input).value == "?"
        await pilot.press("f1")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = help_screen.text
        assert "## Keys on Files" in text
        assert "letters type into it" in text
        assert "- `escape`: back to the screen before\n" in text
        assert "- `/`: type in the filter box\n" in text
        assert "- `F1`: the keys of this screen\n" in text
        assert "- `ctrl+s`: cycle the sort (missed, percent, name)\n" in text
        assert "`?`" in text.split("## Keys everywhere")[1]
        await pilot.press("f1")
        assert isinstance(app.screen, FilesScreen)


async def test_the_file_view_scrolls_to_a_first_gap_far_down(config, db):
    """A licence header and imports first: the view opens where the first gap is."""
    async with await Store.open(db, create=False) as store:
        draft = fixture_drafts()[-1]
        python = draft.sources[0]
        files = [f for f in python.report.files if f.path != "src/pkg/client.py"]
        numbers = Numbers(n_files=1, n_files_covered=1, n_statements=460, n_missing=6,
                          n_branches=0, n_partial_branches=0, n_missing_branches=0)
        files.append(FileCoverage("src/pkg/client.py", numbers, tuple(range(200, 206)), ()))
        report = dataclasses.replace(python.report, files=files)
        draft = dataclasses.replace(
            draft, sources=[dataclasses.replace(python, report=report)], created_at=draft.created_at + 1
        )
        await record_snapshot(store, draft, config)
    source = config.root / "src/pkg/client.py"
    source.parent.mkdir(parents=True)
    source.write_text("".join(f"x_{n} = {n}\n" for n in range(1, 461)))
    app = make_app(config, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.open_file("python", "src/pkg/client.py")
        view = app.screen
        await wait_for(pilot, lambda: view.gaps)
        source_view = view.query_one(SourceView)
        # The scroll is made again once the new source is laid out: wait for it (or fail).
        await wait_for(pilot, lambda: source_view.scroll_y > 150)
        assert view.gap_index == 0 and view.gaps[0].start == 200
        assert "x_200 = 200" in screen_text(app)


async def test_alerts_at_80_columns_give_the_source_columns_room_to_the_message(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        screen = app.screen
        await wait_for(pilot, lambda: getattr(screen, "loaded", False))
        await pilot.pause()
        table = screen.query_one(AlertsTable)
        assert [c.value for c in table.columns] == ["ack", "id", "when", "severity", "rule", "message"]
        assert table.columns["message"].width >= 30
        assert "Source" not in screen_text(app)
        await pilot.press("down")
        selected = table.cursor_key
        await pilot.resize_terminal(120, 30)
        await wait_for(pilot, lambda: "source" in [c.value for c in table.columns])
        await pilot.pause()
        assert "Source" in screen_text(app)
        assert table.cursor_key == selected  # the same alert stays selected


async def test_a_screen_that_cannot_load_says_so_where_it_shows_its_data_and_stays_open(config, db):
    """Each data screen: a failed query is one line on the screen (as text, never markup),
    the screen stays usable, and escape goes back."""
    from covtui.tui.screens.components import ComponentsScreen
    from covtui.tui.screens.excluded import ExcludedScreen

    app = make_app(config, db)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)

        async def broken(*_args, **_kwargs):
            raise RuntimeError("database is locked [bold]x[/bold]")

        for key, name, screen_type, query in [
            ("f", "the files", FilesScreen, "files"),
            ("a", "the alerts", AlertsScreen, "alerts"),
            ("C", "the components", ComponentsScreen, "components"),
            ("x", "the exclusions", ExcludedScreen, "exclusions"),
        ]:
            original = getattr(app.queries, query)
            setattr(app.queries, query, broken)
            try:
                await pilot.press(key)
                assert isinstance(app.screen, screen_type)
                expected = f"cannot load {name}: database is locked [bold]x[/bold]"
                await wait_for(pilot, lambda expected=expected: expected in screen_text(app))
            finally:
                setattr(app.queries, query, original)
            await pilot.press("escape")
            assert isinstance(app.screen, MainScreen)
