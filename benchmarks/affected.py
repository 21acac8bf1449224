"""Affected rescans against full ones: `python -m benchmarks.affected [--rounds 3] [--modules 40]`.

Builds a synthetic project (`--modules` modules of 10 functions, a test file of 10 tests per
module: 400 tests across 40 modules by default; each test does about `--work` loop steps, at
the default about 1 ms under coverage.py here), takes a first full `covtui scan`, then for
each round changes one function's body and times, as whole processes, `covtui scan -q
--affected` and then a full `covtui scan -q` of the same tree. The two snapshots must store
the same figures, per file and in total (asserted). Then the time from saving a file to the new snapshot stored by
`covtui watch --on-change`, with and without `--affected`. Exits 1 when the ratio misses 0.3.
Each round also times the floor: the tests the affected scan ran, alone, as `coverage run
--branch -m pytest` and as plain `pytest` (nothing selected, merged or stored), the least a
tool that starts a process per scan pays.

`--bare-pytest`: the project's pytest loads no plugin from this environment's entry points
(PYTEST_DISABLE_PLUGIN_AUTOLOAD=1; covtui adds its own with -p), as in a project whose
virtualenv holds only pytest and coverage.py. In covtui's development environment pytest
otherwise imports ten plugins at every start (hypothesis, textual's snapshot plugin, xdist…),
about 2.5 s of CPU under coverage that every scan, full or affected, pays.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.3
#: The environment of every covtui process the benchmark starts (`--bare-pytest` adds to it).
#: Without PYTHONDONTWRITEBYTECODE (set on this project's machines): the project's modules and
#: pytest's rewritten test modules are cached as bytecode, as on a developer's machine. With
#: it, every scan compiles them again, which costs a full scan (all 40 test modules) far more
#: than an affected one, and flattered the ratio (0.29x with it, 0.37x without, 2026-11-30).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

MODULE_HEAD = "WEIGHT = {weight}\n"
FUNCTION = '''

def f{k}(n):
    total = 0
    for i in range(WEIGHT):
        if (i + n) % {mod} == 0:
            total += i
        else:
            total -= 1
    return total + {k}
'''
TEST_HEAD = "from pkg.mod_{m:02d} import {names}\n"
TEST = '''

def test_f{k}():
    assert f{k}({k}) is not None
'''


def make_project(root: Path, modules: int, work: int) -> int:
    """Write the project; returns how many tests it has."""
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    n = 0
    for m in range(modules):
        body = MODULE_HEAD.format(weight=work) + "".join(
            FUNCTION.format(k=k, mod=k + 2) for k in range(10)
        )
        (root / "pkg" / f"mod_{m:02d}.py").write_text(body)
        names = ", ".join(f"f{k}" for k in range(10))
        tests = TEST_HEAD.format(m=m, names=names) + "".join(TEST.format(k=k) for k in range(10))
        (root / "tests" / f"test_mod_{m:02d}.py").write_text(tests)
        n += 10
    (root / "pyproject.toml").write_text(
        '[tool.coverage.run]\nsource = ["pkg"]\n\n'
        '[tool.covtui]\nsources = [{ name = "python", command = "pytest -q -p no:cacheprovider" }]\n'
    )
    return n


def covtui(root: Path, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "covtui", *args], cwd=root, capture_output=True, text=True, env=ENV,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"covtui {' '.join(args)} exited {result.returncode}:\n{result.stdout}")
    return elapsed, result.stdout


def floor(root: Path, data_file: Path) -> tuple[float, float]:
    """The least any tool that starts a process per scan pays for the tests the last
    `--affected` scan ran (its selection file), as whole processes in the same tree and
    environment: (`coverage run --branch -m pytest` on them, without per-test contexts and
    recording nothing; `pytest` alone on them)."""
    chosen = json.loads((root / ".covtui" / "run" / "python" / "select.json").read_text())
    targets = [*chosen["files"], *chosen["tests"]]
    pytest_args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", *targets]
    times = []
    for argv in (
        [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data_file}", *pytest_args],
        [sys.executable, *pytest_args],
    ):
        started = time.perf_counter()
        result = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=ENV)
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}")
    return times[0], times[1]


def change_one_function(root: Path, round_: int) -> None:
    path = root / "pkg" / f"mod_{round_ % 40:02d}.py"
    text = path.read_text()
    path.write_text(text.replace("    return total + 3\n", f"    total += {round_}\n    return total + 3\n", 1)
                    if "    return total + 3\n" in text else text + "\n")


def stored(db: Path, snapshot_id: int) -> tuple:
    """A snapshot's figures: its row's numbers, scope and test counts, and each file's state."""
    from covtui.store import Store

    async def main():
        async with await Store.open(db, read_only=True) as store:
            row = await store.snapshot(snapshot_id)
            return row, await store.states_at(snapshot_id)

    return asyncio.run(main())


