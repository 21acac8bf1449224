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


async def _shoot(
    db: Path, name: str, steps: Callable[[object], Awaitable[None]], size: tuple[int, int] = SIZE
) -> Path:
    from covtui.demo import demo_config, demo_scan
    from covtui.tui.app import CovtuiApp

    config = demo_config(db)
    config.bell = False
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
    await pilot.press("enter")  # the first critical file
    await _wait(pilot, lambda: getattr(pilot.app.screen, "gaps", None))
    await pilot.press("n", "n", "n")


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


SHOTS: list[tuple[str, Callable, tuple[int, int]]] = [
    ("main", _nothing, SIZE),
    ("main-90-days", _trend_90_days, SIZE),
    ("main-80x24", _nothing, (80, 24)),
    ("alerts", _alerts, SIZE),
    ("files", _files, SIZE),
    ("file-view", _file_view, SIZE),
    ("recommendations", _recommendations, SIZE),
    ("help", _help, SIZE),
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
        for name, steps, size in SHOTS:
            written.append(await _shoot(path, name, steps, size))
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
