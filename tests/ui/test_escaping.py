"""Data is never markup: file names, alert messages, watcher names and source text show literally."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from covtui.config import SourceConfig
from covtui.domain.gaps import SOURCE_OUTSIDE
from covtui.domain.model import CoverageReport, RunStatus, SnapshotDraft, SourceResult
from covtui.record import record_snapshot
from covtui.store import Store
from covtui.tui.screens.file_view import FileViewScreen
from covtui.tui.screens.files import FilesScreen, FilesTable
from covtui.widgets.alert_history import AlertHistory
from covtui.widgets.scan_log import ScanLog
from covtui.widgets.source_view import SourceView

from .conftest import NOW, loaded, make_app, screen_text, wait_for
from .fixtures import (
    MARKUP_CLICK,
    MARKUP_RED,
    REAL_EXERCISES,
    REAL_HELPERS,
    T0,
    _file,
    fixture_config,
    fixture_drafts,
    write_real_project,
)

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


CONTROL_PATH = "src/pkg/evil\x1b[2J\x07.py"
CONTROL_MESSAGE = "coverage fell \x1b[2J\x07 in evil"


def rendered_segments(app) -> list[str]:
    return [segment.text for strip in app.screen._compositor.render_strips() for segment in strip]


def assert_no_raw_controls(app) -> None:
    texts = rendered_segments(app)
    assert not any("\x1b" in t or "\x07" in t for t in texts)


async def _add_control_snapshot(db, config) -> None:
    """A file whose name holds an escape sequence and a bell, as the latest snapshot."""
    draft = fixture_drafts()[-1]
    python = draft.sources[0]
    files = [*python.report.files, _file(CONTROL_PATH, 3000, 0, 0.0)]
    async with await Store.open(db, create=False) as store:
        await record_snapshot(store,
            SnapshotDraft(
                "scan",
                [SourceResult("python", RunStatus.OK, CoverageReport("coverage.py", files, has_branches=True))],
                created_at=T0 + 30,
            ),
            config,
        )


async def test_control_characters_in_data_show_as_escapes(config, db):
    await _add_control_snapshot(db, config)
    on_disk = config.root / CONTROL_PATH
    on_disk.parent.mkdir(parents=True)
    on_disk.write_text("".join(f'print("\x1b[2J\x07 {n}")\n' for n in range(1, 3001)))

    async def fake_scan(cfg, *, sources=None, trigger="scan", on_output=None, affected=False):
        on_output("python", "test_evil\x1b[2J\x07 PASSED \x1b]0;title\x07 \x1b[31mred\x1b[0m")
        return SimpleNamespace(snapshot_id=31, status=RunStatus.OK, alerts=[])

    app = make_app(config, db, clock=lambda: NOW + 30, scanner=fake_scan)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        with sqlite3.connect(db) as conn:
            conn.execute(
                "INSERT INTO alerts (snapshot_id, created_at, rule, severity, source, path, message) "
                "VALUES (30, ?, 'file_regression', 'critical', 'python', ?, ?)",
                (T0 + 30, CONTROL_PATH, CONTROL_MESSAGE),
            )
            conn.execute(
                "INSERT INTO heartbeats (name, pid, started_at, beat_at, next_scan_at, state) "
                "VALUES (?, 1, ?, ?, NULL, 'idle')",
                ("w\x1b[2J\x07", NOW - 100, NOW),
            )
        await wait_for(pilot, lambda: any(a.message == CONTROL_MESSAGE for a in app.state.alerts))
        await wait_for(pilot, lambda: app._notifications)
        await pilot.pause()
        text = screen_text(app)
        shown_path = "src/pkg/evil\\x1b[2J\\x07.py"
        assert shown_path in text  # critical files
        assert "coverage fell \\x1b[2J\\x07 in evil" in text  # the alert panel and the toast
        assert "watcher w\\x1b[2J\\x07:" in text
        assert_no_raw_controls(app)

        # The scan log: escape sequences never reach the terminal.
        await pilot.press("r")
        await wait_for(pilot, lambda: "scan ok" in "\n".join(line.text for line in app.main_screen.query_one(ScanLog).lines))
        await pilot.pause()
        assert "test_evil" in screen_text(app)
        assert_no_raw_controls(app)

        await pilot.press("a")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.pause()
        assert "coverage fell \\x1b[2J\\x07 in evil" in screen_text(app)
        assert_no_raw_controls(app)

        await pilot.press("f")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.pause()
        assert shown_path in screen_text(app)
        assert_no_raw_controls(app)

        app.open_file("python", CONTROL_PATH)
        await pilot.pause()
        view = app.screen
        await wait_for(pilot, lambda: view.gaps)
        await pilot.pause()
        text = screen_text(app)
        assert shown_path in text  # the header
        assert 'print("\\x1b[2J\\x07 1")' in text  # the source line
        assert_no_raw_controls(app)

        await pilot.press("g")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.pause()
        assert shown_path in screen_text(app)
        assert_no_raw_controls(app)


SECRET = 'TOKEN = "hunter2-do-not-show"'


@pytest.fixture(scope="module")
def real_lcov(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`coverage lcov` of the real project: its SF lines name app/service.py, app/helpers.py."""
    root = tmp_path_factory.mktemp("lcov")
    write_real_project(root)
    (root / "exercise.py").write_text(REAL_EXERCISES["latest"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    for args in (["run", "--branch", "--source=app", "exercise.py"], ["lcov", "-o", "cov.info"]):
        subprocess.run([sys.executable, "-m", "coverage", *args], cwd=root, env=env, check=True,
                       capture_output=True)
    return (root / "cov.info").read_text()


@pytest.mark.parametrize("sf", ["../secret.py", "ABSOLUTE", "app/link.py"])
async def test_a_report_path_outside_the_project_is_shown_never_opened(
    tmp_path: Path, real_lcov: str, sf: str
) -> None:
    """`SF:../secret.py`, an absolute path elsewhere, or a symlink out of the project."""
    from covtui.readers import read_coverage

    root = tmp_path / "proj"
    write_real_project(root)
    secret = tmp_path / "secret.py"
    secret.write_text(REAL_HELPERS + SECRET + "\n")
    (root / "app" / "link.py").symlink_to(secret)
    sf = str(secret) if sf == "ABSOLUTE" else sf
    assert "SF:app/helpers.py\n" in real_lcov
    (root / "cov.info").write_text(real_lcov.replace("SF:app/helpers.py\n", f"SF:{sf}\n"))
    config = fixture_config(root, sources=[SourceConfig("c", report="cov.info")])
    report = read_coverage([root / "cov.info"], root=root)
    async with await Store.open(config.database_path) as store:
        await record_snapshot(store,
            SnapshotDraft("ingest", [SourceResult("c", RunStatus.OK, report)], created_at=T0),
            config,
        )
    app = make_app(config, config.database_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await pilot.press("f")
        screen = app.screen
        assert isinstance(screen, FilesScreen)
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.press(*Path(sf).name)
        await wait_for(pilot, lambda: screen.query_one(FilesTable).row_count == 1)
        await pilot.click(FilesTable, offset=(20, 1))
        await pilot.press("enter")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, FileViewScreen) and view.path == sf
        await wait_for(pilot, lambda: view.gaps)
        await pilot.pause()
        text = screen_text(app)
        assert "hunter2" not in text
        assert "outside the project root" in text
        assert view.gaps_are_rows  # the gaps are listed instead of the file
        assert view.file_gaps is not None and view.file_gaps.note == SOURCE_OUTSIDE
