"""The real dashboard in a terminal: `python -m benchmarks.dashboard [--quick] [--fresh]`.

Opens `python -m covtui --db PATH` on a copy of the 90-day demo database (25,920 snapshots)
in a 120×36 tmux pane on a private tmux server, reads the screen with `capture-pane`, and
measures: first paint (launch until the overall figures are on screen) against a trivial
Textual app, idle CPU and memory from /proc, and a refresh after a snapshot written by this
process through covtui's Store (the poller's own `PollStatus.load_s`, the same query timed
here, and the latency until the new snapshot's number is on screen). Exits 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from covtui.config import Config
from covtui.demo import DemoHistory, build_demo_database, demo_database_path, ensure_demo_database
from covtui.domain.model import SnapshotDraft
from covtui.query.dashboard import dashboard_state
from covtui.record import record_snapshot
from covtui.store import Store
from covtui.tui.poller import TREND_RANGES

WIDTH, HEIGHT = 120, 36
#: Shown by the overall panel in the same update as the big percentage: data is on screen.
LOADED_MARKER = "files have coverage"
BASELINE_MARKER = "baseline ready"
MB = 1024 * 1024

BASELINE_APP = f"""\
from textual.app import App
from textual.widgets import Static


class Baseline(App):
    def compose(self):
        yield Static({BASELINE_MARKER!r})


Baseline().run()
"""

# The real dashboard, plus one hook: each DashboardLoaded's PollStatus.load_s (the poller's
# own timing of a full reload) is appended to a file, as a log would show it.
HOOKED_DASHBOARD = """\
import sys, time
from covtui.tui.app import CovtuiApp

_loaded = CovtuiApp.on_dashboard_loaded
log_path, db_path = sys.argv[1], sys.argv[2]


def on_dashboard_loaded(self, message):
    _loaded(self, message)
    with open(log_path, "a") as log:
        log.write(f"{time.time()} {message.status.load_s}\\n")


CovtuiApp.on_dashboard_loaded = on_dashboard_loaded
sys.argv = ["covtui", "--db", db_path]
from covtui.cli import main

main()
"""

CONFIG = "poll_interval = 1.0\nbell = false\n"


class Row(NamedTuple):
    """One line of a results table."""

    name: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("ok" if self.ok else "MISSED")


def print_table(rows: list[Row], title: str = "") -> None:
    header = ("measure", "value", "baseline", "ratio", "target", "")
    cells = [header, *((r.name, r.value, r.baseline, r.ratio, r.target, r.verdict) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    if title:
        print(f"\n{title}")
    print()
    print(line.format(*header).rstrip())
    print(line.format(*("-" * w for w in widths)))
    for c in cells[1:]:
        print(line.format(*c).rstrip())


class Tmux:
    """One pane on a private tmux server; each launch replaces what runs in it."""

    def __init__(self, cwd: Path) -> None:
        self.socket = f"covtui-bench-{os.getpid()}"
        self.cwd = cwd
        self._tmux("new-session", "-d", "-s", "bench", "-x", str(WIDTH), "-y", str(HEIGHT),
                   "-c", str(cwd), "sleep 86400")
        self._tmux("set-option", "-g", "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True
        ).stdout

    def launch(self, argv: list[str]) -> float:
        """Start `argv` in the pane; returns the perf_counter time just before."""
        started = time.perf_counter()
        self._tmux("respawn-pane", "-k", "-t", "bench", "-c", str(self.cwd),
                   "exec " + shlex.join(argv))
        return started

    def pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", "bench", "#{pane_pid}"))

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "bench")

    def wait_for(self, text: str, timeout: float = 30.0, every: float = 0.01) -> float:
        """perf_counter time when `text` first shows on screen."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if text in self.screen():
                return time.perf_counter()
            time.sleep(every)
        raise TimeoutError(f"{text!r} not on screen after {timeout:g} s:\n{self.screen()}")

    def quit(self) -> None:
        """Press q and wait for the app to end (kill it after 5 s)."""
        self._tmux("send-keys", "-t", "bench", "q")
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:
            if self._tmux("display-message", "-p", "-t", "bench", "#{pane_dead}").strip() == "1":
                return
            time.sleep(0.02)
        self._tmux("respawn-pane", "-k", "-t", "bench", "sleep 86400")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def prepare_database(workdir: Path, fresh: bool) -> tuple[Path, list[SnapshotDraft]]:
    """A private copy of the 90-day demo database, and the next snapshots of its history."""
    path = workdir / "demo.db"
    if fresh:
        end = float(int(time.time()))
        print("building the 90-day demo database…", flush=True)
        await build_demo_database(path, end=end)
        history = DemoHistory(days=90, end=end)
    else:
        print("preparing the cached demo database (built on first use)…", flush=True)
        cached = await ensure_demo_database()
        meta = json.loads(demo_database_path().with_suffix(".json").read_text())
        history = DemoHistory(days=meta["days"], interval_s=meta["interval_s"], end=meta["end"])
        with sqlite3.connect(cached) as src, sqlite3.connect(path) as dst:
            src.backup(dst)
    async with await Store.open(path) as store:
        latest = await store.latest_snapshot()
    assert latest is not None
    first = history.index_at(latest.created_at + 1e-3) + 1
    drafts = list(itertools.islice(history.drafts(first + 10), first, None))
    return path, drafts


