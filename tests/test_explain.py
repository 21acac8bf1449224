"""`covtui explain`: every changed line gets one cause, on projects measured by coverage.py."""

from __future__ import annotations

import json
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from covtui.coverage_compat import CoverageData
from covtui.domain.contexts import LineTests
from covtui.domain.explain import CAUSES, Ends, FileDiff, FileSide, explain, line_mapper
from covtui.git.lines import parse_diff
from covtui.report.markdown import md_escape

from .conftest import Project

SHAPES = '''
def area(w, h):
    return w * h


def perimeter(w, h):
    if w == h:
        return 4 * w
    total = 2 * w
    total += 2 * h
    return total


def both(w, h):
    a = area(w, h)
    return a + perimeter(w, h)
'''

SHAPE_TESTS = '''
from pkg.shapes import area, both, perimeter


def test_area():
    assert area(2, 3) == 6


def test_perimeter():
    assert perimeter(2, 3) == 10


def test_both():
    assert both(1, 1) == 5
'''

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def _git(project: Project, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=project.root, check=True, capture_output=True)


def _explain(project: Project, *ids: str) -> dict:
    return json.loads(project.covtui("explain", *ids, "--json", check=True).stdout)


def _check_sums(e: dict) -> None:
    assert sum(c["covered_lines_delta"] for c in e["causes"]) == e["covered_lines_delta"]
    assert sum(c["missed_lines_delta"] for c in e["causes"]) == e["missed_lines_delta"]
    for c in e["causes"]:
        assert c["kind"] in CAUSES
        assert sum(f["covered_lines_delta"] for f in c["files"]) == c["covered_lines_delta"]
        assert sum(f["missed_lines_delta"] for f in c["files"]) == c["missed_lines_delta"]


def _totals(project: Project) -> list[tuple[int, int]]:
    """(covered, missed) lines of each stored snapshot, oldest first, as status would say."""
    import sqlite3

    with sqlite3.connect(project.db) as conn:
        return conn.execute(
            "SELECT n_statements - n_missing, n_missing FROM snapshots ORDER BY id"
        ).fetchall()


def _shapes(project: Project) -> None:
    project.write("pkg/shapes.py", SHAPES)
    project.write("tests/test_shapes.py", SHAPE_TESTS)


def test_a_deleted_test_is_the_cause_of_exactly_the_lines_it_alone_covered(
    project: Project,
) -> None:
    _shapes(project)
    project.covtui("scan", check=True)
    data = CoverageData(str(project.db.parent / "run" / "python" / ".coverage"))
    data.read()
    expected = project.coverage_json(project.db.parent / "run" / "python" / ".coverage")
    gone = "tests/test_shapes.py::test_perimeter"
    only_it: set[tuple[str, int]] = set()
    for measured in data.measured_files():
        path = next(p for p in expected["files"] if measured.endswith(p))
        for line, contexts in data.contexts_by_lineno(measured).items():
            if line in expected["files"][path]["executed_lines"] and {
                c.rpartition("|")[0] for c in contexts
            } == {gone}:
                only_it.add((path, line))
    # test_both runs perimeter's square case: only the other lines are test_perimeter's alone.
    assert {line for _, line in only_it} == {9, 10, 11}
    project.write("tests/test_shapes.py", SHAPE_TESTS.replace(
        "def test_perimeter():\n    assert perimeter(2, 3) == 10\n", ""))
    project.covtui("scan", check=True)
    e = _explain(project)
    _check_sums(e)
    (removed,) = [c for c in e["causes"] if c["kind"] == "tests_removed"]
    assert removed["tests"] == [gone]
    named = {(f["path"], line) for f in removed["files"] for line in f["lines"]}
    assert named == only_it
    assert [c["kind"] for c in e["causes"]] == ["tests_removed"]
    (before, after) = _totals(project)
    assert e["covered_lines_delta"] == after[0] - before[0]
    assert e["missed_lines_delta"] == after[1] - before[1]
    # The drop alert names the same cause.
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    (drop,) = [a for a in alerts if a["rule"] == "coverage_drop"]
    assert drop["message"].endswith(f"; largest cause: tests_removed, 3 covered lines: {gone}")
    # The alert's detail (enter on an alert) says it too, cause by cause.
    import asyncio

    from covtui.query.alerts import alert_context
    from covtui.store import Store

    async def why() -> str | None:
        async with await Store.open(project.db, read_only=True) as store:
            alert = next(a for a in await store.alerts() if a.rule == "coverage_drop")
            return (await alert_context(store, alert)).explanation

    assert asyncio.run(why()) == (
        f"tests_removed: -3 covered, +3 missed lines in pkg/shapes.py; tests {gone}"
    )
    # The report says the same, in JSON and in its "Why Coverage Moved" section.
    report = json.loads(project.covtui("report", "--format", "json", check=True).stdout)
    assert report["why"] == e
    md = project.covtui("report", check=True).stdout
    assert "## Why Coverage Moved" in md
    assert f"| `tests_removed` | -3 | +3 | pkg/shapes.py | {md_escape(gone)} |" in md


