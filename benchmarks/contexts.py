"""Per-test coverage's cost: `python -m benchmarks.contexts [--modules 211] [--runs 2]`.

On benchmarks.scan's fixture (synthetic modules, one pytest test per call, a git repository)
it times `covtui scan` with the source's `contexts` off and on, interleaved: the test
command's wall time, the read (ingest) time, the `.coverage` file's size, and what the
database keeps per snapshot (per-test blobs and outcomes, compressed).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.scan import PACKAGE, make_fixture, run


def _set_contexts(root: Path, on: bool) -> None:
    path = root / "pyproject.toml"
    text = path.read_text()
    text = text.replace(', contexts = true', '').replace(', contexts = false', '')
    text = text.replace('command = "pytest -q" }', f'command = "pytest -q", contexts = {str(on).lower()} }}')
    path.write_text(text)


def _scan(root: Path) -> dict:
    wall = run([sys.executable, "-m", "covtui", "scan", "-q"], root)
    db = root / ".covtui" / "covtui.db"
    with sqlite3.connect(db) as con:
        sid, command_s, read_s = con.execute(
            "SELECT id, wall_s, read_s FROM snapshots ORDER BY id DESC LIMIT 1"
        ).fetchone()
        kept = con.execute(
            "SELECT COALESCE(SUM(length(b.data)), 0), COUNT(*) FROM line_tests l "
            "JOIN line_test_blobs b ON b.id = l.blob_id WHERE l.snapshot_id = ?", (sid,)
        ).fetchone()
        outcomes = con.execute(
            "SELECT COALESCE(SUM(length(outcomes)), 0) FROM test_runs WHERE snapshot_id = ?", (sid,)
        ).fetchone()[0]
    data = root / ".covtui" / "run" / "python" / ".coverage"
    return {
        "wall": wall, "command": command_s, "read": read_s, "data_bytes": data.stat().st_size,
        "kept_bytes": kept[0] + outcomes, "n_files": kept[1],
    }


def measure(modules: int, runs: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="covtui-bench-ctx-"))
    try:
        started = time.perf_counter()
        n_tests = make_fixture(root, modules)
        print(f"fixture: {modules + 1} files, {n_tests} pytest tests in {root}", flush=True)
        _set_contexts(root, False)
        _scan(root)  # untimed: compiles, fills the analysis cache
        results: dict[bool, list[dict]] = {False: [], True: []}
        for i in range(runs):
            for on in (False, True) if i % 2 == 0 else (True, False):
                _set_contexts(root, on)
                results[on].append(r := _scan(root))
                print(f"  contexts {'on ' if on else 'off'}: {r}", flush=True)
        # One file changed: what a rescan adds to the database (blobs are shared).
        _set_contexts(root, True)
        _scan(root)
        target = sorted((root / PACKAGE).glob("mod_*.py"))[3]
        target.write_text(target.read_text() + "\n\ndef bench_touch(x):\n    return x\n")
        with sqlite3.connect(root / ".covtui" / "covtui.db") as con:
            before = con.execute("SELECT COALESCE(SUM(length(data)), 0) FROM line_test_blobs").fetchone()[0]
        _scan(root)
        with sqlite3.connect(root / ".covtui" / "covtui.db") as con:
            after = con.execute("SELECT COALESCE(SUM(length(data)), 0) FROM line_test_blobs").fetchone()[0]
        med = lambda on, k: statistics.median(r[k] for r in results[on])  # noqa: E731
        print(f"\n{modules + 1} files, {n_tests} tests, median of {runs}:")
        for k in ("command", "read", "wall"):
            off, on = med(False, k), med(True, k)
            print(f"  {k:8s} off {off:7.2f} s  on {on:7.2f} s  ({100 * (on / off - 1):+.0f}%)")
        off, on = med(False, "data_bytes"), med(True, "data_bytes")
        print(f"  .coverage off {off / 1e6:.2f} MB  on {on / 1e6:.2f} MB  (x{on / off:.1f})")
        print(f"  kept per snapshot (per-test blobs + outcomes): {med(True, 'kept_bytes') / 1e6:.2f} MB")
        print(f"  a rescan with one file changed adds {(after - before) / 1e3:.1f} kB of blobs")
        print(f"  ({time.perf_counter() - started:.0f} s in all)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=211)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    measure(args.modules, args.runs)
