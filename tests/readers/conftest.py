"""Fixture projects measured by real tools (gcc+lcov, gcovr, coverage.py, c8, pytest).

Expected numbers always come from the tools' own output, never typed into a test.
Projects are built once per session: the tools are slow compared with the readers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

C_PROGRAM = """\
#include <stdio.h>
#include <stdlib.h>

int twice(int v);

static int classify(int x) {
    if (x > 10 && x < 100)
        return 2;
    if (x < 0)
        return -1;
    return 0;
}

static int never(int y) {
    return y * 2;
}

int main(int argc, char **argv) {
    int total = 0;
    for (int i = 1; i < argc; i++) {
        int v = atoi(argv[i]);
        total += classify(v) + twice(v);
        switch (v) {
        case 1: total++; break;
        case 2: total += 2; break;
        default: break;
        }
    }
    if (argc > 5)
        total += never(total);
    printf("%d\\n", total);
    return 0;
}
"""

C_UTIL = """\
int twice(int v) {
    if (v % 2)
        return v;
    return v * 2;
}

int unused(int v) { return v ? 1 : 2; }
"""

PY_MODULE = '''\
"""A module with functions, a class, branches and an excluded block."""


class Shape:
    def area(self, x):
        if x > 0:
            return x * x
        return 0

    def unused(self):
        return 1


def classify(n):
    for i in range(n):
        if i % 2:
            continue
    if n > 100:  # pragma: no cover
        return "big"
    return "small" if n < 5 else "mid"


def never():
    while True:
        break
'''

PY_HELPER = """\
def helper(flag):
    if flag:
        return 1
    return 2
"""

PY_MAIN = """\
from pkg.mod import Shape, classify
from lib.helper import helper

Shape().area(3)
classify(3)
helper(True)
"""


def clean_env() -> dict[str, str]:
    """The environment without settings that would change how coverage.py or pytest behave."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COVERAGE_", "PYTEST_", "COV_CORE_"))
    }


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env=clean_env(), timeout=120
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


# ---------------------------------------------------------------- C: gcc, lcov, gcovr


def lcov_branch_rc() -> list[str]:
    """lcov 2.x renamed the setting that turns branch coverage on."""
    out = subprocess.run(["lcov", "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)\.(\d+)", out)
    major = int(match[1]) if match else 1
    key = "branch_coverage" if major >= 2 else "lcov_branch_coverage"
    return ["--rc", f"{key}=1"]


def lcov_capture(project: Path, out: Path) -> Path:
    run(
        [
            "lcov",
            "--capture",
            "--quiet",
            "--directory",
            ".",
            "--output-file",
            str(out),
            *lcov_branch_rc(),
        ],
        project,
    )
    return out


@dataclass
class Counts:
    """covered, total for lines, functions and branches (None: the tool reported no data)."""

    lines: tuple[int, int] | None
    functions: tuple[int, int] | None
    branches: tuple[int, int] | None


def lcov_summary(info: Path) -> Counts:
    """Parse `lcov --summary`: "lines......: 62.5% (5 of 8 lines)"."""
    result = run(["lcov", "--summary", str(info), *lcov_branch_rc()], info.parent)
    text = result.stdout + result.stderr

    def pick(kind: str) -> tuple[int, int] | None:
        m = re.search(rf"{kind}\.*:\s*[\d.]+%\s*\((\d+) of (\d+) {kind}\)", text)
        return (int(m[1]), int(m[2])) if m else None

    return Counts(pick("lines"), pick("functions"), pick("branches"))


def lcov_file_summary(info: Path, source_name: str, tmp: Path) -> Counts:
    """One file's counts: `lcov --extract` it, then summarise."""
    single = tmp / f"single-{source_name}.info"
    run(
        [
            "lcov",
            "--quiet",
            "--extract",
            str(info),
            f"*/{source_name}",
            "--output-file",
            str(single),
            *lcov_branch_rc(),
        ],
        tmp,
    )
    return lcov_summary(single)


@pytest.fixture(scope="session")
def c_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small C program with branches, built with --coverage and run once."""
    if not shutil.which("gcc"):
        pytest.skip("gcc is not installed")
    project = build_c_project(tmp_path_factory.mktemp("cproj"))
    run(["./prog", "1", "50"], project)
    return project


def build_c_project(project: Path) -> Path:
    """Write and compile the C program in `project` (gcov data lands next to the objects)."""
    project.mkdir(parents=True, exist_ok=True)
    (project / "prog.c").write_text(C_PROGRAM)
    (project / "util.c").write_text(C_UTIL)
    run(["gcc", "--coverage", "-O0", "-o", "prog", "prog.c", "util.c"], project)
    return project


@pytest.fixture(scope="session")
def c_lcov(c_project: Path) -> Path:
    """lcov's tracefile for the C program, with branch coverage."""
    if not shutil.which("lcov"):
        pytest.skip("lcov is not installed")
    return lcov_capture(c_project, c_project / "coverage.info")


# ---------------------------------------------------------------- Python: coverage.py


def coverage_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "coverage", *args]


