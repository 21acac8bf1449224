"""Affected rescans (`covtui scan --affected`): an incremental snapshot equals a full scan of
the same tree, per file and in total, measured by real coverage.py runs; and every case where
that can't be guaranteed runs every test, saying why in one line."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui.domain.contexts import is_import
from covtui.scan import run_scan
from covtui.store import Store

from .conftest import Project, clean_env

SHAPES = '''
import math

SIDES = {"triangle": 3, "square": 4}


def area(kind, size):
    if kind == "square":
        return size * size
    return math.sqrt(3) / 4 * size * size


def sides(kind):
    return SIDES.get(kind, 0)


def describe(kind):
    n = sides(kind)
    if n == 0:
        return "unknown"
    return f"{kind} with {n} sides"
'''

WORDS = '''
def shout(text):
    return text.upper() + "!"


def count(text, letter):
    total = 0
    for ch in text:
        if ch == letter:
            total += 1
    return total
'''

TEST_SHAPES = '''
from lib.shapes import area, describe


def test_square():
    assert area("square", 2) == 4


def test_describe():
    assert describe("square") == "square with 4 sides"
'''

TEST_WORDS = '''
from lib.words import count, shout


def test_shout():
    assert shout("hi") == "HI!"


def test_count():
    assert count("banana", "a") == 3
'''


@pytest.fixture
def lib(tmp_path) -> Project:
    """Two modules, two test files; coverage.py measures everything (tests too)."""
    p = Project(tmp_path / "lib")
    p.write("lib/__init__.py", "")
    p.write("lib/shapes.py", SHAPES)
    p.write("lib/words.py", WORDS)
    p.write("tests/test_shapes.py", TEST_SHAPES)
    p.write("tests/test_words.py", TEST_WORDS)
    p.write("pyproject.toml", "[tool.coverage.run]\nbranch = true\n")
    return p


def scan(project: Project, *, affected: bool = False, every: int | None = None):
    config = project.config
    if every is not None:
        config.full_scan_every = every
    return asyncio.run(run_scan(config, affected=affected))


def stored(project: Project, snapshot_id: int):
    """A snapshot as stored: its row, each file's state, each file's executed lines with the
    tests that ran each, and its tests' outcomes."""

    async def main():
        async with await Store.open(project.db, read_only=True) as store:
            row = await store.snapshot(snapshot_id)
            states = await store.states_at(snapshot_id)
            # Each executed line and the tests that ran it ("import": code run outside any
            # test; which module's collection imported a module first follows what was
            # collected, the same code ran either way).
            lines = {
                path: {
                    n: frozenset("import" if is_import(t.contexts[i]) else t.contexts[i] for i in ids)
                    for n, ids in t.lines.items()
                }
                for (_, path), t in (await store.line_tests(snapshot_id)).items()
            }
            outcomes = (await store.test_outcomes(snapshot_id)).get("python")
            return row, states, lines, outcomes

    return asyncio.run(main())


def assert_same_as_full(project: Project, incremental_id: int) -> None:
    """A full scan of the same tree stores the same figures and line sets."""
    full = scan(project)
    assert full.status.value == "ok"
    inc_row, inc_states, inc_lines, inc_outcomes = stored(project, incremental_id)
    full_row, full_states, full_lines, full_outcomes = stored(project, full.snapshot_id)
    assert inc_row.scope == "incremental" and full_row.scope == "full"
    assert inc_states == full_states  # per file: numbers, missed lines and arcs, functions
    assert inc_row.numbers == full_row.numbers
    assert inc_row.pc_covered == full_row.pc_covered
    assert inc_lines == full_lines
    assert inc_outcomes == full_outcomes
    assert inc_row.tests.n_tests == full_row.tests.n_tests
    assert inc_row.tests.n_failed == full_row.tests.n_failed


def collected(project: Project) -> list[str]:
    """The test modules the last scan's pytest run collected (covtui's plugin's record)."""
    path = project.db.parent / "run/python/collected.json"
    return sorted(json.loads(path.read_text()))


def test_editing_a_function_reruns_its_tests_only_and_equals_a_full_scan(lib: Project) -> None:
    scan(lib)
    assert collected(lib) == ["tests/test_shapes.py", "tests/test_words.py"]
    lib.write("lib/words.py", WORDS.replace('return text.upper() + "!"', 'loud = text.upper()\n    return loud + "!"'))
    outcome = scan(lib, affected=True)
    # only test_shout ran a line of shout() (an edit inside a function: domain.edits)
    assert outcome.notes == ["incremental: 1 of 4 tests"]
    assert outcome.draft.scope == "incremental" and outcome.draft.n_tests_run == 1
    # test_shapes.py is not even collected: its collection's lines are kept from the last run
    assert collected(lib) == ["tests/test_words.py"]
    assert_same_as_full(lib, outcome.snapshot_id)


CLASSY = '''
class Counter:
    def __init__(self):
        self.n = 0

    def up(self, by=1):
        self.n += by
        return self.n

    def down(self):
        if self.n:
            self.n -= 1
        return self.n


def make():
    return Counter()
'''

TEST_CLASSY = '''
from lib.classy import Counter, make


def test_up():
    assert Counter().up(2) == 2


def test_down():
    c = make()
    c.up()
    assert c.down() == 0


def test_make():
    assert make().n == 0
'''


@pytest.mark.parametrize(
    "edit, rerun",
    [
        # area() grows by three lines: sides() and describe() below it move; their test's
        # kept lines and arcs follow
        (lambda src: src.replace(
            '    if kind == "square":\n        return size * size\n',
            '    if kind == "square":\n        side = size\n        if side < 0:\n'
            '            side = -side\n        return side * side\n',
        ), 1),
        # area() shrinks by two lines (its branch gone: a line no test runs now)
        (lambda src: src.replace(
            '    if kind == "square":\n        return size * size\n', '', 1
        ), 1),
        # describe() (the last function) edited: test_describe reruns, test_square is kept
        (lambda src: src.replace('return "unknown"', 'return "unknown shape"'), 1),
        # sides(), which describe() calls: test_describe ran its line and reruns
        (lambda src: src.replace("return SIDES.get(kind, 0)", "found = SIDES.get(kind)\n    return found or 0"), 1),
    ],
    ids=["grows", "shrinks", "last", "callee"],
)
def test_an_edit_inside_a_function_reruns_only_its_tests_and_moves_the_kept_lines(
    lib: Project, edit, rerun: int
) -> None:
    scan(lib)
    lib.write("lib/shapes.py", edit(SHAPES))
    outcome = scan(lib, affected=True)
    assert outcome.notes == [f"incremental: {rerun} of 4 tests"]
    assert collected(lib) == ["tests/test_shapes.py"]
    assert_same_as_full(lib, outcome.snapshot_id)