def test_deleted_code_is_code_removed_not_a_regression(project: Project) -> None:
    _shapes(project)
    project.write(".gitignore", ".covtui/\n__pycache__/\n")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "one")
    project.covtui("scan", check=True)
    # area() goes, and so does the test of it; both() no longer calls it.
    project.write("pkg/shapes.py", SHAPES.replace(
        "def area(w, h):\n    return w * h\n\n\n", "").replace(
        "    a = area(w, h)\n", "    a = w * h\n"))
    project.write("tests/test_shapes.py", SHAPE_TESTS.replace(
        "from pkg.shapes import area, both, perimeter", "from pkg.shapes import both, perimeter"
    ).replace("def test_area():\n    assert area(2, 3) == 6\n", ""))
    _git(project, "commit", "-qam", "two")
    project.covtui("scan", check=True)
    e = _explain(project)
    _check_sums(e)
    kinds = {c["kind"]: c for c in e["causes"]}
    assert set(kinds) == {"code_removed", "code_added"}, e  # the changed line: out and in
    removed = kinds["code_removed"]["files"]
    assert removed == [{
        "source": "python", "path": "pkg/shapes.py", "covered_lines_delta": -3,
        "missed_lines_delta": 0, "lines": [2, 3, 15],
    }]
    assert kinds["code_added"]["files"][0]["lines"] == [11]


def test_the_drop_alert_names_the_cause_explain_gives_when_a_changed_file_lost_a_test(
    project: Project,
) -> None:
    """Code added to a file and its test deleted in one commit: the alert's largest cause is
    `explain`'s (git says which lines are old), not every line of the file out and in."""
    _shapes(project)
    project.write(".gitignore", ".covtui/\n__pycache__/\n")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "one")
    project.covtui("scan", check=True)
    project.write("pkg/shapes.py", SHAPES + "\n\ndef volume(w, h, d):\n    return w * h * d\n")
    gone = "tests/test_shapes.py::test_perimeter"
    project.write("tests/test_shapes.py", SHAPE_TESTS.replace(
        "def test_perimeter():\n    assert perimeter(2, 3) == 10\n", ""))
    _git(project, "commit", "-qam", "two")
    project.covtui("scan", check=True)
    e = _explain(project)
    _check_sums(e)
    losses = [c for c in e["causes"] if c["covered_lines_delta"] < 0]
    largest = min(losses, key=lambda c: c["covered_lines_delta"])
    assert largest["kind"] == "tests_removed" and largest["tests"] == [gone]
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    (drop,) = [a for a in alerts if a["rule"] == "coverage_drop"]
    n = -largest["covered_lines_delta"]
    assert drop["message"].endswith(f"; largest cause: tests_removed, {n} covered lines: {gone}")


def test_a_failing_test_is_named(project: Project) -> None:
    _shapes(project)
    project.covtui("scan", check=True)
    project.write("tests/test_shapes.py", SHAPE_TESTS.replace(
        "def test_perimeter():\n    assert perimeter(2, 3) == 10\n",
        "def test_perimeter():\n    assert False\n    assert perimeter(2, 3) == 10\n"))
    project.covtui("scan", check=True)
    e = _explain(project)
    _check_sums(e)
    (failing,) = [c for c in e["causes"] if c["kind"] == "tests_failing"]
    assert failing["tests"] == ["tests/test_shapes.py::test_perimeter"]
    assert failing["files"][0]["lines"] == [9, 10, 11]


def test_explain_refuses_unknown_snapshots(project: Project) -> None:
    project.covtui("scan", check=True)
    for args, problem in ((["7", "1"], "no snapshot #7"), (["1", "1"], "the same snapshot"),
                          ([], "no earlier good snapshot")):
        proc = project.covtui("explain", *args)
        assert proc.returncode != 0 and problem in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


# -- the domain, on made-up data ----------------------------------------------------------------

