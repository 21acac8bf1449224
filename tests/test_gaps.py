"""Gap analysis against a fixture module with known uncovered functions, handlers and arcs."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from covtui.config import Config
from covtui.domain.gaps import (
    SOURCE_CHANGED,
    SOURCE_NOT_AVAILABLE,
    SOURCE_OUTSIDE,
    analyse_file,
)
from covtui.domain.model import CoverageReport, RunStatus, SnapshotDraft, SourceResult
from covtui.domain.records import FileDetail
from covtui.query.files import analyse_source, read_source
from covtui.readers import read_coverage
from covtui.record import record_snapshot
from covtui.store import Store

from .conftest import Project, clean_env

# Known gaps: parse's ValueError handler and both of load's handlers never run, fetch and
# fetch_all (async) and never_called are never called, Cache.drop is untested, and
# choose(False) is never tried.
SERVICE = '''
"""A service with known gaps."""
import asyncio


def parse(text):
    try:
        return int(text)
    except ValueError:
        return None


def load(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        raise
    except (PermissionError, IsADirectoryError) as exc:
        message = str(exc)
        return message


def never_called(n):
    total = 0
    for i in range(n):
        total += i
    return total


async def fetch(n):
    await asyncio.sleep(0)
    return n * 2


async def fetch_all(items):
    return [await fetch(i) for i in items]


class Cache:
    def __init__(self):
        self.items = {}

    def put(self, key, value):
        self.items[key] = value

    def drop(self, key):
        if key in self.items:
            del self.items[key]
            return True
        return False


def choose(flag):
    if flag:
        return "yes"
    return "no"
'''

# A second, smaller module: fully covered except one function.
HELPERS = '''
def double(n):
    return n * 2


def triple(n):
    return n * 3
'''

SERVICE_TESTS = '''
from pkg.helpers import double
from pkg.service import Cache, choose, load, parse


def test_it(tmp_path):
    assert parse("1") == 1
    (tmp_path / "f").write_text("x")
    assert load(tmp_path / "f") == "x"
    Cache().put("a", 1)
    assert choose(True) == "yes"
    assert double(2) == 4
'''

# A later suite that tests more: the history rises.
MORE_TESTS = SERVICE_TESTS + '''

def test_more():
    assert parse("x") is None
    assert choose(False) == "no"
    c = Cache()
    c.put("a", 1)
    assert c.drop("a") and not c.drop("a")
'''

SERVICE_PATH = "pkg/service.py"


def line_of(text: str, source: str = SERVICE) -> int:
    """The 1-based line of `text` in the fixture module as written (dedented, leading newline)."""
    lines = source.splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def measure(project: Project, tests: str, name: str) -> CoverageReport:
    """Run the fixture's tests under real coverage.py (branch) and read the data; the test
    outcomes are left in junit-NAME.xml."""
    project.write("tests/test_service.py", tests)
    data = project.root / f".coverage-{name}"
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}",
         "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml=junit-{name}.xml"],
        cwd=project.root, env=clean_env(), check=True, capture_output=True,
    )
    return read_coverage([data], root=project.root)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, CoverageReport]]:
    """The fixture project's root and its real coverage under the first and the fuller suite."""
    project = Project(tmp_path_factory.mktemp("svc") / "proj")
    project.write("pkg/__init__.py", "")
    project.write("pkg/service.py", SERVICE)
    project.write("pkg/helpers.py", HELPERS)
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n')
    reports = {"first": measure(project, SERVICE_TESTS, "first"),
               "more": measure(project, MORE_TESTS, "more")}
    project.write("tests/test_service.py", SERVICE_TESTS)
    return project.root, reports


async def stored_detail(root: Path, report: CoverageReport, tmp_path: Path) -> FileDetail:
    async with await Store.open(tmp_path / "db.sqlite") as store:
        draft = SnapshotDraft("scan", [SourceResult("python", RunStatus.OK, report)], created_at=1e9)
        await record_snapshot(store, draft, Config(root=root))
        detail = await store.file_detail("python", SERVICE_PATH)
    assert detail is not None
    return detail


@pytest.fixture
async def detail(service, tmp_path: Path) -> FileDetail:
    root, reports = service
    return await stored_detail(root, reports["first"], tmp_path)


async def test_uncovered_functions_methods_and_classes(service, detail: FileDetail) -> None:
    root, _ = service
    gaps = analyse_file(detail, read_source(root, SERVICE_PATH))
    assert gaps.note == ""
    kinds = {f.name: f.kind for f in gaps.functions}
    assert kinds == {
        "parse": "function",
        "load": "function",
        "never_called": "function",
        "fetch": "async function",
        "fetch_all": "async function",
        "Cache": "class",
        "Cache.drop": "method",
        "choose": "function",
    }
    by_name = {f.name: f for f in gaps.functions}
    assert by_name["never_called"].never_run and by_name["Cache.drop"].never_run
    assert not by_name["load"].never_run
    # Each count is the stored one: what coverage.py said about the region.
    stored = {f.name: f.n_missing for f in detail.functions}
    assert all(f.n_missing == stored[f.name] for f in gaps.functions)
    assert [f.start_line for f in gaps.functions] == sorted(f.start_line for f in gaps.functions)


