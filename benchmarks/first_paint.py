"""Benchmark the demo's first paint: `covtui demo` as a whole process in a 120x36 pseudo-terminal,
from launch until the dashboard's overall figure is on screen, with an empty cache and a warm one.

    python -m benchmarks.first_paint [--runs 3] [--quick]

The baseline is `coverage --version` under the same interpreter, run in turn with each launch
(as benchmarks.startup does), so a machine that slows down moves both alike. With an empty
cache the run also reports when the 90-day history was complete (its completion marker
written). Targets: the first paint within 2 s either way.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.dashboard import Row, print_table
from benchmarks.startup import COVERAGE, whole_process

#: Seconds from launch to the overall figure on screen, cold or warm.
TARGET_S = 2.0

#: The overall panel's detail line, drawn with the figure: "1,494 of 49,678 lines".
PAINTED = re.compile(rb"of [\d,]+ lines")
_ESCAPE = re.compile(rb"\x1b\[[0-9;?<>=]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


@dataclass
class Launch:
    painted_s: float | None  # launch → the overall figure on screen
    complete_s: float | None  # launch → the history's completion marker (empty cache only)
    quit_s: float | None  # `q` → the process (and its children) gone
    leftover: bool  # a process of its session still alive after it quit


def _environment(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVTUI_"))}
    env.pop("PYTHONPATH", None)
    return {**env, "XDG_CACHE_HOME": str(cache), "TERM": "xterm-256color",
            "COLUMNS": "120", "LINES": "36"}


def _session_alive(sid: int) -> bool:
    """Whether any process of session `sid` (the demo and whatever it started) is still alive."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == sid:
                stat = (entry / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != "Z":
                    return True
        except (OSError, IndexError):
            continue
    return False


def launch(cache: Path, *, wait_complete: bool = False, timeout: float = 180.0) -> Launch:
    """Run `covtui demo` once with its cache in `cache`; quit it with `q` once painted (and,
    with `wait_complete`, once the history is complete)."""
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    screen = bytearray()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "covtui", "demo"], env=_environment(cache),
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
    )
    os.close(slave)
    painted = threading.Event()
    painted_at: list[float] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)
            if not painted.is_set() and PAINTED.search(_ESCAPE.sub(b"", bytes(screen[-20000:]))):
                painted_at.append(time.perf_counter())
                painted.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    complete_s = quit_s = None
    leftover = False
    try:
        painted.wait(timeout)
        painted_s = painted_at[0] - started if painted_at else None
        if wait_complete and painted_s is not None:
            deadline = time.perf_counter() + timeout
            while time.perf_counter() < deadline:
                if any(_complete(p) for p in (cache / "covtui").glob("demo-*.json")):
                    complete_s = time.perf_counter() - started
                    break
                time.sleep(0.05)
        asked = time.perf_counter()
        os.write(master, b"q")
        try:
            proc.wait(30)
            while _session_alive(proc.pid) and time.perf_counter() - asked < 30:
                time.sleep(0.02)
            quit_s = time.perf_counter() - asked
            leftover = _session_alive(proc.pid)
        except subprocess.TimeoutExpired:
            leftover = True
    finally:
        if proc.poll() is None or _session_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    if painted_s is None:
        tail = _ESCAPE.sub(b"", bytes(screen[-2000:])).decode(errors="replace")
        print(f"no first paint within {timeout:.0f} s; the screen ends:\n{tail}", file=sys.stderr)
    return Launch(painted_s, complete_s, quit_s, leftover)


def _complete(meta: Path) -> bool:
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return False
    # Before the background fill, the marker's presence alone meant complete.
    return data.get("complete", True) is True


def measure(runs: int = 3, quick: bool = False) -> list[Row]:
    whole_process(COVERAGE)  # warm the OS's file cache
    cold, warm, complete, quits, ratios_cold, ratios_warm, base = [], [], [], [], [], [], []
    leftovers = 0
    with tempfile.TemporaryDirectory(prefix="covtui-first-paint-") as tmp:
        warm_cache = Path(tmp) / "warm"
        for k in range(runs):
            cache = Path(tmp) / f"cold-{k}"
            b = whole_process(COVERAGE)
            first = launch(cache, wait_complete=(k == 0))
            base.append(b)
            if first.painted_s is not None:
                cold.append(first.painted_s)
                ratios_cold.append(first.painted_s / b)
            if first.complete_s is not None:
                complete.append(first.complete_s)
            if first.quit_s is not None:
                quits.append(first.quit_s)
            leftovers += first.leftover
            if k == 0:
                shutil.copytree(cache, warm_cache)
            if quick:
                break
        for _ in range(1 if quick else runs):
            b = whole_process(COVERAGE)
            again = launch(warm_cache)
            base.append(b)
            if again.painted_s is not None:
                warm.append(again.painted_s)
                ratios_warm.append(again.painted_s / b)
            if again.quit_s is not None:
                quits.append(again.quit_s)
            leftovers += again.leftover
    baseline = f"{statistics.median(base):.3f} s"

    def row(name: str, values: list[float], ratios: list[float]) -> Row:
        if not values:
            return Row(name, "never painted", baseline, "", f"<= {TARGET_S:.0f} s", False)
        median = statistics.median(values)
        return Row(name, f"{median:.2f} s", baseline, f"{statistics.median(ratios):.1f}×",
                   f"<= {TARGET_S:.0f} s", median <= TARGET_S)

    rows = [
        Row("coverage --version (baseline)", baseline),
        row("covtui demo, empty cache: first paint", cold, ratios_cold),
        row("covtui demo, warm cache: first paint", warm, ratios_warm),
    ]
    if complete:
        rows.append(Row("covtui demo, empty cache: 90-day history complete",
                        f"{statistics.median(complete):.1f} s"))
    rows.append(Row("covtui demo: q → every process gone",
                    f"{max(quits):.2f} s (slowest)" if quits else "never quit",
                    "", "", "no process left", leftovers == 0 and bool(quits)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one empty-cache and one warm launch")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    print_table(measure(runs, args.quick),
                f"covtui demo first paint, whole processes in a pty, medians of {runs}")


if __name__ == "__main__":
    main()
