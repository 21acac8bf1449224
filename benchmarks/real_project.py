"""Affected rescans on a real project: `python -m benchmarks.real_project [--package boltons==24.1.0] [--rounds 8]`.

Downloads the package's sdist from the package index (`pip download --no-binary`), unpacks it
into a temporary folder (a git repository of its own), takes a first full `covtui scan`, then
for each round edits the body of one of its functions, picked at random (`--seed`): one to
three lines inserted before its first statement. It times, as whole processes, `covtui scan
-q --affected` and then a full `covtui scan -q` of the same tree, and checks that the two
snapshots store the same figures, per file and in total, and for each line the same tests
(lines whose tests differ are listed: a test whose path depends on thread timing shows there).
pytest runs without this environment's plugins (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1), bytecode
cached. Prints each round and the medians; exits 1 when a round's figures differ.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"


def fetch(spec: str, into: Path) -> Path:
    """The unpacked sdist of `spec` (pip's requirement syntax), a git repository."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
         "-d", str(into), spec], check=True,
    )
    (archive,) = into.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    (root,) = (p for p in into.iterdir() if p.is_dir())
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=b", "-c", "user.email=b@b",
                                                  "commit", "-qm", "sdist"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def covtui(root: Path, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "covtui", "scan", "-q", *args], cwd=root, env=ENV,
        capture_output=True, text=True,
    )
    return time.perf_counter() - started, proc.stdout + proc.stderr


def edit_a_function(root: Path, package: str, rng: random.Random, round_: int) -> str:
    """Insert one to three lines at the start of a random function's body; where, as text."""
    modules = sorted((root / package).rglob("*.py"))
    while True:
        path = rng.choice(modules)
        functions = [
            node for node in ast.walk(ast.parse(path.read_bytes()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and len(node.body) >= 2
        ]
        if functions:
            break
    function = rng.choice(functions)
    first = function.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):  # its docstring
        first = function.body[1]
    lines = path.read_text().splitlines(keepends=True)
    line = lines[first.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())]
    inserted = rng.choice([
        f"{indent}_probe_{round_} = {round_}\n",
        f"{indent}_probe_{round_} = [\n{indent}    {round_},\n{indent}]\n",
    ])
    lines.insert(first.lineno - 1, inserted)
    path.write_text("".join(lines))
    return f"{path.relative_to(root)}:{function.name} +{inserted.count(chr(10))}"


def compare(db: Path, incremental: int, full: int) -> tuple[bool, list[str]]:
    """Whether the two snapshots store the same figures (per file, in total), and the files
    whose lines were run by other tests (each: how many lines)."""
    from covtui.domain.contexts import is_import
    from covtui.store import Store

    async def read(sid: int):
        async with await Store.open(db, read_only=True) as store:
            row = await store.snapshot(sid)
            states = await store.states_at(sid)
            lines = {
                path: {n: frozenset("import" if is_import(t.contexts[i]) else t.contexts[i] for i in ids)
                       for n, ids in t.lines.items()}
                for (_, path), t in (await store.line_tests(sid)).items()
            }
            return row.numbers, states, lines

    a, b = asyncio.run(read(incremental)), asyncio.run(read(full))
    same = a[0] == b[0] and a[1] == b[1]
    differ = []
    for path in sorted(set(a[2]) | set(b[2])):
        x, y = a[2].get(path, {}), b[2].get(path, {})
        n = sum(1 for line in set(x) | set(y) if x.get(line) != y.get(line))
        if n:
            differ.append(f"{path}: {n} line{'s' if n != 1 else ''}")
    return same, differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.real_project")
    parser.add_argument("--package", default="boltons==24.1.0", help="a requirement with an sdist")
    parser.add_argument("--module", default=None, help="the folder edited (default: the name)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    folder = args.module or args.package.split("==")[0].replace("-", "_")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="covtui-real-") as tmp:
        root = fetch(args.package, Path(tmp))
        db = root / ".covtui" / "covtui.db"
        first, _ = covtui(root)
        print(f"{args.package}: first full scan {first:.2f}s")
        inc_times, full_times, ok = [], [], True
        for r in range(args.rounds):
            where = edit_a_function(root, folder, rng, r)
            inc_s, out = covtui(root, "--affected")
            note = next((line for line in out.splitlines()
                         if line.startswith(("incremental", "full scan"))), "?")
            full_s, _ = covtui(root)
            with sqlite3.connect(db) as con:
                full_id, inc_id = [i for (i,) in con.execute(
                    "SELECT id FROM snapshots ORDER BY id DESC LIMIT 2")]
            same, differ = compare(db, inc_id, full_id)
            ok &= same
            inc_times.append(inc_s)
            full_times.append(full_s)
            print(f"round {r + 1}: {where} | {note} | --affected {inc_s:.2f}s, full {full_s:.2f}s | "
                  f"figures {'identical' if same else 'DIFFER'}"
                  + (f"; other tests on {', '.join(differ)}" if differ else ""))
        inc, full = statistics.median(inc_times), statistics.median(full_times)
        print(f"median: covtui scan --affected {inc:.2f}s, covtui scan {full:.2f}s: {inc / full:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
