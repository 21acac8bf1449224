"""`covtui migrate`: a whole history copied table for table, resumable, refusing what it must,
between SQLite files and between SQLite and PostgreSQL (SQLite → PostgreSQL → SQLite gives the
same rows in every table and the same `status --json`)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui.demo import build_demo_database
from covtui.dsn import PostgresTarget
from covtui.errors import StoreError
from covtui.store import Store
from covtui.store.migrate import (
    PROGRESS_TABLE,
    migrate,
    open_endpoint,
    schema_tables,
)
from covtui.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests import postgres

from ..conftest import CALC, TESTS, Project, clean_env

END = 1_758_000_000.0


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A day of the demo's history: two sources, 246 files, every alert rule."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    asyncio.run(build_demo_database(path, days=1, interval_s=300, end=END))
    return path


@pytest.fixture(scope="module")
def scanned_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real scans of a fixture project: per-test coverage, test outcomes, alerts (acknowledged
    by the CLI), flaky lines, a watcher's heartbeat."""
    project = Project(tmp_path_factory.mktemp("scanned") / "proj")
    project.write("pkg/__init__.py", "")
    project.write("pkg/calc.py", CALC)
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n')
    fewer = "from pkg.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    for tests in (TESTS, fewer, TESTS, fewer):
        project.write("tests/test_calc.py", tests)
        project.covtui("scan", check=True)
    project.covtui("alerts", "ack", "2", check=True)

    async def beat() -> None:
        async with await Store.open(project.db, create=False) as store:
            await store.beat("watch", started_at=END, next_scan_at=END + 300, state="waiting")

    asyncio.run(beat())
    return project.db


def table_hashes(path: Path) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows in primary-key order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = {}
        for table in schema_tables():
            rows = conn.execute(
                f"SELECT {', '.join(table.columns)} FROM {table.name} ORDER BY {', '.join(table.key)}"
            ).fetchall()
            result[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return result
    finally:
        conn.close()


def covtui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "covtui", *args], cwd=cwd, env=clean_env(),
        capture_output=True, text=True, timeout=300,
    )


def has_table(path: Path, name: str) -> bool:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchall())
    finally:
        conn.close()


def test_every_table_of_the_schema_is_copied_parents_first() -> None:
    tables = [t.name for t in schema_tables()]
    assert {"snapshots", "files", "file_states", "file_changes", "alerts", "line_tests"} <= set(tables)
    assert tables.index("snapshots") < tables.index("source_results")
    assert tables.index("files") < tables.index("file_changes")
    assert tables.index("file_states") < tables.index("file_changes")
    assert tables.index("line_test_blobs") < tables.index("line_tests")


