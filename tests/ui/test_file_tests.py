"""The file view's tests column and tests panel: per-test coverage from real scans, import-only
lines marked, the selected line's tests exactly those coverage.py's contexts name."""

from __future__ import annotations

from covtui.config import Config
from covtui.coverage_compat import CoverageData
from covtui.domain.contexts import split_context
from covtui.present.text import NO_PER_TEST_DATA, ONLY_OUTSIDE_TESTS, RAN_AT_IMPORT
from covtui.tui.screens.file_view import FileViewScreen
from covtui.widgets.line_tests_panel import LineTestsPanel
from covtui.widgets.source_view import SourceView, count_cell

from ..conftest import Project
from .conftest import loaded, make_app, screen_text, wait_for


async def test_the_file_view_counts_the_tests_of_each_line(project: Project) -> None:
    project.covtui("scan", check=True)
    app = make_app(project.config, project.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        app.open_file("python", "pkg/calc.py")
        view = app.screen
        assert isinstance(view, FileViewScreen)
        await wait_for(pilot, lambda: view.gaps)
        await pilot.pause()
        tests = view.query_one(SourceView).model.tests
        assert tests is not None
        # `def` lines ran at import only; the bodies in one test each; missed lines: blank.
        assert count_cell(tests, 2).plain.strip() == "imp"
        assert count_cell(tests, 3).plain.strip() == "1"
        assert count_cell(tests, 8).plain.strip() == ""
        rows = screen_text(app).splitlines()
        assert any(row.lstrip().startswith("2  imp") for row in rows), rows
        assert any(row.lstrip().startswith("3    1") for row in rows), rows


def _contexts_by_line(config: Config, path: str) -> dict[int, set[str]]:
    """What coverage.py's own API says ran each line of `path` in the latest scan."""
    # (the scans ran in the project's own .covtui; the snapshots were recorded elsewhere)
    data = CoverageData(str(config.root / ".covtui" / "run" / "python" / ".coverage"))
    data.read()
    measured = next(f for f in data.measured_files() if f.endswith(path))
    return {line: set(names) for line, names in data.contexts_by_lineno(measured).items()}


async def _panel_at(pilot, panel: LineTestsPanel, line: int) -> None:
    await wait_for(pilot, lambda: panel.shown_line == line)


async def test_the_tests_panel_lists_the_tests_coverage_py_names_for_the_selected_line(
    why_config: Config,
) -> None:
    by_line = _contexts_by_line(why_config, "shop/cart.py")
    app = make_app(why_config, why_config.database_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        app.open_file("python", "shop/cart.py")
        view = app.screen
        assert isinstance(view, FileViewScreen)
        # The latest scan kept per-test coverage: the panel opens by itself.
        await wait_for(pilot, lambda: view.has_class("-line-tests"))
        source = view.query_one(SourceView)
        panel = view.query_one(LineTestsPanel)
        await pilot.press("home")
        n_lines = len(source.model.lines)
        checked = 0
        for line in range(1, n_lines + 1):
            assert source.cursor_line == line
            await _panel_at(pilot, panel, line)
            answer = panel.answer
            assert answer is not None and answer.line == line
            expected = sorted({split_context(c)[0] for c in by_line.get(line, ())} - {""})
            assert [t.name for t in answer.tests] == expected, line
            assert answer.ran == (line in by_line)
            assert answer.contexts == tuple(sorted(by_line.get(line, ())))
            checked += bool(expected)
            await pilot.press("down")
        assert checked >= 4
        # `down` on the last line stays there; `home`, `end`, `pageup` move the cursor.
        assert source.cursor_line == n_lines
        await pilot.press("home")
        assert source.cursor_line == 1
        await pilot.press("end")
        assert source.cursor_line == n_lines
        await pilot.press("pageup")
        assert source.cursor_line == 1

        # The class line ran at import only: said in words, no test listed.
        await _panel_at(pilot, panel, 1)
        text = screen_text(app)
        assert RAN_AT_IMPORT in text and ONLY_OUTSIDE_TESTS.split(",")[0] in text
        # A test id is text, not markup: "[bold]" shows as typed.
        add_line = next(n for n, names in by_line.items() if any("[bold]one" in c for c in names))
        await pilot.click(SourceView, offset=(20, add_line - 1 - int(source.scroll_y)))
        assert source.cursor_line == add_line
        await _panel_at(pilot, panel, add_line)
        assert "tests/test_shop.py::test_cart_counts[[bold]one]" in screen_text(app)

        # `T` hides the panel and shows it again.
        await pilot.press("T")
        assert not panel.display
        await pilot.press("T")
        assert panel.display


async def test_the_tests_panel_says_a_missed_line_ran_in_no_test(why_config: Config) -> None:
    by_line = _contexts_by_line(why_config, "shop/pricing.py")
    app = make_app(why_config, why_config.database_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        app.open_file("python", "shop/pricing.py")
        view = app.screen
        await wait_for(pilot, lambda: view.has_class("-line-tests"))
        panel = view.query_one(LineTestsPanel)
        # `n` to the first missed run: the lines only the deleted test ran.
        missed = next(i for i, g in enumerate(view.gaps) if g.kind == "missed")
        for _ in range(missed):
            await pilot.press("n")
        first_gap = view.gaps[missed].start
        assert first_gap not in by_line
        await _panel_at(pilot, panel, first_gap)
        assert panel.answer is not None and panel.answer.missed is True
        assert "missed: no test ran it" in screen_text(app)


async def test_without_per_test_coverage_the_panel_says_there_is_no_data(project: Project) -> None:
    project.write(
        "pyproject.toml",
        '[tool.coverage.run]\nsource = ["pkg"]\n\n[tool.covtui]\n'
        'sources = [{ name = "python", command = "pytest -q", contexts = false }]\n',
    )
    project.covtui("scan", check=True)
    app = make_app(project.config, project.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        app.open_file("python", "pkg/calc.py")
        view = app.screen
        await wait_for(pilot, lambda: view.gaps)
        await pilot.pause()
        panel = view.query_one(LineTestsPanel)
        assert not panel.display  # no per-test coverage: not opened by itself
        await pilot.press("T")
        await _panel_at(pilot, panel, view.query_one(SourceView).cursor_line)
        assert panel.answer is None
        text = screen_text(app)
        assert NO_PER_TEST_DATA in text
        assert "no tests" not in text.replace("no test ran", "")
