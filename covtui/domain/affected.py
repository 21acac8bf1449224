"""Affected rescans: which tests to rerun after a change, and when only a full run is exact.

A test is rerun when any of its contexts (setup, run, teardown) ran a line of a changed file:
file granularity, because line numbers move when a file is edited and the recorded lines
name the old ones. Tests that never ran a line of a file can still read what its module-level
code computed (a constant, a class attribute), so a change outside function bodies of a
non-test module means a full run. Test modules are rerun whole. Everything else that may
change what tests do without a line of the project moving (config, conftest.py, fixtures,
installed packages, data files) means a full run too, said in one line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from covtui.domain.contexts import FAILING, IMPORT, collected_module, split_context
from covtui.domain.digests import content_digest
from covtui.domain.model import TestFailure, TestOutcomes

#: How a scan was run ("full" or "incremental"): the snapshot's `scope`.
FULL, INCREMENTAL = "full", "incremental"
#: A full scan at least this often (seconds), to check the incremental chain.
FULL_SCAN_MAX_AGE_S = 86400.0

_FIXTURE = re.compile(r"\bfixture\b")


def module_skeleton(source: bytes) -> str | None:
    """A digest of what a module does when imported, leaving out the bodies of functions.

    A plain `def` (no decorator) only binds a name: its body runs when called, and whoever
    calls it runs lines of this file. Decorated functions keep everything but their body
    (decorators run at import). None when the source does not parse. A module nested too
    deep for the walk (generated code: an expression of hundreds of terms compiles, but its
    tree outgrows Python's recursion limit) is its whole content: any change to it counts.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError):
        return f"source:{content_digest(source)}"

    class Strip(ast.NodeTransformer):
        def visit_FunctionDef(self, node):
            if not node.decorator_list:
                return None
            node.body = [ast.Pass()]
            return node

        visit_AsyncFunctionDef = visit_FunctionDef

    try:
        stripped = Strip().visit(tree)
        return content_digest(ast.dump(stripped, include_attributes=False).encode())
    except RecursionError:
        return f"source:{content_digest(source)}"


def test_file_of(nodeid: str) -> str:
    """"tests/test_x.py::TestA::test_b[1]" → "tests/test_x.py"."""
    return nodeid.split("::", 1)[0]


def junit_id(nodeid: str) -> str:
    """The id pytest's JUnit XML gives a test (`classname::name`, as covtui reads it)."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return f"{'.'.join(names[:-1])}::{names[-1]}" if len(names) > 1 else names[0]


@dataclass
class Base:
    """The state an incremental scan starts from: the source's last good snapshot whose
    coverage data (with each test's contexts) covtui kept beside the database."""

    snapshot_id: int
    #: Path (relative to the project root, or absolute outside it) → [content digest,
    #: module skeleton digest or None (not Python, or not parseable)].
    files: dict[str, list]
    config: str  # digest of the coverage, pytest and covtui settings
    packages: str  # digest of the installed distributions and their versions
    #: Every test of that snapshot (pytest node id) → its outcome.
    outcomes: dict[str, str]
    #: JUnit id → [outcome, failure message]: the snapshot's tests as its JUnit counted them.
    junit: dict[str, list]
    #: Whether coverage.py measures only part of the tree (run source/include/omit): then a
    #: changed file it never measured may have been run by any test.
    narrow: bool = False
    n_incremental: int = 0  # incremental scans since the last full one
    full_at: float = 0.0  # when the last full scan ran
    #: Files the tests themselves write (their content changed during the run): not tracked.
    volatile: list[str] = field(default_factory=list)
    #: Each test module collected (node id) → the files (as in `files`) its collection imported
    #: first; None when the run did not record it (its collections have no context of their
    #: own, or an older covtui kept the base): an incremental run then collects every module.
    collected: dict[str, list[str]] | None = None


@dataclass
class Tree:
    """The project's files now."""

    files: dict[str, list]  # as Base.files
    config: str
    packages: str


@dataclass
class Selection:
    """What an incremental scan reruns."""

    tests: list[str]  # previous tests to rerun (node ids)
    test_files: list[str]  # changed test modules: every test in them runs
    replaced: set[str]  # previous tests whose record the rerun replaces (or that are gone)
    changed: list[str]  # changed, added or removed files
    #: Whether any changed file was measured: its import-time lines must be measured again.
    measured_changed: bool = False

    @property
    def empty_run(self) -> bool:
        """No test to run (new tests aside): the rerun measures import-time lines only."""
        return not self.tests and not self.test_files


@dataclass(frozen=True)
class FullRun:
    """Why the scan must run every test (one line)."""

    reason: str


def changed_files(before: Mapping[str, list], now: Mapping[str, list]) -> list[str]:
    """Paths whose content differs, appeared or went, sorted."""
    return sorted(
        p for p in set(before) | set(now)
        if (before.get(p) or [None])[0] != (now.get(p) or [None])[0]
    )


def select(
    base: Base,
    tree: Tree,
    touched: Mapping[str, Iterable[str]],
    measured: set[str],
    within_functions: Iterable[str] = (),
) -> Selection | FullRun:
    """The tests to rerun for the changes between `base` and `tree`, or why only a full run
    is exact.

    `touched`: changed file → the contexts that ran any of its lines in the base data (for a
    file in `within_functions`, edited inside function bodies only: any line of a changed
    function, `domain.edits`). `measured`: every file in the base's coverage data.
    """
    if tree.config != base.config:
        return FullRun("the coverage, pytest or covtui settings changed")
    if tree.packages != base.packages:
        return FullRun("the installed packages changed")
    volatile = set(base.volatile)
    changed = [p for p in changed_files(base.files, tree.files) if p not in volatile]
    test_files = {test_file_of(t) for t in base.outcomes}
    rerun: set[str] = set()
    whole: list[str] = []
    collecting: set[str] = set()  # test modules whose collection ran or imported a changed file
    measured_changed = False
    for path in changed:
        name = path.rsplit("/", 1)[-1]
        old, new = base.files.get(path), tree.files.get(path)
        if name == "conftest.py":
            return FullRun(f"{path} changed (conftest.py)")
        if not path.endswith(".py"):
            return FullRun(f"{path} changed (not Python: covtui can't tell which tests read it)")
        if path in measured:
            measured_changed = True
            for context in touched.get(path, ()):
                module = collected_module(context)
                if module is not None:
                    # Its collection ran the file (an import, parametrize arguments): the
                    # module's tests and their ids may differ now; it runs whole.
                    collecting.add(module)
                elif (test := split_context(context)[0]):
                    rerun.add(test)
        if path in test_files or (old is None and new is not None):
            # A test module (or a new file: it may hold new tests) runs whole.
            if new is not None:
                whole.append(path)
            continue
        if new is not None and new[2]:
            return FullRun(f"{path} changed and defines pytest fixtures")
        if old is None or new is None:
            continue  # a module gone: whoever ran it reruns (and fails to import it)
        if path not in measured and base.narrow:
            return FullRun(
                f"{path} changed and coverage.py does not measure it, "
                "so covtui can't tell which tests ran it"
            )
        if path in measured and old[1] != new[1]:
            return FullRun(
                f"{path}: code outside its functions changed (tests that never ran a line of "
                "it may read what it computes at import)"
            )
    changed_set = set(changed)
    # Importing a module edited inside its functions only runs the same code as before.
    imported_changed = changed_set - set(within_functions)
    collecting |= {
        m for m, files in (base.collected or {}).items() if imported_changed.intersection(files)
    }
    whole += sorted(m for m in collecting if m in tree.files and m not in whole)
    replaced = set(rerun) | {
        t for t in base.outcomes if test_file_of(t) in changed_set or test_file_of(t) in collecting
    }
    # Tests that failed last time run again: their failure may have hidden coverage.
    rerun |= {t for t, outcome in base.outcomes.items() if outcome in FAILING}
    replaced |= rerun
    tests = sorted(t for t in rerun if test_file_of(t) not in whole)
    return Selection(tests, sorted(set(whole)), replaced, changed, measured_changed)


@dataclass(frozen=True)
class Collection:
    """Which test modules an incremental run collects.

    `modules`: the modules to collect (None: every one, `why` says why in one line). A module
    is collected again when a test of it reruns, when it changed, or when its collection ran a
    line of a changed file or imported it; the others keep their collection's coverage from
    the kept data (its `collect:` context), since nothing their import ran has changed.
    """

    modules: frozenset[str] | None
    why: str = ""

    @property
    def every(self) -> bool:
        return self.modules is None


def collection(
    base: Base, tree: Tree, selection: Selection, touched: Mapping[str, Iterable[str]],
) -> Collection:
    """The test modules an incremental run must collect for its data to merge exactly.

    `touched`: changed file → the contexts that ran any of its lines in the base data.
    """
    if base.collected is None:
        return Collection(None, "the kept per-test coverage does not say what each test "
                                "module's collection ran (kept by an older covtui)")
    for path in selection.changed:
        if path.endswith(".py") and (path not in base.files or path not in tree.files):
            what = "is new" if path not in base.files else "was removed"
            return Collection(None, f"{path} {what} (any module's collection may import it)")
    for path in selection.changed:
        if IMPORT in touched.get(path, ()):
            return Collection(None, f"{path} ran at pytest's start, outside any test "
                                    "module's collection")
    # `select` made every module whose collection ran or imported a changed file run whole.
    modules = {test_file_of(t) for t in selection.tests} | set(selection.test_files)
    return Collection(frozenset(modules))


def collection_kept(
    base: Base, modules: Iterable[str], rerun: Mapping[str, Iterable[str]], changed: Iterable[str],
) -> str:
    """Why the collections the rerun did not repeat can't be kept ("" : they can).

    A module is imported once, by the first collection that imports it: when a collected
    module no longer imports a file it imported first last time, a module collected later
    imports it now, and that one's kept record would lack the file's import-time lines.
    `rerun`: each module the rerun collected → the files its collection imported first.
    """
    assert base.collected is not None
    now = {f for files in rerun.values() for f in files}
    changed = set(changed)
    for module in sorted(modules):
        for path in base.collected.get(module, ()):
            if path not in changed and path not in now:
                return (f"{module}'s collection no longer imports {path}, which a module "
                        "collected after it may import now")
    return ""


def merge_outcomes(
    previous: Mapping[str, str], replaced: set[str], rerun: Mapping[str, str]
) -> dict[str, str]:
    """Each test's outcome after an incremental run: the rerun's where it ran, else the
    previous one (tests replaced and not run again are gone)."""
    merged = {t: o for t, o in previous.items() if t not in replaced}
    merged.update(rerun)
    return merged


def merge_junit(
    previous: Mapping[str, list], replaced: set[str], rerun: Mapping[str, list]
) -> dict[str, list]:
    """The JUnit records (id → [outcome, message]) after an incremental run."""
    gone = {junit_id(t) for t in replaced}
    merged = {i: v for i, v in previous.items() if i not in gone}
    merged.update(rerun)
    return merged


def outcomes_from(junit: Mapping[str, list]) -> TestOutcomes:
    """The test counts a full run's JUnit would give, from the merged records."""
    kinds = [v[0] for v in junit.values()]
    return TestOutcomes(
        n_tests=len(kinds),
        n_failed=kinds.count("failed"),
        n_errors=kinds.count("error"),
        n_skipped=kinds.count("skipped"),
        duration_s=None,  # the run timed only the tests it ran
        failures=[TestFailure(i, v[1]) for i, v in sorted(junit.items()) if v[0] in FAILING],
        ids=sorted(junit),
    )


def full_scan_due(base: Base, every: int, now: float) -> str | None:
    """Why this rescan should be a full one, to check the incremental chain; None if not."""
    if base.n_incremental >= every:
        return f"every {every} incremental rescans"
    if now - base.full_at >= FULL_SCAN_MAX_AGE_S:
        return "a day since the last full scan"
    return None


def mentions_fixtures(source: bytes) -> bool:
    return _FIXTURE.search(source.decode("utf-8", "replace")) is not None


def drift_alert(source: str, chain: Iterable, full: Iterable, precision: int = 2):
    """An `incremental_drift` alert when the incremental chain's figures (what an incremental
    rescan of this tree gives) differ from a full scan's, file by file; None when equal.

    A drift means a test's coverage depends on what ran before it (a cache filled by whichever
    test comes first) or on something covtui does not track: the full scan's figures are stored.
    """
    from covtui.domain.model import Alert, AlertRule, Severity

    by_path = {f.path: f for f in chain}
    full_by_path = {f.path: f for f in full}
    differ = []
    for path in sorted(set(by_path) | set(full_by_path)):
        a, b = by_path.get(path), full_by_path.get(path)
        if a is None or b is None:
            differ.append(f"{path}: {'only in the full scan' if a is None else 'only in the chain'}")
        elif (a.numbers, a.missing_lines, a.missing_arcs) != (b.numbers, b.missing_lines, b.missing_arcs):
            differ.append(
                f"{path}: {a.numbers.pc_covered_str(precision)}% incremental, "
                f"{b.numbers.pc_covered_str(precision)}% full"
            )
    if not differ:
        return None
    n = len(differ)
    return Alert(
        AlertRule.INCREMENTAL_DRIFT,
        Severity.WARNING,
        f"{source}: incremental rescans drifted from a full scan in {n} file{'s' if n != 1 else ''} "
        f"({differ[0]}); the full scan's figures are stored",
        value=n,
        threshold=0,
        source=source,
        detail="\n".join(differ),
    )
