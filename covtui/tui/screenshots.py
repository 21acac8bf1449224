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
    configure: Callable[[object], object] | None = None,
    title: str = "covtui demo",
) -> Path:
    from covtui.demo import demo_config, demo_scan
    from covtui.tui.app import CovtuiApp

    config = demo_config(db)
    config.bell = False
    if configure is not None:
        config = configure(config) or config
    app = CovtuiApp(config, db, scanner=demo_scan, demo=True, clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 10
        while app.state is None and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        await steps(pilot)
        await pilot.pause(0.3)
        await pilot.wait_for_scheduled_animations()
        svg = app.export_screenshot(title=title)
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
    # Loaded and shown: a component is selected once its parts are on the screen.
    await _wait(pilot, lambda: getattr(pilot.app.screen, "parts", None) is not None
                and getattr(pilot.app.screen, "selected", None) is not None, 30)
    await pilot.pause(0.5)


async def _component_dashboard(pilot) -> None:
    """The dashboard switched to one component (C, ] to "server", d)."""
    await _components(pilot)
    await pilot.press("right_square_bracket", "d")
    await _wait(pilot, lambda: pilot.app.state is not None and pilot.app.state.component is not None, 30)
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


async def _explanation(pilot) -> None:
    """The coverage drop's alert in full: its "Why" lists explain's causes."""
    from covtui.tui.screens.alerts import AlertsTable

    await pilot.press("a")
    await _wait(pilot, lambda: getattr(pilot.app.screen, "loaded", False))
    table = pilot.app.screen.query_one(AlertsTable)
    drop = next(a for a in pilot.app.screen.alerts if a.rule == "coverage_drop")
    table.move_cursor(row=table.get_row_index(str(drop.id)))
    await pilot.press("enter")
    await _wait(pilot, lambda: getattr(pilot.app.screen, "loaded", False))


def _why_project(db: Path) -> Callable[[object], object]:
    """The shot runs on covtui.demo.why's database (`db`), not the demo's."""

    def configure(config):
        from covtui.config import load_config

        why = load_config(db.parent / "shop")
        why.database, why.bell = str(db), False
        return why

    return configure


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
    ("component-dashboard", _component_dashboard, SIZE, _with_components),
]


async def _main(db: Path | None, only: set[str] | None = None) -> list[Path]:
    wanted = lambda name: only is None or name in only  # noqa: E731
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        demo_shots = [shot for shot in SHOTS if wanted(shot[0])]
        if demo_shots:
            path = db or Path(tmp) / "demo.db"
            if not path.exists():
                print(f"building the 90-day demo database at {path}…", file=sys.stderr)
                await _build(path)
            from covtui.demo import materialise_sources

            materialise_sources(path)  # the file view shows the demo project's code
            for name, steps, size, configure in demo_shots:
                written.append(await _shoot(path, name, steps, size, configure))
                print(f"wrote {written[-1]}", file=sys.stderr)
        if wanted("explanation"):
            # An explanation needs per-test coverage, which the demo's history does not
            # have: a small project scanned twice for real (a test deleted, a module added).
            from covtui.demo.why import build_why_database

            why_db = Path(tmp) / "why" / "why.db"
            print("scanning the per-test project twice (pytest under coverage.py)…", file=sys.stderr)
            await build_why_database(why_db.parent / "shop", why_db, end=DEMO_END)
            written.append(await _shoot(
                why_db, "explanation", _explanation, (120, 24), _why_project(why_db), title="covtui",
            ))
            print(f"wrote {written[-1]}", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m covtui.tui.screenshots", description=__doc__)
    parser.add_argument("--db", type=Path, help="demo database to use (built there when missing)")
    parser.add_argument(
        "--only", action="append", metavar="NAME",
        help="make only this shot (repeatable): " + ", ".join([s[0] for s in SHOTS] + ["explanation"]),
    )
    args = parser.parse_args(argv)
    _pin_time_zone()
    asyncio.run(_main(args.db, set(args.only) if args.only else None))


if __name__ == "__main__":
    main()
