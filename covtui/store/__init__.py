"""The monitoring database: every snapshot, per-file result and alert, through aiosqlite.

Writers (scan, ingest, watch) call `write_snapshot`, which stores a snapshot and the alerts it
raises in one transaction. Readers (dashboard, status, report) poll `data_version()` and load
what they show with a few indexed queries.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from covtui.errors import StoreError
from covtui.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["PruneResult", "Store"]


async def connect(path: Path, *, create: bool) -> aiosqlite.Connection:
    """A connection with covtui's pragmas, its schema checked and migrated forward."""
    path = Path(path)
    if not create and not path.exists():
        raise StoreError(f"{path}: no monitoring database yet (run `covtui scan` or `covtui ingest`)")
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path.parent}: cannot create the database folder: {exc.strerror}") from None
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    try:
        await conn.execute("PRAGMA busy_timeout = 30000")
        version = (await (await conn.execute("PRAGMA user_version")).fetchone())[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: written by a newer covtui (schema {version}; this one reads up to "
                f"{SCHEMA_VERSION}): upgrade covtui"
            )
        if version == 0:
            n_tables = (await (await conn.execute("SELECT count(*) FROM sqlite_master")).fetchone())[0]
            if n_tables:
                raise StoreError(f"{path}: an SQLite database, but not covtui's")
        if version < SCHEMA_VERSION:
            if version == 0 and not create:
                raise StoreError(f"{path}: no monitoring data yet (schema not created)")
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
        raise StoreError(f"{path}: unreadable database: {exc}") from None
    return conn


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


from covtui.store.store import PruneResult, Store  # noqa: E402  (needs `connect` above)
