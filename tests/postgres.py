"""A PostgreSQL server for the tests: a database of their own per test, dropped afterwards.

The server is `$COVTUI_TEST_POSTGRES` (a libpq URL of a user who may create databases and
roles; default postgres@127.0.0.1:5432). Without one the PostgreSQL tests skip with the
reason, unless `COVTUI_REQUIRE_POSTGRES=1` (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from contextlib import closing
from urllib.parse import urlsplit, urlunsplit

import pytest

ADMIN_URL = os.environ.get("COVTUI_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

_unavailable: list[str] = []  # why there is no server (found once per process)


def _why_unavailable() -> str | None:
    if _unavailable:
        return _unavailable[0] or None
    try:
        import psycopg
    except ImportError:
        _unavailable.append("psycopg is not installed (pip install -e '.[postgres]')")
        return _unavailable[0]
    try:
        with closing(psycopg.connect(ADMIN_URL, connect_timeout=5)):
            pass
    except psycopg.Error as exc:
        _unavailable.append(f"no PostgreSQL server at {ADMIN_URL}: {' '.join(str(exc).split())}")
        return _unavailable[0]
    _unavailable.append("")
    return None


def require_server() -> None:
    """Skip (fail in CI) when there is no server to test against."""
    why = _why_unavailable()
    if why:
        if os.environ.get("COVTUI_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"COVTUI_REQUIRE_POSTGRES=1, but {why}")
        pytest.skip(why)


def admin(sql: str, params: tuple = (), *, database: str | None = None) -> list:
    """Run one statement as the admin user (in the admin database, or `database`)."""
    import psycopg

    with closing(psycopg.connect(url_of(database) if database else ADMIN_URL, autocommit=True)) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def url_of(database: str, *, user: str | None = None, password: str | None = None) -> str:
    """The admin URL pointed at `database` (as `user`, with `password`)."""
    parts = urlsplit(ADMIN_URL)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    login = user if user is not None else parts.username
    if login:
        netloc = f"{login}{':' + password if password else ''}@{netloc}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, ""))


def create_database() -> str:
    name = f"covtui_test_{uuid.uuid4().hex[:16]}"
    admin(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
