"""The Components and Excluded screens on the project coverage.py really measured."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from covtui.config import ComponentConfig, Config, GateConfig
from covtui.query.components import component_state
from covtui.record import record_snapshot
from covtui.store import Store
from covtui.widgets.components import ComponentsPanel

from ..conftest import clean_env
from .conftest import NOW, loaded, make_app, real_project_config, screen_text, wait_for
from .fixtures import build_real_database, real_drafts

COMPONENTS = [
    ComponentConfig("service", ["app/service.py"], fail_under=99.0),
    ComponentConfig("helpers", ["app/helpers.py", "app/__init__.py"]),
]


def components_config(root: Path) -> Config:
    return dataclasses.replace(
        real_project_config(root), components=COMPONENTS,
        gates=[GateConfig(["app/*"], max_uncovered=1000)],
    )


@pytest.fixture
def comp_config(tmp_path: Path, real_reports) -> Config:
    config = components_config(tmp_path)
    asyncio.run(build_real_database(config, real_reports))
    return config


async def expected_state(config: Config):
    async with await Store.open(config.database_path, read_only=True) as store:
        return await component_state(store, config)


async def test_components_screen_rows_and_switching(comp_config: Config) -> None:
    parts = await expected_state(comp_config)
    app = make_app(comp_config, comp_config.database_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("C")
        await wait_for(pilot, lambda: app.screen.query_one(ComponentsPanel).parts is not None)
        await pilot.pause()
        text = screen_text(app)
        service = parts.breakdown.get("service").numbers
        helpers = parts.breakdown.get("helpers").numbers
        row = next(line for line in text.splitlines() if "▶ service" in line)
        assert f" {service.pc_covered_str(2)}% " in row and "gate FAILED" in row
        assert "gate FAILED" in text  # 99% is more than the service has
        assert "gate 'app/*'  gate ok" in text
        assert "app/service.py" in text and "app/helpers.py" not in text.split("service:", 1)[1]
        await pilot.press("right_square_bracket")
        await pilot.pause()
        text = screen_text(app)
        row = next(line for line in text.splitlines() if "▶ helpers" in line)
        assert f" {helpers.pc_covered_str(2)}% " in row
        assert f"helpers: {helpers.pc_covered_str(2)}% · Phase " in text and " · 2 files, " in text
        assert "app/helpers.py" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main_screen


async def test_main_screen_has_the_panel_only_with_components(comp_config: Config, real_config, real_db) -> None:
    parts = await expected_state(comp_config)
    app = make_app(comp_config, comp_config.database_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        panel = app.screen.query_one(ComponentsPanel)
        await wait_for(pilot, lambda: panel.parts is not None)
        await pilot.pause()
        row = next(line for line in screen_text(app).splitlines() if "helpers " in line)
        assert f" {parts.breakdown.get('helpers').numbers.pc_covered_str(2)}% " in row
    plain = make_app(real_config, real_db)
    async with plain.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert not plain.screen.query(ComponentsPanel)


async def test_excluded_screen_lists_counts(comp_config: Config) -> None:
    app = make_app(comp_config, comp_config.database_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: " left out" in screen_text(app))
        async with await Store.open(comp_config.database_path, read_only=True) as store:
            stored = sum(f.numbers.n_excluded for f in await store.files())
        assert f"{stored:,} excluded line{'' if stored == 1 else 's'} in" in screen_text(app)


@pytest.mark.parametrize("size", [(120, 36)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_components_screen_snapshot(snap_compare, comp_config, size, monkeypatch):
    from covtui.widgets.project_header import ProjectHeader

    init = ProjectHeader.__init__
    monkeypatch.setattr(ProjectHeader, "__init__",
                        lambda self, name, path, **kw: init(self, "shop", Path("/home/dev/src/shop"), **kw))

    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("C")
        await wait_for(pilot, lambda: pilot.app.screen.query_one(ComponentsPanel).parts is not None)
        await pilot.pause()

    assert snap_compare(make_app(comp_config, comp_config.database_path), terminal_size=size,
                        run_before=run_before)


def coverage_include(root: Path, data_file: str, include: str) -> dict:
    """`coverage json --include` on a data file of the measured real project."""
    out = root / "include.json"
    subprocess.run(
        [sys.executable, "-m", "coverage", "json", f"--data-file={data_file}",
         f"--include={include}", "-o", str(out)],
        cwd=root, env=clean_env(), check=True, capture_output=True,
    )
    totals = json.loads(out.read_text())["totals"]
    out.unlink()
    return totals


def overall_text(app) -> str:
    from textual.widgets import Digits

    return app.screen.query_one("#overall-percent", Digits).value


async def test_the_dashboard_switches_to_one_component_and_back(comp_config: Config, real_measured) -> None:
    root, _ = real_measured
    parts = await expected_state(comp_config)
    service = parts.breakdown.get("service").numbers
    theirs = coverage_include(root, ".coverage-latest", "app/service.py")
    before = coverage_include(root, ".coverage-first", "app/service.py")
    assert service.pc_covered == theirs["percent_covered"]
    app = make_app(comp_config, comp_config.database_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        whole = app.state.latest.numbers
        assert overall_text(app) == f"{whole.pc_covered_str(2)}%"
        await pilot.press("C")
        await wait_for(pilot, lambda: app.screen.query_one(ComponentsPanel).parts is not None)
        await pilot.press("d")  # "service" is selected first
        await wait_for(pilot, lambda: app.state.component is not None)
        await pilot.pause()
        assert app.screen is app.main_screen
        state = app.state
        assert state.component.name == "service" and state.component.floor == "at least 99%"
        assert state.latest.numbers == service
        assert state.latest.numbers.n_statements == theirs["num_statements"]
        assert state.latest.numbers.n_missing == theirs["missing_lines"]
        assert state.previous.numbers.pc_covered == before["percent_covered"]
        assert overall_text(app) == f"{service.pc_covered_str(2)}%"
        assert {f.path for f in state.critical_files} <= {"app/service.py"}
        assert [p.pc_covered for p in state.trend["overall"]] == [
            before["percent_covered"], theirs["percent_covered"]]
        assert all(a.path in (None, "app/service.py") for a in state.alerts)
        text = screen_text(app)
        assert "component service" in text.splitlines()[0]
        assert "Component service" in text and "floor: at least 99%" in text
        assert "Top 5 critical files in service" in text and "Trend of service" in text
        await pilot.press("w")
        await wait_for(pilot, lambda: app.state.component is None)
        await pilot.pause()
        assert app.state.latest.numbers == whole
        assert overall_text(app) == f"{whole.pc_covered_str(2)}%"
        assert "component service" not in screen_text(app)


async def test_a_live_reload_keeps_the_component(comp_config: Config, real_measured, real_reports) -> None:
    root, _ = real_measured
    app = make_app(comp_config, comp_config.database_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        app.show_component("helpers")
        await wait_for(pilot, lambda: app.state.component is not None)
        n = app.state.n_snapshots
        # Another writer (a scan, CI) stores a snapshot measured like the first one.
        draft = real_drafts(real_reports)[0]
        draft.created_at = NOW - 1
        async with await Store.open(comp_config.database_path) as store:
            await record_snapshot(store, draft, comp_config)
        await wait_for(pilot, lambda: app.state.n_snapshots == n + 1)
        await pilot.pause()
        state = app.state
        assert state.component.name == "helpers"
        theirs = coverage_include(root, ".coverage-first", "app/helpers.py,app/__init__.py")
        numbers = state.latest.numbers
        if theirs["num_statements"]:
            assert numbers.pc_covered == theirs["percent_covered"]
            assert numbers.n_statements == theirs["num_statements"]
        else:  # helpers.py not imported in that run: no data, not 0%
            assert numbers is None
            assert overall_text(app) == "--"
        assert "component helpers" in screen_text(app).splitlines()[0]


@pytest.mark.parametrize("size", [(120, 36)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_component_dashboard_snapshot(snap_compare, comp_config, size, monkeypatch):
    from covtui.widgets.project_header import ProjectHeader

    init = ProjectHeader.__init__
    monkeypatch.setattr(ProjectHeader, "__init__",
                        lambda self, name, path, **kw: init(self, "shop", Path("/home/dev/src/shop"), **kw))

    async def run_before(pilot) -> None:
        await loaded(pilot)
        pilot.app.show_component("service")
        await wait_for(pilot, lambda: pilot.app.state.component is not None)
        await pilot.pause()

    assert snap_compare(make_app(comp_config, comp_config.database_path), terminal_size=size,
                        run_before=run_before)


async def test_excluded_screen_shows_counts_per_reason_and_their_change(tmp_path: Path) -> None:
    """Two real scans, a pragma added between them: the screen lists each reason's lines and
    files as the latest scan stored them, with the change (the pragma's +3 lines)."""
    from ..test_components import make_project
    from ..test_exclusions import CONFIG, EXCLUDING

    p = make_project(tmp_path / "proj", CONFIG)
    p.write("pkg/excluding.py", EXCLUDING)
    p.covtui("scan", check=True)
    p.write("pkg/cli/main.py", (p.root / "pkg/cli/main.py").read_text().replace(
        "def unused():", "def unused():  # pragma: no cover"))
    p.covtui("scan", check=True)
    data = json.loads(p.covtui("excluded", "--json", check=True).stdout)
    pragma = next(r for r in data["by_reason"]["reasons"] if r["reason"] == "pragma: no cover")
    config = p.config
    app = make_app(config, config.database_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: "By reason at snapshot #2" in screen_text(app))
        text = screen_text(app)
        assert "(change since #1)" in text
        row = next(line for line in text.splitlines() if line.strip().endswith(
            "pragma: no cover  +3 lines, +1 file"))
        assert f"{pragma['n_lines']:>6}  {pragma['n_files']} files" in row


async def test_excluded_screen_says_not_recorded_for_old_snapshots(comp_config: Config) -> None:
    app = make_app(comp_config, comp_config.database_path)  # snapshots stored without counts
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: "By reason" in screen_text(app))
        assert "By reason: on disk now (not recorded at snapshot #2)" in screen_text(app)


async def test_a_switch_key_before_the_components_load_ends_is_not_an_error(comp_config: Config) -> None:
    """`]` pressed while the screen's first load is between its parts and its selection
    (the screenshot script did it: a ValueError traceback) steps from the first component."""
    app = make_app(comp_config, comp_config.database_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("C")
        screen = app.screen
        await wait_for(pilot, lambda: screen.parts is not None)
        screen.selected = None  # as it is until the load has picked one
        screen.action_step(1)
        assert screen.selected == "helpers"