def test_an_edit_inside_a_method_keeps_the_other_methods_tests(lib: Project) -> None:
    lib.write("lib/classy.py", CLASSY)
    lib.write("tests/test_classy.py", TEST_CLASSY)
    scan(lib)
    # up() grows: down() and make() below it move; test_make ran neither up() nor down()
    lib.write("lib/classy.py", CLASSY.replace(
        "        self.n += by\n", "        if by < 0:\n            raise ValueError(by)\n        self.n += by\n"
    ))
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 2 of 7 tests"]  # test_up, test_down (it calls up())
    assert_same_as_full(lib, outcome.snapshot_id)
    # and a chain: make() edited next, from the base the last rescan kept
    lib.write("lib/classy.py", (lib.root / "lib/classy.py").read_text().replace(
        "    return Counter()\n", "    counter = Counter()\n    return counter\n"
    ))
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 2 of 7 tests"]  # test_down, test_make
    assert_same_as_full(lib, outcome.snapshot_id)


def test_without_the_kept_source_an_edit_reruns_every_test_of_the_file(lib: Project) -> None:
    scan(lib)
    for kept in (lib.db.parent / "affected" / "python" / "sources").iterdir():
        kept.write_bytes(kept.read_bytes() + b"# altered\n")  # its digest no longer checks
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 2 of 4 tests"]  # file granularity, as before
    assert_same_as_full(lib, outcome.snapshot_id)


@pytest.mark.parametrize("inside", [True, False], ids=["inside-a-function", "outside"])
def test_a_changed_module_first_imported_by_an_unselected_test_module(
    lib: Project, inside: bool
) -> None:
    """test_other.py's collection imports lib.words before test_words.py's does (its def lines
    run there) but no test of it calls words. Changed outside its functions (a comment here:
    the lines below it move), words.py's import is measured again: test_other.py is collected
    again and runs whole, with both tests of words.py. Changed inside count() only, its import
    runs the same code: only count()'s test reruns, and the kept lines follow the edit."""
    lib.write("tests/test_other.py", "from lib import words\n\n\ndef test_other():\n    assert words\n")
    scan(lib)
    if inside:
        lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1\n            total -= 0"))
    else:
        lib.write("lib/words.py", "# shouting and counting\n" + WORDS)
    outcome = scan(lib, affected=True)
    if inside:
        assert outcome.notes == ["incremental: 1 of 5 tests"]
        assert collected(lib) == ["tests/test_words.py"]
    else:
        assert outcome.notes == ["incremental: 3 of 5 tests"]
        assert collected(lib) == ["tests/test_other.py", "tests/test_words.py"]
    assert_same_as_full(lib, outcome.snapshot_id)


def test_import_time_code_calling_a_changed_module(lib: Project) -> None:
    """lib/banner.py calls words.shout() when imported, in test_banner.py's collection: a new
    branch in shout() runs there, so that module is collected again."""
    lib.write("lib/banner.py", "from lib.words import shout\n\nBANNER = shout('hello')\n")
    lib.write("tests/test_banner.py", "from lib.banner import BANNER\n\n\ndef test_banner():\n    assert BANNER\n")
    scan(lib)
    lib.write("lib/words.py", WORDS.replace(
        'def shout(text):\n', 'def shout(text):\n    if not text:\n        return ""\n'
    ))
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 2 of 5 tests"]  # test_banner and test_shout
    assert collected(lib) == ["tests/test_banner.py", "tests/test_words.py"]
    assert_same_as_full(lib, outcome.snapshot_id)
    _, states, _, _ = stored(lib, outcome.snapshot_id)
    assert states["python", "lib/words.py"].numbers.n_partial_branches == 1  # never empty


def test_a_collection_that_no_longer_imports_a_module_runs_every_test(lib: Project) -> None:
    """test_a.py's collection imported lib/extra.py first; without that import, test_b.py's
    (not collected again) would import it now, and its kept record lacks the lines."""
    lib.write("lib/extra.py", "VALUE = 1\n")
    lib.write("tests/test_a.py", "import lib.extra\n\n\ndef test_a():\n    assert lib.extra.VALUE\n")
    lib.write("tests/test_b.py", "import lib.extra\n\n\ndef test_b():\n    assert True\n")
    scan(lib)
    lib.write("tests/test_a.py", "def test_a():\n    assert True\n")
    outcome = scan(lib, affected=True)
    assert outcome.notes == [
        "full scan: tests/test_a.py's collection no longer imports lib/__init__.py, which a module "
        "collected after it may import now"
    ]
    assert outcome.draft.scope == "full" and outcome.status.value == "ok"


def test_a_collection_that_no_longer_fills_a_cache_runs_every_test(lib: Project) -> None:
    """Both modules call table() when collected; only the first fills the cache. Once test_a.py
    stops calling it, test_b.py's collection fills it in a full run: its kept record can't."""
    lib.write("lib/cache.py", CACHED)
    lib.write("tests/test_a.py", "from lib.cache import table\n\nT = table()\n\n\ndef test_a():\n    assert T\n")
    lib.write("tests/test_b.py", "from lib.cache import table\n\nT = table()\n\n\ndef test_b():\n    assert T\n")
    scan(lib)
    lib.write("tests/test_a.py", "from lib.cache import table\n\n\ndef test_a():\n    assert table\n")
    outcome = scan(lib, affected=True)
    assert outcome.notes == [
        "full scan: lib/cache.py: lines the recollected test modules' collection ran last time "
        "did not run again (a module collected later may run them now)"
    ]
    assert outcome.draft.scope == "full" and outcome.status.value == "ok"


def test_a_base_kept_without_collection_records_collects_every_module(lib: Project) -> None:
    """Per-test coverage kept by an older covtui (no record of each module's collection):
    the rescan is incremental, collects every module, says so, and is exact."""
    scan(lib)
    manifest = lib.db.parent / "affected/python/base.json"
    state = json.loads(manifest.read_text())
    del state["base"]["collected"]
    manifest.write_text(json.dumps(state))
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    outcome = scan(lib, affected=True)
    assert outcome.notes == [
        "incremental: 1 of 4 tests; every test module collected: the kept per-test coverage "
        "does not say what each test module's collection ran (kept by an older covtui)"
    ]
    assert collected(lib) == ["tests/test_shapes.py", "tests/test_words.py"]
    assert_same_as_full(lib, outcome.snapshot_id)
    lib.write("lib/words.py", WORDS)
    assert scan(lib, affected=True).notes == ["incremental: 1 of 4 tests"]  # recorded again


