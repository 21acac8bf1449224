"""Dashboard tests: a fixture database with fixed times, UTC, and a fixed clock."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

# Times on screen are local times: pin the zone before anything formats one.
os.environ["TZ"] = "UTC"
time.tzset()
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from covtui.app import CovtuiApp  # noqa: E402
from covtui.config import Config  # noqa: E402

from .fixtures import T0, build_fixture_database, fixture_config  # noqa: E402

#: What the dashboard thinks "now" is: a minute after the last fixture snapshot.
NOW = T0 + 60


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return fixture_config(tmp_path)


@pytest.fixture
async def db(config: Config) -> Path:
    return await build_fixture_database(config.database_path, config)


def make_app(config: Config, db_path: Path, *, clock=lambda: NOW) -> CovtuiApp:
    return CovtuiApp(config, db_path, clock=clock)


async def wait_for(pilot, predicate, timeout: float = 3.0, step: float = 0.02) -> None:
    """Let the app run until `predicate()` holds (polls are asynchronous)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(step)


async def loaded(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.state is not None)
    await pilot.pause()


def screen_text(app) -> str:
    """What the terminal shows, as plain text (one line per row)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)