def make_python_project(project: Path) -> Path:
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "mod.py").write_text(PY_MODULE)
    (project / "lib").mkdir()
    (project / "lib" / "__init__.py").write_text("")
    (project / "lib" / "helper.py").write_text(PY_HELPER)
    (project / "main.py").write_text(PY_MAIN)
    return project


@pytest.fixture(scope="session")
def py_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python project run under `coverage run --branch`, with `coverage xml` and `json`."""
    project = make_python_project(tmp_path_factory.mktemp("pyproj"))
    run(coverage_cmd("run", "--branch", "main.py"), project)
    run(coverage_cmd("xml", "-o", "coverage.xml"), project)
    run(coverage_cmd("json", "-o", "coverage.json"), project)
    return project


# ---------------------------------------------------------------- JavaScript: c8

JS_APP = """\
function classify(n) {
  if (n > 10 && n < 100) {
    return 'mid';
  } else if (n < 0) {
    return 'neg';
  }
  return n ? 'small' : 'zero';
}
function unused() {
  return 42;
}
console.log(classify(5), classify(50));
"""


@pytest.fixture(scope="session")
def c8_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JS file run under c8 with lcov, Cobertura and json-summary reporters."""
    if not (shutil.which("npm") and shutil.which("node")):
        pytest.skip("node/npm are not installed")
    tools = tmp_path_factory.mktemp("c8tool")
    install = subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(tools),
            "c8",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    c8 = tools / "node_modules" / ".bin" / "c8"
    if install.returncode != 0 or not c8.exists():
        pytest.skip(f"could not install c8 from npm: {install.stderr.strip()[-200:]}")
    project = tmp_path_factory.mktemp("jsproj")
    (project / "app.js").write_text(JS_APP)
    reporters = ["--reporter=lcovonly", "--reporter=cobertura", "--reporter=json-summary"]
    run([str(c8), *reporters, "node", "app.js"], project)
    return project


# ---------------------------------------------------------------- pytest: JUnit XML

PYTEST_FIXTURE = textwrap.dedent(
    """\
    import pytest

    @pytest.fixture
    def broken():
        raise RuntimeError("fixture exploded")

    def test_pass_one():
        assert True

    def test_pass_two():
        assert 1 + 1 == 2

    def test_fail_one():
        assert 1 == 2, "numbers differ"

    def test_fail_two():
        raise ValueError("bad value\\nsecond line")

    def test_error(broken):
        pass

    @pytest.mark.skip(reason="not today")
    def test_skip_one():
        pass

    def test_skip_two():
        pytest.skip("skipped inside")

    class TestGroup:
        def test_pass_in_class(self):
            pass

        def test_fail_in_class(self):
            assert "a" == "b"
    """
)


@dataclass
class PytestRun:
    junit: Path
    counts: dict[str, int]  # from pytest's own summary line: "2 failed, 3 passed, …"
    failed_ids: set[str]  # node ids pytest listed as FAILED / ERROR
    duration_s: float


@pytest.fixture(scope="session")
def junit_run(tmp_path_factory: pytest.TempPathFactory) -> PytestRun:
    project = tmp_path_factory.mktemp("pytestproj")
    (project / "test_sample.py").write_text(PYTEST_FIXTURE)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-rfE",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "--junitxml=junit.xml",
        "test_sample.py",
    ]
    result = run(cmd, project, check=False)
    lines = result.stdout.splitlines()
    summary = next(ln for ln in reversed(lines) if re.search(r"\bin [\d.]+s", ln))
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    counts = {("errors" if k == "error" else k): v for k, v in counts.items()}
    failed_ids = {m[1] for ln in lines if (m := re.match(r"(?:FAILED|ERROR) (\S+)", ln))}
    duration = float(re.search(r"\bin ([\d.]+)s", summary)[1])
    return PytestRun(project / "junit.xml", counts, failed_ids, duration)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<{root}>&lol9;</{root}>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<{root}>&xxe;</{root}>
"""


def assert_matches_c8_summary(report, c8_project: Path) -> None:
    """Lines, branches and functions equal what c8 itself wrote in its json-summary."""
    summary = json.loads((c8_project / "coverage" / "coverage-summary.json").read_text())["total"]
    numbers = report.numbers
    assert (numbers.n_executed, numbers.n_statements) == (
        summary["lines"]["covered"],
        summary["lines"]["total"],
    )
    assert (numbers.n_executed_branches, numbers.n_branches) == (
        summary["branches"]["covered"],
        summary["branches"]["total"],
    )
    assert (numbers.n_functions - numbers.n_missing_functions, numbers.n_functions) == (
        summary["functions"]["covered"],
        summary["functions"]["total"],
    )