def test_adding_a_branch_equals_a_full_scan(lib: Project) -> None:
    scan(lib)
    lib.write("lib/shapes.py", SHAPES.replace(
        '    if kind == "square":\n',
        '    if size < 0:\n        raise ValueError(size)\n    if kind == "square":\n',
    ))
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 1 of 4 tests"]  # test_square: the one that ran area()
    assert_same_as_full(lib, outcome.snapshot_id)
    # the new branch is partial (never raised): the merged data has its arcs
    row, states, _, _ = stored(lib, outcome.snapshot_id)
    assert states["python", "lib/shapes.py"].numbers.n_partial_branches >= 1


def test_deleting_a_test_equals_a_full_scan(lib: Project) -> None:
    scan(lib)
    lib.write("tests/test_words.py", TEST_WORDS.split("def test_count")[0])
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 1 of 3 tests"]  # test_shout: its file changed
    assert_same_as_full(lib, outcome.snapshot_id)
    _, states, _, outcomes = stored(lib, outcome.snapshot_id)
    assert "tests/test_words.py::test_count" not in outcomes
    assert states["python", "lib/words.py"].numbers.n_missing > 0  # count() no longer runs


def test_adding_a_test_file_equals_a_full_scan(lib: Project) -> None:
    scan(lib)
    lib.write("tests/test_more.py", "from lib.shapes import describe\n\n\n"
              "def test_unknown():\n    assert describe('circle') == 'unknown'\n")
    outcome = scan(lib, affected=True)
    assert outcome.notes == [
        "incremental: 1 of 5 tests; every test module collected: tests/test_more.py is new "
        "(any module's collection may import it)"
    ]
    assert collected(lib) == ["tests/test_more.py", "tests/test_shapes.py", "tests/test_words.py"]
    assert_same_as_full(lib, outcome.snapshot_id)


def test_renaming_a_module_equals_a_full_scan(lib: Project) -> None:
    scan(lib)
    (lib.root / "lib/words.py").rename(lib.root / "lib/text.py")
    lib.write("tests/test_words.py", TEST_WORDS.replace("lib.words", "lib.text"))
    outcome = scan(lib, affected=True)
    assert outcome.notes == [
        "incremental: 2 of 4 tests; every test module collected: lib/text.py is new "
        "(any module's collection may import it)"
    ]
    assert_same_as_full(lib, outcome.snapshot_id)
    _, states, _, _ = stored(lib, outcome.snapshot_id)
    assert ("python", "lib/words.py") not in states and ("python", "lib/text.py") in states


def test_nothing_changed_runs_no_test(lib: Project) -> None:
    scan(lib)
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 0 of 4 tests"]
    assert_same_as_full(lib, outcome.snapshot_id)


def test_a_chain_of_incremental_scans_stays_exact(lib: Project) -> None:
    scan(lib)
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    assert scan(lib, affected=True).notes == ["incremental: 1 of 4 tests"]
    lib.write("tests/test_shapes.py", TEST_SHAPES + "\n\ndef test_triangle():\n    assert area('triangle', 0) == 0\n")
    second = scan(lib, affected=True)
    assert second.notes == ["incremental: 3 of 5 tests"]
    assert_same_as_full(lib, second.snapshot_id)


# -- when only a full run is exact ------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda p: p.write("pyproject.toml", "[tool.coverage.run]\nbranch = true\n\n"
                           "[tool.coverage.report]\nexclude_also = ['raise']\n"),
         "the coverage, pytest or covtui settings changed"),
        (lambda p: p.write("tests/conftest.py", "import pytest\n"),
         "tests/conftest.py changed (conftest.py)"),
        (lambda p: p.write("lib/shapes.py", SHAPES.replace('"square": 4', '"square": 4, "hexagon": 6')),
         "lib/shapes.py: code outside its functions changed"),
        (lambda p: p.write("lib/data.json", "{}"),
         "lib/data.json changed (not Python"),
    ],
    ids=["config", "conftest", "module-level", "data-file"],
)
def test_changes_that_can_steer_any_test_run_every_test(lib: Project, edit, why: str) -> None:
    scan(lib)
    edit(lib)
    outcome = scan(lib, affected=True)
    assert len(outcome.notes) == 1 and outcome.notes[0].startswith(f"full scan: {why}")
    assert outcome.draft.scope == "full" and outcome.draft.n_tests_run is None
    assert outcome.draft.sources[0].tests.n_tests == 4


def test_a_changed_fixture_module_runs_every_test(lib: Project) -> None:
    lib.write("lib/fixtures.py", "import pytest\n\n\n@pytest.fixture\ndef two():\n    return 2\n")
    lib.write("tests/conftest.py", "pytest_plugins = ['lib.fixtures']\n")
    scan(lib)
    lib.write("lib/fixtures.py", "import pytest\n\n\n@pytest.fixture\ndef two():\n    return 1 + 1\n")
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["full scan: lib/fixtures.py changed and defines pytest fixtures"]


def test_the_packages_digest_follows_installs_upgrades_and_reinstalls(tmp_path, monkeypatch) -> None:
    import os
    import sys

    from covtui.scan.affected import packages

    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    before = packages()
    (site / "demo_dist-1.0.dist-info").mkdir()
    (site / "demo_dist-1.0.dist-info" / "METADATA").write_text("Name: demo-dist\nVersion: 1.0\n")
    installed = packages()
    (site / "demo_dist-1.0.dist-info").rename(site / "demo_dist-1.1.dist-info")
    upgraded = packages()
    metadata = site / "demo_dist-1.1.dist-info" / "METADATA"
    os.utime(metadata, ns=(1, 1))
    reinstalled = packages()
    assert len({before, installed, upgraded, reinstalled}) == 4
    assert packages() == reinstalled


def test_the_packages_digest_is_the_tests_view_however_covtui_was_started(tmp_path, monkeypatch) -> None:
    """`covtui` (its script's folder first on the path), `python -m covtui` (the working
    directory) and `python -c` ("") see the same installed packages: the tests' own, whose
    path starts at the project's root, where an `.egg-info` counts."""
    import sys

    from covtui.scan.affected import packages

    root = tmp_path / "proj"
    (root / "demo.egg-info").mkdir(parents=True)
    (root / "demo.egg-info" / "PKG-INFO").write_text("Name: demo\nVersion: 1\n")
    rest = sys.path[1:]
    seen = set()
    for first in (str(tmp_path / "venv" / "bin"), str(root), ""):
        monkeypatch.setattr(sys, "path", [first, *rest])
        seen.add(packages(root))
    assert len(seen) == 1
    monkeypatch.setattr(sys, "path", [str(tmp_path / "venv" / "bin"), *rest])
    assert packages() != packages(root)  # the egg-info in the root is part of the view


def test_changed_packages_run_every_test(lib: Project, monkeypatch) -> None:
    scan(lib)
    monkeypatch.setattr("covtui.scan.affected.packages", lambda root=None: "another set")
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["full scan: the installed packages changed"]


