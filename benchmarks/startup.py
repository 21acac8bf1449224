"""Benchmark start-up: `covtui --version` against `coverage --version`, as whole processes.

    python -m benchmarks.startup [--runs 20]

Both run under this interpreter (`python -m covtui`, `python -m coverage`), in turn, so a
machine that speeds up or slows down during the run moves both alike; the ratio is the median
of the pairs' ratios. The target: covtui starts within 1.5× of coverage.py.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from benchmarks.dashboard import Row, print_table

#: covtui --version may take this many times as long as coverage --version.
TARGET = 1.5

COVTUI = [sys.executable, "-m", "covtui", "--version"]
COVERAGE = [sys.executable, "-m", "coverage", "--version"]


def whole_process(command: list[str]) -> float:
    """Wall seconds from starting `command` to its exit."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(runs: int = 20) -> list[Row]:
    whole_process(COVTUI), whole_process(COVERAGE)  # warm the OS's file cache
    covtui, coverage, ratios = [], [], []
    for _ in range(runs):
        a = whole_process(COVTUI)
        b = whole_process(COVERAGE)
        covtui.append(a)
        coverage.append(b)
        ratios.append(a / b)
    ratio = statistics.median(ratios)
    base = f"{statistics.median(coverage):.3f} s"
    return [
        Row("coverage --version (baseline)", base),
        Row("covtui --version", f"{statistics.median(covtui):.3f} s", base, f"{ratio:.2f}×",
            f"<= {TARGET}×", ratio <= TARGET),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print_table(measure(args.runs), f"start-up, whole processes, medians of {args.runs} pairs")


if __name__ == "__main__":
    main()
