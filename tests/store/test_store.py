"""The monitoring database: round trips, atomic writes, pruning and refusing what it can't read,
each on SQLite and on PostgreSQL (the `backend` fixture)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from covtui.config import Config
from covtui.domain import alerts as alert_rules
from covtui.domain.model import CoverageReport, RunStatus, SnapshotDraft, SourceResult
from covtui.dsn import PostgresTarget
from covtui.errors import ReadOnlyAccess, StoreError
from covtui.query.dashboard import dashboard_state
from covtui.readers import read_coverage
from covtui.record import record_snapshot, record_snapshots
from covtui.store import Store
from covtui.store.schema import SCHEMA_VERSION

from ..conftest import CALC, Project, clean_env

DAY = 86400.0

# Three test suites for the same code: each gives real coverage.py data with other numbers.
SUITES = {
    "some": "from pkg.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    "more": "from pkg.calc import add, classify\n\ndef test_it():\n    assert add(1, 2) == 3\n    assert classify(-1) == 'neg'\n",
    "most": "from pkg.calc import add, classify, unused\n\ndef test_it():\n    assert classify(0) == 'zero'\n    assert classify(1) == 'pos'\n    assert classify(-1) == 'neg'\n    assert unused() == 4\n",
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CoverageReport]:
    """Real coverage.py reports of the fixture project under each suite."""
    project = Project(tmp_path_factory.mktemp("proj"))
    project.write("pkg/__init__.py", "")
    project.write("pkg/calc.py", CALC)
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n')
    result = {}
    for name, text in SUITES.items():
        project.write("tests/test_calc.py", text)
        data = project.root / f".coverage-{name}"
        subprocess.run(
            [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}", "-m", "pytest", "-q"],
            cwd=project.root, env=clean_env(), check=True, capture_output=True,
        )
        result[name] = read_coverage([data], root=project.root)
    return result


async def integrity(store: Store) -> tuple[str, object]:
    """SQLite's own checks of the file and its foreign keys. (PostgreSQL checks every foreign
    key as each statement runs: a violation fails the write itself.)"""
    if store.backend == "postgres":
        return ("ok", None)
    return (await store._one("PRAGMA integrity_check"))[0], await store._one("PRAGMA foreign_key_check")


def write_schema_version(target, version: int) -> None:
    """Set the database's schema version behind covtui's back (a newer covtui did)."""
    if isinstance(target, Path):
        with closing(sqlite3.connect(target)) as conn:
            conn.execute(f"PRAGMA user_version = {version}")
    else:
        from tests import postgres

        postgres.admin("UPDATE covtui_meta SET value = %s WHERE key = 'schema_version'", (version,),
                       database=target.conninfo.rsplit("/", 1)[1])


def write_schema_1(target, inserts: list[str]) -> None:
    """A database as covtui with schema 1 wrote it (on PostgreSQL: schema 1, translated as
    covtui translates it), with these rows in it."""
    from covtui.store import dialect
    from covtui.store.schema import MIGRATIONS

    if isinstance(target, Path):
        with closing(sqlite3.connect(target)) as conn, conn:
            for statement in filter(str.strip, MIGRATIONS[0].split(";")):
                conn.execute(statement)
            conn.execute("PRAGMA user_version = 1")
            for statement in inserts:
                conn.execute(statement)
        return
    from tests import postgres

    name = target.conninfo.rsplit("/", 1)[1]
    statements = [
        "CREATE TABLE covtui_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO covtui_meta VALUES ('schema_version', 1), ('data_version', 0)",
        *dialect.migration(MIGRATIONS[0]),
        *inserts,
    ]
    for statement in statements:
        postgres.admin(statement, database=name)


def draft(report: CoverageReport, at: float, status: RunStatus = RunStatus.OK) -> SnapshotDraft:
    return SnapshotDraft("scan", [SourceResult("python", status, report)], created_at=at)


async def test_round_trip_keeps_every_figure(tmp_path: Path, new_db, reports) -> None:
    report = reports["more"]
    async with await Store.open(new_db()) as store:
        await record_snapshot(store, draft(report, 1000.0), Config(root=tmp_path))
        files = {f.path: f for f in await store.files()}
        assert {p: f.numbers for p, f in files.items()} == {f.path: f.numbers for f in report.files}
        for f in report.files:
            detail = await store.file_detail("python", f.path)
            assert detail.missing_lines == f.missing_lines
            assert detail.missing_arcs == f.missing_arcs
            assert detail.functions == f.functions
        latest = await store.latest_snapshot()
        assert latest.numbers == report.numbers


async def test_unchanged_files_are_not_stored_again(tmp_path: Path, new_db, reports) -> None:
    async with await Store.open(new_db()) as store:
        config = Config(root=tmp_path)
        for i in range(5):
            await record_snapshot(store, draft(reports["more"], 1000.0 + i), config)
        n_states = (await store._one("SELECT count(*) FROM file_states"))[0]
        assert n_states == len(reports["more"].files)
        await record_snapshot(store, draft(reports["most"], 2000.0), config)
        changed = sum(
            1 for a, b in zip(sorted(reports["more"].files, key=lambda f: f.path),
                              sorted(reports["most"].files, key=lambda f: f.path), strict=True) if a != b
        )
        assert changed > 0
        assert (await store._one("SELECT count(*) FROM file_states"))[0] == n_states + changed


async def test_a_failing_write_changes_nothing(tmp_path: Path, new_db, reports, monkeypatch) -> None:
    path = new_db()
    config = Config(root=tmp_path)
    async with await Store.open(path) as store:
        await record_snapshot(store, draft(reports["some"], 1000.0), config)

    def explode(*args, **kwargs):
        raise RuntimeError("crash in the middle of a write")

    monkeypatch.setattr(alert_rules, "evaluate", explode)
    async with await Store.open(path) as store:
        before = await dashboard_state(store, trend_since=0)
        with pytest.raises(RuntimeError):
            await record_snapshot(store, draft(reports["most"], 2000.0), config)
        after = await dashboard_state(store, trend_since=0)
        assert after.n_snapshots == before.n_snapshots == 1
        assert await store.files() == [f for f in await store.files()]
        assert {f.path: f.numbers for f in await store.files()} == {
            f.path: f.numbers for f in reports["some"].files
        }


async def test_a_write_failing_part_way_through_its_inserts_changes_nothing(
    tmp_path: Path, new_db, reports, monkeypatch
) -> None:
    """The snapshot and source rows are in when the test ids fail to encode: all roll back."""
    from covtui.domain.model import TestOutcomes
    from covtui.store import store as store_module

    config = Config(root=tmp_path)
    async with await Store.open(new_db()) as store:
        await record_snapshot(store, draft(reports["some"], 1000.0), config)

        def explode(ids):
            raise RuntimeError("crash between inserts")

        monkeypatch.setattr(store_module, "encode_names", explode)
        result = SourceResult("python", RunStatus.OK, reports["most"], TestOutcomes(1, ids=["t"]))
        with pytest.raises(RuntimeError):
            await record_snapshot(store, SnapshotDraft("scan", [result], created_at=2000.0), config)
        counts = [
            (await store._one(f"SELECT count(*) FROM {table}"))[0]
            for table in ("snapshots", "source_results", "file_states", "file_changes", "alerts")
        ]
        assert counts == [1, 1, len(reports["some"].files), len(reports["some"].files), 0]


async def test_a_batch_stores_what_one_write_at_a_time_would(tmp_path: Path, new_db, reports) -> None:
    """`record_snapshots` keeps each source's files between drafts instead of reading them:
    the database it leaves is row for row the one single writes leave."""
    import dataclasses

    config = Config(root=tmp_path)
    some, most = reports["some"], reports["most"]
    fewer = dataclasses.replace(most, files=most.files[1:])  # a file leaves the report
    moved = dataclasses.replace(
        some, files=[dataclasses.replace(f, path="pkg/renamed.py") for f in some.files[:1]]
    )
    rust = SourceResult("rust", RunStatus.OK, reports["more"])
    drafts = [
        SnapshotDraft("scan", [SourceResult("python", RunStatus.OK, r), rust], created_at=t)
        for t, r in enumerate([some, most, fewer, most, moved, fewer], 1)
    ]
    drafts.insert(3, draft(most, 3.5, RunStatus.FAILED))
    tables = ["snapshots", "source_results", "sources", "files", "file_states", "file_changes",
              "alerts", "test_ids"]
    contents = []
    for batch in (True, False):
        async with await Store.open(new_db(f"{batch}")) as store:
            if batch:
                await record_snapshots(store, drafts, config)
            else:
                for d in drafts:
                    await record_snapshot(store, d, config)
            contents.append({t: sorted(await store._all(f"SELECT * FROM {t}")) for t in tables})
    assert contents[0] == contents[1]
    assert any(row[2] is None for row in contents[0]["file_changes"])  # the departures are in
    assert {row[3] for row in contents[0]["alerts"]} >= {"files_left", "scan_failed"}


async def test_prune_keeps_history_readable_and_latest(tmp_path: Path, new_db, reports) -> None:
    path = new_db()
    config = Config(root=tmp_path)
    order = ["some", "more", "most", "more", "some", "most"] * 5
    async with await Store.open(path) as store:
        for i, name in enumerate(order):
            await record_snapshot(store, draft(reports[name], i * DAY), config)
        await store.acknowledge([a.id for a in await store.alerts()][1:])  # keep one unacknowledged
        unacked = await store.alerts(unacknowledged_only=True)
        now = (len(order) - 1) * DAY
        kept_ids = [s.id for s in await store.snapshots(limit=1000) if s.created_at >= now - 10 * DAY]
        before = {sid: await store.files(snapshot_id=sid) for sid in kept_ids}
        result = await store.prune(10, now=now)
        assert result.n_snapshots == len(order) - len(kept_ids)
        for sid in kept_ids:
            assert {(f.path, f.numbers) for f in await store.files(snapshot_id=sid)} == {
                (f.path, f.numbers) for f in before[sid]
            }
        assert (await store.latest_snapshot()).id == max(kept_ids)
        remaining = {a.id for a in await store.alerts()}
        assert {a.id for a in unacked} <= remaining
        # Everything older goes, but never the latest snapshot.
        await store.prune(0, now=now + 100 * DAY)
        assert [s.id for s in await store.snapshots()] == [max(kept_ids)]
        assert {f.path: f.numbers for f in await store.files()} == {
            f.path: f.numbers for f in reports[order[-1]].files
        }
        assert await integrity(store) == ("ok", None)


async def test_newer_schema_is_refused(new_db) -> None:
    path = new_db()
    async with await Store.open(path):
        pass
    write_schema_version(path, SCHEMA_VERSION + 1)
    for read_only in (False, True):
        with pytest.raises(StoreError, match=rf"written by a newer covtui \(schema {SCHEMA_VERSION + 1}; this one reads up to {SCHEMA_VERSION}\): upgrade covtui"):
            await Store.open(path, read_only=read_only)


async def test_a_foreign_postgresql_database_is_refused() -> None:
    from tests import postgres

    postgres.require_server()
    name = postgres.create_database()
    try:
        postgres.admin("CREATE TABLE t (x integer)", database=name)
        target = PostgresTarget.parse(postgres.url_of(name))
        for read_only in (False, True):
            with pytest.raises(StoreError, match="a PostgreSQL database, but not covtui's"):
                await Store.open(target, read_only=read_only)
        assert postgres.admin("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                              database=name) == [(1,)]
    finally:
        postgres.drop_database(name)


async def test_a_schema_committed_between_two_checks_is_not_taken_for_a_foreign_one(
    monkeypatch,
) -> None:
    """Several CI shards open an empty team database at once: one finds no covtui schema,
    another commits it, then the first counts tables. Those tables are covtui's."""
    from covtui.store.postgres import PostgresConnection
    from tests import postgres

    postgres.require_server()
    name = postgres.create_database()
    try:
        target = PostgresTarget.parse(postgres.url_of(name))
        await (await Store.open(target)).close()  # the other writer's schema, committed
        looked = PostgresConnection._version_or_none
        calls = []

        async def before_the_commit(self):
            calls.append(1)
            return None if len(calls) == 1 else await looked(self)

        monkeypatch.setattr(PostgresConnection, "_version_or_none", before_the_commit)
        async with await Store.open(target) as store:
            assert await store.schema_version() == SCHEMA_VERSION
    finally:
        postgres.drop_database(name)


