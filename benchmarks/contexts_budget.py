"""Per-test coverage's storage budget, measured: `python -m benchmarks.contexts_budget`.

Issue 12's budget, at the demo's scale (212 files, ~50k lines, ~3,800 tests): at most 5 MB of
line → tests per kept snapshot, and a 90-day history of at most 25 MB when only alerted
snapshots keep it. On benchmarks.scan's fixture (`--modules 211 --exercised 0.9`: 212 files,
3,819 pytest tests) this runs `covtui scan` with contexts on under the real coverage.py and
measures what one snapshot keeps; then it records a 90-day history from that scan's real
result (`--per-day` snapshots a day; each adds a test to one module, every `--alert-every`-th
deletes one, which raises a tests_removed alert), pruning after each snapshot as `covtui scan`
does, and measures the final database, against the same history without per-test coverage.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.scan import PACKAGE, make_fixture, run
from covtui.config import load_config
from covtui.domain.contexts import LineTests, split_context
from covtui.domain.model import SnapshotDraft, SourceResult
from covtui.ingest import read_reports
from covtui.record import record_snapshot
from covtui.store import Store

DAY = 86_400.0
MB = 1e6


def _size(db: Path) -> int:
    """The database file and its write-ahead log, as they are on disk."""
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def _vacuumed(db: Path) -> int:
    """What the data needs: the size of a VACUUM INTO copy (no free pages)."""
    copy = db.with_name("vacuumed.db")
    copy.unlink(missing_ok=True)
    with sqlite3.connect(db) as con:
        con.execute("VACUUM INTO ?", (str(copy),))
    size = copy.stat().st_size
    copy.unlink()
    return size


def _tables(db: Path) -> dict[str, int]:
    """Bytes of pages per table and index (SQLite's dbstat), largest first, over 1% of the file."""
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    total = sum(size for _, size in rows)
    return {name: size for name, size in rows if size >= total / 100}


def _count_lines(root: Path) -> tuple[int, int]:
    files = sorted((root / PACKAGE).glob("*.py"))
    return len(files), sum(len(p.read_text().splitlines()) for p in files)


async def _one_snapshot(db: Path) -> dict:
    async with await Store.open(db, read_only=True) as store:
        kept = await store.line_test_snapshots()
        line_bytes = await store.line_test_bytes()
        files = await store.line_tests(kept[0])
    tests = set().union(*(t.all_tests() for t in files.values()))
    lines = sum(len(t.lines) for t in files.values())
    return {
        "snapshots_kept": len(kept), "line_test_bytes": line_bytes, "files": len(files),
        "tests_in_contexts": len(tests), "executed_lines": lines,
        "db_bytes": _size(db), "db_vacuumed_bytes": _vacuumed(db),
    }


def _with_test(tests: LineTests, context: str, lines: list[int] | None, drop: str | None) -> LineTests:
    """`tests` with `context` added to `lines`, and every context of test `drop` removed."""
    by_line = {line: set(tests.contexts_of(line)) for line in tests.lines}
    if drop is not None:
        by_line = {line: {c for c in names if split_context(c)[0] != drop} for line, names in by_line.items()}
    for line in lines or ():
        by_line[line].add(context)
    return LineTests.of(by_line, tests.lines.keys(), tests.content)


async def _history(
    root: Path, db: Path, base: SourceResult, *, days: int, per_day: int, alert_every: int,
    contexts: bool, seed: int,
) -> dict:
    """Record `days` × `per_day` snapshots derived from `base` into `db`, pruning after each."""
    config = load_config(root)
    rng = random.Random(seed)
    assert base.report is not None and base.report.line_tests is not None and base.tests is not None
    line_tests = dict(base.report.line_tests)
    outcomes = dict(base.outcomes or {})
    ids = list(base.tests.ids)
    n = days * per_day
    start = time.time() - days * DAY
    started = time.perf_counter()
    n_alerted = 0
    async with await Store.open(db) as store:
        for i in range(n):
            if i % alert_every == alert_every - 1:
                # A test deleted: its contexts leave every file; tests_removed alerts.
                gone = rng.choice(sorted(outcomes))
                del outcomes[gone]
                module, _, name = gone.partition("::")
                ids.remove(f"{module.removesuffix('.py').replace('/', '.')}::{name}")
                line_tests = {p: _with_test(t, "", None, gone) if gone in t.all_tests() else t
                              for p, t in line_tests.items()}
            else:
                # A new test in one module: it runs a few of that module's lines.
                path = rng.choice(sorted(p for p, t in line_tests.items() if t.lines))
                new_test = f"tests/test_new_{i:04d}.py::test_new_{i}"
                lines = rng.sample(sorted(line_tests[path].lines), min(8, len(line_tests[path].lines)))
                line_tests[path] = _with_test(line_tests[path], f"{new_test}|run", lines, None)
                outcomes[new_test] = "passed"
                ids.append(f"tests.test_new_{i:04d}::test_new_{i}")
            tests = dataclasses.replace(base.tests, n_tests=len(ids), ids=list(ids))
            report = dataclasses.replace(base.report, line_tests=dict(line_tests) if contexts else None)
            result = dataclasses.replace(
                base, report=report, tests=tests, outcomes=dict(outcomes) if contexts else None
            )
            draft = SnapshotDraft("scan", [result], created_at=start + i * DAY / per_day)
            _, alerts = await record_snapshot(store, draft, config)
            n_alerted += bool(alerts)
            await store.prune(config.retention_days, now=start + i * DAY / per_day)
            if (i + 1) % 40 == 0:
                print(f"    {i + 1}/{n} snapshots, {time.perf_counter() - started:.0f} s,"
                      f" {_size(db) / MB:.1f} MB", flush=True)
        kept = await store.line_test_snapshots()
        line_bytes = await store.line_test_bytes()
        n_snapshots = await store.n_snapshots()
    return {
        "snapshots": n_snapshots, "alerted_snapshots": n_alerted, "snapshots_kept": len(kept),
        "line_test_bytes": line_bytes, "db_bytes": _size(db), "db_vacuumed_bytes": _vacuumed(db),
        "seconds": time.perf_counter() - started, "tables": _tables(db),
    }


def measure(modules: int, exercised: float, days: int, per_day: int, alert_every: int, seed: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="covtui-bench-budget-"))
    try:
        n_tests = make_fixture(root, modules, exercised)
        n_files, n_lines = _count_lines(root)
        pyproject = root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace(
            'command = "pytest -q" }', 'command = "pytest -q", contexts = true }'))
        print(f"fixture: {n_files} files, {n_lines:,} lines, {n_tests:,} pytest tests in {root}", flush=True)
        wall = run([sys.executable, "-m", "covtui", "scan", "-q"], root)
        db = root / ".covtui" / "covtui.db"
        one = asyncio.run(_one_snapshot(db))
        print(f"one real scan ({wall:.0f} s): {json.dumps(one)}", flush=True)

        work = root / ".covtui" / "run" / "python"
        base = read_reports(load_config(root), [work / ".coverage", work / "junit.xml"], source="python")
        base = dataclasses.replace(
            base, outcomes=json.loads((work / "outcomes.json").read_text()),
        )
        figures = {}
        for contexts in (True, False):
            history_db = root / ".covtui" / f"history-{'on' if contexts else 'off'}.db"
            print(f"  90-day history, per-test coverage {'on' if contexts else 'off'}:", flush=True)
            figures[contexts] = asyncio.run(_history(
                root, history_db, base, days=days, per_day=per_day, alert_every=alert_every,
                contexts=contexts, seed=seed,
            ))
            print(f"  {json.dumps(figures[contexts])}", flush=True)

        on, off = figures[True], figures[False]
        print(f"\n{n_files} files, {n_lines:,} lines ({one['executed_lines']:,} executed),"
              f" {n_tests:,} tests ({one['tests_in_contexts']:,} named in contexts):")
        print(f"  one kept snapshot: line → tests {one['line_test_bytes'] / MB:.2f} MB"
              f" (budget 5 MB); database {one['db_bytes'] / MB:.2f} MB"
              f" ({one['db_vacuumed_bytes'] / MB:.2f} MB vacuumed)")
        print(f"  {days} days × {per_day} snapshots, a test deleted every {alert_every}th:"
              f" {on['alerted_snapshots']} alerted snapshots; {on['snapshots_kept']} keep line → tests")
        print(f"  line → tests kept: {on['line_test_bytes'] / MB:.2f} MB (budget 25 MB)")
        print(f"  database with per-test coverage {on['db_bytes'] / MB:.2f} MB"
              f" ({on['db_vacuumed_bytes'] / MB:.2f} MB vacuumed); without"
              f" {off['db_bytes'] / MB:.2f} MB ({off['db_vacuumed_bytes'] / MB:.2f} MB vacuumed)")
        for contexts, label in ((True, "with"), (False, "without")):
            tables = ", ".join(f"{name} {size / MB:.2f}" for name, size in figures[contexts]["tables"].items())
            print(f"  pages {label} (MB): {tables}")
    finally:
        if os.environ.get("COVTUI_BENCH_KEEP"):
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=211)
    parser.add_argument("--exercised", type=float, default=0.9, help="share of calls tested (0.9: 3,819 tests)")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=4)
    parser.add_argument("--alert-every", type=int, default=5, help="every Nth snapshot deletes a test")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    measure(args.modules, args.exercised, args.days, args.per_day, args.alert_every, args.seed)
