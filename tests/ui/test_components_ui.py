"""The Components and Excluded screens on the project coverage.py really measured."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from covtui.config import ComponentConfig, Config, GateConfig
from covtui.query.components import component_state
from covtui.store import Store
from covtui.widgets.components import ComponentsPanel

from .conftest import loaded, make_app, real_project_config, screen_text, wait_for
from .fixtures import build_real_database

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
        await wait_for(pilot, lambda: " left out" in screen_text(app), timeout=10)
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
