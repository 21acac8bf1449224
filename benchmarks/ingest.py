"""Benchmark reading a `.coverage` file: covtui (cold and warm cache) against `coverage json`.

    python -m benchmarks.ingest [--files 212] [--runs 3] [--dir PATH]

Builds a synthetic project (benchmarks.synth), measures it with `coverage run --branch`, then
times the median of `--runs` runs of: `coverage json` (a subprocess, the baseline), a covtui
read with an empty cache, a warm read, a warm read after one source file changed, and a warm
read with no reusable per-file results (as if every file's data changed). Every
covtui result is checked against `coverage json` on the same tree, figure by figure; any
difference prints it and exits 1, as does a warm whole-process ingest above 0.05× (issue 11).

Then whole processes, as a user runs them: `covtui ingest .coverage` with an empty cache, and
warm after one source file changed (start-up, imports, the read, storing the snapshot), each
run beside a `coverage json` run so both see the machine alike.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.synth import PACKAGE, make_project, run_coverage
from covtui.domain.model import CoverageReport
from covtui.readers import relative_path
from covtui.readers.analysis_cache import CACHE_FILENAME
from covtui.readers.coverage_data import ReadStats, read_with_stats

#: A warm whole-process `covtui ingest` (one file changed) against `coverage json` (issue 11).
WARM_PROCESS_TARGET = 0.05


def coverage_json(root: Path) -> tuple[float, dict]:
    """Run `coverage json` in `root`: (wall seconds, the report)."""
    out = root / "bench.json"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "coverage", "json", "--keep-combined", "-q", "-o", str(out)],
        cwd=root, check=True,
    )
    elapsed = time.perf_counter() - started
    data = json.loads(out.read_text())
    out.unlink()
    return elapsed, data


def covtui_ingest(root: Path) -> float:
    """Run `covtui ingest .coverage` in `root` as a process of its own: wall seconds."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "covtui", "ingest", ".coverage"],
        cwd=root, check=True, stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def touch_module(root: Path, i: int) -> None:
    """Change one source file of the synthetic project (a new function at its end)."""
    modules = sorted((root / PACKAGE).glob("mod_*.py"))
    target = modules[(i * 37) % len(modules)]
    target.write_text(target.read_text() + f"\n\ndef bench_touch_{i}(x):\n    return x\n")


def differences(report: CoverageReport, expected: dict, root: Path) -> list[str]:
    """Every way `report` differs from `coverage json`'s output (empty when they agree)."""
    problems: list[str] = []
    want = {relative_path(k, root): v for k, v in expected["files"].items()}
    got = {f.path: f for f in report.files}
    if set(got) != set(want):
        problems.append(f"file sets differ: only covtui {sorted(set(got) - set(want))[:5]}, "
                        f"only json {sorted(set(want) - set(got))[:5]}")
    pairs = [
        ("num_statements", "n_statements"), ("missing_lines", "n_missing"),
        ("excluded_lines", "n_excluded"), ("num_branches", "n_branches"),
        ("num_partial_branches", "n_partial_branches"), ("missing_branches", "n_missing_branches"),
    ]
    for path in sorted(set(got) & set(want)):
        f, exp = got[path], want[path]
        for jkey, attr in pairs:
            if exp["summary"].get(jkey, 0) != getattr(f.numbers, attr):
                problems.append(f"{path}: {jkey} {getattr(f.numbers, attr)} != {exp['summary'][jkey]}")
        if list(f.missing_lines) != exp["missing_lines"]:
            problems.append(f"{path}: missing_lines differ")
        if [list(a) for a in f.missing_arcs] != exp.get("missing_branches", []):
            problems.append(f"{path}: missing_branches differ")
    totals = report.numbers.as_coverage_json()
    for key, value in expected["totals"].items():
        if key in totals and not key.startswith("percent") and totals[key] != value:
            problems.append(f"totals: {key} {totals[key]} != {value}")
    return problems


def timed(fn: Callable[[], tuple[CoverageReport, ReadStats]]) -> tuple[float, CoverageReport, ReadStats]:
    started = time.perf_counter()
    report, stats = fn()
    return time.perf_counter() - started, report, stats


def check(label: str, report: CoverageReport, expected: dict, root: Path) -> None:
    problems = differences(report, expected, root)
    if problems:
        print(f"FAIL: {label}: covtui differs from coverage json:", file=sys.stderr)
        for p in problems[:40]:
            print(f"  {p}", file=sys.stderr)
        sys.exit(1)


