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

from covtui.config import Config, SourceConfig  # noqa: E402
from covtui.domain.model import CoverageReport  # noqa: E402
from covtui.scan import run_scan  # noqa: E402
from covtui.tui.app import CovtuiApp  # noqa: E402

from .fixtures import (  # noqa: E402
    T0,
    build_fixture_database,
    build_real_database,
    fixture_config,
    measure_real_project,
)

#: What the dashboard thinks "now" is: a minute after the last fixture snapshot.
NOW = T0 + 60


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return fixture_config(tmp_path)


@pytest.fixture
async def db(config: Config) -> Path:
    return await build_fixture_database(config.database_path, config)


@pytest.fixture(scope="session")
def real_measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, CoverageReport]]:
    """The real project measured by coverage.py, once per session: where it was measured
    (its `.coverage-NAME` data files are there) and what was read."""
    root = tmp_path_factory.mktemp("real")
    return root, measure_real_project(root)


@pytest.fixture(scope="session")
def real_reports(real_measured) -> dict[str, CoverageReport]:
    """The real project measured by coverage.py, once per session."""
    return real_measured[1]


def real_project_config(root: Path) -> Config:
    return fixture_config(root, sources=[SourceConfig("python")])


@pytest.fixture
def real_config(tmp_path: Path) -> Config:
    return real_project_config(tmp_path)


@pytest.fixture
async def real_db(real_config: Config, real_reports) -> Path:
    return await build_real_database(real_config, real_reports)


def make_app(config: Config, db_path: Path, *, clock=lambda: NOW, scanner=run_scan) -> CovtuiApp:
    return CovtuiApp(config, db_path, scanner=scanner, clock=clock)


async def wait_for(pilot, predicate, timeout: float = 30.0, step: float = 0.02) -> None:
    """Let the app run until `predicate()` holds (polls are asynchronous). The bound is for a
    2-core CI machine whose other test worker runs the fault suite's SIGKILLs and two-writer
    contention (one first load took over 10 s there; 1.1 s alone), not a target."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            poller = getattr(pilot.app, "poller", None)
            status = getattr(poller, "status", None)
            raise AssertionError(f"condition not reached in {timeout:g} s (poll status: {status})")
        await pilot.pause(step)


async def loaded(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.state is not None)
    await pilot.pause()


def screen_text(app) -> str:
    """What the terminal shows, as plain text (one line per row)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


#: When the per-test project's second scan is recorded (its first an hour before).
WHY_END = T0


@pytest.fixture(scope="session")
def why_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """covtui.demo.why's shop, scanned twice for real with per-test coverage (a test deleted
    and a module added in between), recorded at fixed times; the apps only read it."""
    import asyncio

    from covtui.demo.why import build_why_database

    root = tmp_path_factory.mktemp("why")
    config = asyncio.run(build_why_database(root / "shop", root / "why.db", end=WHY_END))
    config.bell = False
    return config
