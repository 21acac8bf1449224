"""The demo project's sources on disk, so its file view shows real code.

Each file is written from the synthetic project's layout (covtui.demo.project): every line the
history counts as a statement is one, and no other line is (docstrings, comments, blank lines,
`else`-free gaps). A Python function's blocks after its first are the bodies of `if`
statements, each `if` being the previous block's last line (`statement_depths`), so every
stored partial branch sits on a real `if` and every arc it missed is one coverage.py would
find in the file. The Rust daemon's files are plain functions, as lcov sees them.

The files go in a folder beside the demo database, written whole into a temporary folder and
renamed into place, once per version and seed.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

from covtui import __version__
from covtui.demo.paths import demo_project_root
from covtui.demo.project import SimFile, SimFunc, python_project, rust_project, statement_depths

_MARKER = ".covtui-demo-sources"
#: The sources' modification time (2025-01-01 UTC), before any demo history begins: the file
#: view says a file changed since its scan when it is newer than the snapshot.
SOURCES_MTIME = 1_735_689_600

_IMPORTS = [
    "import asyncio", "import logging", "import json", "import os", "import time",
    "from pathlib import Path", "from typing import Any", "from dataclasses import dataclass",
    "from collections import defaultdict", "import re", "import hashlib", "import uuid",
    "from datetime import datetime, timezone", "from contextlib import suppress",
    "from functools import lru_cache", "import sqlite3",
]
_VALUES = ["result", "value", "items", "entry", "payload", "record", "state", "batch"]
_CALLS = ["load", "parse", "resolve", "validate", "normalise", "collect", "lookup", "merge"]
_CONDITIONS = [
    "if {v} is None:", "if not {v}:", "if isinstance({v}, dict):", "if len({v}) > {n}:",
    "if {v} and {w}:", "if {v} != {w}:", "if key in {v}:", "if options.get(\"{k}\"):",
]
_COMMENTS = [
    "# the common case first", "# keep the caller's order", "# fall back to the defaults",
    "# retried by the caller", "# cheap check before the lookup", "# see the module docstring",
]
_RUST_LINES = [
    "let {v} = ctx.{c}(&key)?;", "let mut {w} = Vec::with_capacity({n});", "{w}.push({v}.clone());",
    "tracing::debug!(\"{c} {{}}\", key);", "let {v} = {w}.iter().map(|x| x.len()).sum::<usize>();",
    "self.metrics.record(\"{c}\", {n});", "let {v} = {v}.max({n});", "state.{c}({v})?;",
]


def demo_files(seed: int = 2025, scale: int = 1) -> list[SimFile]:
    """The demo project's files, laid out as the history was generated (the same rng)."""
    build_rng = random.Random(f"{seed}:project:{scale}")
    return python_project(build_rng, scale) + rust_project(build_rng)


#: Bumped when what is written changes: sources of another format are written anew.
_FORMAT = 2


def _stamp(seed: int, scale: int) -> str:
    return f"{__version__} {seed} {scale} {_FORMAT}\n"


def sources_ready(db_path: Path, *, seed: int = 2025, scale: int = 1) -> bool:
    """Whether the demo's sources are materialised beside `db_path`."""
    try:
        return (demo_project_root(db_path) / _MARKER).read_text() == _stamp(seed, scale)
    except OSError:
        return False


