"""The demo database: what users expect of it holds for what the store computed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from covtui.demo import SEED_CRITICAL, DemoHistory, build_demo_database
from covtui.query.dashboard import dashboard_state
from covtui.store import Store

END = 1_758_000_000.0  # fixed, so the history is the same on every run
DAYS = 3


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    asyncio.run(build_demo_database(path, days=DAYS, interval_s=300, end=END))
    return path


async def test_snapshot_count_and_span(demo_db: Path) -> None:
    async with await Store.open(demo_db, create=False) as store:
        state = await dashboard_state(store, trend_since=END - DAYS * 86400)
        assert state.n_snapshots == DAYS * 288
        assert state.latest is not None and state.latest.created_at == END
        oldest = (await store.snapshots(limit=state.n_snapshots))[-1]
        assert oldest.created_at == pytest.approx(END - (DAYS * 288 - 1) * 300)


async def test_starts_where_the_seed_report_stands(demo_db: Path) -> None:
    from covtui.domain.critical import critical_files  # after the store: a cycle if imported first

    async with await Store.open(demo_db, create=False) as store:
        first = (await store.snapshots(limit=DAYS * 288))[-1]
        n = first.numbers
        assert (n.n_executed, n.n_statements) == (1494, 49678)
        assert (n.n_files_covered, n.n_files) == (21, 212)
        assert n.pc_covered_str() == "2.32"
        top = critical_files(await store.files("python", snapshot_id=first.id), 5)
        assert [f.path for f in top] == [f"src/python/{p}" for p, *_ in SEED_CRITICAL]
        assert [f.numbers.n_statements for f in top] == [n for _, n, *_ in SEED_CRITICAL]
        assert f"{top[2].numbers.pc_covered:.1f}" == "13.9"


async def test_every_alert_rule_fires(demo_db: Path) -> None:
    async with await Store.open(demo_db, create=False) as store:
        alerts = await store.alerts()
    rules = {a.rule for a in alerts}
    for rule in ("coverage_drop", "test_failures", "test_time", "scan_failed", "milestone"):
        assert rule in rules, rule
    drops = [a for a in alerts if a.rule == "coverage_drop"]
    assert all(a.value >= 0.5 for a in drops)
    milestones = {a.threshold for a in alerts if a.rule == "milestone"}
    assert {25.0, 50.0} <= milestones
    statuses = {
        a.message.split(": scan ")[1].split(":")[0] for a in alerts if a.rule == "scan_failed"
    }
    assert {"failed", "cancelled"} <= statuses


async def test_rust_has_no_data_then_data(demo_db: Path) -> None:
    history = DemoHistory(days=DAYS, end=END)
    async with await Store.open(demo_db, create=False) as store:
        first = (await store.snapshots(limit=DAYS * 288))[-1]
        assert await store.files("rust", snapshot_id=first.id) == []
        trend = await store.trend(END - DAYS * 86400, points=DAYS * 288)
        assert trend["rust"][0].created_at >= history.time_of(history.rust_start)
        rust = next(s for s in await store.sources() if s.source == "rust")
        assert rust.numbers is not None and rust.format == "lcov"
        assert 30 < rust.pc_covered < 70
        assert len(await store.files("rust")) > 20


async def test_dashboard_critical_files_by_missed(demo_db: Path) -> None:
    async with await Store.open(demo_db, create=False) as store:
        state = await dashboard_state(store, trend_since=END - DAYS * 86400)
        files = await store.files()
    top = state.critical_files
    assert len(top) == 5
    missed = [f.numbers.n_missing + f.numbers.n_missing_branches for f in top]
    assert missed == sorted(missed, reverse=True)
    others = [f for f in files if f.path not in {t.path for t in top}]
    assert all(f.numbers.n_missed_total <= missed[-1] for f in others)
    # The end of the climb: well past the 50% milestone, tests in the thousands.
    assert 55 < state.latest.pc_covered < 75
    assert state.latest.tests.n_tests > 2000
    assert 60 <= state.latest.run.wall_s <= 400


async def test_same_seed_same_history(tmp_path: Path, demo_db: Path) -> None:
    again = tmp_path / "again.db"
    await build_demo_database(again, days=DAYS, interval_s=300, end=END)
    other = tmp_path / "other.db"
    await build_demo_database(other, days=DAYS, interval_s=300, end=END, seed=7)

    async def totals(path: Path) -> list[tuple]:
        async with await Store.open(path, create=False) as store:
            rows = await store.snapshots(limit=DAYS * 288)
        return [(r.created_at, r.status, r.numbers, r.tests, r.run, r.git_commit) for r in rows]

    first = await totals(demo_db)
    assert await totals(again) == first
    assert await totals(other) != first


async def test_cached_demo_is_built_once_then_topped_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import covtui.demo as demo

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    clock = [END]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    path = await demo.ensure_demo_database(days=2)
    assert path == demo.demo_database_path() and path.is_relative_to(tmp_path)
    assert not list(path.parent.glob(".*.tmp*"))
    async with await Store.open(path, create=False) as store:
        assert (await store.latest_snapshot()).created_at == END
        first_ids = [s.id for s in await store.snapshots(limit=5)]

    clock[0] = END + 3 * 3600 + 10  # three hours later: 36 more snapshots, the oldest pruned
    assert await demo.ensure_demo_database(days=2) == path
    async with await Store.open(path, create=False) as store:
        rows = await store.snapshots(limit=10_000)
    assert rows[0].created_at == END + 3 * 3600
    # Two days back from the newest snapshot (retention counts from it), both ends kept.
    assert len(rows) == 2 * 288 + 1
    assert rows[-1].created_at == pytest.approx(END + 3 * 3600 - 2 * 288 * 300)
    assert first_ids[0] in {r.id for r in rows}  # the same database, grown, not rebuilt


async def test_the_pretend_scan_records_its_cancel_like_a_real_one(demo_db: Path, tmp_path: Path) -> None:
    import shutil

    from covtui.demo import demo_config, demo_scan

    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    config = demo_config(path)
    async with await Store.open(path, create=False) as store:
        n_before = len(await store.snapshots(limit=10_000))
    lines: list[str] = []
    task = asyncio.create_task(demo_scan(config, on_output=lambda s, line: lines.append(line)))
    while len(lines) < 3:
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with await Store.open(path, create=False) as store:
        latest = await store.latest_snapshot()
        assert len(await store.snapshots(limit=10_000)) == n_before + 1
        alert = (await store.alerts(limit=1))[0]
    assert (latest.status, latest.trigger) == ("cancelled", "dashboard")
    assert (alert.rule, alert.severity.value) == ("scan_failed", "info")


# -- the history filled in behind the dashboard ------------------------------------------------


def _dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (sorted: some have no rowid): what "the same database" means."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def _fixed_clock(monkeypatch: pytest.MonkeyPatch, t: float) -> None:
    import time

    monkeypatch.setattr(time, "time", lambda: t)


async def test_a_fill_writes_the_same_database_as_a_full_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_db: Path
) -> None:
    from covtui.demo import fill_demo_database, plan_demo_database

    _fixed_clock(monkeypatch, END)
    path = tmp_path / "filled.db"
    plan = await plan_demo_database(path, days=DAYS)
    assert (plan.first, plan.stop, plan.complete) == (0, DAYS * 288, False)
    assert _dump(path)["snapshots"] == []  # empty, ready for a dashboard, marked incomplete
    seen: list[tuple[int, int]] = []
    await fill_demo_database(plan, lambda done, total: seen.append((done, total)))
    assert seen[0] == (12, DAYS * 288)  # a short first transaction: data on screen at once
    assert seen[-1] == (DAYS * 288, DAYS * 288)
    assert _dump(path) == _dump(demo_db)
    again = await plan_demo_database(path, days=DAYS)
    assert (again.remaining, again.complete) == (0, True)


async def test_an_interrupted_fill_is_not_taken_for_complete_and_is_continued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fill's own process, killed mid-way: the next one continues it to the database a
    full build of the same history makes."""
    import json
    import os
    import signal
    import subprocess
    import sys

    from covtui.demo import build_demo_database, fill_demo_database, plan_demo_database

    from .conftest import clean_env

    path = tmp_path / "cache" / "demo.db"
    path.parent.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-m", "covtui.demo.fill", str(path), "--days", str(DAYS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=clean_env(),
    )
    assert child.stdout is not None
    for line in child.stdout:
        report = json.loads(line)
        if report["done"] >= 12 + 288:  # two transactions in, far from done
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert 0 < report["done"] < report["total"] == DAYS * 288
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["complete"] is False

    _fixed_clock(monkeypatch, meta["end"])
    plan = await plan_demo_database(path, days=DAYS)
    assert plan.complete is False
    assert report["done"] <= plan.first < plan.stop == DAYS * 288
    await fill_demo_database(plan)
    assert json.loads(path.with_suffix(".json").read_text())["complete"] is True
    full = tmp_path / "full.db"
    await build_demo_database(full, days=DAYS, end=meta["end"])
    assert _dump(path) == _dump(full)