def test_no_per_test_data_runs_every_test(lib: Project) -> None:
    lib.write("pyproject.toml", "[tool.coverage.run]\nbranch = true\n\n"
              "[[tool.covtui.sources]]\nname = 'python'\ncommand = 'pytest'\ncontexts = false\n")
    scan(lib)
    outcome = scan(lib, affected=True)
    assert outcome.notes == [
        "full scan: python records no per-test coverage (pytest under coverage.py with "
        "'contexts' on does)"
    ]
    assert outcome.draft.scope == "full"


def test_no_kept_base_runs_every_test(lib: Project) -> None:
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["full scan: no per-test coverage kept yet (a full scan with contexts keeps it)"]
    assert (lib.db.parent / "affected/python/base.coverage").is_file()


def test_a_collection_error_in_a_selected_test_runs_every_test(lib: Project) -> None:
    scan(lib)
    lib.write("tests/test_words.py", TEST_WORDS + "\nthis is not python\n")
    outcome = scan(lib, affected=True)
    assert outcome.notes[0].startswith(
        "full scan: the incremental run failed (pytest: 1 error during collection: tests/test_words.py"
    )
    assert outcome.draft.scope == "full"
    assert outcome.status.value == "failed"  # the full run fails the same way, and says so


def test_the_merged_data_is_what_coverage_py_reports(lib: Project) -> None:
    """The incremental snapshot's figures are coverage.py's own for the merged data file."""
    scan(lib)
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    outcome = scan(lib, affected=True)
    merged = lib.db.parent / "affected/python/base.coverage"
    report = lib.coverage_json(merged)["files"]
    # covtui's own pytest plugin ran with the tests; the scan leaves it out, as here
    files = [f["summary"] for path, f in report.items() if "covtui_contexts" not in path]
    numbers = outcome.draft.sources[0].report.numbers
    assert (numbers.n_statements, numbers.n_missing, numbers.n_branches,
            numbers.n_partial_branches) == tuple(
        sum(f[key] for f in files)
        for key in ("num_statements", "missing_lines", "num_branches", "num_partial_branches")
    )
    con = sqlite3.connect(merged)
    contexts = {c for (c,) in con.execute("SELECT context FROM context")}
    con.close()
    assert "tests/test_words.py::test_count|run" in contexts and "" in contexts
    assert json.loads((merged.parent / "base.json").read_text())["base"]["n_incremental"] == 1


def test_every_nth_rescan_is_full(lib: Project) -> None:
    scan(lib)
    assert scan(lib, affected=True, every=2).draft.scope == "incremental"
    assert scan(lib, affected=True, every=2).draft.scope == "incremental"
    third = scan(lib, affected=True, every=2)
    assert third.notes == ["full scan: every 2 incremental rescans (checks the incremental figures)"]
    assert third.draft.scope == "full"
    assert scan(lib, affected=True, every=2).draft.scope == "incremental"


def test_cli_affected_prints_its_one_line(lib: Project) -> None:
    lib.covtui("scan", "-q", check=True)
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    proc = lib.covtui("scan", "-q", "--affected", check=True)
    assert "incremental: 1 of 4 tests" in proc.stdout
    lib.write("tests/conftest.py", "")
    proc = lib.covtui("scan", "-q", "--affected", check=True)
    assert "full scan: tests/conftest.py changed (conftest.py)" in proc.stdout


CACHED = '''
_table = None


def table():
    global _table
    if _table is None:
        _table = {"a": 1}
    return _table
'''


def test_a_drifted_chain_raises_an_alert_at_the_periodic_full_scan(lib: Project) -> None:
    """An order-dependent suite: the first test to call table() fills the cache. Rerunning
    the second one alone makes it fill the cache, so nobody takes the cached branch in the
    chain; the periodic full scan finds that and says so."""
    lib.write("lib/cache.py", CACHED)
    lib.write("tests/test_a.py", "from lib.cache import table\n\n\ndef test_first():\n    assert table()['a'] == 1\n")
    lib.write("tests/test_b.py", "from lib.cache import table\n\n\ndef test_second():\n    assert table()\n")
    scan(lib)
    lib.write("tests/test_b.py", "from lib.cache import table\n\n\ndef test_second():\n    assert table() == {'a': 1}\n")
    chain = scan(lib, affected=True, every=2)
    assert chain.notes == ["incremental: 1 of 6 tests"]
    assert scan(lib, affected=True, every=2).draft.scope == "incremental"
    check = scan(lib, affected=True, every=2)
    assert check.draft.scope == "full"
    (drift,) = [a for a in check.alerts if a.rule == "incremental_drift"]
    assert drift.path is None and drift.value == 1
    assert drift.detail.startswith("lib/cache.py: ")
    _, states, _, _ = stored(lib, check.snapshot_id)
    assert states["python", "lib/cache.py"].numbers.n_partial_branches == 0  # the full figures
    _, chain_states, _, _ = stored(lib, chain.snapshot_id)
    assert chain_states["python", "lib/cache.py"].numbers.n_partial_branches == 1