def run(root: Path, runs: int) -> None:
    data_file = root / ".coverage"
    cache_root = Path(tempfile.mkdtemp(prefix="covtui-bench-cache-"))
    read = lambda cache: read_with_stats([data_file], root=root, cache_dir=cache)  # noqa: E731

    baseline, cold, warm, changed = [], [], [], []
    expected: dict = {}
    for i in range(runs):
        elapsed, expected = coverage_json(root)
        baseline.append(elapsed)
        cache = cache_root / f"cold{i}"
        elapsed, report, stats = timed(lambda cache=cache: read(cache))
        assert stats.n_parsed == stats.n_files, stats
        cold.append(elapsed)
        check("cold read", report, expected, root)
    stats_line = f"{stats.n_files} files, {report.numbers.n_statements} statements, pool={stats.used_pool}"

    cache = cache_root / "cold0"
    for _ in range(runs):
        elapsed, report, stats = timed(lambda: read(cache))
        assert stats.n_parsed == 0, stats
        warm.append(elapsed)
    check("warm read", report, expected, root)

    # Worst warm case: every file's measured data changed, so no finished result is reusable
    # and all are recomputed from the cached static analysis.
    new_data = []
    for _ in range(runs):
        con = sqlite3.connect(cache / CACHE_FILENAME)
        con.execute("DELETE FROM result")
        con.commit()
        con.close()
        elapsed, report, stats = timed(lambda: read(cache))
        assert stats.n_parsed == 0 and stats.n_results == 0, stats
        new_data.append(elapsed)
    check("warm read, new data", report, expected, root)

    for i in range(runs):
        touch_module(root, i)
        elapsed, report, stats = timed(lambda: read(cache))
        assert stats.n_parsed == 1, stats
        changed.append(elapsed)
        check("warm read, 1 file changed", report, coverage_json(root)[1], root)

    # Whole processes, each beside a coverage json run: the ratio is the median of the pairs'.
    process_cold, process_changed = [], []
    for _ in range(runs):
        shutil.rmtree(root / ".covtui", ignore_errors=True)
        process_cold.append((covtui_ingest(root), coverage_json(root)[0]))
    for i in range(runs):
        touch_module(root, runs + i)
        process_changed.append((covtui_ingest(root), coverage_json(root)[0]))

    base = statistics.median(baseline)
    print(f"\n{stats_line}; medians of {runs} runs\n")
    print(f"{'':34} {'seconds':>8} {'× coverage json':>16}")
    for label, times in [
        ("coverage json (subprocess)", baseline),
        ("covtui cold (empty cache)", cold),
        ("covtui warm (no change)", warm),
        ("covtui warm (1 file changed)", changed),
        ("covtui warm (all data changed)", new_data),
    ]:
        m = statistics.median(times)
        print(f"{label:34} {m:8.3f} {m / base:16.3f}")
    print("\nwhole processes, each beside a coverage json run (median of the pairs' ratios)\n")
    ratios = {}
    for label, pairs in [
        ("covtui ingest process, cold", process_cold),
        ("covtui ingest process, 1 changed", process_changed),
    ]:
        m = statistics.median(a for a, _ in pairs)
        ratios[label] = ratio = statistics.median(a / b for a, b in pairs)
        spread = sorted(a / b for a, b in pairs)
        print(f"{label:34} {m:8.3f} {ratio:16.4f}  (pairs {spread[0]:.4f}–{spread[-1]:.4f})")
    print("\nall figures agree with coverage json")
    shutil.rmtree(cache_root, ignore_errors=True)
    warm = ratios["covtui ingest process, 1 changed"]
    verdict = "met" if warm <= WARM_PROCESS_TARGET else "MISSED"
    print(f"warm whole-process ingest {warm:.4f}× coverage json: target ≤ {WARM_PROCESS_TARGET}× {verdict}")
    if warm > WARM_PROCESS_TARGET:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=212)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="where to build the project (default: a temp dir)")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="covtui-bench-"))
    if root.exists() and any(root.iterdir()):
        shutil.rmtree(root)
    print(f"building {args.files} files in {root} and running them under coverage…")
    run_coverage(make_project(root, args.files))
    try:
        run(root, args.runs)
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