async def test_a_demo_whose_stdin_closes_exits(tmp_path: Path) -> None:
    """The dashboard gone however it ended (its end of the pipe closes): the fill stops."""
    import subprocess
    import sys

    from .conftest import clean_env

    path = tmp_path / "demo.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "covtui.demo.fill", str(path), "--days", "30"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=clean_env(),
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdout.readline()  # it has started
    child.stdin.close()
    assert child.wait(timeout=20) == 0
    import json

    assert json.loads(path.with_suffix(".json").read_text())["complete"] is False


async def test_a_new_version_or_rebuild_starts_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from covtui.demo import fill_demo_database, plan_demo_database

    _fixed_clock(monkeypatch, END)
    path = tmp_path / "demo.db"
    await fill_demo_database(await plan_demo_database(path, days=1))
    assert (await plan_demo_database(path, days=1)).remaining == 0
    rebuilt = await plan_demo_database(path, days=1, rebuild=True)
    assert (rebuilt.first, rebuilt.complete) == (0, False)
    assert _dump(path)["snapshots"] == []
    await fill_demo_database(rebuilt)
    meta = json.loads(path.with_suffix(".json").read_text())
    for changed in ({"version": "0.0.0"}, {"format": 1}, {"end": "soon"}):
        await fill_demo_database(await plan_demo_database(path, days=1))
        meta = json.loads(path.with_suffix(".json").read_text())
        path.with_suffix(".json").write_text(json.dumps({**meta, **changed}))
        assert (await plan_demo_database(path, days=1)).first == 0, changed