def materialise_sources(db_path: Path, *, seed: int = 2025, scale: int = 1) -> Path:
    """Write the demo project's sources beside `db_path` unless they are there already;
    returns the project root."""
    root = demo_project_root(db_path)
    stamp = _stamp(seed, scale)
    if sources_ready(db_path, seed=seed, scale=scale):
        return root
    tmp = root.with_name(f".{root.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        for f in demo_files(seed, scale):
            target = tmp / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source_text(f), encoding="utf-8")
            os.utime(target, (SOURCES_MTIME, SOURCES_MTIME))
        (tmp / _MARKER).write_text(stamp)
        shutil.rmtree(root, ignore_errors=True)
        os.replace(tmp, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def source_text(f: SimFile) -> str:
    """The text of one demo file, its statements on exactly the lines the history counts."""
    rng = random.Random(f.path)
    lines: dict[int, str] = {}
    if f.branches:
        _python(rng, f, lines)
    else:
        _rust(rng, f, lines)
    last = max(lines, default=0)
    return "".join(lines.get(n, "") + "\n" for n in range(1, last + 1))


def _words(path: str) -> list[str]:
    stem = path.rsplit("/", 1)[-1].split(".")[0]
    return [w for w in stem.split("_") if w and w != "init"] or ["module"]


def _statement(rng: random.Random, indent: int, *, method: bool, is_async: bool) -> str:
    v, w = rng.sample(_VALUES, 2)
    c = rng.choice(_CALLS)
    choices = [
        f"{v} = {c}_{w}(key, {w})",
        f"{v} = {w}.get(\"{c}\", {rng.randint(0, 9)})",
        f"{v}.append({w})",
        f"logger.debug(\"{c} %s\", {v})",
        f"{v} = [x for x in {w} if x]",
        f"{v}[key] = {w}",
    ]
    if method:
        choices += [f"self._{v} = {w}", f"{v} = self._{c}({w})"]
    if is_async:
        choices += [f"{v} = await self._{c}({w})" if method else "await asyncio.sleep(0)"]
    return " " * indent + rng.choice(choices)


def _python(rng: random.Random, f: SimFile, lines: dict[int, str]) -> None:
    words = _words(f.path)
    title = " ".join(words).capitalize()
    lines[1] = f'"""{title}: part of the workspace-qdrant-mcp demo project.'
    lines[3] = 'Generated by covtui\'s demo, as are its coverage figures."""'
    definitions = {fn.start for fn in f.funcs}
    classes: dict[int, str] = {}
    for fn in f.funcs:
        if "." in fn.name:
            classes.setdefault(fn.start, fn.name.split(".")[0])
    module = [n for n in f.module_lines if n not in definitions]
    class_lines = iter(sorted(n for n in module if n + 3 in classes and n + 3 in definitions))
    class_at = {n: classes[n + 3] for n in class_lines}
    imports = iter(_IMPORTS)
    stems = iter(range(1, 10_000))
    for n in module:
        if n in class_at:
            lines[n] = f"class {class_at[n]}:"
            lines[n + 1] = f'    """{class_at[n]} for {" ".join(words)}."""'
        elif f.funcs:
            lines[n] = next(imports, None) or f"from .helpers import helper_{next(stems)}"
        else:
            lines[n] = f"from .{rng.choice(words)} import name_{next(stems)}"
    for fn in f.funcs:
        _python_function(rng, fn, lines)


def _python_function(rng: random.Random, fn: SimFunc, lines: dict[int, str]) -> None:
    method = "." in fn.name
    name = fn.name.split(".")[-1]
    base = 4 if method else 0
    is_async = fn.kind.startswith("async")
    args = "self, key, options=None" if method else "key, options=None"
    lines[fn.start] = " " * base + f"{'async ' if is_async else ''}def {name}({args}):"
    docstring_at = fn.start + 1
    first_statement = fn.lines[0][0]
    n_doc = first_statement - docstring_at
    body = base + 4
    if n_doc == 1:
        lines[docstring_at] = " " * body + f'"""{name.replace("_", " ").capitalize()}."""'
    elif n_doc >= 2:
        lines[docstring_at] = " " * body + f'"""{name.replace("_", " ").capitalize()}.'
        lines[first_statement - 1] = " " * body + 'Returns what the caller asked for."""'
    depths = statement_depths(fn)
    for j, block in enumerate(fn.lines):
        last_block = j == len(fn.lines) - 1
        for k, n in enumerate(block):
            indent = body + 4 * depths[n]
            if not last_block and k == len(block) - 1:  # the next block's `if`
                v, w = rng.sample(_VALUES, 2)
                cond = rng.choice(_CONDITIONS).format(v=v, w=w, n=rng.randint(1, 9), k=rng.choice(_CALLS))
                lines[n] = " " * indent + cond
                if fn.lines[j + 1][0] == n + 2:  # a comment heads the `if`'s body
                    lines[n + 1] = " " * (indent + 4) + rng.choice(_COMMENTS)
            elif last_block and k == len(block) - 1:
                lines[n] = " " * indent + f"return {rng.choice(_VALUES)}"
            else:
                lines[n] = _statement(rng, indent, method=method, is_async=is_async)


def _rust(rng: random.Random, f: SimFile, lines: dict[int, str]) -> None:
    for fn in f.funcs:
        name = fn.name.split(".")[-1]
        statements = [n for block in fn.lines for n in block]
        lines[fn.start] = f"pub fn {name}(ctx: &Context, key: &str) -> Result<usize> {{"
        for n in statements:
            if n == fn.start:
                continue
            if n == fn.end:
                lines[n] = f"    Ok({rng.choice(_VALUES)}.len())"
            else:
                v, w = rng.sample(_VALUES, 2)
                lines[n] = "    " + rng.choice(_RUST_LINES).format(
                    v=v, w=w, c=rng.choice(_CALLS), n=rng.randint(1, 64))
        for n in range(fn.start + 1, fn.end):
            lines.setdefault(n, "    // " + rng.choice(_COMMENTS)[2:])
        lines[fn.end + 1] = "}"
    for n in f.module_lines:  # none in the demo's Rust files; kept honest if there were
        lines.setdefault(n, "use std::collections::HashMap;")
