"""The monitoring database: every snapshot, per-file result and alert, in SQLite (the embedded
default, through aiosqlite) or PostgreSQL (through psycopg, imported only for a postgresql://
database).

Persistence only: SQL, migrations, rows mapped by column name. Writers record through
`covtui.record`, which reads a snapshot's history here, plans it in the domain and inserts the
plan, all in one transaction. Readers (dashboard, status, report) poll `data_version()` and
load what they show with a few indexed queries. The `Store` speaks SQL that runs on both
backends to a small connection (`sqlite.SqliteConnection`, `postgres.PostgresConnection`);
the PostgreSQL one translates it (placeholders, types) mechanically.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from covtui.dsn import PostgresTarget
    from covtui.store.postgres import PostgresConnection
    from covtui.store.sqlite import SqliteConnection

__all__ = ["PruneResult", "Store", "open_connection"]


async def open_connection(
    target: Path | PostgresTarget, *, create: bool, read_only: bool = False
) -> SqliteConnection | PostgresConnection:
    """A connection to the database at `target`, its schema checked and migrated forward."""
    if isinstance(target, Path | str):
        from covtui.store.sqlite import open_sqlite

        return await open_sqlite(Path(target), create=create, read_only=read_only)
    from covtui.store.postgres import open_postgres

    return await open_postgres(target, create=create, read_only=read_only)


from covtui.store.store import PruneResult, Store  # noqa: E402  (needs `open_connection` above)