async def test_a_schema_committed_while_a_migration_waits_for_the_lock_is_seen() -> None:
    """Two writers open an empty team database at once: the second waits for the write lock
    while the first creates the schema. Once it has the lock it must see that schema (not the
    table list its session cached before it waited) and not create it again."""
    import psycopg

    from covtui.store.postgres import META, WRITE_LOCK, open_postgres
    from tests import postgres

    postgres.require_server()
    name = postgres.create_database()
    try:
        target = PostgresTarget.parse(postgres.url_of(name))
        conn = await open_postgres(target, create=True, migrate=False)
        try:
            assert await conn.checked_version(create=True) == 0  # looked: no schema yet
            with psycopg.connect(postgres.url_of(name)) as other:  # holds the lock, creates
                other.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
                migrating = asyncio.ensure_future(conn.migrate())
                await asyncio.sleep(0.5)
                assert not migrating.done()  # waiting for the lock
                other.execute(f"CREATE TABLE {META} (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
                other.execute(f"INSERT INTO {META} VALUES ('schema_version', 0), ('data_version', 0)")
            await asyncio.wait_for(migrating, 30)
            assert await conn.schema_version() == SCHEMA_VERSION
        finally:
            await conn.close()
    finally:
        postgres.drop_database(name)


async def test_an_empty_postgresql_database_is_not_created_by_readers(new_db, backend) -> None:
    if backend != "postgres":
        pytest.skip("SQLite: test_garbage_and_foreign_databases_are_refused")
    target = new_db()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="no monitoring data yet"):
            await Store.open(target, create=False, read_only=read_only)
    async with await Store.open(target) as store:
        assert await store.schema_version() == SCHEMA_VERSION


