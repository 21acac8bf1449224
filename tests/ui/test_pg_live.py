"""Live panes on PostgreSQL: another process's write shows within a second, told by NOTIFY,
not found by polling; a lost listener is reconnected by itself."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from covtui.dsn import PostgresTarget
from covtui.store.changes import APPLICATION_NAME, ChangeFeed
from tests import postgres

from ..conftest import clean_env
from .conftest import loaded, make_app, wait_for
from .fixtures import T0, build_fixture_database

# Another process, as `covtui scan` on another host would be: one snapshot, then the time of
# its commit (record_snapshot returns once it committed).
WRITER = """
import asyncio, sys, time
from covtui.dsn import PostgresTarget
from tests.ui.fixtures import add_snapshot, fixture_config
from pathlib import Path

config = fixture_config(Path(sys.argv[2]), database=sys.argv[1])
asyncio.run(add_snapshot(PostgresTarget.parse(sys.argv[1]), config, created_at=float(sys.argv[3]), fraction_bump=0.5))
print(time.time())
"""

ACK = """
import asyncio, sys, time
from covtui.dsn import PostgresTarget
from covtui.store import Store

async def main():
    async with await Store.open(PostgresTarget.parse(sys.argv[1]), create=False) as store:
        await store.set_acknowledged(None, True)
asyncio.run(main())
print(time.time())
"""


@pytest.fixture
def pg_url():
    postgres.require_server()
    name = postgres.create_database()
    yield postgres.url_of(name)
    postgres.drop_database(name)


@pytest.fixture
async def pg_config(pg_url, config):
    config.database = pg_url
    config.poll_interval = 5.0  # a change seen within 1 s was told, not polled
    await build_fixture_database(PostgresTarget.parse(pg_url), config)
    return config


class AnotherProcess:
    """A script run in a process of its own, without blocking the app's event loop; it
    prints the time its write committed."""

    def __init__(self, script: str, *args: str) -> None:
        self.script, self.args = script, args

    async def __aenter__(self) -> AnotherProcess:
        root = Path(__file__).resolve().parents[2]
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", self.script, *self.args, cwd=root,
            env={**clean_env(), "PYTHONPATH": str(root)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        return self

    async def committed_at(self) -> float:
        out, err = await asyncio.wait_for(self.proc.communicate(), 120)
        assert self.proc.returncode == 0, err.decode()
        return float(out.split()[-1])

    async def __aexit__(self, *exc) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def shown_within(pilot, writer: AnotherProcess, predicate) -> float:
    """Seconds from the writer's commit until `predicate()` held in the running app."""
    await wait_for(pilot, predicate, timeout=10.0, step=0.005)
    seen = time.time()
    return seen - await writer.committed_at()


async def snapshot_latencies(pilot, pg_url: str, root: Path, n: int = 3) -> list[float]:
    """Write `n` snapshots from other processes, one after the other: how long each took to
    show. A poll would take up to 30 s (5 s while not listening): seconds mean a notification;
    the best of a few shows what it costs on a machine shared with other work."""
    app = pilot.app
    latencies = []
    for k in range(n):
        before = app.state.latest.id
        async with AnotherProcess(WRITER, pg_url, str(root), str(T0 + 300 * (k + 1))) as writer:
            latencies.append(await shown_within(
                pilot, writer, lambda before=before: app.state.latest.id == before + 1
            ))
        if latencies[-1] < 1.0:
            break
    return latencies


async def test_a_write_from_another_process_shows_within_a_second(pg_config, pg_url, tmp_path):
    app = make_app(pg_config, PostgresTarget.parse(pg_url))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: app.poller.listening)
        latencies = await snapshot_latencies(pilot, pg_url, tmp_path)
        assert min(latencies) < 1.0 and max(latencies) < 3.0, latencies
        assert app.state.n_unacknowledged > 0
        async with AnotherProcess(ACK, pg_url) as writer:
            assert await shown_within(pilot, writer, lambda: app.state.n_unacknowledged == 0) < 3.0


async def test_a_listener_cut_off_by_the_server_reconnects_by_itself(pg_config, pg_url, tmp_path):
    app = make_app(pg_config, PostgresTarget.parse(pg_url))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: app.poller.listening)
        database = pg_url.rsplit("/", 1)[1]
        (killed,), = postgres.admin(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s", (database, APPLICATION_NAME),
        )
        assert killed == 1
        await wait_for(pilot, lambda: not app.poller.listening, timeout=5.0)
        await wait_for(pilot, lambda: app.poller.listening, timeout=10.0)
        assert app.poll_status.error is None  # its own connection was never lost
        latencies = await snapshot_latencies(pilot, pg_url, tmp_path)
        assert min(latencies) < 1.0 and max(latencies) < 3.0, latencies


async def test_a_rolled_back_write_tells_nothing(pg_url):
    import psycopg

    target = PostgresTarget.parse(pg_url)
    feed = await ChangeFeed.open(target)
    try:
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
            await conn.execute("BEGIN")
            await conn.execute("NOTIFY covtui_changes")
            await conn.execute("ROLLBACK")
            assert await feed.wait(0.5) is False
            await conn.execute("BEGIN")
            await conn.execute("NOTIFY covtui_changes")
            await conn.execute("COMMIT")
            assert await feed.wait(5.0) is True
    finally:
        await feed.close()


async def test_a_lost_listener_is_one_line_without_the_password(pg_url):
    from covtui.errors import StoreError

    url = pg_url.replace("postgres@", "postgres:hunter2-secret@", 1)  # trust auth ignores it
    feed = await ChangeFeed.open(PostgresTarget.parse(url))
    database = pg_url.rsplit("/", 1)[1]
    postgres.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE datname = %s AND application_name = %s", (database, APPLICATION_NAME))
    with pytest.raises(StoreError) as caught:
        await feed.wait(5.0)
    await feed.close()
    message = str(caught.value)
    assert "change notifications lost" in message and "\n" not in message
    assert "hunter2-secret" not in message and "***" in message
