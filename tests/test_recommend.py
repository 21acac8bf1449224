"""Test recommendations from real coverage of the gap-analysis fixture."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from covtui.config import Config
from covtui.domain.gaps import analyse_file
from covtui.domain.model import RunStatus, SnapshotDraft, SourceResult
from covtui.domain.numbers import Numbers
from covtui.domain.recommend import IMMEDIATE, SECONDARY, recommendations
from covtui.domain.records import FileRow
from covtui.query.files import read_source
from covtui.record import record_snapshot
from covtui.store import Store

from .test_gaps import SERVICE_PATH, service  # noqa: F401  (the fixture)


async def load(root: Path, report, tmp_path: Path):
    """Store the report; return its files and each file's gaps."""
    async with await Store.open(tmp_path / "db.sqlite") as store:
        draft = SnapshotDraft("scan", [SourceResult("python", RunStatus.OK, report)], created_at=1e9)
        await record_snapshot(store, draft, Config(root=root))
        files = await store.files()
        gaps = {
            f.path: analyse_file(await store.file_detail(f.source, f.path), read_source(root, f.path))
            for f in files
        }
    return files, gaps


def gaps_by_path(gaps):
    return lambda row: gaps[row.path]


async def test_immediate_then_secondary_naming_the_functions(service, tmp_path: Path) -> None:  # noqa: F811
    root, reports = service
    files, gaps = await load(root, reports["first"], tmp_path)
    recs = recommendations(files, gaps_by_path(gaps), n_immediate=1, limit=5)
    # Only files with something missing, the biggest gap first.
    assert [(r.priority, r.rank, r.path) for r in recs] == [
        (IMMEDIATE, 1, SERVICE_PATH),
        (SECONDARY, 1, "pkg/helpers.py"),
    ]
    service_rec, helpers_rec = recs
    kinds = [a.kind for a in service_rec.actions]
    assert kinds == ["functions", "handlers", "async", "branches"]
    functions = service_rec.actions[0]
    # The three functions with the most uncovered lines, as coverage.py counted them.
    functions_found = [f for f in gaps[SERVICE_PATH].functions if f.kind != "class"]
    detail_missing = {f.name: f.n_missing for f in functions_found}
    expected = [f.name for f in sorted(functions_found, key=lambda f: (-f.n_missing, f.start_line))][:3]
    assert list(functions.names) == expected
    assert functions.names[0] == "load"
    assert functions.counts == tuple(detail_missing[n] for n in expected)
    text = service_rec.describe()
    n = service_rec.numbers
    assert text.startswith(f"{SERVICE_PATH} — {n.pc_covered_str()}% of {n.n_statements} statements")
    assert f"start with `load` ({detail_missing['load']} lines uncovered)" in text
    assert "3 uncovered except handlers (in `parse`, `load`) → error-path tests" in text
    assert "2 async functions never run (`fetch`, `fetch_all`) → async tests" in text
    # Branches inside never-run functions are covered by testing those functions: the one named
    # is in choose(), which runs.
    assert "never taken, e.g. line" in text
    assert helpers_rec.describe().endswith("start with `triple` (1 line uncovered)")
    # Lifts add up to what covering everything would give.
    assert recs[-1].pc_after == 100.0
    total = sum((f.numbers for f in files), Numbers())
    assert abs(sum(r.pc_lift for r in recs) - (100.0 - total.pc_covered)) < 1e-9


async def test_order_is_deterministic(service, tmp_path: Path) -> None:  # noqa: F811
    root, reports = service
    files, gaps = await load(root, reports["first"], tmp_path)
    service_row = next(f for f in files if f.path == SERVICE_PATH)
    # Copies with exactly the same numbers: only the path (then the source) can order them.
    twins = [dataclasses.replace(service_row, path=p) for p in ("z/twin.py", "a/twin.py")]
    twins.append(dataclasses.replace(service_row, source="other"))
    rows: list[FileRow] = files + twins
    lookup = {**gaps, "z/twin.py": gaps[SERVICE_PATH], "a/twin.py": gaps[SERVICE_PATH]}
    expected = None
    for seed in range(5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        recs = recommendations(shuffled, gaps_by_path(lookup), n_immediate=2, limit=10)
        order = [(r.priority, r.rank, r.source, r.path, r.describe()) for r in recs]
        expected = expected or order
        assert order == expected
    assert [(r[2], r[3]) for r in expected[:4]] == [
        ("python", "a/twin.py"), ("other", SERVICE_PATH), ("python", SERVICE_PATH), ("python", "z/twin.py"),
    ]
    assert [r[0] for r in expected] == [IMMEDIATE] * 2 + [SECONDARY] * 3


async def test_fuller_tests_leave_fewer_recommendations(service, tmp_path: Path) -> None:  # noqa: F811
    root, reports = service
    files, gaps = await load(root, reports["more"], tmp_path)
    recs = recommendations(files, gaps_by_path(gaps), n_immediate=5, limit=10)
    service_rec = next(r for r in recs if r.path == SERVICE_PATH)
    names = {n for a in service_rec.actions for n in a.names}
    assert "Cache.drop" not in names and "parse" not in names
    handlers = next(a for a in service_rec.actions if a.kind == "handlers")
    assert handlers.counts == (2,) and handlers.names == ("load",)


def test_a_headline_counts_one_statement_and_one_branch_in_the_singular() -> None:
    from covtui.domain.numbers import Numbers
    from covtui.domain.recommend import IMMEDIATE, Recommendation

    numbers = Numbers(n_files=1, n_files_covered=0, n_statements=1, n_missing=1,
                      n_branches=1, n_partial_branches=0, n_missing_branches=1)
    rec = Recommendation(IMMEDIATE, 1, "python", "a.py", numbers, 1.0, 1.0, ())
    assert rec.headline() == "a.py — 0.00% of 1 statement and 1 branch"
