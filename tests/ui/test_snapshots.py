"""How each screen looks at 80x24 and 160x48, on fixed data, in UTC, at a fixed "now"."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from covtui.config import Config
from covtui.widgets.source_view import SourceView

from .conftest import loaded, make_app, real_project_config, wait_for
from .fixtures import T0, build_fixture_database, build_real_database, fixture_config

SIZES = [(80, 24), (160, 48)]


@pytest.fixture(autouse=True)
def _pinned_project_path(monkeypatch):
    """The header names the project's directory, a new temporary one each run: pin it."""
    from covtui.widgets.project_header import ProjectHeader

    init = ProjectHeader.__init__

    def pinned(self, name, path, **kwargs):
        init(self, "shop", Path("/home/dev/src/shop"), **kwargs)

    monkeypatch.setattr(ProjectHeader, "__init__", pinned)


@pytest.fixture
def snap_config(tmp_path: Path) -> Config:
    config = fixture_config(tmp_path)
    asyncio.run(build_fixture_database(config.database_path, config))
    # One file on disk, last touched before the scan.
    source = tmp_path / "src/pkg/client.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "".join(
            f"def step_{n}(x):\n    if x > {n}:\n        return x - {n}\n    return x\n\n"
            for n in range(1, 93)
        )
    )
    os.utime(source, (T0 - 86400, T0 - 86400))
    return config


@pytest.fixture
def real_snap_config(tmp_path: Path, real_reports) -> Config:
    """The project coverage.py really measured, with diff coverage on its latest snapshot."""
    config = real_project_config(tmp_path)
    asyncio.run(build_real_database(config, real_reports))
    return config


def app_for(config: Config):
    return make_app(config, config.database_path)


async def _main(pilot) -> None:
    await loaded(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, snap_config, size):
    assert snap_compare(app_for(snap_config), terminal_size=size, run_before=_main)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_alerts_screen(snap_compare, snap_config, size):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "loaded", False))
        await pilot.pause()

    assert snap_compare(app_for(snap_config), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_alert_detail_screen(snap_compare, snap_config, size):
    """The grouped file-regression alert in full: its files, snapshot and baseline."""

    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "loaded", False))
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "context", None) is not None)
        await pilot.pause()

    assert snap_compare(app_for(snap_config), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_files_screen(snap_compare, snap_config, size):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("f")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "loaded", False))
        from textual.widgets import Input

        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*"pkg")
        await pilot.pause()

    assert snap_compare(app_for(snap_config), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_file_view(snap_compare, snap_config, size):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        pilot.app.open_file("python", "src/pkg/client.py")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "gaps", None))
        await wait_for(pilot, lambda: pilot.app.screen.file_gaps is not None)
        await pilot.pause()
        # It opens at the first gap.
        assert pilot.app.screen.query_one(SourceView).current_gap == pilot.app.screen.gaps[0]

    assert snap_compare(app_for(snap_config), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare, snap_config, size):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app_for(snap_config), terminal_size=size, run_before=run_before)


def test_main_screen_stale(snap_compare, snap_config):
    """The database went away: the red indicator, the last good data still shown."""

    async def run_before(pilot) -> None:
        await loaded(pilot)
        path = snap_config.database_path
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        await wait_for(pilot, lambda: pilot.app.poll_status.error is not None)
        pilot.app.poller.interval = 3600  # no more attempts while the picture is taken
        # The attempt already scheduled fails too, and then waits the new interval: the
        # picture says "retrying every 1.0 h" whatever the timing.
        await wait_for(pilot, lambda: (pilot.app.poll_status.retry_in or 0) >= 3600)
        await pilot.pause()

    assert snap_compare(app_for(snap_config), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_with_diff_coverage(snap_compare, real_snap_config, size):
    assert snap_compare(app_for(real_snap_config), terminal_size=size, run_before=_main)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_recommendations_screen(snap_compare, real_snap_config, size):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "loaded", False))
        await pilot.pause()

    assert snap_compare(app_for(real_snap_config), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_file_view_uncovered_functions(snap_compare, real_snap_config, size):
    """The uncovered list, and the view moved to the second function in it."""

    async def run_before(pilot) -> None:
        await loaded(pilot)
        pilot.app.open_file("python", "app/service.py")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "file_gaps", None) is not None)
        await pilot.press("u", "down", "down", "enter")
        await pilot.pause()
        assert pilot.app.screen.query_one(SourceView).current_gap is not None

    assert snap_compare(app_for(real_snap_config), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_file_view_tests_panel(snap_compare, why_config, size):
    """A line run by two tests (one of them named with brackets) selected: the tests panel
    lists them, from a real per-test scan; the cursor band marks the line."""
    from covtui.widgets.line_tests_panel import LineTestsPanel

    async def run_before(pilot) -> None:
        await loaded(pilot)
        pilot.app.open_file("python", "shop/cart.py")
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.has_class("-line-tests"))
        await pilot.press("home", *["down"] * 7)
        panel = screen.query_one(LineTestsPanel)
        await wait_for(pilot, lambda: panel.shown_line == 8)
        await pilot.pause()

    assert snap_compare(make_app(why_config, why_config.database_path), terminal_size=size, run_before=run_before)
