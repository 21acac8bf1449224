"""The whole suite: `python -m benchmarks [--quick]`.

Runs start-up (`covtui --version` against `coverage --version`), ingest (212 files, and 2,000
unless --quick), history, dashboard, the demo's first paint (empty and warm cache) and scan in
sequence, then prints one table with the machine it ran on. Exits 1 when any target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import coverage

from benchmarks import dashboard, first_paint, history, scan, startup
from benchmarks.dashboard import Row, print_table

# A line of benchmarks.ingest's table: label, seconds, × coverage json.
_INGEST_LINE = re.compile(
    r"^(?P<label>\S.*?)\s+(?P<s>\d+\.\d+)\s+(?P<x>\d+\.\d+)(?:\s+\(pairs [^)]*\))?$"
)
#: label in benchmarks.ingest → (name here, target, passes)
_INGEST_TARGETS: dict[str, tuple[str, str, Callable[[float], bool] | None]] = {
    "covtui cold (empty cache)": ("cold (empty cache)", "<= 1.0× (goal 0.6×)", lambda x: x <= 1.0),
    "covtui warm (no change)": ("warm, no change", "", None),
    "covtui warm (1 file changed)": ("warm, 1 file changed (the read alone)", "", None),
    "covtui warm (all data changed)": ("warm, all data changed", "", None),
    "covtui ingest process, cold": ("`covtui ingest` process, cold", "", None),
    "covtui ingest process, 1 changed": ("`covtui ingest` process, warm, 1 file changed",
                                         "<= 0.05×", lambda x: x <= 0.05),
}


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return (f"{nproc} cores ({model}), Python {platform.python_version()}, "
            f"coverage {coverage.__version__}, {platform.system()} {platform.release()}")


def ingest_rows(n_files: int) -> list[Row]:
    """Run benchmarks.ingest in a subprocess (it has only a main) and read its table."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.ingest", "--files", str(n_files)],
        capture_output=True, text=True,
    )
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    prefix = f"ingest {n_files:,} files"
    base = ""
    rows: list[Row] = []
    for line in result.stdout.splitlines():
        m = _INGEST_LINE.match(line.strip())
        if not m:
            continue
        label, seconds, ratio = m["label"], float(m["s"]), float(m["x"])
        if label.startswith("coverage json"):
            base = f"{seconds:.3f} s"
            rows.append(Row(f"{prefix}: coverage json (baseline)", base))
        elif label in _INGEST_TARGETS:
            name, target, passes = _INGEST_TARGETS[label]
            rows.append(Row(f"{prefix}: {name}", f"{seconds:.3f} s", base, f"{ratio:.4f}×",
                            target, passes(ratio) if passes else None))
    # (It exits 1 for a missed target too: the rows above say which.)
    agree = "all figures agree with coverage json" in result.stdout
    rows.append(Row(f"{prefix}: every figure equals coverage json", "yes" if agree else "NO",
                    "", "", "identical", agree))
    return rows


def history_rows(quick: bool) -> list[Row]:
    table = history.Table()
    with tempfile.TemporaryDirectory(prefix="covtui-bench-") as tmp:
        asyncio.run(history.history_benchmarks(table, Path(tmp), 90))
        asyncio.run(history.prune_benchmarks(table, Path(tmp)))
        if not quick:
            asyncio.run(history.scaling_benchmarks(table, Path(tmp)))
    return [
        Row(f"history: {what}", value, "", "", target, None if not verdict else verdict == "ok")
        for what, value, target, verdict in table.rows
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="no 2,000-file ingest or scaling run, a short idle period, one scan run")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sections: list[tuple[str, Callable[[], list[Row]]]] = [
        ("start-up", lambda: [Row(f"start-up: {r.name}", *r[1:])
                              for r in startup.measure(10 if args.quick else 20)]),
        ("ingest, 212 files", lambda: ingest_rows(212)),
    ]
    if not args.quick:
        sections.append(("ingest, 2,000 files", lambda: ingest_rows(2000)))
    sections += [
        ("history", lambda: history_rows(args.quick)),
        ("dashboard", lambda: [Row(f"dashboard: {r.name}", *r[1:])
                               for r in asyncio.run(dashboard.measure(args.quick, False))]),
        ("demo first paint", lambda: first_paint.measure(1 if args.quick else 3, args.quick)),
        ("scan", lambda: [Row(f"scan: {r.name.strip()}", *r[1:])
                          for r in scan.measure(1 if args.quick else 3, 40)]),
    ]
    rows: list[Row] = []
    for title, section in sections:
        print(f"\n== {title} ==", flush=True)
        try:
            rows += section()
        except Exception:  # noqa: BLE001  (one broken section must not hide the others)
            traceback.print_exc()
            rows.append(Row(f"{title}: crashed", "see the traceback above", ok=False))
    print(f"\nmachine: {machine()}")
    print(f"suite: {time.perf_counter() - started:.0f} s{' (--quick)' if args.quick else ''}")
    print_table(rows)
    missed = [r.name for r in rows if r.ok is False]
    if missed:
        print(f"\nmissed ({len(missed)}):")
        for name in missed:
            print(f"  {name}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