async def test_garbage_and_foreign_databases_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="garbage.db"):
        await Store.open(garbage)
    assert garbage.read_bytes().startswith(b"this is not")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not covtui's"):
        await Store.open(foreign)
    with pytest.raises(StoreError, match="no monitoring database"):
        await Store.open(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


async def test_acknowledging_an_unknown_alert_changes_nothing(tmp_path: Path, new_db, reports) -> None:
    config = Config(root=tmp_path)
    async with await Store.open(new_db()) as store:
        await record_snapshot(store, draft(reports["most"], 0.0), config)
        _, alerts = await record_snapshot(store, draft(reports["some"], 10.0), config)
        assert alerts, "a drop from 'most' to 'some' must alert"
        with pytest.raises(StoreError, match="no alert with id 999"):
            await store.acknowledge([alerts[0].id, 999])
        assert all(a.acknowledged_at is None for a in await store.alerts())
        assert await store.acknowledge([alerts[0].id]) == 1


async def test_an_acknowledgement_is_undone_exactly(tmp_path: Path, new_db, reports) -> None:
    config = Config(root=tmp_path)
    async with await Store.open(new_db()) as store:
        await record_snapshot(store, draft(reports["most"], 0.0), config)
        await record_snapshot(store, draft(reports["some"], 10.0), config)
        await record_snapshot(store, draft(reports["most"], 20.0), config)
        await record_snapshot(store, draft(reports["some"], 30.0), config)
        ids = sorted(a.id for a in await store.alerts())
        assert len(ids) >= 2
        first = await store.set_acknowledged([ids[0]], True)
        assert first == [ids[0]]
        # All: only those not acknowledged before change, and only those are given back.
        rest = await store.set_acknowledged(None, True)
        assert rest == ids[1:]
        assert await store.set_acknowledged(rest, False) == rest
        assert {a.id for a in await store.alerts(unacknowledged_only=True)} == set(rest)
        with pytest.raises(StoreError, match="no alert with id 999"):
            await store.set_acknowledged([ids[0], 999], False)
        assert {a.id for a in await store.alerts(unacknowledged_only=True)} == set(rest)
        assert await store.set_acknowledged([ids[0]], False) == [ids[0]]
        assert await store.set_acknowledged([ids[0]], False) == []  # already undone


async def test_trend_is_the_last_good_value_of_each_bucket(tmp_path: Path, new_db, reports) -> None:
    config = Config(root=tmp_path)
    names = ["some", "more", "most"]
    drafts = []
    for i in range(300):
        status = RunStatus.FAILED if i % 17 == 0 else RunStatus.OK
        drafts.append(draft(reports[names[(i * 7) % 3]], 1000.0 + i * 60 + (i % 5), status))
    async with await Store.open(new_db()) as store:
        await record_snapshots(store, drafts, config)
        since = 1000.0 + 30 * 60
        trend = await store.trend(since, points=40)
        rows = [s for s in await store.snapshots(limit=1000) if s.created_at >= since]
    latest = max(s.created_at for s in rows)
    bucket = (latest - since) / 40
    bounds = [since + n * bucket for n in range(42)]  # bucket n covers [bounds[n-1], bounds[n])
    expected = {}
    for s in sorted(rows, key=lambda s: s.created_at):
        if s.status == "ok":
            n = next(n for n in range(1, 42) if bounds[n - 1] <= s.created_at < bounds[n])
            expected[n] = (s.created_at, s.pc_covered)
    assert [(p.created_at, p.pc_covered) for p in trend["overall"]] == [expected[k] for k in sorted(expected)]
    assert [(p.created_at, p.pc_covered) for p in trend["python"]] == [expected[k] for k in sorted(expected)]


async def test_older_schema_is_migrated_even_when_not_creating(tmp_path: Path, new_db, reports) -> None:
    path = new_db("old")
    # A database as covtui with schema 1 wrote it, with one snapshot in it.
    write_schema_1(path, [
        "INSERT INTO snapshots (created_at, trigger, status, measured, sources_key) "
        "VALUES (1.0, 'scan', 'ok', 'python', 'python')",
        "INSERT INTO alerts (snapshot_id, created_at, rule, severity, message) "
        "VALUES (1, 1.0, 'milestone', 'info', 'Milestone reached')",
    ])
    async with await Store.open(path, create=False) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        assert (await store.latest_snapshot()).id == 1
        assert [(a.message, a.detail) for a in await store.alerts()] == [("Milestone reached", "")]
        await record_snapshot(store, draft(reports["some"], 2.0), Config(root=tmp_path))
        assert (await store.latest_snapshot()).n_diff_statements is None


async def test_a_read_only_opener_migrates_an_older_schema_then_only_reads(tmp_path: Path, new_db, backend) -> None:
    path = new_db("old")
    write_schema_1(path, [
        "INSERT INTO snapshots (created_at, trigger, status, measured, sources_key) "
        "VALUES (1.0, 'scan', 'ok', 'python', 'python')"
    ])
    async with await Store.open(path, read_only=True) as store:
        assert await store.schema_version() == SCHEMA_VERSION
        assert (await store.latest_snapshot()).id == 1
        refused = (sqlite3.OperationalError, "readonly") if backend == "sqlite" else (
            ReadOnlyAccess, "needs write access")
        with pytest.raises(refused[0], match=refused[1]):
            await store.conn.execute("DELETE FROM snapshots")
        assert await store.n_snapshots() == 1
    with pytest.raises(StoreError, match="no monitoring database"):
        await Store.open(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()


async def test_test_ids_kept_are_each_sources_latest_good_run(tmp_path: Path, new_db, reports) -> None:
    from covtui.domain.model import TestOutcomes

    def run(n: int, at: float, status: RunStatus = RunStatus.OK) -> SnapshotDraft:
        ids = [f"tests.test_calc::test_{k}" for k in range(n)]
        result = SourceResult("python", status, reports["more"], TestOutcomes(n, ids=ids))
        return SnapshotDraft("scan", [result], created_at=at)

    config = Config(root=tmp_path)
    async with await Store.open(new_db()) as store:
        await record_snapshot(store, run(3, 1.0), config)
        # A failed run is not a comparison point: its tests are not kept.
        await record_snapshot(store, run(1, 2.0, RunStatus.FAILED), config)
        _, alerts = await record_snapshot(store, run(2, 3.0), config)
        (removed,) = [a for a in alerts if a.rule == "tests_removed"]
        assert removed.detail == "tests.test_calc::test_2"
        assert "than at snapshot #1 (3 → 2)" in removed.message
        assert [a.detail for a in await store.alerts() if a.rule == "tests_removed"] == [removed.detail]
        assert await store._all("SELECT source, snapshot_id FROM test_ids") == [("python", 3)]


async def test_clock_far_ahead_for_one_scan_prunes_nothing_real(tmp_path: Path, new_db, reports) -> None:
    config = Config(root=tmp_path)
    real = [1000 * DAY + i * DAY for i in range(3)]
    async with await Store.open(new_db()) as store:
        for i, at in enumerate(real):
            await record_snapshot(store, draft(reports[["some", "more", "most"][i]], at), config)
        # The clock jumps 200 days ahead for one (failed) scan, which then auto-prunes.
        odd = real[-1] + 200 * DAY
        await record_snapshot(store, draft(reports["most"], odd, RunStatus.FAILED), config)
        result = await store.prune(90, now=odd)
        assert result.n_snapshots == 0
        assert len(await store.snapshots()) == 4
        # A clock that stays ahead is believed at the next scan: then history ages normally.
        await record_snapshot(store, draft(reports["most"], odd + 60), config)
        assert (await store.prune(90, now=odd + 60)).n_snapshots == 3


async def test_prune_in_steps_leaves_the_same_history(tmp_path: Path, new_db, reports, monkeypatch) -> None:
    """Many short transactions (writers get the lock between them) end where one would."""
    config = Config(root=tmp_path)
    order = ["some", "more", "most", "more", "some", "most"] * 4
    results = {}
    monkeypatch.setattr(Store, "PRUNE_PAUSE_S", 0)
    for step_rows in (1, 10**9):
        monkeypatch.setattr(Store, "PRUNE_STEP_ROWS", step_rows)
        async with await Store.open(new_db(f"db{step_rows}")) as store:
            for i, name in enumerate(order):
                await record_snapshot(store, draft(reports[name], i * DAY), config)
            result = await store.prune(5, now=len(order) * DAY)
            results[step_rows] = (
                result.n_snapshots,
                [s.id for s in await store.snapshots(limit=1000)],
                {s: await store.files(snapshot_id=s) for s in (len(order) - 3, len(order))},
                (await store._one("SELECT count(*) FROM file_states"))[0],
                await integrity(store),
            )
    assert results[1] == results[10**9]
    assert results[1][0] == len(order) - 6 and results[1][4] == ("ok", None)


async def test_a_write_started_during_a_prune_succeeds(tmp_path: Path, new_db, reports, monkeypatch) -> None:
    """Prune works in short transactions: a writer waiting 2 s for the lock gets it (issue 10.4:
    one long transaction locked an ingest out)."""
    import dataclasses

    monkeypatch.setattr(Store, "PRUNE_STEP_ROWS", 2000, raising=False)
    config = Config(root=tmp_path)
    # 5,000 real coverage.py file results (calc.py under other names); a tenth change each time.
    shapes = [next(f for f in reports[n].files if f.path.endswith("calc.py")) for n in ("more", "most")]
    files = [dataclasses.replace(shapes[0], path=f"pkg/m{i:04d}.py") for i in range(5000)]
    drafts = []
    for k in range(30):
        files = [dataclasses.replace(shapes[k % 2], path=f.path) if i % 10 == k % 10 else f
                 for i, f in enumerate(files)]
        report = CoverageReport("coverage.py", list(files), has_branches=True)
        drafts.append(SnapshotDraft("scan", [SourceResult("python", RunStatus.OK, report)],
                                    created_at=k * DAY))
    path = new_db()
    async with await Store.open(path) as store:
        await record_snapshots(store, drafts, config)
    async with await Store.open(path) as store, await Store.open(path) as writer:
        await writer.conn.execute(
            "PRAGMA busy_timeout = 2000" if writer.backend == "sqlite" else "SET lock_timeout = '2s'"
        )
        prune = asyncio.create_task(store.prune(3, now=30 * DAY))
        await asyncio.sleep(0.1)
        snapshot_id, _ = await record_snapshot(writer,
            SnapshotDraft("ingest", [SourceResult("late", RunStatus.OK, reports["some"])],
                          created_at=30 * DAY), config)
        assert not prune.done(), "the write must have happened while the prune ran"
        result = await prune
        assert result.n_snapshots == 26
        assert (await store.latest_snapshot()).id == snapshot_id
        assert await integrity(store) == ("ok", None)


async def test_prune_forgets_finished_ci_runs_with_their_snapshots_and_keeps_waiting_ones(
    tmp_path: Path, new_db, reports
) -> None:
    """A CI run's rows outlive its snapshot only as long as the snapshot is kept; a run still
    waiting for shards keeps its inputs (its timeout records it failed at the next ingest)."""
    from covtui.domain.records import COMPLETE, PENDING

    config = Config(root=tmp_path)
    async with await Store.open(new_db()) as store:
        runs = {}
        for i, name in enumerate(["some", "more", "most"]):
            run_id = f"run{i}"
            async with store.conn.transaction():
                await store.lock_ci_run(run_id, "python", 1, i * DAY)
                await store.add_ci_shard(run_id, "python", 1, f"d{i}", i * DAY, [("c", "coverage.py", b"x")])
            snapshot_id, _ = await record_snapshot(store, draft(reports[name], i * DAY), config)
            async with store.conn.transaction():
                await store.finish_ci_run(run_id, "python", COMPLETE, snapshot_id)
            runs[run_id] = snapshot_id
        async with store.conn.transaction():
            await store.lock_ci_run("waiting", "python", 2, 0.0)
            await store.add_ci_shard("waiting", "python", 1, "w", 0.0, [("c", "coverage.py", b"y")])

        async def rows(table: str) -> set[str]:
            return {r[0] for r in await store.conn.fetchall(f"SELECT run_id FROM {table}")}

        result = await store.prune(1.5, now=2 * DAY)
        assert result.n_snapshots == 1 and result.n_ci_runs == 1
        assert await rows("ci_runs") == {"run1", "run2", "waiting"}
        assert await rows("ci_shards") == {"run1", "run2", "waiting"}
        assert await rows("ci_shard_files") == {"waiting"}
        assert (await store.ci_run("run1", "python")).snapshot_id == runs["run1"]
        result = await store.prune(0, now=10 * DAY)
        assert result.n_ci_runs == 1  # run1; run2's snapshot is the latest, kept
        assert await rows("ci_runs") == {"run2", "waiting"}
        waiting = await store.ci_run("waiting", "python")
        assert waiting.state == PENDING and waiting.shards == {1: "w"}
        assert await store.ci_shard_files("waiting", "python") == [(1, "c", "coverage.py", b"y")]


async def test_a_database_another_process_creates_meanwhile_is_not_called_someone_elses(
    tmp_path: Path, monkeypatch
) -> None:
    """Two processes create the same new database: the second must not read the first's
    schema version before its commit and its tables after it (and refuse the file)."""
    import aiosqlite

    from covtui.store import sqlite as backend

    path = tmp_path / "covtui.db"
    real_execute = aiosqlite.Connection.execute
    calls = {"n": 0}

    async def execute(self, sql, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # after busy_timeout and one read: the other process commits now
            monkeypatch.setattr(aiosqlite.Connection, "execute", real_execute)
            await (await backend.connect(path, create=True)).close()
        return await real_execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "execute", execute)
    conn = await backend.connect(path, create=True)
    try:
        version = (await (await conn.execute("PRAGMA user_version")).fetchone())[0]
        assert version == SCHEMA_VERSION
    finally:
        await conn.close()
