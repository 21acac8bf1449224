"""`python -m covtui.tui.screenshots`: regenerate screenshots/*.svg from the demo database.

Every screen at 120x36 (and the main screen at 80x24), on a demo history that ends at a fixed
moment, in UTC, with a fixed clock: the same command gives the same pictures. Building the
90-day demo takes a minute or two; `--db PATH` reuses one built before (it is created there
when missing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

#: The demo history ends here (2025-09-21 20:00 UTC, the evening of the seed report).
DEMO_END = 1758484800.0
#: What the dashboard believes "now" is: a minute after the last snapshot.
NOW = DEMO_END + 60
SIZE = (120, 36)
OUT = Path(__file__).resolve().parents[2] / "screenshots"


def _pin_time_zone() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()


async def _build(path: Path) -> None:
    from covtui.demo import build_demo_database

    await build_demo_database(path, end=DEMO_END)


#: The demo project's parts, for the Components screen (the demo itself configures none).
COMPONENTS = [
    ("daemon", ["src/rust/daemon/*"], {"fail_under": 45.0}),
    ("server", ["src/python/workspace_qdrant_mcp/*"], {"fail_under": 60.0}),
    ("cli", ["src/python/wqm_cli/*"], {"max_uncovered": 2500}),
    ("common", ["src/python/common/*"], {}),
]


def _with_components(config) -> None:
    from covtui.config import ComponentConfig

    config.components = [ComponentConfig(name, paths, **floors) for name, paths, floors in COMPONENTS]


async def _shoot(
    db: Path,
    name: str,
    steps: Callable[[object], Awaitable[None]],
    size: tuple[int, int] = SIZE,
    configure: Callable[[object], None] | None = None,
) -> Path:
    from covtui.demo import demo_config, demo_scan
    from covtui.tui.app import CovtuiApp

    config = demo_config(db)
    config.bell = False
    if configure is not None:
        configure(config)
    app = CovtuiApp(config, db, scanner=demo_scan, demo=True, clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 10
        while app.state is None and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        await steps(pilot)
        await pilot.pause(0.3)
        await pilot.wait_for_scheduled_animations()
        svg = app.export_screenshot(title="covtui demo")
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


async def _wait(pilot, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await pilot.pause(0.05)


async def _nothing(pilot) -> None:
    return None


async def _alerts(pilot) -> None:
    await pilot.press("a")
    await _wait(pilot, lambda: getattr(pilot.app.screen, "loaded", False))


async def _files(pilot) -> None:
    from textual.widgets import Input

    await pilot.press("f")
    await _wait(pilot, lambda: getattr(pilot.app.screen, "loaded", False))
    pilot.app.screen.query_one(Input).cursor_blink = False


async def _file_view(pilot) -> None:
    # A Python file, for its partial branches (the critical files are Rust by then).
    await pilot.press("f")
    await _wait(pilot, lambda: getattr(pilot.app.screen, "loaded", False))
    await pilot.press(*"sqlite_state_manager")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await _wait(pilot, lambda: getattr(pilot.app.screen, "gaps", None))
    await pilot.press("n", "n")


async def _components(pilot) -> None:
    await pilot.press("C")
    await _wait(pilot, lambda: getattr(pilot.app.screen, "parts", None) is not None, 30)
    await pilot.pause(0.5)


async def _recommendations(pilot) -> None:
    await pilot.press("g")
    await _wait(pilot, lambda: getattr(pilot.app.screen, "loaded", False))


async def _help(pilot) -> None:
    await pilot.press("question_mark")


async def _trend_90_days(pilot) -> None:
    while pilot.app.trend_range != "90 days":  # t cycles auto, hour, day, week, 90 days
        await pilot.press("t")
    await _wait(pilot, lambda: pilot.app.state is not None and pilot.app.trend_range == "90 days")
    await pilot.pause(0.3)


SHOTS: list[tuple[str, Callable, tuple[int, int], Callable | None]] = [
    ("main", _nothing, SIZE, None),
    ("main-90-days", _trend_90_days, SIZE, None),
    ("main-80x24", _nothing, (80, 24), None),
    ("alerts", _alerts, SIZE, None),
    ("files", _files, SIZE, None),
    ("file-view", _file_view, SIZE, None),
    ("recommendations", _recommendations, SIZE, None),
    ("help", _help, SIZE, None),
    ("components", _components, SIZE, _with_components),
]


async def _main(db: Path | None) -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "demo.db"
        if not path.exists():
            print(f"building the 90-day demo database at {path}…", file=sys.stderr)
            await _build(path)
        from covtui.demo import materialise_sources

        materialise_sources(path)  # the file view shows the demo project's code
        written = []
        for name, steps, size, configure in SHOTS:
            written.append(await _shoot(path, name, steps, size, configure))
            print(f"wrote {written[-1]}", file=sys.stderr)
        return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m covtui.tui.screenshots", description=__doc__)
    parser.add_argument("--db", type=Path, help="demo database to use (built there when missing)")
    args = parser.parse_args(argv)
    _pin_time_zone()
    asyncio.run(_main(args.db))


if __name__ == "__main__":
    main()
