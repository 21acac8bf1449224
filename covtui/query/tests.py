"""Per-test coverage answers: which tests ran a line (`covtui who`, the file view)."""

from __future__ import annotations

from dataclasses import dataclass, field

from covtui.domain.contexts import LineTests, is_import, split_context
from covtui.errors import CovtuiError
from covtui.store import Store


@dataclass(frozen=True)
class TestOfLine:
    __test__ = False  # not a pytest class
    name: str  # the test's id ("" never: import is `LineAnswer.at_import`)
    phases: tuple[str, ...]  # "setup", "run", "teardown" in which it ran the line


@dataclass(frozen=True)
class LineAnswer:
    """Who ran one line in a snapshot that kept per-test coverage."""

    snapshot_id: int
    source: str
    path: str
    line: int
    ran: bool
    #: The context names coverage.py gives for the line (`contexts_by_lineno`), sorted.
    contexts: tuple[str, ...] = ()
    tests: tuple[TestOfLine, ...] = ()
    at_import: bool = False  # ran outside any test (the empty context, a module's collection)
    missed: bool | None = None  # a statement that did not run; None when not known
    only_outside_tests: bool = False  # ran, but in no test's body: import or fixtures only
    n_tests: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_tests", len(self.tests))


def answer_line(
    snapshot_id: int, source: str, path: str, line: int, tests: LineTests,
    missing: frozenset[int] | None = None,
) -> LineAnswer:
    contexts = tuple(tests.contexts_of(line))
    phases: dict[str, list[str]] = {}
    for context in contexts:
        test, phase = split_context(context)
        if test:
            phases.setdefault(test, []).append(phase)
    return LineAnswer(
        snapshot_id, source, path, line,
        ran=line in tests.lines,
        contexts=contexts,
        tests=tuple(TestOfLine(t, tuple(sorted(p))) for t, p in sorted(phases.items())),
        at_import=any(is_import(c) for c in contexts),
        missed=None if missing is None else line in missing,
        only_outside_tests=tests.only_outside_tests(line),
    )


async def who(store: Store, path: str, line: int, source: str | None = None) -> LineAnswer:
    """The tests that ran `path`'s `line` in the newest snapshot that kept per-test coverage."""
    kept = await store.line_test_snapshots()
    if not kept:
        raise CovtuiError(
            f"{store.path}: no per-test coverage recorded yet (a scan of pytest under coverage.py "
            "with the source's 'contexts' on records it)"
        )
    snapshot_id = kept[0]
    found = await store.line_tests(snapshot_id, source=source, path=path)
    if not found:
        raise CovtuiError(f"{path}: not measured with per-test coverage in snapshot #{snapshot_id}")
    if len(found) > 1:
        names = ", ".join(sorted(s for s, _ in found))
        raise CovtuiError(f"{path}: measured by several sources ({names}): give --source")
    ((src, stored_path), tests), = found.items()
    detail = await store.file_detail(src, stored_path, snapshot_id)
    missing = frozenset(detail.missing_lines) if detail is not None else None
    return answer_line(snapshot_id, src, stored_path, line, tests, missing)


async def _latest_kept(store: Store, source: str) -> int | None:
    """The source's latest good snapshot, when it kept per-test coverage (older per-test
    coverage would not match the lines the file view shows); else None."""
    kept = await store.line_test_snapshots()
    if not kept:
        return None
    latest = await store.last_good_snapshot(source)
    return latest if latest is not None and latest in kept else None


async def file_tests(store: Store, source: str, path: str) -> LineTests | None:
    """Which tests ran each line of the file, when the source's latest good run kept that; else None."""
    latest = await _latest_kept(store, source)
    if latest is None:
        return None
    found = await store.line_tests(latest, source=source, path=path)
    return found.get((source, path))


async def file_line(store: Store, source: str, path: str, line: int) -> LineAnswer | None:
    """`who` for one line of the file view: the tests that ran it in the source's latest good
    snapshot; None when that snapshot kept no per-test coverage ("no data", not "no tests").
    A file the snapshot kept nothing for ran no line (per-test coverage lists every file
    with an executed line)."""
    latest = await _latest_kept(store, source)
    if latest is None:
        return None
    found = await store.line_tests(latest, source=source, path=path)
    tests = found.get((source, path), LineTests((), {}))
    detail = await store.file_detail(source, path, latest)
    missing = frozenset(detail.missing_lines) if detail is not None else None
    return answer_line(latest, source, path, line, tests, missing)
