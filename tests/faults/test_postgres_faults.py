"""Faults on a PostgreSQL database: a writer SIGKILLed inside its transaction, two writers at
once, the server dropping the connection during a write and during the dashboard's poll."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui.config import Config
from covtui.domain.model import RunStatus, SnapshotDraft, SourceResult
from covtui.dsn import PostgresTarget
from covtui.errors import StoreError
from covtui.record import record_snapshot
from covtui.store import Store
from tests import postgres

from .conftest import start_writer

PASSWORD = "pw-faults-7c1d"  # in every URL here: it must never show in a message


@pytest.fixture
def target():
    postgres.require_server()
    name = postgres.create_database()
    yield PostgresTarget.parse(postgres.url_of(name, password=PASSWORD))
    postgres.drop_database(name)


def database_name(target: PostgresTarget) -> str:
    return target.conninfo.rsplit("/", 1)[1]


def draft(report, at: float) -> SnapshotDraft:
    return SnapshotDraft("scan", [SourceResult("python", RunStatus.OK, report)], created_at=at)


async def everything(target: PostgresTarget) -> dict[int, tuple]:
    """Every snapshot with its files' numbers, by id."""
    async with await Store.open(target, read_only=True) as store:
        return {
            s.id: (s.numbers, sorted((f.path, f.numbers) for f in await store.files(snapshot_id=s.id)))
            for s in await store.snapshots(limit=10_000)
        }


HOLDER = """
import asyncio, pickle, sys
from pathlib import Path
from covtui.config import Config
from covtui.domain.model import RunStatus, SnapshotDraft, SourceResult
from covtui.dsn import PostgresTarget
from covtui.record import record_snapshot
from covtui.store import Store

real_insert = Store.insert_snapshot

async def insert_then_hang(self, plan):
    snapshot_id = await real_insert(self, plan)
    print("inside", flush=True)  # the rows are in; the transaction is open
    await asyncio.sleep(120)
    return snapshot_id

async def main():
    report = pickle.loads(Path(sys.argv[2]).read_bytes())[2]
    Store.insert_snapshot = insert_then_hang
    async with await Store.open(PostgresTarget.parse(sys.argv[1])) as store:
        draft = SnapshotDraft("scan", [SourceResult("python", RunStatus.OK, report)], created_at=9.0)
        await record_snapshot(store, draft, Config(root=Path(sys.argv[3])))

asyncio.run(main())
"""


async def test_a_writer_killed_inside_its_transaction_leaves_the_previous_state(
    target: PostgresTarget, pickled_reports: Path, tmp_path: Path
) -> None:
    reports = pickle.loads(pickled_reports.read_bytes())
    config = Config(root=tmp_path)
    async with await Store.open(target) as store:
        for i, report in enumerate(reports[:2]):
            await record_snapshot(store, draft(report, float(i)), config)
    before = await everything(target)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, target.conninfo, str(pickled_reports), str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "inside"
        holder.kill()
    finally:
        holder.wait()
    assert await everything(target) == before
    # Its write lock went with it: the next writer writes at once.
    started = time.monotonic()
    async with await Store.open(target) as store:
        snapshot_id, _ = await record_snapshot(store, draft(reports[2], 10.0), config)
        assert {f.path: f.numbers for f in await store.files()} == {f.path: f.numbers for f in reports[2].files}
    assert time.monotonic() - started < 10
    assert snapshot_id not in before and len(await everything(target)) == len(before) + 1


def test_two_writers_at_once_lose_nothing(target: PostgresTarget, pickled_reports: Path, tmp_path: Path) -> None:
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    writers = [start_writer(target.conninfo, pickled_reports, 20, log, stderr=subprocess.PIPE)
               for log in logs]
    for writer in writers:
        _, errors = writer.communicate(timeout=240)
        assert writer.returncode == 0, errors
        assert PASSWORD not in errors
    ids = [int(x) for log in logs for x in log.read_text().split()]
    assert len(ids) == len(set(ids)) == 40
    reports = pickle.loads(pickled_reports.read_bytes())
    stored = asyncio.run(everything(target))
    assert sorted(stored) == sorted(ids)
    # Each writer cycles through the reports: every snapshot's files are one report's, whole.
    shapes = [sorted((f.path, f.numbers) for f in r.files) for r in reports]
    assert all(files in shapes for _, files in stored.values())


async def test_a_connection_dropped_during_a_write_is_one_line_and_changes_nothing(
    target: PostgresTarget, pickled_reports: Path, tmp_path: Path, monkeypatch
) -> None:
    reports = pickle.loads(pickled_reports.read_bytes())
    config = Config(root=tmp_path)
    async with await Store.open(target) as store:
        await record_snapshot(store, draft(reports[0], 1.0), config)
    before = await everything(target)
    store = await Store.open(target)
    (pid,) = (await store._one("SELECT pg_backend_pid()"))
    real_insert = Store.insert_snapshot

    async def insert_then_lose_the_server(self, plan):
        snapshot_id = await real_insert(self, plan)
        postgres.admin("SELECT pg_terminate_backend(%s)", (pid,))
        return snapshot_id

    monkeypatch.setattr(Store, "insert_snapshot", insert_then_lose_the_server)
    try:
        with pytest.raises(StoreError) as caught:
            await record_snapshot(store, draft(reports[1], 2.0), config)
    finally:
        await store.close()
    message = str(caught.value)
    assert "\n" not in message and PASSWORD not in message
    assert message.startswith(f"{target}: ") and "***" in message
    assert await everything(target) == before


async def test_the_dashboard_goes_stale_when_the_server_drops_it_and_recovers(target: PostgresTarget, tmp_path: Path) -> None:
    from covtui.scan import run_scan
    from covtui.tui.app import CovtuiApp
    from covtui.widgets.status_line import StatusLine
    from tests.ui.conftest import NOW, loaded, screen_text, wait_for
    from tests.ui.fixtures import T0, add_snapshot, build_fixture_database, fixture_config

    config = fixture_config(tmp_path)
    await build_fixture_database(target, config)
    app = CovtuiApp(config, target, scanner=run_scan, clock=lambda: NOW)
    name = database_name(target)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert PASSWORD not in screen_text(app) and str(target) in app.sub_title
        # The server drops every connection of the dashboard's and refuses new ones a while.
        postgres.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        postgres.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,),
        )
        before = app.state.latest.id
        status = app.screen.query_one(StatusLine)
        await wait_for(pilot, lambda: status.has_class("-stale"), timeout=10.0)
        await pilot.pause()
        shown = screen_text(app)
        assert "STALE" in shown and "Top 5 critical files" in shown  # the last data stays
        assert PASSWORD not in shown and PASSWORD not in app.poll_status.error
        # By itself: reconnects once it may, and a snapshot written meanwhile shows.
        postgres.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await add_snapshot(target, config, created_at=T0 + 300)
        await wait_for(pilot, lambda: app.poll_status.error is None and app.state.latest.id == before + 1,
                       timeout=20.0)
        await pilot.pause()
        assert not status.has_class("-stale") and "● live" in screen_text(app)
