"""`covtui scan` against coverage.py by hand: `python -m benchmarks.scan [--runs 3] [--quick]`.

Builds a fixture project (benchmarks.synth's modules, its test calls split into a few hundred
pytest tests, a git repository), then times the median of `--runs` runs of the baseline,
`coverage run --branch -m pytest -q` + `coverage json` as subprocesses, against
`covtui scan -q` with an empty analysis cache (cold), with a warm one, and a warm rescan after
one source file changed, all interleaved. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dashboard import Row, print_table
from benchmarks.synth import PACKAGE, make_project

COVTUI_CONFIG = """
[tool.covtui]
sources = [{ name = "python", command = "pytest -q" }]
"""
GITIGNORE = ".covtui/\n.coverage\ncoverage.json\n__pycache__/\n.pytest_cache/\n"
_CALL = re.compile(r"^    with contextlib\.suppress\(Exception\):\n        (.+)$", re.M)
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def make_fixture(root: Path, modules: int, exercised: float = 0.5) -> int:
    """Write the project into `root`; returns how many tests it has (about `exercised` of
    the modules' calls are made, one test each)."""
    make_project(root, modules + 1, exercised=exercised)
    n_tests = 0
    for path in sorted((root / "tests").glob("test_*.py")):
        text = path.read_text()
        head, _, _ = text.partition("\n\ndef test_")
        # One test per call: pytest collects, runs and reports each one.
        calls = _CALL.findall(text)
        tests = [
            f"def test_{path.stem[5:]}_{k}():\n    with contextlib.suppress(Exception):\n"
            f"        {call}\n"
            for k, call in enumerate(calls)
        ] or [f"def test_{path.stem[5:]}():\n    pass\n"]
        path.write_text(head + "\n\n\n" + "\n\n".join(tests))
        n_tests += len(tests)
    with (root / "pyproject.toml").open("a") as f:
        f.write(COVTUI_CONFIG)
    (root / ".gitignore").write_text(GITIGNORE)
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", "fixture"], cwd=root, check=True)
    return n_tests


def run(argv: list[str], root: Path) -> float:
    """Wall seconds of one command; its output is kept only for an error."""
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return elapsed


def baseline(root: Path) -> tuple[float, float]:
    """(coverage run -m pytest, coverage json) seconds, done by hand."""
    py = sys.executable
    test_s = run([py, "-m", "coverage", "run", "--branch", "-m", "pytest", "-q"], root)
    json_s = run([py, "-m", "coverage", "json", "-q", "-o", "coverage.json"], root)
    return test_s, json_s


def scan(root: Path, cold: bool) -> tuple[float, float, float]:
    """(wall, the test command's wall, read_s) of `covtui scan -q`, as the snapshot records."""
    if cold:
        shutil.rmtree(root / ".covtui" / "cache", ignore_errors=True)
    wall = run([sys.executable, "-m", "covtui", "scan", "-q"], root)
    with sqlite3.connect(root / ".covtui" / "covtui.db") as con:
        command_s, read_s = con.execute(
            "SELECT wall_s, read_s FROM snapshots ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return wall, command_s, read_s


def measure(runs: int, modules: int) -> list[Row]:
    root = Path(tempfile.mkdtemp(prefix="covtui-bench-scan-"))
    try:
        n_tests = make_fixture(root, modules)
        print(f"fixture: {modules} modules, {n_tests} pytest tests in {root}", flush=True)
        # Untimed: byte-compiles the project and pytest's rewritten tests, creates the database.
        baseline(root)
        scan(root, cold=True)
        by_hand, tests_only, json_only = [], [], []
        cold, warm, changed = [], [], []
        modules_paths = sorted((root / PACKAGE).glob("mod_*.py"))
        # Interleaved, so a busy moment of the machine hits every kind alike.
        for i in range(runs):
            test_s, json_s = baseline(root)
            by_hand.append(test_s + json_s)
            tests_only.append(test_s)
            json_only.append(json_s)
            cold.append(scan(root, cold=True))
            warm.append(scan(root, cold=False))
            target = modules_paths[(i * 7) % len(modules_paths)]
            target.write_text(target.read_text() + f"\n\ndef bench_touch_{i}(x):\n    return x\n")
            changed.append(scan(root, cold=False))
            print(f"  run {i + 1}: by hand {by_hand[-1]:.2f} s, covtui cold {cold[-1][0]:.2f} s, "
                  f"warm {warm[-1][0]:.2f} s, {target.name} changed {changed[-1][0]:.2f} s",
                  flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def med(values: list[tuple[float, float, float]], k: int) -> float:
        return statistics.median(v[k] for v in values)

    base = statistics.median(by_hand)
    c, w, ch = med(cold, 0), med(warm, 0), med(changed, 0)
    rows = [
        Row(f"by hand: coverage run --branch -m pytest -q + coverage json ({n_tests} tests)",
            f"{base:.3f} s"),
        Row("  of which coverage run -m pytest", f"{statistics.median(tests_only):.3f} s"),
        Row("  of which coverage json", f"{statistics.median(json_only):.3f} s"),
        Row("covtui scan -q, cold analysis cache", f"{c:.3f} s", f"{base:.3f} s",
            f"{c / base:.3f}×", "<= 1.05×", c / base <= 1.05),
        Row("covtui scan -q, warm cache", f"{w:.3f} s", f"{base:.3f} s",
            f"{w / base:.3f}×", "<= 1.05×", w / base <= 1.05),
        Row("covtui rescan, 1 source file changed", f"{ch:.3f} s", f"{c:.3f} s (cold)",
            f"{ch / c:.3f}×", "< cold, nearer warm", ch < (c + w) / 2),
    ]
    for label, values in (("cold", cold), ("warm", warm), ("1 changed", changed)):
        rows.append(Row(f"  scan {label}: test command / reading the data",
                        f"{med(values, 1):.3f} / {med(values, 2):.3f} s"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modules", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="one run of each")
    args = parser.parse_args(argv)
    rows = measure(1 if args.quick else args.runs, args.modules)
    print_table(rows)
    missed = [r.name for r in rows if r.ok is False]
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