async def test_handlers_and_async_functions_are_counted(service, detail: FileDetail) -> None:
    root, _ = service
    gaps = analyse_file(detail, read_source(root, SERVICE_PATH))
    assert [(h.exception, h.function) for h in gaps.uncovered_handlers] == [
        ("ValueError", "parse"),
        ("FileNotFoundError", "load"),
        ("(PermissionError, IsADirectoryError)", "load"),
    ]
    assert gaps.uncovered_handlers[0].line == line_of("except ValueError")
    assert gaps.n_uncovered_handlers == 3
    assert [f.name for f in gaps.uncovered_async] == ["fetch", "fetch_all"]
    assert gaps.n_uncovered_async == 2


async def test_missed_lines_and_arcs(service, detail: FileDetail) -> None:
    root, _ = service
    gaps = analyse_file(detail, read_source(root, SERVICE_PATH))
    covered_lines = {n for a, b in gaps.missed_ranges for n in range(a, b + 1)}
    assert covered_lines == set(detail.missing_lines)
    assert all(b1 + 1 < a2 for (_, b1), (a2, _) in zip(gaps.missed_ranges, gaps.missed_ranges[1:], strict=False))
    descriptions = [a.description for a in gaps.missed_arcs]
    if_flag, return_no = line_of("    if flag:"), line_of('return "no"')
    assert f"line {if_flag} never jumped to line {return_no}" in descriptions
    assert len(gaps.missed_arcs) == len(detail.missing_arcs) == detail.numbers.n_missing_branches


def test_exits_are_described_by_the_function_they_leave(detail: FileDetail) -> None:
    # Arcs as coverage.py stores them: -N leaves the code object starting at line N.
    fetch = next(f for f in detail.functions if f.name == "fetch")
    crafted = dataclasses.replace(detail, missing_arcs=((fetch.start_line + 1, -fetch.start_line), (3, -1)))
    gaps = analyse_file(crafted, None)
    assert [a.description for a in gaps.missed_arcs] == [
        "line 3 never exited the module",
        f"line {fetch.start_line + 1} never returned from fetch",
    ]


async def test_python_file_without_stored_functions_uses_the_ast(service, detail: FileDetail) -> None:
    root, _ = service
    stored = analyse_file(detail, read_source(root, SERVICE_PATH))
    bare = analyse_file(dataclasses.replace(detail, functions=()), read_source(root, SERVICE_PATH))
    # The AST gives the same functions and the same uncovered counts as coverage.py did.
    assert [(f.name, f.kind, f.n_missing) for f in bare.functions] == [
        (f.name, f.kind, f.n_missing) for f in stored.functions
    ]
    assert bare.n_uncovered_async == 2 and bare.n_uncovered_handlers == 3


async def test_missing_or_changed_source_is_noted_not_fatal(service, detail: FileDetail) -> None:
    gone = analyse_file(detail, read_source(Path("/nonexistent"), SERVICE_PATH))
    assert gone.note == SOURCE_NOT_AVAILABLE
    assert gone.n_uncovered_handlers == 0 and gone.n_uncovered_async == 2  # from the stored functions
    assert {f.name for f in gone.functions} >= {"fetch", "never_called"}
    # The file was rewritten since the snapshot: definitions moved, so its AST is not trusted.
    changed = analyse_file(detail, "\n\n" + SERVICE)
    assert changed.note == SOURCE_CHANGED and changed.n_uncovered_handlers == 0
    shorter = analyse_file(dataclasses.replace(detail, functions=()), "x = 1\n")
    assert shorter.note == SOURCE_CHANGED
    broken = analyse_file(detail, "def (:\n")
    assert broken.note == SOURCE_NOT_AVAILABLE


async def test_a_path_outside_the_project_is_never_read(
    service, detail: FileDetail, tmp_path: Path
) -> None:
    """A report names `../secret.py`, an absolute path elsewhere, or a symlink out: not opened."""
    service_root, _ = service
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "service.py").write_text((service_root / SERVICE_PATH).read_text())
    secret = tmp_path / "secret.py"
    secret.write_text((service_root / SERVICE_PATH).read_text() + 'TOKEN = "hunter2"\n')
    (root / "pkg" / "inside.py").symlink_to(root / "pkg" / "service.py")
    (root / "pkg" / "outside.py").symlink_to(secret)
    assert "def parse" in (read_source(root, "pkg/inside.py") or "")  # a symlink within: fine
    for name in ("../secret.py", str(secret), "pkg/outside.py", "pkg/../../secret.py"):
        assert read_source(root, name) is None, name
        gaps = analyse_source(root, dataclasses.replace(detail, path=name))
        # The stored gaps still show; nothing that needs the source is claimed.
        assert gaps.note == SOURCE_OUTSIDE and gaps.n_uncovered_handlers == 0
        assert set(gaps.missed_ranges) == set(analyse_file(detail, None).missed_ranges)
    assert analyse_source(root, detail).note == ""  # the project's own file is analysed
