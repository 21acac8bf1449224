"""The file view's tests column: per-test counts from a real scan, import-only lines marked."""

from __future__ import annotations

from covtui.tui.screens.file_view import FileViewScreen
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
        await wait_for(pilot, lambda: view.gaps, timeout=10)
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
