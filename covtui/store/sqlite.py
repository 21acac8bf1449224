"""The SQLite backend: the embedded default, one file through aiosqlite."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from covtui.errors import StoreError
from covtui.folder import make_database_folder
from covtui.store.schema import MIGRATIONS, SCHEMA_VERSION


async def open_sqlite(path: Path, *, create: bool, read_only: bool = False) -> SqliteConnection:
    """`connect`, wrapped for the store."""
    return SqliteConnection(await connect(path, create=create, read_only=read_only), Path(path))


async def connect(path: Path, *, create: bool, read_only: bool = False) -> aiosqlite.Connection:
    """A connection with covtui's pragmas, its schema checked and migrated forward.

    `read_only` connections never write (status, report, the dashboard): they work on a
    database in a folder nobody may write to. An older schema is still migrated first, by a
    short writable connection.
    """
    path = Path(path)
    _check_path(path, create)
    if read_only:
        conn = await _open(path, read_only=True)
        try:
            version = await _checked_version(conn, path, create=False)
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise StoreError(f"{path}: unreadable database: {exc}") from None
        except BaseException:
            await conn.close()
            raise
        if version == SCHEMA_VERSION:
            return conn
        await conn.close()
        await (await connect(path, create=False)).close()  # migrates it
        return await _open(path, read_only=True)
    if create:
        try:
            make_database_folder(path)
        except OSError as exc:
            raise StoreError(f"{path.parent}: cannot create the database folder: {exc.strerror}") from None
    conn = await _open(path, read_only=False)
    try:
        version = await _checked_version(conn, path, create=create)
        if version < SCHEMA_VERSION:
            # An existing database from an older covtui is migrated forward, whoever opens it.
            await _migrate(conn, version)
        await conn.execute("PRAGMA foreign_keys = ON")
        mode = (await (await conn.execute("PRAGMA journal_mode")).fetchone())[0]
        if mode != "wal":
            await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
    except StoreError:
        await conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        await conn.close()
        if not os.access(path.parent, os.W_OK):
            raise StoreError(f"{path}: cannot write: its folder is read-only ({exc})") from None
        raise StoreError(f"{path}: unreadable database: {exc}") from None
    return conn


def _check_path(path: Path, create: bool) -> None:
    """Refuse what is not a database file before SQLite touches it (it would create
    `/dev/null-journal`, or open a folder)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        if not create:
            raise StoreError(
                f"{path}: no monitoring database yet (run `covtui scan` or `covtui ingest`)"
            ) from None
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot use the database: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{path}: is a folder, not a database file")
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"{path}: not a regular file: refusing to use it as the database")


async def _open(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    """Open in a worker thread first: a failed open must not leave aiosqlite's thread behind
    (it would report to a closed event loop after we exit)."""

    def open_raw() -> sqlite3.Connection:
        if not read_only:
            return sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        try:
            return _probed(sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False))
        except sqlite3.OperationalError:
            if Path(f"{path}-wal").exists():
                raise
            # A WAL database in a folder where its -shm can't be created: nothing can write
            # it there either (a writer must create the -wal), so it reads as immutable.
            return _probed(sqlite3.connect(
                uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False
            ))

    try:
        raw = await asyncio.to_thread(open_raw)
    except sqlite3.Error as exc:
        if not read_only and not os.access(path.parent, os.W_OK):
            raise StoreError(f"{path}: cannot write: its folder is read-only ({exc})") from None
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    return await aiosqlite.Connection(lambda: raw, iter_chunk_size=64)


def _probed(conn: sqlite3.Connection) -> sqlite3.Connection:
    """SQLite opens lazily: read the schema now so a file it can't read fails here."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


async def _checked_version(conn: aiosqlite.Connection, path: Path, *, create: bool) -> int:
    await conn.execute("PRAGMA busy_timeout = 30000")
    # One statement, one snapshot: read apart, another process creating the database could
    # commit in between (version 0, then its tables) and it would look like someone else's.
    version, n_tables = await (await conn.execute(
        "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)"
    )).fetchone()
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: written by a newer covtui (schema {version}; this one reads up to "
            f"{SCHEMA_VERSION}): upgrade covtui"
        )
    if version == 0:
        if n_tables:
            raise StoreError(f"{path}: an SQLite database, but not covtui's")
        if not create:
            raise StoreError(f"{path}: no monitoring data yet (schema not created)")
    return version


async def _migrate(conn: aiosqlite.Connection, version: int) -> None:
    if version == 0:
        # Must precede the first table; lets prune hand freed pages back to the file system.
        await conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    await conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = (await (await conn.execute("PRAGMA user_version")).fetchone())[0]
        for n in range(current, SCHEMA_VERSION):
            for statement in filter(str.strip, MIGRATIONS[n].split(";")):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {n + 1}")
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise



class SqliteConnection:
    """The store's connection to an SQLite file: statements as the store writes them."""

    backend = "sqlite"

    def __init__(self, raw: aiosqlite.Connection, path: Path) -> None:
        self.raw = raw
        self.path = path

    async def close(self) -> None:
        await self.raw.close()

    # One trip to aiosqlite's thread per query (execute + fetch + close would be three).
    async def fetchall(self, sql: str, params: Sequence | dict = ()) -> list:
        return list(await self.raw.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Sequence | dict = ()) -> int:
        """Run one statement; how many rows it changed."""
        return (await self.raw.execute(sql, params)).rowcount

    async def insert(self, sql: str, params: Sequence) -> int:
        """Run one INSERT into a table with an `id INTEGER PRIMARY KEY`; the new row's id."""
        return (await self.raw.execute(sql, params)).lastrowid

    async def executemany(self, sql: str, rows: Iterable[Sequence]) -> int:
        return (await self.raw.executemany(sql, rows)).rowcount

    async def schema_version(self) -> int:
        return (await self.fetchall("PRAGMA user_version"))[0][0]

    async def data_version(self) -> int:
        """Changes whenever another connection commits."""
        return (await self.fetchall("PRAGMA data_version"))[0][0]

    def transaction(self) -> _Transaction:
        return _Transaction(self.raw, self.path)

    async def size_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    async def reclaim_space(self) -> None:
        """Hand freed pages back a slice at a time (each slice is a short write too)."""
        free = (await self.fetchall("PRAGMA freelist_count"))[0][0]
        while free:
            await self.fetchall("PRAGMA incremental_vacuum(2000)")
            free, before = (await self.fetchall("PRAGMA freelist_count"))[0][0], free
            if free >= before:
                break  # (a file without auto_vacuum keeps its free pages for reuse)
        await self.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error: a write lands whole or not at all.

    SQLite's own errors (disk full, read-only, locked too long) become one line naming the file.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path

    async def __aenter__(self) -> None:
        try:
            await self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path or 'database'}: busy or not writable: {exc}") from None

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                await self.conn.execute("COMMIT")
                return
            except sqlite3.Error as commit_error:
                exc = commit_error
        with contextlib.suppress(sqlite3.Error):
            await self.conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"{self.path or 'database'}: cannot write: {exc}") from None
