"""Generate a synthetic Python project and measure it with `coverage run --branch`.

`make_project(dest, n_files)` writes `synthpkg/` (N modules of ~236 statements each: branchy
functions, multi-line statements, try/except/else/finally, `with` blocks, classes, async
defs, `# pragma: no cover`), a test suite in `tests/` that exercises part of it (some modules
are never imported, so `source` reports them at 0%), and a `pyproject.toml` with coverage
config; `run_coverage(dest)` runs the suite under coverage to produce a real `.coverage`.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = "synthpkg"

_BRANCHY = '''
def branchy_{n}(x, y=0):
    """Branches, loops and a multi-line return."""
    total = 0
    if x > {a}:
        total += x
    elif x < -{a}:
        total -= x
    else:
        total = {b}
    for i in range(y):
        if i % 2:
            total += i
        else:
            continue
    while total > {c}:
        total //= 2
    flags = [
        total > 0,
        y > {a},
    ]
    return (
        total
        + sum(flags)
    )
'''

_TRYING = '''
def trying_{n}(value):
    try:
        result = int(value)
    except ValueError:
        result = -{a}
    except TypeError:  # pragma: no cover
        raise
    else:
        result += 1
    finally:
        value = None
    if result > {b} and value is None:
        return result - {b}
    return result
'''

_WITH = '''
def counting_{n}(items):
    counts = {{}}
    with contextlib.suppress(KeyError):
        for item in items:
            counts[item] = counts.get(item, 0) + 1
        if len(counts) > {a}:
            return sorted(counts)
    with open(__file__, encoding="utf-8") as source:
        first = source.readline()
    return [first[:{b}]] if first else []
'''

_CLASS = '''
class Box{n}:
    """A class with a few methods."""

    kind = "box{n}"

    def __init__(self, size):
        self.size = size
        self.items = [
            i * {a}
            for i in range(size)
            if i % {b}
        ]

    def grow(self, by):
        if by <= 0:
            raise ValueError("by must be positive")
        self.size += by
        return self.size

    @property
    def empty(self):
        return not self.items

    def describe(self):
        parts = []
        for item in self.items:
            if item > {c}:
                parts.append("big")
            elif item:
                parts.append("small")
        return ",".join(parts)

    def __repr__(self):  # pragma: no cover
        return f"Box{n}({{self.size}})"
'''

_ASYNC = '''
async def gather_{n}(count):
    out = []
    for i in range(count):
        if i % {a} == 0:
            await asyncio.sleep(0)
            out.append(i)
    try:
        return out[{b}]
    except IndexError:
        return None
'''

_DISPATCH = '''
def dispatch_{n}(op, a, b):
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        if b == 0:
            raise ZeroDivisionError("b")
        return a / b
    raise NotImplementedError(op)
'''

# (template, statements it adds, how a test calls it)
_SHAPES = [
    (_BRANCHY, 17, ["branchy_{n}({x}, {y})"]),
    (_TRYING, 12, ["trying_{n}({s!r})"]),
    (_WITH, 11, ["counting_{n}([{x}, {y}, {x}])"]),
    (_CLASS, 23, ["Box{n}({y}).grow({x})", "Box{n}({y}).describe()", "Box{n}(0).empty"]),
    (_ASYNC, 10, ["asyncio.run(gather_{n}({y}))"]),
    (_DISPATCH, 12, ["dispatch_{n}({op!r}, {x}, {y})"]),
]
STATEMENTS_PER_FILE = 254

PYPROJECT = f"""\
[tool.coverage.run]
branch = true
source = ["{PACKAGE}"]

[tool.coverage.report]
exclude_also = ["raise NotImplementedError"]
"""

RUNNER = '''\
"""Run every test function in tests/ without pytest (pytest would work too)."""
import importlib
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
for path in sorted(pathlib.Path(__file__).parent.glob("tests/test_*.py")):
    module = importlib.import_module(f"tests.{path.stem}")
    for name in dir(module):
        if name.startswith("test_"):
            getattr(module, name)()
'''


def _module(rng: random.Random, index: int) -> tuple[str, list[str]]:
    """One module's source, and the calls a test could make into it."""
    parts = [f'"""Synthetic module {index}."""\n\nimport asyncio\nimport contextlib\n']
    calls: list[str] = []
    statements, n = 3, 0
    while statements < STATEMENTS_PER_FILE:
        template, count, shape_calls = rng.choice(_SHAPES)
        values = {"n": n, "a": rng.randint(1, 9), "b": rng.randint(2, 9), "c": rng.randint(10, 99)}
        parts.append(template.format(**values))
        for call in shape_calls:
            calls.append(
                call.format(
                    n=n, x=rng.randint(-12, 12), y=rng.randint(0, 6),
                    s=rng.choice(["7", "x", "42"]), op=rng.choice(["add", "sub", "div", "mod"]),
                )
            )
        statements += count
        n += 1
    return "\n".join(parts), calls


def make_project(dest: Path, n_files: int, seed: int = 1, exercised: float = 0.5) -> Path:
    """Write the project into `dest`; about `exercised` of the calls are made by its tests."""
    rng = random.Random(seed)
    pkg = dest / PACKAGE
    tests = dest / "tests"
    pkg.mkdir(parents=True, exist_ok=True)
    tests.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (tests / "__init__.py").write_text("")
    (dest / "pyproject.toml").write_text(PYPROJECT)
    (dest / "run_tests.py").write_text(RUNNER)
    for i in range(n_files - 1):  # __init__.py is the last file
        name = f"mod_{i:04d}"
        source, calls = _module(rng, i)
        (pkg / f"{name}.py").write_text(source)
        if rng.random() < 0.15:
            continue  # never imported: reported at 0% thanks to `source`
        chosen = [c for c in calls if rng.random() < exercised]
        body = "".join(
            f"    with contextlib.suppress(Exception):\n        {name}.{c}\n" for c in chosen
        ) or "    pass\n"
        body = body.replace(f"{name}.asyncio.run(", f"asyncio.run({name}.")
        (tests / f"test_{name}.py").write_text(
            textwrap.dedent(f"""\
                import asyncio
                import contextlib

                from {PACKAGE} import {name}


                def test_{name}():
                """)
            + body
        )
    return dest


def run_coverage(dest: Path) -> Path:
    """Run the suite under `coverage run --branch`; returns the `.coverage` file."""
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", "run_tests.py"],
        cwd=dest, check=True, capture_output=True,
    )
    return dest / ".coverage"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--files", type=int, default=212)
    args = parser.parse_args()
    run_coverage(make_project(args.dest, args.files))
    print(f"wrote {args.dest / '.coverage'}")
