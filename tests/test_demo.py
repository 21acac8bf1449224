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