# -- the demo project's sources ---------------------------------------------------------------


async def test_materialised_sources_agree_with_the_stored_figures(demo_db: Path, tmp_path: Path) -> None:
    """For every demo file of the latest snapshot: coverage.py finds in the materialised source
    exactly the statements and branch exits the history stored, every missed line is one of
    them, every missed arc is one of its arcs (from an `if`), and the file view reads the file
    without a note."""
    import shutil

    from coverage.python import PythonParser

    from covtui.demo import demo_config, materialise_sources
    from covtui.query.files import analyse_source, read_source

    db = tmp_path / "demo.db"
    shutil.copy(demo_db, db)
    root = materialise_sources(db)
    assert demo_config(db).root == root and root.parent.parent == db.parent
    assert root.name == "workspace-qdrant-mcp"  # the dashboard's header names the project
    async with await Store.open(db, create=False) as store:
        rows = await store.files()
        details = [await store.file_detail(r.source, r.path) for r in rows]
    assert len(details) == 212 + 34
    n_arcs = 0
    for detail in details:
        text = read_source(root, detail.path)
        assert text is not None, detail.path
        gaps = analyse_source(root, detail)
        assert gaps.note == "", (detail.path, gaps.note)
        # Not "changed on disk since the scan": older than the history's first snapshot.
        assert (root / detail.path).stat().st_mtime < END - DAYS * 86400, detail.path
        n = detail.numbers
        if detail.path.endswith(".py"):
            parser = PythonParser(text=text)
            parser.parse_source()
            assert len(parser.statements) == n.n_statements, detail.path
            assert set(detail.missing_lines) <= parser.statements, detail.path
            exits = parser.exit_counts()
            assert sum(c for c in exits.values() if c > 1) == n.n_branches, detail.path
            arcs = parser.arcs()
            lines = text.splitlines()
            for a, b in detail.missing_arcs:
                assert exits[a] == 2 and lines[a - 1].lstrip().startswith("if "), (detail.path, a)
                assert (a, b) in arcs, (detail.path, a, b)
                n_arcs += 1
        else:
            lines = text.splitlines()
            code = {i for i, s in enumerate(lines, 1) if s.strip() and not s.strip().startswith(("//", "}"))}
            assert len(code) == n.n_statements and set(detail.missing_lines) <= code, detail.path
            assert all(lines[f.start_line - 1].startswith("pub fn ") for f in detail.functions)
    assert n_arcs > 100  # the check above ran on partial branches, not on none


def test_sources_are_written_once_and_whole(tmp_path: Path) -> None:
    from covtui.demo import materialise_sources
    from covtui.demo.sources import sources_ready

    db = tmp_path / "demo.db"
    assert not sources_ready(db)
    root = materialise_sources(db)
    assert sources_ready(db)
    marker = next(root.glob(".covtui-demo-sources"))
    stamp = marker.stat().st_mtime_ns
    assert materialise_sources(db) == root and marker.stat().st_mtime_ns == stamp
    assert not list(root.parent.glob(".*.tmp"))
    assert len(list(root.rglob("*.py"))) == 212 and len(list(root.rglob("*.rs"))) == 34


def test_a_cache_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import clean_env

    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should go")
    proc = subprocess.run(
        [sys.executable, "-m", "covtui", "demo"], capture_output=True, text=True, timeout=60,
        env={**clean_env(), "XDG_CACHE_HOME": str(not_a_folder)}, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("covtui: error:"), proc.stderr
    assert str(not_a_folder) in lines[0] and "XDG_CACHE_HOME" in lines[0]
    assert not_a_folder.read_text() == "a file where the cache folder should go"


async def test_a_pretend_rescan_is_timed_like_the_python_runs_before_it(
    demo_db: Path, tmp_path: Path
) -> None:
    # It measures python alone: it took the last snapshot's python + rust time and test count
    # for python's, so every demo rescan raised a test-time alert of about +110%.
    import shutil

    from covtui.demo import demo_config, demo_scan

    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    outcome = await demo_scan(demo_config(path))
    rules = {a.rule for a in outcome.alerts}
    assert "test_time" not in rules and "tests_removed" not in rules, outcome.alerts
    async with await Store.open(path, create=False) as store:
        walls = await store.good_walls("python", 10)
    python = outcome.draft.sources[0]
    assert min(walls[1:]) * 0.9 <= python.run.wall_s <= max(walls[1:]) * 1.1