def test_line_mapper_follows_a_unified_diff() -> None:
    diff = (
        b"diff --git a/x.py b/y.py\nsimilarity index 80%\nrename from x.py\nrename to y.py\n"
        b"--- a/x.py\n+++ b/y.py\n@@ -2,2 +1,0 @@\n@@ -6,0 +5,3 @@\n@@ -9 +11 @@\n"
        b"diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n"
        b"@@ -0,0 +1,2 @@\n"
    )
    diffs = parse_diff(diff)
    assert diffs["y.py"] == FileDiff("x.py", "y.py", ((2, 2, 1, 0), (6, 0, 5, 3), (9, 1, 11, 1)))
    assert diffs["new.py"].old_path is None
    new = line_mapper(diffs["y.py"].hunks)
    assert [new(n) for n in range(1, 11)] == [1, None, None, 2, 3, 4, 8, 9, None, 11]


sides = st.builds(
    lambda covered, missing, with_tests, contexts: FileSide(
        len(covered) + len(missing - covered), len(missing - covered),
        frozenset(missing - covered),
        LineTests.of({n: contexts for n in covered}) if with_tests else None,
        None,
    ),
    st.frozensets(st.integers(1, 40), max_size=20),
    st.frozensets(st.integers(1, 40), max_size=20),
    st.booleans(),
    st.lists(st.sampled_from(["", "t::a|run", "t::b|run", "t::c|setup"]), max_size=2),
)
keys = st.sampled_from([("py", "a.py"), ("py", "b.py"), ("js", "a.py")])
hunk = st.tuples(st.integers(1, 40), st.integers(0, 3), st.integers(1, 40), st.integers(0, 3))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(keys, sides, max_size=3),
    st.dictionaries(keys, sides, max_size=3),
    st.one_of(st.none(), st.dictionaries(
        st.sampled_from(["a.py", "b.py"]),
        st.lists(hunk, max_size=3, unique_by=lambda h: h[0]), max_size=2)),
    st.dictionaries(st.sampled_from(["t::a", "t::b"]), st.sampled_from(["passed", "failed"])),
)
def test_causes_add_up_to_the_totals(before, after, hunks, outcomes) -> None:
    diffs = None
    if hunks is not None:
        # Hunks that do not overlap, as git writes them.
        diffs = {}
        for path, hs in hunks.items():
            kept, end = [], 0
            for h in sorted(hs):
                if h[0] > end:
                    kept.append(h)
                    end = h[0] + h[1]
            diffs[path] = FileDiff(path, path, tuple(kept))
    e = explain(1, 2, Ends(before, after, diffs, {"py": outcomes}))
    total_covered = sum(s.n_covered for s in after.values()) - sum(
        s.n_covered for s in before.values())
    total_missed = sum(s.n_missing for s in after.values()) - sum(
        s.n_missing for s in before.values())
    assert e.covered_lines_delta == total_covered
    assert e.missed_lines_delta == total_missed
    assert sum(c.covered_lines_delta for c in e.causes) == total_covered
    assert sum(c.missed_lines_delta for c in e.causes) == total_missed


def test_the_diff_from_a_commit_to_itself_asks_git_nothing() -> None:
    """A rescan of the same commit (edits not committed yet, the usual case) compares with
    per-test coverage measured at that commit: git's diff of a commit with itself is empty,
    so no git process is started for it (it was on every rescan's way to its snapshot)."""
    import asyncio

    from covtui.domain.flaky import Measured
    from covtui.domain.model import GitInfo, SnapshotDraft
    from covtui.domain.recording import SnapshotHistory, SourceHistory
    from covtui.record import _diffs_since_measured

    asked: list[tuple[str, str]] = []

    async def diffs(a: str, b: str) -> dict[str, FileDiff]:
        asked.append((a, b))
        return {"x.py": FileDiff("x.py", "x.py", ((1, 1, 1, 1),))}

    def history(commit: str) -> SnapshotHistory:
        return SnapshotHistory(sources={"py": SourceHistory(measured=Measured({}, {}, None, commit))})

    draft = SnapshotDraft("scan", [], git=GitInfo(commit="c1"))
    assert asyncio.run(_diffs_since_measured(history("c1"), draft, diffs)) == {}
    assert asked == []
    # Another commit: git is asked, and its answer is the diff.
    assert asyncio.run(_diffs_since_measured(history("c0"), draft, diffs)) == {
        "x.py": FileDiff("x.py", "x.py", ((1, 1, 1, 1),))
    }
    assert asked == [("c0", "c1")]
