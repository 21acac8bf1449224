"""`g` and the file view's uncovered list, on a project coverage.py really measured."""

from __future__ import annotations

from textual.widgets import OptionList

from covtui.domain.recommend import IMMEDIATE
from covtui.tui.screens.file_view import FileViewScreen
from covtui.tui.screens.main import MainScreen
from covtui.tui.screens.recommendations import RecommendationsScreen
from covtui.widgets.source_view import SourceView
from covtui.widgets.uncovered_list import UncoveredList

from .conftest import loaded, make_app, screen_text, wait_for
from .fixtures import REAL_SERVICE


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(REAL_SERVICE.splitlines(), 1) if text in line)


async def test_g_lists_what_to_test_and_enter_opens_the_file(real_config, real_db):
    app = make_app(real_config, real_db)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        assert "g What to test" in screen_text(app)  # the footer
        await pilot.press("g")
        screen = app.screen
        assert isinstance(screen, RecommendationsScreen)
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.pause()
        recs = screen.recommendations
        assert [(r.priority, r.path) for r in recs] == [
            (IMMEDIATE, "app/service.py"),
            (IMMEDIATE, "app/helpers.py"),
        ]
        text = screen_text(app)
        # The service's gaps, as coverage.py measured them: create_app never ran (10
        # statements), load's handlers and Cache.drop (4 each), four handlers, two async.
        service = recs[0].numbers
        assert f"app/service.py — {service.pc_covered_str(2)}% of 40 statements and 6 branches" in text
        assert (
            "start with `create_app` (10 lines uncovered), then `load` (4 lines uncovered), "
            "`Cache.drop` (4 lines uncovered)"
        ) in text
        assert "4 uncovered except handlers (in `create_app`, `parse`, `load`) → error-path tests" in text
        assert "2 async functions never run (`fetch`, `fetch_all`) → async tests" in text
        assert "app/helpers.py — 75.00% of 4 statements" in text
        assert "start with `triple` (1 line uncovered)" in text
        assert "Immediate priority" in text
        # The first file is highlighted: enter opens it.
        await pilot.press("down", "enter")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, FileViewScreen)
        assert view.path == "app/helpers.py"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RecommendationsScreen)
        await pilot.press("up", "enter")
        await pilot.pause()
        assert isinstance(app.screen, FileViewScreen) and app.screen.path == "app/service.py"
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        # The command palette offers it too.
        assert "What to test" in [c.title for c in app.get_system_commands(app.screen)]


async def test_file_view_lists_uncovered_functions_and_jumps_to_them(real_config, real_db):
    app = make_app(real_config, real_db)
    async with app.run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        app.open_file("python", "app/service.py")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, FileViewScreen)
        await wait_for(pilot, lambda: view.file_gaps is not None and view.gaps)
        await pilot.pause()
        panel = view.query_one(UncoveredList)
        text = screen_text(app)
        for name in ("create_app", "parse", "load", "Cache.drop", "fetch", "fetch_all"):
            assert name in text
        assert "  10/10   create_app fn" in text  # never ran
        assert "   4/4    Cache.drop method" in text
        assert f"{line_of('except ValueError:'):>4} except ValueError in create_app" in text
        assert "except PermissionError in load" in text
        assert "Async functions never run (2)" in text
        # u focuses the list; enter on Cache.drop moves the source there.
        await pilot.press("u")
        await pilot.pause()
        assert panel.has_focus
        key = next(k for k, t in panel.targets.items() if t.label.startswith("Cache.drop"))
        panel.highlighted = panel.get_option_index(key)
        await pilot.press("enter")
        await pilot.pause()
        source = view.query_one(SourceView)
        drop = line_of("def drop")
        assert source.current_gap is not None and source.current_gap.start == drop
        assert source.scroll_y > 0 and source.scroll_y <= drop - 1 <= source.scroll_y + source.size.height
        assert "▶ Cache.drop (method): 4 lines uncovered of 4" in screen_text(app)
        # n goes on to the first gap inside it.
        await pilot.press("n")
        assert view.gaps[view.gap_index].start >= drop
        # An except handler: its lines.
        key = next(k for k in panel.targets if k.startswith("handler-"))
        panel.focus()
        panel.highlighted = panel.get_option_index(key)
        await pilot.press("enter")
        await pilot.pause()
        assert source.current_gap.start == line_of("except ValueError:")


async def test_a_file_not_on_disk_lists_its_stored_functions(real_config, real_db):
    (real_config.root / "app/service.py").unlink()
    app = make_app(real_config, real_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.open_file("python", "app/service.py")
        await pilot.pause()
        view = app.screen
        await wait_for(pilot, lambda: view.file_gaps is not None and view.gaps)
        await pilot.pause()
        text = screen_text(app)
        assert "create_app" in text
        assert "source not available" in text
        # Jumping goes to the first gap row inside the function.
        panel = view.query_one(UncoveredList)
        panel.focus()
        key = next(k for k, t in panel.targets.items() if t.label.startswith("create_app"))
        panel.highlighted = panel.get_option_index(key)
        await pilot.press("enter")
        await pilot.pause()
        assert view.query_one(SourceView).current_gap is not None
        assert isinstance(panel, OptionList)
