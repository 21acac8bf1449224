"""The PostgreSQL backend, through psycopg 3 (imported only when a postgresql:// database is
used): the same schema and statements as SQLite, translated by `dialect`.

What SQLite gets from its file, PostgreSQL gets from a table and a lock: the schema version
and a change counter live in `covtui_meta`; migrations and writes take one transaction-scoped
advisory lock, so writers take turns as they do on SQLite (BEGIN IMMEDIATE), which is what the
store's history-then-insert transactions and its "next id" assume.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

from covtui.dsn import PostgresTarget
from covtui.errors import ReadOnlyAccess, StoreError
from covtui.store import dialect
from covtui.store.changes import NOTIFY_SQL
from covtui.store.schema import MIGRATIONS, SCHEMA_VERSION

#: pg_advisory_xact_lock's key for covtui's writers and migrations ("covtui" in ASCII).
WRITE_LOCK = 0x636F76747569
#: How long a writer waits for another (SQLite's busy timeout is the same).
LOCK_TIMEOUT = "30s"
CONNECT_TIMEOUT_S = 10
META = "covtui_meta"


def _psycopg():
    try:
        import psycopg
    except ImportError:
        return None
    return psycopg


async def open_postgres(
    target: PostgresTarget, *, create: bool, read_only: bool = False, migrate: bool = True
) -> PostgresConnection:
    """A connection with the schema checked (a newer one refused, a foreign database refused)
    and migrated forward; `read_only` then makes every transaction of it read-only.
    `migrate=False`: neither checked nor migrated (`covtui migrate` reads the version itself)."""
    psycopg = _psycopg()
    if psycopg is None:
        raise StoreError(f"{target}: PostgreSQL needs psycopg: pip install 'covtui[postgres]'")
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = conninfo_to_dict(target.conninfo)
    except psycopg.Error as exc:
        raise StoreError(target.scrub(f"{target}: not a usable PostgreSQL URL: {_one_line(exc)}")) from None
    extra = {"application_name": "covtui"} if "application_name" not in given else {}
    if "connect_timeout" not in given:
        extra["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        raw = await psycopg.AsyncConnection.connect(target.conninfo, autocommit=True, **extra)
    except psycopg.Error as exc:
        raise StoreError(target.scrub(f"{target}: cannot connect: {_one_line(exc)}")) from None
    conn = PostgresConnection(raw, target)
    try:
        await conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        if migrate:
            version = await conn.checked_version(create=create)
            if version < SCHEMA_VERSION:
                await conn.migrate()
        if read_only:
            await conn.execute("SET default_transaction_read_only = on")
    except BaseException:
        await conn.close()
        raise
    return conn


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class PostgresConnection:
    """The store's connection to a PostgreSQL database; every driver error that is the
    server's or the network's becomes one StoreError line with the password masked."""

    backend = "postgres"

    def __init__(self, raw, target: PostgresTarget) -> None:
        self.raw = raw
        self.path = target  # what messages name (masked)
        self.target = target
        self._psycopg = _psycopg()
        self._in_transaction = False

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.raw.close()

    @contextlib.contextmanager
    def _errors(self, doing: str = ""):
        psycopg = self._psycopg
        try:
            yield
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction) as exc:
            raise ReadOnlyAccess(
                self.target.scrub(f"{self.target}: needs write access ({_one_line(exc)})")
            ) from None
        except psycopg.errors.LockNotAvailable:
            raise StoreError(
                f"{self.target}: busy: another writer held the database for {LOCK_TIMEOUT}"
            ) from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            lost = "connection lost" if self.raw.closed or self.raw.broken else "database error"
            raise StoreError(self.target.scrub(f"{self.target}: {doing or lost}: {_one_line(exc)}")) from None

    async def fetchall(self, sql: str, params: Sequence | dict = ()) -> list:
        with self._errors():
            cursor = await self.raw.execute(dialect.query(sql), _params(params))
            return await cursor.fetchall() if cursor.description is not None else []

    async def execute(self, sql: str, params: Sequence | dict = ()) -> int:
        with self._errors():
            return (await self.raw.execute(dialect.query(sql), _params(params))).rowcount

    async def insert(self, sql: str, params: Sequence) -> int:
        with self._errors():
            cursor = await self.raw.execute(dialect.query(sql + " RETURNING id"), _params(params))
            return (await cursor.fetchone())[0]

    async def executemany(self, sql: str, rows: Iterable[Sequence]) -> int:
        rows = [_params(r) for r in rows]
        if not rows:
            return 0
        with self._errors():
            cursor = self.raw.cursor()
            await cursor.executemany(dialect.query(sql), rows)
            return cursor.rowcount

    async def schema_version(self) -> int:
        rows = await self.fetchall(f"SELECT value FROM {META} WHERE key = 'schema_version'")
        return rows[0][0] if rows else 0

    async def data_version(self) -> int:
        """A counter every committed write transaction bumps (the dashboard's change check)."""
        rows = await self.fetchall(f"SELECT value FROM {META} WHERE key = 'data_version'")
        return rows[0][0] if rows else 0

    def transaction(self, *, counted: bool = True) -> _Transaction:
        """A write transaction; `counted` ones bump the change counter as they commit."""
        return _Transaction(self, counted=counted)

    async def size_bytes(self) -> int:
        """What covtui's tables and their indexes take on the server."""
        rows = await self.fetchall(
            "SELECT COALESCE(CAST(SUM(pg_total_relation_size(c.oid)) AS BIGINT), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
        return rows[0][0]

    async def reclaim_space(self) -> None:
        """Nothing: autovacuum makes deleted rows' space reusable by the next writes; handing
        it back to the file system would take VACUUM FULL, which locks out every reader."""

    # -- the schema ----------------------------------------------------------------------------

    async def checked_version(self, *, create: bool) -> int:
        version = await self._version_or_none()
        if version is None:
            await self._refuse_foreign()
            if not create:
                raise StoreError(
                    f"{self.target}: no monitoring data yet (run `covtui scan` or `covtui ingest`)"
                )
            return 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.target}: written by a newer covtui (schema {version}; this one reads up to "
                f"{SCHEMA_VERSION}): upgrade covtui"
            )
        return version

    async def _version_or_none(self) -> int | None:
        # A query of the catalog, not to_regclass(): that answers from the session's cache,
        # which still says "no such table" after waiting for a lock while another writer
        # created it (the cache is refreshed as a transaction starts, not as a lock is won).
        (exists,) = (await self.fetchall(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables "
            "WHERE schemaname = current_schema() AND tablename = ?)", (META,)
        ))[0]
        return await self.schema_version() if exists else None

    async def _refuse_foreign(self) -> None:
        (n_tables,) = (await self.fetchall(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        ))[0]
        # Another covtui may have committed its schema since we looked: then they are ours.
        if n_tables and await self._version_or_none() is None:
            raise StoreError(
                f"{self.target}: a PostgreSQL database, but not covtui's (it has {n_tables} "
                "other tables): give covtui a database of its own"
            )

    async def migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION, under the write lock: two processes migrating
        at once run it once (PostgreSQL's DDL is transactional: all of it or none)."""
        async with self.transaction(counted=False):
            version = await self._version_or_none()
            if version is None:
                await self._refuse_foreign()
                await self.execute(f"CREATE TABLE {META} (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
                await self.execute(
                    f"INSERT INTO {META} (key, value) VALUES ('schema_version', 0), ('data_version', 0)"
                )
                version = 0
            if version > SCHEMA_VERSION:
                return  # a newer covtui got there first: the next check refuses it
            for n in range(version, SCHEMA_VERSION):
                for statement in dialect.migration(MIGRATIONS[n]):
                    with self._errors("cannot migrate"):
                        await self.raw.execute(statement)
                await self.execute(
                    f"UPDATE {META} SET value = ? WHERE key = 'schema_version'", (n + 1,)
                )

    async def sync_ids(self) -> None:
        """Move each identity column's next value past the largest id (after rows were copied
        in with their ids: `covtui migrate`)."""
        rows = await self.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        for table, column in rows:
            await self.fetchall(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )


def _params(params: Sequence | dict):
    return params if isinstance(params, dict) else tuple(params)


class _Transaction:
    """BEGIN; the write lock; … ; the change counter and NOTIFY; COMMIT — rolled back on any
    error."""

    def __init__(self, conn: PostgresConnection, *, counted: bool = True) -> None:
        self.conn = conn
        self.counted = counted

    async def __aenter__(self) -> None:
        conn = self.conn
        await conn.execute("BEGIN")
        try:
            await conn.fetchall(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
        except BaseException:
            await self._rollback()
            raise

    async def __aexit__(self, exc_type, exc, tb) -> None:
        conn = self.conn
        if exc_type is None:
            try:
                if self.counted:
                    await conn.execute(
                        f"UPDATE {META} SET value = value + 1 WHERE key = 'data_version'"
                    )
                    # Listening dashboards hear of it when (and only if) this commits.
                    await conn.raw.execute(NOTIFY_SQL)
                await conn.execute("COMMIT")
                return
            except BaseException:
                await self._rollback()
                raise
        await self._rollback()

    async def _rollback(self) -> None:
        with contextlib.suppress(Exception):
            await self.conn.raw.execute("ROLLBACK")
