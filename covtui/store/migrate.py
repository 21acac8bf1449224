"""Copy a whole history from one monitoring database to another: every table of the schema,
in chunks, resumable, verified at the end by row counts and per-snapshot totals.

Generic over the schema: the tables, their columns, primary keys and foreign keys are read
from the migrations themselves (applied to an empty in-memory SQLite database), so a table a
later migration adds is copied without a line here. Each chunk is inserted together with the
copy's progress (the last primary key copied) in one destination transaction, so a copy killed
at any point goes on from its last committed chunk, never twice, ids preserved. The progress
table is dropped once the copy is verified.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosqlite

from covtui.dsn import PostgresTarget, is_postgres
from covtui.errors import CovtuiError, StoreError
from covtui.store.schema import MIGRATIONS, NUMBER_COLUMNS, SCHEMA_VERSION

#: Rows per chunk (one destination transaction each).
CHUNK_ROWS = 5000

#: The destination's record of an unfinished copy (dropped when it is verified).
PROGRESS_TABLE = "migrate_progress"
_IDENTITY = "*source"  # the progress row that says which history is being copied

#: Per snapshot, what the verification compares besides the row counts.
SNAPSHOT_TOTALS = ("id", "created_at", "status", *NUMBER_COLUMNS, "pc_covered")


class MigrateMismatch(CovtuiError):
    """The copy does not equal its source (a write or prune meanwhile, or another history)."""

    exit_code = 1


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key: the copy's order and its resume point

    def select_after(self, after: Sequence | None, limit: int) -> tuple[str, list]:
        """The next chunk in key order after the key `after` (keyset paging: no OFFSET)."""
        cols = ", ".join(self.columns)
        order = ", ".join(self.key)
        where, params = "", []
        if after is not None:
            if len(self.key) == 1:
                where = f" WHERE {self.key[0]} > ?"
            else:
                marks = ", ".join("?" for _ in self.key)
                where = f" WHERE ({order}) > ({marks})"
            params = list(after)
        return f"SELECT {cols} FROM {self.name}{where} ORDER BY {order} LIMIT ?", [*params, limit]

    @property
    def insert(self) -> str:
        marks = ", ".join("?" for _ in self.columns)
        return (
            f"INSERT INTO {self.name} ({', '.join(self.columns)}) VALUES ({marks}) "
            "ON CONFLICT DO NOTHING"
        )

    def key_of(self, row: Sequence) -> list:
        return [row[self.columns.index(k)] for k in self.key]


def schema_tables() -> list[Table]:
    """Every table of the current schema, each after the tables its foreign keys point at."""
    db = sqlite3.connect(":memory:")
    try:
        for migration in MIGRATIONS:
            db.executescript(migration)
        names = [n for (n,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )]
        tables: dict[str, Table] = {}
        parents: dict[str, set[str]] = {}
        for name in names:
            info = db.execute(f"PRAGMA table_info({name})").fetchall()
            columns = tuple(row[1] for row in info)
            key = tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            if not key:
                raise AssertionError(f"table {name} has no primary key: migrate cannot page it")
            tables[name] = Table(name, columns, key)
            parents[name] = {
                row[2] for row in db.execute(f"PRAGMA foreign_key_list({name})") if row[2] != name
            }
    finally:
        db.close()
    ordered: list[Table] = []
    while parents:
        ready = sorted(n for n, p in parents.items() if not p - {t.name for t in ordered})
        ordered += [tables[n] for n in ready]
        for n in ready:
            del parents[n]
    return ordered


class Endpoint(Protocol):
    """One side of a migrate: a monitoring database on either backend, with `?` SQL."""

    #: How to name it in messages (a DSN with its password masked).
    label: str

    async def schema_version(self) -> int | None:
        """Its schema version without migrating it; None when it holds no covtui schema."""

    async def create_schema(self) -> None:
        """Create the current schema (a destination that does not have one yet)."""

    async def has_table(self, name: str) -> bool: ...

    async def rows(self, sql: str, params: Sequence = ()) -> list[tuple]: ...

    async def write(self, batches: Sequence[tuple[str, Sequence[Sequence]]]) -> None:
        """Run each (statement, rows) in one transaction: all of it, or none."""

    async def finish(self, tables: Sequence[Table]) -> None:
        """After the copy: whatever the backend needs so new rows get fresh ids."""

    async def close(self) -> None: ...


@dataclass
class MigrateResult:
    tables: list[str] = field(default_factory=list)
    rows_copied: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    n_snapshots: int = 0
    resumed: bool = False
    already: bool = False  # the destination already was a verified copy

    @property
    def n_rows(self) -> int:
        return sum(self.counts.values())


Progress = Callable[[str, int], None]


async def migrate(
    source: Endpoint,
    dest: Endpoint,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> MigrateResult:
    """Copy `source`'s whole history into `dest` (new, empty, or a copy this interrupted);
    raise StoreError for what it refuses, MigrateMismatch when the copy is not equal."""
    tables = schema_tables()
    version = await source.schema_version()
    if version is None:
        raise StoreError(f"{source.label}: no monitoring data to copy (schema not created)")
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{source.label}: schema {version}, but the copy would be schema {SCHEMA_VERSION}: "
            f"migrate the source first (any covtui command on it, e.g. `covtui status --db …`)"
            if version < SCHEMA_VERSION
            else f"{source.label}: written by a newer covtui (schema {version}; this one writes "
            f"{SCHEMA_VERSION}): upgrade covtui"
        )
    dest_version = await dest.schema_version()
    if dest_version is not None and dest_version != SCHEMA_VERSION:
        raise StoreError(
            f"{dest.label}: already holds a covtui database of schema {dest_version}: "
            "choose a new or empty destination"
        )
    if dest_version is None:
        await dest.create_schema()
    identity = await _identity(source)
    result = MigrateResult(tables=[t.name for t in tables])
    done: dict[str, list | None] = {}
    finished: set[str] = set()
    if await dest.has_table(PROGRESS_TABLE):
        for name, last_key, is_done in await dest.rows(
            f"SELECT name, last_key, done FROM {PROGRESS_TABLE}"
        ):
            if name == _IDENTITY:
                if last_key != identity:
                    raise StoreError(
                        f"{dest.label}: holds an unfinished copy of another history: "
                        "choose a new or empty destination"
                    )
                continue
            done[name] = json.loads(last_key) if last_key is not None else None
            if is_done:
                finished.add(name)
        result.resumed = True
    elif await _holds_rows(dest, tables):
        mismatch = await verify(source, dest, tables, result)
        if mismatch is not None:
            raise StoreError(
                f"{dest.label}: already holds a different history ({mismatch}): "
                "choose a new or empty destination"
            )
        result.already = True
        return result
    else:
        await dest.write([
            (f"CREATE TABLE {PROGRESS_TABLE} (name TEXT PRIMARY KEY, last_key TEXT, "
             "done INTEGER NOT NULL)", [()]),
            (f"INSERT INTO {PROGRESS_TABLE} (name, last_key, done) VALUES (?, ?, 1)",
             [(_IDENTITY, identity)]),
        ])
    record = (
        f"INSERT INTO {PROGRESS_TABLE} (name, last_key, done) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET last_key = excluded.last_key, done = excluded.done"
    )
    for table in tables:
        if table.name in finished:
            continue
        after = done.get(table.name)
        copied = 0
        while True:
            sql, params = table.select_after(after, chunk_rows)
            rows = await source.rows(sql, params)
            if not rows:
                await dest.write([(record, [(table.name, _dump(after), 1)])])
                break
            after = table.key_of(rows[-1])
            await dest.write([
                (table.insert, rows),
                (record, [(table.name, _dump(after), 0)]),
            ])
            copied += len(rows)
            if progress is not None:
                progress(table.name, copied)
        result.rows_copied[table.name] = copied
    mismatch = await verify(source, dest, tables, result)
    if mismatch is not None:
        raise MigrateMismatch(f"copy from {source.label} to {dest.label} not equal: {mismatch}")
    await dest.finish(tables)
    await dest.write([(f"DROP TABLE {PROGRESS_TABLE}", [()])])
    return result


async def verify(
    source: Endpoint, dest: Endpoint, tables: Sequence[Table], result: MigrateResult
) -> str | None:
    """Row counts of every table and each snapshot's totals, on both sides: the first
    difference in words, or None when they are equal (counts filled into `result`)."""
    for table in tables:
        (n_source,), = await source.rows(f"SELECT count(*) FROM {table.name}")
        (n_dest,), = await dest.rows(f"SELECT count(*) FROM {table.name}")
        if n_source != n_dest:
            return f"table {table.name} has {n_source:,} rows in the source, {n_dest:,} in the copy"
        result.counts[table.name] = int(n_source)
    totals = f"SELECT {', '.join(SNAPSHOT_TOTALS)} FROM snapshots ORDER BY id"
    source_totals = await source.rows(totals)
    dest_totals = await dest.rows(totals)
    for ours, theirs in zip(source_totals, dest_totals, strict=True):
        for column, a, b in zip(SNAPSHOT_TOTALS, ours, theirs, strict=True):
            if a != b:
                return f"snapshot {ours[0]}: {column} is {a!r} in the source, {b!r} in the copy"
    result.n_snapshots = len(source_totals)
    return None


async def _holds_rows(endpoint: Endpoint, tables: Sequence[Table]) -> bool:
    for table in tables:
        if await endpoint.rows(f"SELECT 1 FROM {table.name} LIMIT 1"):
            return True
    return False


async def _identity(source: Endpoint) -> str:
    """Which history this is: its first snapshot's id and time (stays while it is copied)."""
    rows = await source.rows("SELECT id, created_at FROM snapshots ORDER BY id LIMIT 1")
    return json.dumps(list(rows[0]) if rows else None)


