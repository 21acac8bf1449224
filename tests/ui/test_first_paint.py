"""`covtui demo` on an empty cache, as people run it (its own process in a pseudo-terminal):
the dashboard shows its overall figure long before the 90-day history is complete, answers
keys while the history fills, quits mid-fill leaving no process behind, and the next launch
goes on from where the fill stopped."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

from ..terminal import Terminal

#: The goal is 2 s (`python -m benchmarks.first_paint`); this bound leaves a loaded CI machine
#: room and still fails the old start, which built the whole history first (30 s and more).
FIRST_PAINT_S = 12.0

#: The overall panel's detail line, drawn with the figure: "1,494 of 49,678 lines".
PAINTED = re.compile(r"of [\d,]+ lines")
_ESCAPE = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


def _text(term: Terminal) -> str:
    return _ESCAPE.sub("", bytes(term.screen).decode(errors="replace"))


def _fill_processes(cache: Path) -> list[int]:
    """The demo's fill processes working on a database in `cache`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b"covtui.demo.fill" in argv and any(str(cache).encode() in a for a in argv) and state != "Z":
            found.append(int(entry.name))
    return found


def test_the_demo_paints_at_once_and_fills_its_history_behind(tmp_path: Path) -> None:
    from covtui.demo import plan_demo_database

    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    started = time.monotonic()
    with Terminal(tmp_path, env=env, args=["demo"]) as term:
        term.wait_until(lambda: PAINTED.search(_text(term)), FIRST_PAINT_S, "the overall figure")
        painted_s = time.monotonic() - started
        path = next(cache.glob("covtui/demo-*.db"))
        meta = json.loads(path.with_suffix(".json").read_text())
        assert meta["complete"] is False, "painted only once the history was complete"
        term.wait_until(lambda: "90-day history: day" in _text(term), 10, "the fill's progress")
        assert _fill_processes(cache)

        # Not frozen: a key is answered while the history fills.
        term.press(b"t")
        term.wait_until(lambda: "Trend · hour" in _text(term), 10, "the trend's next range")
        assert json.loads(path.with_suffix(".json").read_text())["complete"] is False

        term.press(b"q")
        term.app.wait(30)
    deadline = time.monotonic() + 10
    while _fill_processes(cache) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _fill_processes(cache) == [], "the fill outlived the dashboard"
    assert painted_s < FIRST_PAINT_S

    # Stopped mid-fill: not taken for complete; the next launch continues the same history.
    meta_after = json.loads(path.with_suffix(".json").read_text())
    assert meta_after["complete"] is False and meta_after["end"] == meta["end"]
    plan = asyncio.run(plan_demo_database(path, days=90))
    assert plan.complete is False and 0 < plan.first < plan.history.n


class _FakeFill:
    """A DemoFill the test drives: progress reports come from `reports`, then `code`."""

    def __init__(self) -> None:
        import queue

        self.reports: queue.Queue = queue.Queue()
        self.code = 0
        self.stopped = False
        self.first = None  # what `planned` read: nothing yet

    def progress(self):
        while (item := self.reports.get()) is not None:
            yield item

    def wait(self) -> int:
        return self.code

    def error(self) -> str:
        return ""

    def stop(self) -> None:
        self.stopped = True
        self.reports.put(None)


async def test_the_history_filling_in_is_not_news_and_r_waits_for_it(config, db) -> None:
    """Alerts of the history being filled in raise no toast (a full build opens with them
    stored: not news either); the status line says how far the fill is; `r` waits for it;
    once it is complete, a new alert is news again."""
    from covtui.demo.fill import FillProgress
    from covtui.tui.app import CovtuiApp
    from covtui.widgets.status_line import StatusLine

    from .conftest import NOW, loaded, wait_for
    from .fixtures import T0, add_snapshot

    fill = _FakeFill()
    scans = []

    async def scanner(*args, **kwargs):
        scans.append(1)

    app = CovtuiApp(config, db, scanner=scanner, clock=lambda: NOW, fill=fill)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        # The fill writes a snapshot whose drop raises a coverage alert…
        await add_snapshot(db, config, created_at=T0 + 300, fraction_bump=0.0)
        fill.reports.put(FillProgress(1, 1, T0 + 300, "building the demo's 90-day history: day 30 of 90", True))
        await wait_for(pilot, lambda: app.state.latest.created_at == T0 + 300, timeout=3.0)
        await wait_for(pilot, lambda: "day 30 of 90" in str(app.screen.query_one(StatusLine).render()))
        await pilot.pause(0.3)
        assert not app._notifications  # …and nobody is told: it is the history
        await pilot.press("r")
        await pilot.pause()
        assert not scans
        assert [n.message for n in app._notifications] == [
            "The demo's history is still filling in: r works once it is complete."
        ]

        fill.reports.put(None)  # the fill's process ends: complete
        await wait_for(pilot, lambda: app.activity is None)
        assert "The demo's history is complete: r runs a pretend rescan." in [n.message for n in app._notifications]
        assert "building" not in str(app.screen.query_one(StatusLine).render())

        # After the fill, a drop is news again.
        await add_snapshot(db, config, created_at=T0 + 600, fraction_bump=0.5)
        await wait_for(pilot, lambda: app.state.latest.created_at == T0 + 600, timeout=3.0)
        n_before = len(app._notifications)
        await add_snapshot(db, config, created_at=T0 + 900, fraction_bump=0.0)
        await wait_for(pilot, lambda: len(app._notifications) > n_before, timeout=3.0)
        news = [n.message for n in list(app._notifications)[n_before:]]
        assert any("Coverage fell" in m or "lost" in m for m in news), news
        await pilot.press("r")
        await wait_for(pilot, lambda: scans == [1])
    assert fill.stopped