def latest_id(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT MAX(id) FROM snapshots").fetchone()[0]


def watch_latency(root: Path, affected: bool, round_: int) -> float:
    """Seconds from writing a changed file to its snapshot being stored by `covtui watch`."""
    db = root / ".covtui" / "covtui.db"
    args = ["watch", "--interval", "3600", "--on-change"] + (["--affected"] if affected else [])
    watch = subprocess.Popen(
        [sys.executable, "-m", "covtui", *args], cwd=root,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV,
    )
    try:
        first = latest_id(db)
        deadline = time.monotonic() + 300
        while latest_id(db) == first:  # watch scans once when it starts
            if time.monotonic() > deadline:
                raise RuntimeError("watch stored no snapshot")
            time.sleep(0.1)
        time.sleep(1.0)  # let it settle into waiting for changes
        before = latest_id(db)
        saved = time.perf_counter()
        change_one_function(root, round_)
        while latest_id(db) == before:
            if time.monotonic() > deadline:
                raise RuntimeError("watch stored no snapshot after the change")
            time.sleep(0.05)
        return time.perf_counter() - saved
    finally:
        watch.send_signal(signal.SIGTERM)
        try:
            watch.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            watch.kill()
            watch.communicate()


#: The dashboard's `r` and `R` (and `covtui watch`'s scans), timed inside one long-lived
#: covtui process as the dashboard runs them: `run_scan(..., keep_warm=True)`, with the next
#: scan's tests started up to the project's code after each (covtui.scan.early.prestart).
#: Prints JSON: the seconds of each `r` and `R`, and the two snapshots' ids per round.
STAYING_OPEN = """
import asyncio, importlib.util, json, sys, time
from pathlib import Path
# By path: the checkout on sys.path would change the installed packages' digest (its
# covtui.egg-info), and every rescan would be a full one.
spec = importlib.util.spec_from_file_location("affected_benchmark", sys.argv[1])
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
change_one_function = bench.change_one_function
from covtui.config import load_config
from covtui.scan import early, run_scan

root, rounds, first_round = Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
config = load_config(root)

async def main():
    await asyncio.to_thread(early.prestart, config)
    r_s, full_s, ids = [], [], []
    for n in range(first_round, first_round + rounds):
        await asyncio.sleep(1.0)  # a moment between key presses: the next tests start
        change_one_function(root, n)
        started = time.perf_counter()
        inc = await run_scan(config, trigger="dashboard", affected=True, keep_warm=True)
        r_s.append(time.perf_counter() - started)
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        full = await run_scan(config, trigger="dashboard", affected=False, keep_warm=True)
        full_s.append(time.perf_counter() - started)
        ids.append((inc.snapshot_id, full.snapshot_id, inc.notes))
    early.discard_warm()
    print(json.dumps({"r": r_s, "R": full_s, "ids": ids}))

asyncio.run(main())
"""


def staying_open(root: Path, rounds: int, first_round: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", STAYING_OPEN, str(Path(__file__).resolve()), str(root),
         str(rounds), str(first_round)],
        cwd=root, capture_output=True, text=True, env=ENV,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the dashboard's scans failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.affected")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modules", type=int, default=40)
    parser.add_argument("--work", type=int, default=400, help="loop steps per test call")
    parser.add_argument("--bare-pytest", action="store_true",
                        help="pytest without this environment's plugins (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1)")
    args = parser.parse_args(argv)
    if args.bare_pytest:
        ENV["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with tempfile.TemporaryDirectory(prefix="covtui-affected-") as tmp:
        root = Path(tmp) / "proj"
        n_tests = make_project(root, args.modules, args.work)
        db = root / ".covtui" / "covtui.db"
        first, _ = covtui(root, "scan", "-q")
        print(f"{n_tests} tests across {args.modules} modules; first full scan {first:.2f}s"
              + ("; pytest without this environment's plugins" if args.bare_pytest else ""))
        inc_times, full_times, notes = [], [], []
        floor_cov_times, floor_pytest_times = [], []
        for r in range(args.rounds):
            change_one_function(root, r)
            inc_s, out = covtui(root, "scan", "-q", "--affected")
            inc_id = latest_id(db)
            notes.append(next((line for line in out.splitlines() if line.startswith(("incremental", "full scan"))), "?"))
            floor_cov, floor_pytest = floor(root, Path(tmp) / "floor.coverage")
            floor_cov_times.append(floor_cov)
            floor_pytest_times.append(floor_pytest)
            full_s, _ = covtui(root, "scan", "-q")
            full_id = latest_id(db)
            inc_row, inc_files = stored(db, inc_id)
            full_row, full_files = stored(db, full_id)
            assert inc_row.scope == "incremental", notes[-1]
            assert inc_files == full_files, "per-file figures differ"
            assert inc_row.numbers == full_row.numbers, "totals differ"
            assert inc_row.tests.n_tests == full_row.tests.n_tests == n_tests
            inc_times.append(inc_s)
            full_times.append(full_s)
            print(f"round {r + 1}: --affected {inc_s:.2f}s ({notes[-1]}), full {full_s:.2f}s; "
                  f"identical: {inc_row.numbers.pc_covered_str(2)}% both, {len(inc_files)} files; "
                  f"the same tests under plain coverage run {floor_cov:.2f}s, pytest alone {floor_pytest:.2f}s")
        inc, full = statistics.median(inc_times), statistics.median(full_times)
        ratio = inc / full
        print(f"median: covtui scan --affected {inc:.2f}s, covtui scan {full:.2f}s: "
              f"{ratio:.2f}x (target <= {TARGET}x)")
        floor_cov, floor_pytest = statistics.median(floor_cov_times), statistics.median(floor_pytest_times)
        print(f"floor, the affected tests alone (nothing selected, merged or stored): "
              f"coverage run --branch -m pytest {floor_cov:.2f}s = {floor_cov / full:.2f}x a full "
              f"covtui scan, pytest alone {floor_pytest:.2f}s = {floor_pytest / full:.2f}x; "
              f"covtui scan --affected = {inc / floor_cov:.2f}x the coverage run")
        open_ = staying_open(root, args.rounds, args.rounds + 2)
        for inc_id, full_id, inc_notes in open_["ids"]:
            inc_row, inc_files = stored(db, inc_id)
            full_row, full_files = stored(db, full_id)
            assert inc_row.scope == "incremental", inc_notes
            assert inc_files == full_files and inc_row.numbers == full_row.numbers, "figures differ"
        r_s, big_r_s = statistics.median(open_["r"]), statistics.median(open_["R"])
        print(f"the dashboard's r (affected, its tests started ahead) {r_s:.2f}s, R (full) "
              f"{big_r_s:.2f}s: r {r_s / full:.2f}x a full covtui scan, {r_s / big_r_s:.2f}x R; "
              f"identical figures in each of {args.rounds} rounds")
        from covtui.config import load_config

        watch_inc = watch_latency(root, True, args.rounds)
        watch_full = watch_latency(root, False, args.rounds + 1)
        print(f"save -> snapshot stored by covtui watch --on-change: --affected {watch_inc:.2f}s, "
              f"full {watch_full:.2f}s (both include watch's settle wait, watch_settle = "
              f"{load_config(root).watch_settle:g} s, and watchfiles' 50 ms step)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