@pytest.mark.parametrize("which", ["demo_db", "scanned_db"])
def test_a_copy_equals_its_source_table_for_table(which: str, request, tmp_path: Path) -> None:
    source = request.getfixturevalue(which)
    dest = tmp_path / "copy.db"
    proc = covtui("migrate", "--from", str(source), "--to", str(dest), "--chunk-rows", "100", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    hashes = table_hashes(source)
    assert table_hashes(dest) == hashes
    n_rows = sum(n for n, _ in hashes.values())
    assert f"verified: the row counts of {len(hashes)} tables ({n_rows:,} rows)" in proc.stdout
    assert not has_table(dest, PROGRESS_TABLE)
    status = [covtui("--db", str(db), "status", "--json", cwd=tmp_path) for db in (source, dest)]
    assert status[0].returncode == 0 and status[0].stdout == status[1].stdout


def test_the_scanned_history_fills_the_tables_it_should(scanned_db: Path) -> None:
    """The round trip above means something only if these tables hold rows."""
    counts = {name: n for name, (n, _) in table_hashes(scanned_db).items()}
    for table in ("line_tests", "line_test_blobs", "test_runs", "test_ids", "alerts", "heartbeats"):
        assert counts[table] > 0, table
    conn = sqlite3.connect(scanned_db)
    assert conn.execute("SELECT count(*) FROM alerts WHERE acknowledged_at IS NOT NULL").fetchone()[0] == 1


def test_running_it_again_adds_nothing(demo_db: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.db"
    assert covtui("migrate", "--from", str(demo_db), "--to", str(dest), cwd=tmp_path).returncode == 0
    again = covtui("migrate", "--from", str(demo_db), "--to", str(dest), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "already holds this history; verified" in again.stdout
    assert table_hashes(dest) == table_hashes(demo_db)


def test_a_destination_with_another_history_is_refused(
    demo_db: Path, scanned_db: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "other.db"
    shutil.copy(scanned_db, dest)
    before = table_hashes(dest)
    proc = covtui("migrate", "--from", str(demo_db), "--to", str(dest), cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"covtui: error: {dest}: already holds a different history (table ")
    assert table_hashes(dest) == before


def test_a_source_of_an_older_schema_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "old.db"
    conn = sqlite3.connect(source)
    for migration in MIGRATIONS[: SCHEMA_VERSION - 1]:
        conn.executescript(migration)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.close()
    dest = tmp_path / "copy.db"
    proc = covtui("migrate", "--from", str(source), "--to", str(dest), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"covtui: error: {source}: schema {SCHEMA_VERSION - 1}, but the copy would be schema "
        f"{SCHEMA_VERSION}: migrate the source first (any covtui command on it, e.g. `covtui "
        "status --db …`)"
    )
    assert not dest.exists()
    version = sqlite3.connect(source).execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION - 1  # the source was only read


def test_the_source_itself_is_refused(demo_db: Path, tmp_path: Path) -> None:
    proc = covtui("migrate", "--from", str(demo_db), "--to", str(demo_db), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"covtui: error: {demo_db}: is the source itself"


class Stop(Exception):
    pass


async def interrupted_copy(source: Path, dest: Path, after_chunks: int) -> None:
    """A migrate stopped after `after_chunks` committed chunks (as a crash would stop it)."""
    chunks = 0

    def progress(table: str, n: int) -> None:
        nonlocal chunks
        chunks += 1
        if chunks == after_chunks:
            raise Stop

    source_end = await open_endpoint(str(source), writable=False)
    dest_end = await open_endpoint(str(dest), writable=True)
    try:
        with pytest.raises(Stop):
            await migrate(source_end, dest_end, chunk_rows=50, progress=progress)
    finally:
        await dest_end.close()
        await source_end.close()


def test_an_interrupted_copy_goes_on_where_it_stopped(demo_db: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.db"
    asyncio.run(interrupted_copy(demo_db, dest, after_chunks=7))
    partial = sum(n for n, _ in table_hashes(dest).values())
    assert 0 < partial < sum(n for n, _ in table_hashes(demo_db).values())
    proc = covtui("migrate", "--from", str(demo_db), "--to", str(dest), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(went on from an interrupted copy)" in proc.stdout
    assert table_hashes(dest) == table_hashes(demo_db)


def test_a_copy_whose_source_changed_meanwhile_is_not_called_equal(
    demo_db: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source.db"
    shutil.copy(demo_db, source)
    dest = tmp_path / "copy.db"
    asyncio.run(interrupted_copy(source, dest, after_chunks=3))  # alerts are copied first
    conn = sqlite3.connect(source)
    conn.execute("DELETE FROM alerts WHERE id = (SELECT max(id) FROM alerts)")
    conn.commit()
    conn.close()
    proc = covtui("migrate", "--from", str(source), "--to", str(dest), cwd=tmp_path)
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert line == (
        f"covtui: error: copy from {source} to {dest} not equal: table alerts has 12 rows in "
        "the source, 13 in the copy"
    )


def test_an_unfinished_copy_of_another_history_is_refused(
    demo_db: Path, scanned_db: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "copy.db"
    asyncio.run(interrupted_copy(demo_db, dest, after_chunks=2))
    proc = covtui("migrate", "--from", str(scanned_db), "--to", str(dest), cwd=tmp_path)
    assert proc.returncode == 2
    assert "holds an unfinished copy of another history" in proc.stderr


def test_a_migrate_killed_midway_resumes_without_duplicates(demo_db: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "covtui", "migrate", "--from", str(demo_db), "--to", str(dest),
         "--chunk-rows", "1"],
        cwd=tmp_path, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        copied = 0
        while copied < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
            if dest.exists() and has_table(dest, PROGRESS_TABLE):
                with sqlite3.connect(f"file:{dest}?mode=ro", uri=True) as conn:
                    copied = sum(conn.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
                                 for t in schema_tables())
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the copy finished before it could be killed"
    total = sum(n for n, _ in table_hashes(demo_db).values())
    assert 200 <= sum(n for n, _ in table_hashes(dest).values()) < total
    proc = covtui("migrate", "--from", str(demo_db), "--to", str(dest), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert table_hashes(dest) == table_hashes(demo_db)


async def test_a_missing_source_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no monitoring database yet"):
        await open_endpoint(str(tmp_path / "none.db"), writable=False)


# -- between SQLite and PostgreSQL ---------------------------------------------------------

PASSWORD = "pg-pass-w0rd"  # trust auth ignores it; it must never be printed


@pytest.fixture
def pg_databases():
    """`make()`: a new empty PostgreSQL database's URL (with a password in it); all dropped."""
    postgres.require_server()
    names: list[str] = []

    def make() -> str:
        names.append(postgres.create_database())
        return postgres.url_of(names[-1], user="postgres", password=PASSWORD)

    yield make
    for name in names:
        postgres.drop_database(name)


def pg_hashes(url: str) -> dict[str, tuple[int, str]]:
    """Like table_hashes, read from the server (TEXT sorts bytewise there too: COLLATE "C")."""
    import psycopg

    result = {}
    with psycopg.connect(url) as conn:
        for table in schema_tables():
            rows = conn.execute(
                f"SELECT {', '.join(table.columns)} FROM {table.name} ORDER BY {', '.join(table.key)}"
            ).fetchall()
            result[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return result


@pytest.mark.parametrize("which", ["demo_db", "scanned_db"])
def test_sqlite_to_postgres_to_sqlite_is_the_same_history(which, request, pg_databases, tmp_path):
    source = request.getfixturevalue(which)
    url = pg_databases()
    there = covtui("migrate", "--from", str(source), "--to", url, "--chunk-rows", "100", cwd=tmp_path)
    assert there.returncode == 0, there.stderr
    back_path = tmp_path / "back.db"
    back = covtui("migrate", "--from", url, "--to", str(back_path), cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    for proc in (there, back):
        assert PASSWORD not in proc.stdout + proc.stderr
        assert "postgres:***@" in proc.stdout
    hashes = table_hashes(source)
    assert pg_hashes(url) == hashes
    assert table_hashes(back_path) == hashes
    status = [covtui("--db", str(db), "status", "--json", cwd=tmp_path) for db in (source, url, back_path)]
    assert status[0].returncode == 0, status[0].stderr
    assert status[0].stdout == status[1].stdout == status[2].stdout
    import psycopg

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (PROGRESS_TABLE,)).fetchone()[0] is None


def test_a_migrated_postgres_has_planner_statistics_at_once(demo_db, pg_databases, tmp_path):
    """As after pg_restore: without ANALYZE the planner guessed one row per table until
    autovacuum came round, and the dashboard's test-time query read every run of a source
    (6 ms instead of 0.1 ms on 7 days of the demo)."""
    import psycopg

    url = pg_databases()
    assert covtui("migrate", "--from", str(demo_db), "--to", url, cwd=tmp_path).returncode == 0
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute(
            "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables"
        ).fetchall())
        (n_estimated,), = conn.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'snapshots'").fetchall()
    assert all(rows[t.name] for t in schema_tables()), rows
    assert n_estimated == table_hashes(demo_db)["snapshots"][0]


async def test_new_rows_in_a_migrated_postgres_get_new_ids(demo_db, pg_databases, tmp_path):
    from covtui.store import Store

    url = pg_databases()
    assert covtui("migrate", "--from", str(demo_db), "--to", url, cwd=tmp_path).returncode == 0
    n_alerts = table_hashes(demo_db)["alerts"][0]
    async with await Store.open(PostgresTarget.parse(url), create=False) as store:
        async with store.transaction():
            await store.conn.execute(
                "INSERT INTO alerts (created_at, rule, severity, message) VALUES (?, ?, ?, ?)",
                (1.0, "coverage_drop", "info", "after the copy"),
            )
        (new_id,), = await store.conn.fetchall("SELECT max(id) FROM alerts")
    assert new_id == n_alerts + 1


def test_a_migrate_into_postgres_killed_midway_resumes(demo_db, pg_databases, tmp_path):
    import psycopg

    url = pg_databases()
    child = subprocess.Popen(
        [sys.executable, "-m", "covtui", "migrate", "--from", str(demo_db), "--to", url, "--chunk-rows", "1"],
        cwd=tmp_path, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        copied = 0
        while copied < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
            with psycopg.connect(url) as conn:
                if conn.execute("SELECT to_regclass(%s)", (PROGRESS_TABLE,)).fetchone()[0] is None:
                    continue
                copied = sum(conn.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
                             for t in schema_tables())
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the copy finished before it could be killed"
    total = sum(n for n, _ in table_hashes(demo_db).values())
    assert 200 <= sum(n for n, _ in pg_hashes(url).values()) < total
    proc = covtui("migrate", "--from", str(demo_db), "--to", url, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(went on from an interrupted copy)" in proc.stdout
    assert pg_hashes(url) == table_hashes(demo_db)


def test_a_postgres_destination_with_another_history_is_refused(demo_db, scanned_db, pg_databases, tmp_path):
    url = pg_databases()
    assert covtui("migrate", "--from", str(scanned_db), "--to", url, cwd=tmp_path).returncode == 0
    before = pg_hashes(url)
    proc = covtui("migrate", "--from", str(demo_db), "--to", url, cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert "already holds a different history" in line and PASSWORD not in line
    assert pg_hashes(url) == before