def first_paints(term: Tmux, argv: list[str], marker: str) -> float:
    """Seconds from launch until `marker` shows."""
    started = term.launch(argv)
    seen = term.wait_for(marker)
    term.quit()
    return seen - started


async def in_process_refresh(path: Path, n: int = 20) -> float:
    """Median seconds of the poller's full reload query, run here on the same database."""
    week = TREND_RANGES[1][1]
    times = []
    async with await Store.open(path) as store:
        for _ in range(n):
            t0 = time.perf_counter()
            latest = await store.latest_snapshot()
            await dashboard_state(store, trend_since=latest.created_at - week)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def read_load_log(path: Path) -> list[float]:
    if not path.exists():
        return []
    return [float(line.split()[1]) for line in path.read_text().splitlines() if line.strip()]


async def measure(quick: bool, fresh: bool) -> list[Row]:
    launches = 3 if quick else 5
    idle_s = 10.0 if quick else 60.0
    n_refresh = 3 if quick else 5
    rows: list[Row] = []
    workdir = Path(tempfile.mkdtemp(prefix="covtui-bench-dash-"))
    term: Tmux | None = None
    try:
        db, drafts = await prepare_database(workdir, fresh)
        with sqlite3.connect(db) as con:
            n_snapshots = con.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        print(f"{n_snapshots:,} snapshots in {db}", flush=True)
        (workdir / "covtui.toml").write_text(CONFIG)
        (workdir / "baseline_app.py").write_text(BASELINE_APP)
        term = Tmux(workdir)
        dashboard = [sys.executable, "-m", "covtui", "--db", str(db)]
        baseline = [sys.executable, str(workdir / "baseline_app.py")]

        # (a) first paint, interleaved with the baseline; one untimed launch of each first.
        first_paints(term, baseline, BASELINE_MARKER)
        first_paints(term, dashboard, LOADED_MARKER)
        base_times, dash_times = [], []
        for i in range(launches):
            base_times.append(first_paints(term, baseline, BASELINE_MARKER))
            dash_times.append(first_paints(term, dashboard, LOADED_MARKER))
            print(f"  launch {i + 1}: dashboard {dash_times[-1]:.3f} s, "
                  f"trivial Textual app {base_times[-1]:.3f} s", flush=True)
        paint, base = statistics.median(dash_times), statistics.median(base_times)
        rows.append(Row(f"first paint with data (median of {launches})", f"{paint:.3f} s",
                        f"{base:.3f} s", f"{paint / base:.2f}×", "<= 1 s", paint <= 1.0))

        # (b), (d): one long run, the poller's reload times logged by a hook.
        log = workdir / "load_s.log"
        started = term.launch([sys.executable, "-c", HOOKED_DASHBOARD, str(log), str(db)])
        seen = term.wait_for(LOADED_MARKER)
        pid = term.pid()
        print(f"  long run: first paint {seen - started:.3f} s; settling 3 s", flush=True)
        time.sleep(3)
        rss0, hwm0 = memory_mb(pid)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        print(f"  idle for {idle_s:g} s…", flush=True)
        time.sleep(idle_s)
        cpu1, t1 = cpu_seconds(pid), time.perf_counter()
        rss1, hwm1 = memory_mb(pid)
        idle_pc = (cpu1 - cpu0) / (t1 - t0) * 100
        rows.append(Row(f"idle CPU over {idle_s:g} s (poll every 1 s)", f"{idle_pc:.2f}% of a core",
                        "", "", "< 1%", idle_pc < 1.0))
        rows.append(Row("VmRSS / VmHWM after loading", f"{rss0:.0f} / {hwm0:.0f} MB",
                        "", "", "< 150 MB", hwm0 < 150))
        rows.append(Row(f"VmRSS / VmHWM after {idle_s:g} s idle", f"{rss1:.0f} / {hwm1:.0f} MB",
                        "", "", "< 150 MB", hwm1 < 150))

        # (c) refresh: new snapshots written by this process through the Store.
        latencies, writes = [], []
        config = Config(root=workdir)
        n_loads = len(read_load_log(log))
        async with await Store.open(db) as store:
            for k, draft in enumerate(drafts[:n_refresh]):
                # Spread the writes over the poll phase.
                await asyncio.sleep(1.0 + (k + 0.5) / n_refresh)
                w0 = time.perf_counter()
                snapshot_id, _ = await record_snapshot(store, draft, config)
                committed = time.perf_counter()
                shown = term.wait_for(f"#{snapshot_id} at", timeout=10)
                writes.append(committed - w0)
                latencies.append(shown - committed)
                deadline = time.perf_counter() + 5
                while len(read_load_log(log)) <= n_loads and time.perf_counter() < deadline:
                    await asyncio.sleep(0.02)
                n_loads = len(read_load_log(log))
                print(f"  snapshot #{snapshot_id}: on screen {latencies[-1] * 1000:.0f} ms "
                      f"after its commit", flush=True)
        loads = read_load_log(log)[1:]  # the first is the initial load
        rss2, hwm2 = memory_mb(pid)
        term.quit()
        load = statistics.median(loads) if loads else float("nan")
        rows.append(Row(f"refresh db work, PollStatus.load_s in the app (median of {len(loads)})",
                        f"{load * 1000:.1f} ms", "", "", "<= 50 ms", load <= 0.050))
        here = await in_process_refresh(db)
        rows.append(Row("refresh db work, same query in-process (median of 20)",
                        f"{here * 1000:.1f} ms", "", "", "<= 50 ms", here <= 0.050))
        latency = statistics.median(latencies)
        rows.append(Row(f"new snapshot on screen after commit (median of {n_refresh})",
                        f"{latency * 1000:.0f} ms", "", "", "reported (poll 1 s)"))
        rows.append(Row("write of that snapshot, this process", f"{statistics.median(writes) * 1000:.1f} ms"))
        rows.append(Row("VmRSS / VmHWM after the refreshes", f"{rss2:.0f} / {hwm2:.0f} MB",
                        "", "", "< 150 MB", hwm2 < 150))
    finally:
        if term is not None:
            term.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s idle, 3 launches")
    parser.add_argument("--fresh", action="store_true",
                        help="build the demo database anew instead of copying the cached one")
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        print("the dashboard benchmark needs tmux", file=sys.stderr)
        return 2
    rows = asyncio.run(measure(args.quick, args.fresh))
    print_table(rows)
    missed = [r.name for r in rows if r.ok is False]
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