def test_watch_on_change_affected_stores_incremental_snapshots(lib: Project) -> None:
    from .test_watch import query, start_watch, wait_until

    watch = start_watch(lib, "--interval", "300", "--on-change", "--affected")
    try:
        wait_until(lambda: len(query(lib.db, "SELECT id FROM snapshots")) == 1)
        # Idle again: the first scan has kept its base too (an edit while it keeps the
        # sources would be seen, and the rescan would rerun every test of words.py).
        wait_until(lambda: query(lib.db, "SELECT state FROM heartbeats") == [("idle",)])
        lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
        wait_until(lambda: len(query(lib.db, "SELECT id FROM snapshots")) == 2)
        watch.send_signal(signal.SIGTERM)
        out, _ = watch.communicate(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
    rows = query(lib.db, "SELECT scope, n_tests_run, n_tests FROM snapshots ORDER BY id")
    assert rows == [("full", None, 4), ("incremental", 1, 4)], out + "\n" + repr(rows)
    assert "incremental: 1 of 4 tests" in out


# -- the selection rules, as pure functions -------------------------------------------------


def test_a_function_body_is_not_module_level_code_but_a_constant_is() -> None:
    from covtui.domain.affected import module_skeleton

    before = module_skeleton(SHAPES.encode())
    assert module_skeleton(SHAPES.replace("size * size\n", "size ** 2\n", 1).encode()) == before
    assert module_skeleton((SHAPES + "\n\ndef added():\n    return 1\n").encode()) == before
    assert module_skeleton(SHAPES.replace('"square": 4', '"square": 5').encode()) != before
    decorated = "import functools\n\n\n@functools.cache\ndef f():\n    return 1\n"
    assert module_skeleton(decorated.replace("cache", "lru_cache()").encode()) != module_skeleton(
        decorated.encode()
    )
    assert module_skeleton(b"def broken(:\n") is None


def test_junit_ids_follow_pytests_junit_xml() -> None:
    from covtui.domain.affected import junit_id

    assert junit_id("tests/test_x.py::test_a") == "tests.test_x::test_a"
    assert junit_id("tests/test_x.py::TestA::test_b[1-a/b.py]") == "tests.test_x.TestA::test_b[1-a/b.py]"


def test_selection_reruns_touching_tests_changed_test_files_and_failures() -> None:
    from covtui.domain.affected import Base, FullRun, Selection, Tree, select

    files = {
        "lib/a.py": ["h1", "s1", False], "lib/b.py": ["h2", "s2", False],
        "tests/test_a.py": ["h3", "s3", False], "tests/test_b.py": ["h4", "s4", False],
    }
    base = Base(1, files, "c", "p", {
        "tests/test_a.py::test_1": "passed", "tests/test_a.py::test_2": "failed",
        "tests/test_b.py::test_3": "passed", "tests/test_b.py::test_4": "passed",
    }, {})
    measured = set(files)
    now = {**files, "lib/a.py": ["h1'", "s1", False]}
    chosen = select(base, Tree(now, "c", "p"), {"lib/a.py": {"tests/test_b.py::test_3|run", ""}}, measured)
    assert isinstance(chosen, Selection)
    assert chosen.tests == ["tests/test_a.py::test_2", "tests/test_b.py::test_3"]
    assert chosen.test_files == [] and chosen.measured_changed
    now = {**files, "tests/test_b.py": ["h4'", "s4'", False]}
    chosen = select(base, Tree(now, "c", "p"), {}, measured)
    assert chosen.test_files == ["tests/test_b.py"]
    assert chosen.replaced >= {"tests/test_b.py::test_3", "tests/test_b.py::test_4"}
    gone = {k: v for k, v in files.items() if k != "tests/test_b.py"}
    chosen = select(base, Tree(gone, "c", "p"), {}, measured)
    assert chosen.test_files == [] and "tests/test_b.py::test_4" in chosen.replaced
    narrow = Base(1, files, "c", "p", base.outcomes, {}, narrow=True)
    helper = {**files, "tests/helpers.py": ["h9'", "s9", False]}
    old_helper = {**files, "tests/helpers.py": ["h9", "s9", False]}
    narrow.files = old_helper
    assert isinstance(select(narrow, Tree(helper, "c", "p"), {}, measured), FullRun)


def test_unreadable_kept_data_runs_every_test_and_keeps_a_new_base(lib: Project) -> None:
    scan(lib)
    (lib.db.parent / "affected/python/base.coverage").write_bytes(b"not a database")
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    outcome = scan(lib, affected=True)
    assert outcome.status.value == "ok" and outcome.draft.scope == "full"
    assert outcome.notes[0].startswith("full scan: the kept per-test coverage is not readable")
    lib.write("lib/words.py", WORDS)
    assert scan(lib, affected=True).draft.scope == "incremental"


def test_collection_collects_again_only_what_a_change_can_reach() -> None:
    from covtui.domain.affected import Base, Selection, Tree, collection, select

    files = {
        "lib/a.py": ["h1", "s1", False], "lib/b.py": ["h2", "s2", False],
        "tests/test_a.py": ["h3", "s3", False], "tests/test_b.py": ["h4", "s4", False],
        "tests/test_c.py": ["h5", "s5", False],
    }
    outcomes = {"tests/test_a.py::test_1": "passed", "tests/test_b.py::test_2": "passed",
                "tests/test_c.py::test_3": "passed"}
    # test_b.py's collection imported lib/b.py first (not measured there: its record says so)
    base = Base(1, files, "c", "p", outcomes, {}, collected={
        "tests/test_a.py": ["lib/a.py"], "tests/test_b.py": ["lib/b.py"], "tests/test_c.py": [],
    })
    now = {**files, "lib/a.py": ["h1'", "s1", False], "lib/b.py": ["h2'", "s2", False]}
    touched = {"lib/a.py": {"tests/test_a.py::test_1|run", "collect:tests/test_c.py"}, "lib/b.py": set()}
    chosen = select(base, Tree(now, "c", "p"), touched, set(files))
    assert isinstance(chosen, Selection)
    # test_c.py's collection ran lib/a.py, test_a.py's and test_b.py's imported the changed
    # files first: all three run whole
    assert chosen.test_files == ["tests/test_a.py", "tests/test_b.py", "tests/test_c.py"]
    assert chosen.tests == []
    assert chosen.replaced == set(outcomes)
    assert collection(base, Tree(now, "c", "p"), chosen, touched).modules == {
        "tests/test_a.py", "tests/test_b.py", "tests/test_c.py"
    }
    one = {**files, "lib/a.py": ["h1'", "s1", False]}
    chosen = select(base, Tree(one, "c", "p"), {"lib/a.py": {"tests/test_a.py::test_1|run"}}, set(files))
    assert collection(base, Tree(one, "c", "p"), chosen, {}).modules == {"tests/test_a.py"}
    at_start = {"lib/a.py": {"tests/test_a.py::test_1|run", ""}}
    assert collection(base, Tree(one, "c", "p"), chosen, at_start).why == (
        "lib/a.py ran at pytest's start, outside any test module's collection"
    )
    new = {**one, "lib/d.py": ["h6", "s6", False]}
    chosen = select(base, Tree(new, "c", "p"), {}, set(files))
    assert collection(base, Tree(new, "c", "p"), chosen, {}).why == (
        "lib/d.py is new (any module's collection may import it)"
    )
    older = Base(1, files, "c", "p", outcomes, {})
    chosen = select(older, Tree(one, "c", "p"), {}, set(files))
    assert collection(older, Tree(one, "c", "p"), chosen, {}).every


def test_a_collections_context_reads_as_import() -> None:
    from covtui.domain.contexts import LineTests, collected_module, has_tests, split_context

    assert split_context("collect:tests/test_x.py") == ("", "import")
    assert collected_module("collect:tests/test_x.py") == "tests/test_x.py"
    assert collected_module("tests/test_x.py::test_a|run") is None
    assert not has_tests(["", "collect:tests/test_x.py"])
    tests = LineTests.of({1: ["collect:tests/test_x.py"], 2: ["", "collect:tests/test_y.py"],
                          3: ["tests/test_x.py::test_a|setup"]})
    assert tests.tests_of(1) == tests.tests_of(2) == [] and tests.all_tests() == {"tests/test_x.py::test_a"}
    assert tests.only_outside_tests(1) and tests.only_outside_tests(3)


def test_the_tests_start_while_covtui_decides_and_still_equal_a_full_scan(
    lib: Project, tmp_path, monkeypatch
) -> None:
    # The project's conftest notes when pytest has started (it loads before covtui's plugin
    # waits for the selection); the decision waits, up to a bound, to see it.
    mark = tmp_path / "pytest-started"
    lib.write("tests/conftest.py", "import os, pathlib\n\n"
              "if os.environ.get('COVTUI_TEST_MARK'):\n"
              "    pathlib.Path(os.environ['COVTUI_TEST_MARK']).write_text('started')\n")
    monkeypatch.setenv("COVTUI_TEST_MARK", str(mark))  # every run alike: exactness needs it
    scan(lib)
    mark.unlink()
    from covtui.scan.affected import Keeper

    decide, seen = Keeper.decide, []

    def decide_after_pytest_started(self):
        deadline = time.monotonic() + 30
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(mark.exists())
        return decide(self)

    monkeypatch.setattr(Keeper, "decide", decide_after_pytest_started)
    lib.write("lib/words.py", WORDS.replace("text.upper()", "text.upper() + ''"))
    outcome = scan(lib, affected=True)
    assert seen == [True]
    assert outcome.draft.scope == "incremental" and outcome.draft.n_tests_run == 1  # of 4
    monkeypatch.setattr(Keeper, "decide", decide)
    assert_same_as_full(lib, outcome.snapshot_id)


def _waiting_processes() -> list[int]:
    """Processes whose environment says they wait for a test selection."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if b"COVTUI_SELECT_WAIT=1" in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_tests_started_before_a_full_run_was_decided_are_ended(lib: Project) -> None:
    scan(lib)
    lib.write("tests/conftest.py", "import pytest\n")  # conftest changed: every test runs
    before = set(_waiting_processes())
    outcome = scan(lib, affected=True)
    assert outcome.draft.scope == "full" and outcome.draft.sources[0].tests.n_tests == 4
    assert set(_waiting_processes()) - before == set()


def test_the_plugin_waits_for_its_selection_and_gives_up_in_one_line(tmp_path, monkeypatch) -> None:
    import threading

    from covtui.scan.pytest_plugin import covtui_contexts as plugin

    path = tmp_path / "select.json"
    threading.Timer(0.2, lambda: path.write_text("{}")).start()
    started = time.monotonic()
    plugin._wait_for(str(path), os.getpid())
    assert path.exists() and time.monotonic() - started >= 0.15
    monkeypatch.setattr(plugin, "SELECT_WAIT_S", 0.05)
    with pytest.raises(pytest.UsageError, match="no test selection at .*never.json after 0.05s"):
        plugin._wait_for(str(tmp_path / "never.json"), None)


# -- the tests `covtui scan --affected` starts from its entry point -----------------------


#: Runs `covtui scan ARGS…` as the entry point does, saying on stderr when the tests start
#: (and whether click was imported by then), when something forks, whether the scan takes
#: the tests and the forked reader, whether a read server starts, and what was left.
ENTRY_POINT_SPY = (
    "import sys\n"
    "from covtui.scan import early\n"
    "start, take = early._start, early.take\n"
    "def spy_start(*args):\n"
    "    started = start(*args)\n"
    "    print('start', 'click' in sys.modules, started is not None, file=sys.stderr)\n"
    "    return started\n"
    "def spy_take(*args):\n"
    "    taken = take(*args)\n"
    "    print('take', taken is not None, file=sys.stderr)\n"
    "    return taken\n"
    "early._start, early.take = spy_start, spy_take\n"
    "from multiprocessing import forkserver\n"
    "import covtui.readers.worker as worker\n"
    "ensure, take_reader = forkserver.ensure_running, worker._take_early\n"
    "def spy_server():\n"
    "    print('server', file=sys.stderr)\n"
    "    ensure()\n"
    "def spy_reader(preload):\n"
    "    taken = take_reader(preload)\n"
    "    print('read', type(taken).__name__, file=sys.stderr)\n"
    "    return taken\n"
    "forkserver.ensure_running, worker._take_early = spy_server, spy_reader\n"
    "import os\n"
    "os.register_at_fork(before=lambda: print('fork', file=sys.stderr))\n"
    "from covtui.__main__ import main\n"
    "sys.argv = ['covtui', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print('left', early._started, file=sys.stderr)\n"
)


def run_entry_point(project: Project, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    proc = subprocess.run([sys.executable, "-c", ENTRY_POINT_SPY, *args], cwd=project.root,
                          env=clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    events = [line for line in proc.stderr.splitlines()
              if line.startswith(("start", "take", "left", "server", "read", "fork"))]
    return proc, events


def test_the_entry_point_starts_the_tests_before_click_and_the_scan_takes_them(lib: Project) -> None:
    lib.covtui("scan", "-q", check=True)
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    proc, events = run_entry_point(lib, "scan", "-q", "--affected")
    # The tests and the reader both wait from the entry point on, the reader forked after the
    # tests started (before, it slowed their start); no read server is started.
    assert events == ["start False True", "fork", "take True", "read _Forked", "left None"]
    assert "incremental: 1 of 4 tests" in proc.stdout
    # Run without the measuring wrapper, reaped with wait4(): what it cost is still known.
    assert re.search(r"tests 4 passed.*; \d+\.\ds, peak [1-9]\d* MB", proc.stdout), proc.stdout
    assert_same_as_full(lib, latest_id(lib))


@pytest.mark.parametrize("kept", [True, False])
def test_a_full_scan_runs_the_tests_the_entry_point_started(lib: Project, kept: bool) -> None:
    """`covtui scan` (no per-test data kept yet, or some) starts its tests from the entry
    point too; they run every test once covtui has hashed the tree."""
    if kept:
        lib.covtui("scan", "-q", check=True)
    proc, events = run_entry_point(lib, "scan", "-q")
    assert events == ["start False True", "fork", "take True", "read _Forked", "left None"]
    assert re.search(r"tests 4 passed.*; \d+\.\ds, peak [1-9]\d* MB", proc.stdout), proc.stdout
    row = stored(lib, latest_id(lib))[0]
    assert row.scope == "full" and row.tests.n_tests == 4
    # The same figures as coverage.py's own report of the run's data, over the project's
    # files (coverage.py also measured covtui's plugin, outside the project: not reported).
    report = lib.coverage_json(lib.db.parent / "run" / "python" / ".coverage")["files"]
    inside = [f["summary"] for path, f in report.items() if not os.path.isabs(path)]
    assert len(inside) == row.numbers.n_files
    for mine, theirs in (("n_statements", "num_statements"), ("n_executed", "covered_lines"),
                         ("n_branches", "num_branches"), ("n_missing_branches", "missing_branches")):
        assert getattr(row.numbers, mine) == sum(s[theirs] for s in inside), mine


INTERRUPTED_EARLY = """
import os, signal, sys
import covtui.__main__ as entry
from covtui.scan import early
fork = entry._fork_reader

def interrupted(*args, **kwargs):
    print('tests', early._started.process.pid, file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, before the command line is even imported
    return fork(*args, **kwargs)

entry._fork_reader = interrupted
sys.argv = ['covtui', 'scan', '-q']
entry.run()
"""


def test_a_ctrl_c_before_the_command_line_is_up_ends_the_started_tests_in_one_line(lib: Project) -> None:
    proc = subprocess.run([sys.executable, "-c", INTERRUPTED_EARLY], cwd=lib.root, env=clean_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == "covtui: interrupted"
    pid = int(proc.stderr.split("tests ", 1)[1].split()[0])
    with pytest.raises(ProcessLookupError):  # ended and reaped before covtui exited
        os.kill(pid, 0)


def test_a_rescan_that_decides_on_every_test_runs_the_tests_it_started(lib: Project, monkeypatch) -> None:
    """The tests start while covtui decides; when it decides on a full run (here: coverage.py's
    settings changed), the process it started runs every test rather than being ended and
    started again (a Python, coverage.py and pytest start-up saved)."""
    import covtui.scan.run as run

    scan(lib)
    lib.write("pyproject.toml", "[tool.coverage.run]\nbranch = true\nomit = ['nowhere/*']\n")
    commands = []
    command = run._command

    def spy(*args, **kwargs):
        commands.append(args)
        return command(*args, **kwargs)

    monkeypatch.setattr(run, "_command", spy)
    outcome = scan(lib, affected=True)
    assert outcome.status.value == "ok"
    assert any("settings" in note for note in outcome.notes), outcome.notes
    assert len(commands) == 1
    monkeypatch.undo()
    after = stored(lib, outcome.snapshot_id)
    assert after[0].scope == "full" and after[0].tests.n_tests == 4
    full = scan(lib)
    again = stored(lib, full.snapshot_id)
    assert after[1:] == again[1:] and after[0].numbers == again[0].numbers


def latest_id(project: Project) -> int:
    with sqlite3.connect(project.db) as conn:
        return conn.execute("SELECT MAX(id) FROM snapshots").fetchone()[0]


def test_tests_started_for_another_command_are_ended_and_the_lock_let_go(
    lib: Project, monkeypatch
) -> None:
    from covtui.scan import early
    from covtui.scan.lock import ScanLock

    lib.covtui("scan", "-q", check=True)
    monkeypatch.chdir(lib.root)
    early.start()
    started = early._started
    assert started is not None and started.process.poll() is None
    config = lib.config
    assert early.take_lock(config.lock_base.with_name("elsewhere.db")) is None
    assert early.take("python", [*started.argv, "-x"], started.env, started.cwd) is None
    assert started.process.poll() is not None  # ended (its group killed)
    assert early._started is None
    with ScanLock(config.lock_base):  # free again
        pass


def test_a_waiting_test_process_ends_when_the_covtui_that_started_it_is_gone(lib: Project) -> None:
    from covtui.scan.plan import PLUGIN_DIR, SELECT_ENV, SELECT_WAIT_ENV

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    env = {**clean_env(), "PYTHONPATH": str(PLUGIN_DIR), SELECT_ENV: str(lib.root / "never.json"),
           SELECT_WAIT_ENV: gone.stdout.strip()}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "covtui_contexts", "-q"],
                          cwd=lib.root, env=env, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30  # not the 300 s a selection is waited for
    assert proc.returncode != 0
    assert f"the scan that started these tests (pid {gone.stdout.strip()}) ended" in proc.stdout + proc.stderr


@pytest.mark.parametrize(("args", "starts"), [
    (["scan", "--affected"], True),
    (["scan", "-q", "--affected", "--fail-on-alert"], True),
    (["scan"], True),
    (["scan", "-q"], True),
    (["scan", "--affected", "--source", "python"], False),
    (["--project", ".", "scan", "--affected"], False),
    (["scan", "--affected", "--db", "x.db"], False),
    (["watch", "--affected"], False),
    (["scan", "--affected", "--help"], False),
    ([], False),
])
def test_the_entry_point_guesses_a_scan(args, starts) -> None:
    from covtui.__main__ import _scans

    assert _scans(args) is starts


# -- the read after an affected run -------------------------------------------------------------


@pytest.fixture
def read_stats(monkeypatch) -> list:
    """The stats of every coverage.py read the scans in this process make."""
    from covtui.readers import worker

    seen: list = []
    result = worker.PendingCoverageRead.result

    def recorded(self):
        report, stats = result(self)
        seen.append(stats)
        return report, stats

    monkeypatch.setattr(worker.PendingCoverageRead, "result", recorded)
    return seen


def test_the_read_after_an_affected_run_reuses_the_files_it_did_not_touch(
    lib: Project, read_stats: list
) -> None:
    scan(lib)
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 1 of 4 tests"]
    # lib/shapes.py and tests/test_shapes.py: neither their source nor their data changed;
    # lib/words.py, tests/test_words.py and lib/__init__.py (its import now ran in
    # test_words.py's collection) are read again
    assert read_stats[-1].n_reused == 2 and read_stats[-1].n_files == 5
    assert_same_as_full(lib, outcome.snapshot_id)


def test_a_changed_source_no_test_ran_is_read_again(lib: Project, read_stats: list) -> None:
    lib.write("pyproject.toml", '[tool.coverage.run]\nbranch = true\nsource = ["lib"]\n')
    lib.write("lib/unused.py", "def never(x):\n    return x\n")
    scan(lib)
    lib.write("lib/unused.py", "def never(x):\n    if x:\n        return 1\n    return x\n")
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 0 of 4 tests"]
    assert read_stats[-1].n_reused == 3  # not lib/unused.py, whose source changed
    assert_same_as_full(lib, outcome.snapshot_id)


def test_a_kept_read_that_is_unreadable_or_not_the_bases_is_not_used(
    lib: Project, read_stats: list
) -> None:
    scan(lib)
    kept = lib.db.parent / "affected" / "python"
    (results,) = kept.glob("base.results.*.json")
    results.write_text("{not json")
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    first = scan(lib, affected=True)
    assert read_stats[-1].n_reused == 0
    assert_same_as_full(lib, first.snapshot_id)
    # One kept for another snapshot (a crash between the data and the manifest) is not used.
    (results,) = kept.glob("base.results.*.json")
    results.rename(kept / "base.results.1.json")
    lib.write("lib/words.py", WORDS)
    second = scan(lib, affected=True)
    assert second.notes == ["incremental: 1 of 4 tests"]
    assert read_stats[-1].n_reused == 0
    assert_same_as_full(lib, second.snapshot_id)


def test_a_kept_line_tests_blob_that_does_not_check_is_read_again(
    lib: Project, read_stats: list
) -> None:
    # Kept blobs are stored as they are (decoded only when asked for): one altered on disk
    # must not reach the history; it fails its digest and the file's data is read instead.
    scan(lib)
    kept = lib.db.parent / "affected" / "python"
    (results,) = kept.glob("base.results.*.json")
    doc = json.loads(results.read_text())
    for entry in doc["files"].values():
        if entry[2] is not None:
            entry[2] = base64.b64encode(b"not a blob").decode()
    results.write_text(json.dumps(doc))
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    outcome = scan(lib, affected=True)
    assert outcome.notes == ["incremental: 1 of 4 tests"]
    assert_same_as_full(lib, outcome.snapshot_id)


def test_a_scan_cancelled_once_its_snapshot_is_recorded_finishes_and_says_so(
    lib: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stop (watch's SIGTERM, the dashboard's cancel) that lands after the snapshot is
    # stored must not report a cancelled scan: the snapshot stands, its base is kept, and
    # the scan returns what it stored (watch then says "incremental: …", not "cancelled").
    import threading

    from covtui.scan.affected import Keeper

    scan(lib)
    committing, release = threading.Event(), threading.Event()
    commit = Keeper.commit

    def slow_commit(self, snapshot_id):
        committing.set()
        release.wait(10)
        commit(self, snapshot_id)

    monkeypatch.setattr(Keeper, "commit", slow_commit)
    lib.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))

    async def cancelled_while_keeping():
        task = asyncio.create_task(run_scan(lib.config, affected=True))
        while not committing.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        release.set()
        return await task

    outcome = asyncio.run(cancelled_while_keeping())
    assert outcome.status.value == "ok" and outcome.notes == ["incremental: 1 of 4 tests"]
    monkeypatch.setattr(Keeper, "commit", commit)
    lib.write("lib/words.py", WORDS)
    again = scan(lib, affected=True)  # the base was kept: the next rescan is incremental too
    assert again.notes == ["incremental: 1 of 4 tests"]


def test_function_edit_finds_the_functions_an_edit_changed_and_how_lines_moved() -> None:
    from covtui.domain.edits import function_edit

    src = SHAPES.encode()
    grown = function_edit(src, SHAPES.replace("        return size * size\n", "        s = size\n        return s * s\n").encode())
    assert grown is not None and grown.functions == ("area",)
    area_first = SHAPES.splitlines().index('    if kind == "square":') + 1
    assert grown.old_spans == ((area_first, area_first + 2),)  # its three lines
    describe = SHAPES.splitlines().index("def describe(kind):") + 1
    assert grown.line_map[describe] == describe + 1  # below the edit: one line down
    assert grown.line_map[1] == 1 and area_first + 1 not in grown.line_map  # a changed body's lines: none
    methods = CLASSY.replace("        if self.n:\n", "        if self.n > 0:\n").encode()
    assert function_edit(CLASSY.encode(), methods).functions == ("Counter.down",)
    nested = "def outer():\n    def inner():\n        return 1\n    return inner()\n"
    assert function_edit(nested.encode(), nested.replace("return 1", "return 2").encode()).functions == ("outer",)
    # Not confined to bodies: every test of the file reruns.
    for changed in (
        SHAPES.replace('"square": 4', '"square": 5'),  # module-level code
        SHAPES.replace("def sides(kind):", "def sides(kind, default=0):"),  # a signature
        SHAPES + "\n\ndef added():\n    return 1\n",  # a function added
        SHAPES.replace("def sides", "def count_sides").replace("sides(kind)\n", "count_sides(kind)\n"),
        "# a comment above everything\n" + SHAPES,
        SHAPES.replace("import math", "import math  # for sqrt"),
        "def broken(:\n",
        "x = 1\0\n",  # a null byte: ast refuses it
        "def f():\n    return " + "(" * 5000 + ")" * 5000 + "\n",  # nested past the parser's limit
    ):
        assert function_edit(src, changed.encode()) is None, changed
    assert function_edit(src, src) is None  # nothing changed
    decorated = "import functools\n\n\n@functools.cache\ndef f():\n    return 1\n"
    assert function_edit(decorated.encode(), decorated.replace("cache", "lru_cache()").encode()) is None
    assert function_edit(decorated.encode(), decorated.replace("return 1", "return 2").encode()).functions == ("f",)


def test_the_trimmed_diff_covers_both_versions_and_pairs_only_equal_lines() -> None:
    import random

    from covtui.domain.edits import _EXACT_DIFF_MAX, _opcodes

    rng = random.Random(15)
    for size in (0, 1, 5, 40, _EXACT_DIFF_MAX + 300):
        for _ in range(20):
            a = [rng.choice([b"", b"    return x", b"pass", b"x = 1", b"def f():"]) for _ in range(size)]
            b = list(a)
            for _ in range(rng.randint(0, 3)):  # a few insertions, deletions, replacements
                at = rng.randint(0, len(b))
                kind = rng.choice(["insert", "delete", "replace"])
                if kind == "insert":
                    b.insert(at, b"    new = 2")
                elif b and at < len(b):
                    if kind == "delete":
                        del b[at]
                    else:
                        b[at] = b"    changed = 3"
            i = j = 0  # the ops follow each other and cover both versions
            for tag, i1, i2, j1, j2 in _opcodes(a, b):
                assert (i1, j1) == (i, j)
                if tag == "equal":
                    assert a[i1:i2] == b[j1:j2]
                i, j = i2, j2
            assert (i, j) == (len(a), len(b))


def test_a_module_too_deep_for_a_recursive_walk_is_scanned_and_followed_whole(lib: Project) -> None:
    """A generated module with an 800-term expression compiles and imports, but a recursive
    walk of its syntax tree exceeds Python's recursion limit: scans work, and any change to
    it counts as a change outside its functions (a full run, said why)."""
    deep = "TABLE = " + " + ".join(["1"] * 800) + "\n\n\ndef total():\n    return TABLE\n"
    lib.write("lib/table.py", deep)
    lib.write("tests/test_table.py", "from lib.table import total\n\n\ndef test_total():\n    assert total() == 800\n")
    assert scan(lib).status.value == "ok"
    lib.write("lib/table.py", deep.replace("return TABLE", "return TABLE + 0"))
    outcome = scan(lib, affected=True)
    assert outcome.status.value == "ok"
    assert outcome.notes == [
        "full scan: lib/table.py: code outside its functions changed (tests that never ran a "
        "line of it may read what it computes at import)"
    ]