def _dump(key: list | None) -> str | None:
    return None if key is None else json.dumps(key)


class SqliteEndpoint:
    """A monitoring database file. The source is opened read-only and never migrated (its
    version is what `migrate` checks); the destination is created with covtui's pragmas."""

    def __init__(self, path: Path, conn: aiosqlite.Connection | None, *, writable: bool) -> None:
        self.path = path
        self.label = str(path)
        self.conn = conn
        self.writable = writable

    @classmethod
    async def open(cls, path: Path, *, writable: bool) -> SqliteEndpoint:
        from covtui.store.sqlite import _check_path, _open

        path = Path(path)
        _check_path(path, create=writable)
        conn = await _open(path, read_only=not writable) if path.exists() else None
        endpoint = cls(path, conn, writable=writable)
        if conn is not None:
            await conn.execute("PRAGMA busy_timeout = 30000")
            if writable and await endpoint.schema_version() == SCHEMA_VERSION:
                await endpoint.create_schema()  # reopened with covtui's pragmas
        return endpoint

    async def schema_version(self) -> int | None:
        if self.conn is None:
            return None
        try:
            (version,), = await self.conn.execute_fetchall("PRAGMA user_version")
            if version == 0:
                (n_tables,), = await self.conn.execute_fetchall("SELECT count(*) FROM sqlite_master")
                if n_tables:
                    raise StoreError(f"{self.label}: an SQLite database, but not covtui's")
                return None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.label}: unreadable database: {exc}") from None
        return version

    async def create_schema(self) -> None:
        """(Re)open through covtui's `connect`: schema, WAL, foreign keys, busy timeout."""
        from covtui.store.sqlite import connect

        if self.conn is not None:
            await self.conn.close()
        self.conn = await connect(self.path, create=True)

    async def has_table(self, name: str) -> bool:
        rows = await self.conn.execute_fetchall(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
        return bool(rows)

    async def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return [tuple(r) for r in await self.conn.execute_fetchall(sql, params)]

    async def write(self, batches: Sequence[tuple[str, Sequence[Sequence]]]) -> None:
        if self.conn is None or not self.writable:
            raise StoreError(f"{self.label}: opened read-only")
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in batches:
                await self.conn.executemany(sql, rows)
            await self.conn.execute("COMMIT")
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise

    async def finish(self, tables: Sequence[Table]) -> None:
        """SQLite gives the next row max(id) + 1 by itself."""

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
            self.conn = None


class PostgresEndpoint:
    """A monitoring database on a PostgreSQL server. Its version is read without migrating
    it; a destination without covtui's schema gets it (a database with other tables is
    refused by the store). Every chunk is one of the store's write transactions: the write
    lock, the change counter and the notification to live dashboards included."""

    def __init__(self, conn, target) -> None:
        self.conn = conn
        self.target = target
        self.label = str(target)  # the password masked

    @classmethod
    async def open(cls, target: PostgresTarget) -> PostgresEndpoint:
        from covtui.store.postgres import open_postgres

        return cls(await open_postgres(target, create=False, migrate=False), target)

    async def schema_version(self) -> int | None:
        version = await self.conn._version_or_none()
        if version is None:
            await self.conn._refuse_foreign()
        return version

    async def create_schema(self) -> None:
        await self.conn.migrate()

    async def has_table(self, name: str) -> bool:
        (exists,), = await self.conn.fetchall("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(exists)

    async def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return [tuple(r) for r in await self.conn.fetchall(sql, params)]

    async def write(self, batches: Sequence[tuple[str, Sequence[Sequence]]]) -> None:
        async with self.conn.transaction():
            for sql, rows in batches:
                if list(rows) == [()]:
                    await self.conn.execute(sql)
                else:
                    await self.conn.executemany(sql, rows)

    async def finish(self, tables: Sequence[Table]) -> None:
        """Identity columns continue past the ids copied in; the planner gets the copied
        rows' statistics now (as after pg_restore), not when autovacuum comes round."""
        await self.conn.sync_ids()
        await self.conn.execute("ANALYZE")

    async def close(self) -> None:
        await self.conn.close()


async def open_endpoint(target: str, *, writable: bool) -> Endpoint:
    """The source (`writable=False`) or destination of a migrate, from a path or a URL."""
    if is_postgres(target):
        return await PostgresEndpoint.open(PostgresTarget.parse(target))
    return await SqliteEndpoint.open(Path(target), writable=writable)
