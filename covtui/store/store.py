"""`Store`: the writes and reads of the monitoring database."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from covtui.domain.codec import (
    decode_arcs,
    decode_functions,
    decode_line_tests,
    decode_lines,
    decode_names,
    decode_outcomes,
    encode_line_tests,
    encode_names,
    encode_outcomes,
)
from covtui.domain.contexts import LineTests
from covtui.domain.exclusions import ReasonCount
from covtui.domain.model import Alert, FileCoverage
from covtui.domain.numbers import Numbers
from covtui.domain.recording import (
    Baseline,
    FileState,
    PreviousTests,
    SnapshotPlan,
    SourceHistory,
)
from covtui.domain.records import (
    FileDetail,
    FileRow,
    Heartbeat,
    SnapshotRow,
    SourceRow,
    TrendPoint,
)
from covtui.domain.retention import retention_cutoff
from covtui.errors import StoreError
from covtui.store import open_connection
from covtui.store.rows import (
    ALERT_COLUMNS,
    D_NUMBERS,
    DETAIL,
    DETAIL_FIELDS,
    F_NUMBERS,
    INSERT_SNAPSHOT,
    INSERT_SOURCE_RESULT,
    INSERT_STATE,
    LAST_GOOD,
    LAST_GOOD_NUMBERS,
    LAST_GOOD_SQL,
    LATEST,
    N_NUMBER_COLUMNS,
    NUMBERS,
    SNAPSHOT_COLUMNS,
    SOURCE_COLUMNS,
    SOURCE_KEY,
    STATE_AT_SQL,
    STATE_DETAIL,
    STATE_FIELDS,
    alert_row,
    file_coverage_of,
    snapshot_row,
    source_row,
    source_values,
    state_values,
    test_values,
)
from covtui.store.schema import NUMBER_COLUMNS
from covtui.store.shards import ShardStore

if TYPE_CHECKING:
    from covtui.dsn import PostgresTarget
    from covtui.store.postgres import PostgresConnection
    from covtui.store.sqlite import SqliteConnection

#: How many ids one `IN (…)` names (SQLite's oldest variable limit is 999).
IDS_PER_STATEMENT = 500


@dataclass(frozen=True)
class PruneResult:
    n_snapshots: int
    n_alerts: int
    bytes_before: int
    bytes_after: int
    n_ci_runs: int = 0  # finished CI shard runs forgotten with their snapshots


class Store(ShardStore):
    """One connection to the monitoring database (SQLite or PostgreSQL: `conn.backend`)."""

    #: About how many file changes one prune transaction drops (a few tenths of a second),
    #: and the pause after it in which writers get the lock.
    PRUNE_STEP_ROWS = 20_000
    PRUNE_PAUSE_S = 0.12

    def __init__(self, conn: SqliteConnection | PostgresConnection) -> None:
        self.conn = conn
        #: The database file, or the PostgreSQL database (its `str()` masks the password).
        self.path: Path | PostgresTarget = conn.path

    @classmethod
    async def open(
        cls, path: Path | PostgresTarget, *, create: bool = True, read_only: bool = False
    ) -> Store:
        """`path`: an SQLite file or a PostgreSQL database. `read_only`: for readers (status,
        report, the dashboard); needs no write access."""
        return cls(await open_connection(path, create=create and not read_only, read_only=read_only))

    @property
    def backend(self) -> str:
        """"sqlite" or "postgres"."""
        return self.conn.backend

    async def close(self) -> None:
        await self.conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _all(self, sql: str, params: Sequence | dict = ()) -> list:
        return await self.conn.fetchall(sql, params)

    async def _one(self, sql: str, params: Sequence | dict = ()):
        rows = await self.conn.fetchall(sql, params)
        return rows[0] if rows else None

    async def schema_version(self) -> int:
        """The database's schema version now (a newer covtui may migrate it while we are open)."""
        return await self.conn.schema_version()

    async def data_version(self) -> int:
        """Changes whenever another connection commits: the dashboard's cheap change check."""
        return await self.conn.data_version()

    # -- writing a snapshot: `covtui.record` reads its history, plans it, inserts the plan ------

    def transaction(self):
        """`async with store.transaction():` a write transaction (one writer at a time, as
        SQLite's BEGIN IMMEDIATE), rolled back on any error, so what the history reads is what
        the insert writes on top of."""
        return self.conn.transaction()

    async def last_good_numbers(self) -> dict[str, Numbers]:
        """Each source's numbers at its latest good result that measured coverage."""
        return {
            row[LAST_GOOD.index["name"]]: Numbers(*row[LAST_GOOD_NUMBERS])
            for row in await self._all(LAST_GOOD_SQL)
        }

    async def baseline(self, sources_key: str) -> Baseline | None:
        """The latest good snapshot over exactly the sources in `sources_key`."""
        row = await self._one(
            "SELECT id, created_at, pc_covered, n_excluded FROM snapshots "
            "WHERE status = 'ok' AND sources_key = ? ORDER BY id DESC LIMIT 1",
            (sources_key,),
        )
        if row is None:
            return None
        baseline = Baseline(*row)
        counted = await self.exclusion_counts([baseline.snapshot_id])
        return dataclasses.replace(baseline, exclusions=counted.get(baseline.snapshot_id))

    async def source_history(self, source: str, wall_window: int) -> SourceHistory:
        """The source's previous good run that counted tests (with their ids, when kept) and
        the wall times of its last `wall_window` good runs."""
        row = await self._one(
            "SELECT r.snapshot_id, r.n_tests, r.n_failed + r.n_errors, t.ids "
            "FROM source_results r LEFT JOIN test_ids t "
            "ON t.source = r.source AND t.snapshot_id = r.snapshot_id "
            "WHERE r.source = ? AND r.status = 'ok' AND r.n_tests IS NOT NULL "
            "ORDER BY r.snapshot_id DESC LIMIT 1",
            (source,),
        )
        previous = None
        if row is not None:
            snapshot_id, n_tests, n_failures, ids = row
            previous = PreviousTests(
                snapshot_id, n_tests, decode_names(ids) if ids is not None else None, n_failures
            )
        return SourceHistory(previous, await self.good_walls(source, wall_window))

    async def good_walls(
        self, source: str, limit: int, before_id: int | None = None
    ) -> list[float]:
        """Wall times of the source's last `limit` good runs (before snapshot `before_id`),
        newest first: what its test time is compared with."""
        rows = await self._all(
            # Only runs of the whole suite: an incremental run's time says nothing about it.
            "SELECT r.wall_s FROM source_results r JOIN snapshots s ON s.id = r.snapshot_id "
            "WHERE r.source = ? AND r.status = 'ok' AND s.scope = 'full' "
            "AND r.wall_s IS NOT NULL AND r.snapshot_id < ? ORDER BY r.snapshot_id DESC LIMIT ?",
            (source, before_id if before_id is not None else 2**62, limit),
        )
        return [wall_s for (wall_s,) in rows]

    async def current_files(self, source: str) -> dict[str, FileState]:
        """Every file the source has reported, by path, at its latest state."""
        return (await self.current_files_as_stored(source))[0]

    async def current_files_as_stored(
        self, source: str
    ) -> tuple[dict[str, FileState], dict[str, tuple[str, str, str]]]:
        """`current_files()`, and each stored state's texts as kept (missed lines, arcs,
        functions: `codec`'s encodings), by path."""
        files: dict[str, FileState] = {}
        stored: dict[str, tuple[str, str, str]] = {}
        for row in await self._all(STATE_AT_SQL, {"source": source, "sid": LATEST}):
            file_id, path, state_id = STATE_FIELDS(row)
            if state_id is None:
                files[path] = FileState(file_id, None)
                continue
            files[path] = FileState(file_id, file_coverage_of(path, row))
            stored[path] = STATE_DETAIL(row)
        return files, stored

    async def insert_snapshot(self, plan: SnapshotPlan) -> int:
        """Write a planned snapshot (inside `transaction()`); return its id.

        Its alerts, and the files the store had not seen, get their ids here.
        """
        draft, overall = plan.draft, plan.overall
        snapshot_id = await self.conn.insert(
            INSERT_SNAPSHOT,
            (
                plan.created_at,
                draft.trigger,
                draft.label,
                draft.status.value,
                draft.git.commit,
                draft.git.branch,
                None if draft.git.dirty is None else int(draft.git.dirty),
                ",".join(r.name for r in plan.measured),
                plan.sources_key,
                *(
                    (getattr(overall, c) for c in NUMBER_COLUMNS)
                    if overall is not None
                    else [None] * N_NUMBER_COLUMNS
                ),
                overall.pc_covered if overall is not None else None,
                *test_values(plan.tests),
                plan.run.wall_s,
                plan.run.cpu_s,
                plan.run.peak_rss_kb,
                plan.run.read_s,
                draft.diff.base if draft.diff else None,
                draft.diff.n_statements if draft.diff else None,
                draft.diff.n_missing if draft.diff else None,
                draft.scope,
                draft.n_tests_run,
            ),
        )
        if draft.exclusions is not None:
            await self._insert_exclusion_counts(snapshot_id, draft.exclusions)
        if plan.measured:
            await self.conn.executemany(
                "INSERT INTO sources (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                [(r.name,) for r in plan.measured],
            )
            await self.conn.executemany(
                INSERT_SOURCE_RESULT,
                [source_values(snapshot_id, plan.created_at, r) for r in plan.measured],
            )
        if plan.test_ids:
            await self.conn.executemany(
                "INSERT INTO test_ids (source, snapshot_id, ids) VALUES (?, ?, ?) ON CONFLICT "
                "(source) DO UPDATE SET snapshot_id = excluded.snapshot_id, ids = excluded.ids",
                [(name, snapshot_id, encode_names(ids)) for name, ids in plan.test_ids.items()],
            )
        if plan.file_writes:
            await self._insert_file_writes(snapshot_id, plan)
        await self._insert_line_tests(snapshot_id, plan)
        if plan.flaky_writes:
            await self.conn.executemany(
                "INSERT INTO flaky_lines (file_id, line, score, flipped_at) "
                "SELECT id, ?, ?, ? FROM files WHERE source = ? AND path = ? "
                "ON CONFLICT (file_id, line) DO UPDATE SET score = excluded.score, "
                "flipped_at = excluded.flipped_at",
                [(line, s.value, s.at, source, path) for source, path, line, s in plan.flaky_writes],
            )
        for alert in plan.alerts:
            alert.id = await self.conn.insert(
                "INSERT INTO alerts (snapshot_id, created_at, rule, severity, source, path, message, "
                "value, threshold, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    snapshot_id,
                    plan.created_at,
                    alert.rule,
                    alert.severity.value,
                    alert.source,
                    alert.path,
                    alert.message,
                    alert.value,
                    alert.threshold,
                    alert.detail,
                ),
            )
            alert.snapshot_id = snapshot_id
        return snapshot_id

    async def _insert_exclusion_counts(self, snapshot_id: int, counts: Sequence[ReasonCount]) -> None:
        await self.conn.execute(
            "UPDATE snapshots SET exclusions_counted = 1 WHERE id = ?", (snapshot_id,)
        )
        await self.conn.executemany(
            "INSERT INTO exclusion_counts (snapshot_id, reason, n_lines, n_files) VALUES (?, ?, ?, ?)",
            [(snapshot_id, c.reason, c.n_lines, c.n_files) for c in counts],
        )

    async def exclusion_counts(self, snapshot_ids: Sequence[int]) -> dict[int, tuple[ReasonCount, ...]]:
        """The counts per reason each of `snapshot_ids` recorded, in the order they were
        counted; a snapshot that recorded none is left out (not recorded, not 0)."""
        result: dict[int, tuple[ReasonCount, ...]] = {}
        ids = list(dict.fromkeys(snapshot_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            counted = {sid for (sid,) in await self._all(
                f"SELECT id FROM snapshots WHERE id IN ({marks}) AND exclusions_counted = 1", chunk
            )}
            found: dict[int, list[ReasonCount]] = {sid: [] for sid in counted}
            for sid, reason, n_lines, n_files in await self._all(
                f"SELECT snapshot_id, reason, n_lines, n_files FROM exclusion_counts "
                f"WHERE snapshot_id IN ({marks})", chunk
            ):
                if sid in found:
                    found[sid].append(ReasonCount(reason, n_lines, n_files))
            result |= {sid: tuple(_reason_order(rows)) for sid, rows in found.items()}
        return result

    async def _insert_file_writes(self, snapshot_id: int, plan: SnapshotPlan) -> None:
        """The plan's file states and changes, a statement per table.

        Ids are given explicitly, as SQLite would (one past the largest): the write lock is
        held, so they are free, and changes can name their states without a read per row.
        """
        last_file, last_state = await self._one(
            "SELECT (SELECT MAX(id) FROM files), (SELECT MAX(id) FROM file_states)"
        )
        new = [w for w in plan.file_writes if w.file_id is None]
        file_ids: dict[tuple[str, str], int] = {}
        if new:
            rows = [((last_file or 0) + i, w.source, w.path) for i, w in enumerate(new, 1)]
            n_inserted = await self.conn.executemany(
                "INSERT INTO files (id, source, path) VALUES (?, ?, ?) "
                "ON CONFLICT (source, path) DO NOTHING",
                rows,
            )
            if n_inserted == len(rows):
                file_ids = {(source, path): file_id for file_id, source, path in rows}
            else:  # a path the store already had (or one listed twice): its existing id
                for _, source, path in rows:
                    (file_ids[source, path],) = await self._one(
                        "SELECT id FROM files WHERE source = ? AND path = ?", (source, path)
                    )
            for w in new:
                plan.files[w.source][w.path] = FileState(file_ids[w.source, w.path], w.coverage)
        states: list[tuple] = []
        changes: list[tuple[int, int, int | None]] = []
        state_id = last_state or 0
        for w in plan.file_writes:
            file_id = w.file_id if w.file_id is not None else file_ids[w.source, w.path]
            if w.coverage is None:
                changes.append((file_id, snapshot_id, None))
                continue
            state_id += 1
            states.append((state_id, *state_values(w.coverage)))
            changes.append((file_id, snapshot_id, state_id))
        if states:
            await self.conn.executemany(INSERT_STATE, states)
        await self.conn.executemany(
            "INSERT INTO file_changes (file_id, snapshot_id, state_id) VALUES (?, ?, ?)", changes
        )

    async def _insert_line_tests(self, snapshot_id: int, plan: SnapshotPlan) -> None:
        """Per-test coverage and test outcomes of the sources that recorded them. A file's
        blob is stored once however many snapshots have the same one."""
        rows: list[tuple] = []
        blobs: dict[bytes, bytes] = {}
        outcomes = []
        for result in plan.measured:
            if result.outcomes is not None:
                outcomes.append((snapshot_id, result.name, encode_outcomes(result.outcomes)))
            line_tests = result.report.line_tests if result.report is not None else None
            files = plan.files.get(result.name, {})
            for path, tests in (line_tests or {}).items():
                state = files.get(path)
                if state is None or state.file_id is None:
                    continue
                data = encode_line_tests(tests)
                digest = hashlib.blake2b(data, digest_size=16).digest()
                blobs[digest] = data
                rows.append((snapshot_id, state.file_id, tests.content, digest))
        if outcomes:
            await self.conn.executemany(
                "INSERT INTO test_runs (snapshot_id, source, outcomes) VALUES (?, ?, ?) "
                "ON CONFLICT (snapshot_id, source) DO UPDATE SET outcomes = excluded.outcomes",
                outcomes,
            )
        if rows:
            await self.conn.executemany(
                "INSERT INTO line_test_blobs (digest, data) VALUES (?, ?) "
                "ON CONFLICT (digest) DO NOTHING",
                blobs.items(),
            )
            await self.conn.executemany(
                "INSERT INTO line_tests (snapshot_id, file_id, content, blob_id) "
                "SELECT ?, ?, ?, id FROM line_test_blobs WHERE digest = ? "
                "ON CONFLICT (snapshot_id, file_id) DO UPDATE SET content = excluded.content, "
                "blob_id = excluded.blob_id",
                rows,
            )

    # -- per-test coverage -------------------------------------------------------------------

    async def states_at(self, snapshot_id: int) -> dict[tuple[str, str], FileCoverage]:
        """(source, path) → every reported file's state at `snapshot_id`, across sources."""
        states: dict[tuple[str, str], FileCoverage] = {}
        for (name,) in await self._all("SELECT name FROM sources ORDER BY name"):
            for row in await self._all(STATE_AT_SQL, {"source": name, "sid": snapshot_id}):
                _, path, state_id = STATE_FIELDS(row)
                if state_id is not None:
                    states[name, path] = file_coverage_of(path, row)
        return states

    async def last_good_snapshot(self, source: str) -> int | None:
        """The snapshot of the source's latest good result."""
        row = await self._one(
            "SELECT MAX(snapshot_id) FROM source_results WHERE source = ? AND status = 'ok'",
            (source,),
        )
        return row[0] if row else None

    async def line_test_snapshots(self) -> list[int]:
        """The snapshots that kept per-test coverage, newest first."""
        rows = await self._all("SELECT DISTINCT snapshot_id FROM line_tests ORDER BY snapshot_id DESC")
        return [r[0] for r in rows]

    async def line_tests(
        self, snapshot_id: int, *, source: str | None = None, path: str | None = None,
        deferred: bool = False,
    ) -> dict[tuple[str, str], LineTests]:
        """(source, path) → which contexts ran each line, at `snapshot_id` (empty: not kept).
        `deferred`: each file is decoded when its lines are first asked for (a scan compares
        most files by their blobs), not here."""
        sql = (
            "SELECT f.source, f.path, l.content, b.data FROM line_tests l "
            "JOIN files f ON f.id = l.file_id JOIN line_test_blobs b ON b.id = l.blob_id "
            "WHERE l.snapshot_id = ?"
        )
        params: list = [snapshot_id]
        if source is not None:
            sql += " AND f.source = ?"
            params.append(source)
        if path is not None:
            sql += " AND f.path = ?"
            params.append(path)
        found = {
            (src, p): decode_line_tests(data, content)
            for src, p, content, data in await self._all(sql, params)
        }
        if not deferred:
            for tests in found.values():
                tests.lines  # noqa: B018 - decoded now: a bad blob fails the query, not a reader
        return found

    async def test_outcomes(self, snapshot_id: int) -> dict[str, dict[str, str]]:
        """Source → test id → outcome at `snapshot_id` (sources that recorded them)."""
        rows = await self._all(
            "SELECT source, outcomes FROM test_runs WHERE snapshot_id = ?", (snapshot_id,)
        )
        return {source: decode_outcomes(blob) for source, blob in rows}

    async def flaky_scores(
        self, source: str | None = None
    ) -> dict[tuple[str, str], dict[int, tuple[float, float]]]:
        """(source, path) → line → (score, time of its last flip), for lines that ever flipped."""
        sql = (
            "SELECT f.source, f.path, k.line, k.score, k.flipped_at FROM flaky_lines k "
            "JOIN files f ON f.id = k.file_id"
        )
        rows = await (self._all(sql + " WHERE f.source = ?", (source,)) if source else self._all(sql))
        out: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
        for src, path, line, score, at in rows:
            out.setdefault((src, path), {})[line] = (score, at)
        return out

    async def line_test_bytes(self) -> int:
        """What per-test coverage takes in the database (blobs, rows' own share not counted)."""
        row = await self._one(
            "SELECT COALESCE(SUM(length(data)), 0) + (SELECT COALESCE(SUM(length(outcomes)), 0) "
            "FROM test_runs) FROM line_test_blobs"
        )
        return row[0]

    async def _prune_line_tests(self) -> None:
        """Keep per-test coverage for the two newest snapshots that have it, every snapshot an
        alert refers to and the one before each of those (what the alert compared with)."""
        keep = (
            "SELECT snapshot_id FROM (SELECT DISTINCT snapshot_id FROM line_tests "
            "ORDER BY snapshot_id DESC LIMIT 2) AS newest "
            "UNION SELECT snapshot_id FROM alerts WHERE snapshot_id IS NOT NULL "
            "UNION SELECT (SELECT MAX(l.snapshot_id) FROM line_tests l "
            "WHERE l.snapshot_id < a.snapshot_id) FROM alerts a WHERE a.snapshot_id IS NOT NULL"
        )
        await self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS kept_tests (id INTEGER PRIMARY KEY)")
        await self.conn.execute("DELETE FROM kept_tests")
        await self.conn.execute(
            f"INSERT INTO kept_tests SELECT snapshot_id FROM ({keep}) AS k "
            "WHERE snapshot_id IS NOT NULL ON CONFLICT (id) DO NOTHING"
        )
        await self.conn.execute(
            "DELETE FROM line_tests WHERE snapshot_id NOT IN (SELECT id FROM kept_tests)"
        )
        await self.conn.execute(
            "DELETE FROM test_runs WHERE snapshot_id NOT IN (SELECT id FROM kept_tests)"
        )
        await self.conn.execute(
            "DELETE FROM line_test_blobs WHERE NOT EXISTS "
            "(SELECT 1 FROM line_tests WHERE blob_id = line_test_blobs.id)"
        )

    # -- alerts and maintenance ----------------------------------------------------------------

    async def acknowledge(self, ids: Iterable[int] | None = None) -> int:
        """Acknowledge the given alerts (all unacknowledged ones when `ids` is None)."""
        return len(await self.set_acknowledged(ids, True))

    async def set_acknowledged(self, ids: Iterable[int] | None, acknowledged: bool) -> list[int]:
        """Acknowledge the given alerts, or take their acknowledgement back (`ids` None: all
        of them), in one transaction; an unknown id changes nothing. Returns the ids whose
        state changed, so that an acknowledgement can be undone exactly."""
        value = time.time() if acknowledged else None
        change = "UPDATE alerts SET acknowledged_at = ? WHERE acknowledged_at IS " + (
            "NULL" if acknowledged else "NOT NULL"
        )
        async with self.conn.transaction():
            if ids is None:
                return sorted(r[0] for r in await self._all(change + " RETURNING id", (value,)))
            wanted = sorted(set(ids))
            # Any number of ids, a slice per statement (past SQLite's variable limit).
            slices = [wanted[i:i + IDS_PER_STATEMENT] for i in range(0, len(wanted), IDS_PER_STATEMENT)]
            known = set()
            for part in slices:
                known.update(r[0] for r in await self._all(
                    f"SELECT id FROM alerts WHERE id IN ({', '.join('?' * len(part))})", part
                ))
            missing = [i for i in wanted if i not in known]
            if missing:
                raise StoreError(f"{self.path}: no alert with id {missing[0]}")
            changed = []
            for part in slices:
                changed += [r[0] for r in await self._all(
                    change + f" AND id IN ({', '.join('?' * len(part))}) RETURNING id", (value, *part)
                )]
            return sorted(changed)

    async def prune(self, older_than_days: float, now: float | None = None) -> PruneResult:
        """Drop snapshots older than the cutoff, keeping the latest snapshot and the file
        states it needs, and unacknowledged alerts; finished CI runs go with their snapshots.

        Oldest first, in short transactions of about `PRUNE_STEP_ROWS` file changes: each
        one leaves a complete, smaller history, and writers get the lock between them.
        """
        now = time.time() if now is None else now
        bytes_before = await self.conn.size_bytes()
        newest = [r[0] for r in await self._all(
            "SELECT created_at FROM snapshots ORDER BY id DESC LIMIT 2"
        )]
        cutoff = retention_cutoff(now, newest, older_than_days)
        row = await self._one(
            "SELECT MIN(id) FROM snapshots WHERE created_at >= ? OR id = (SELECT MAX(id) FROM snapshots)",
            (cutoff,),
        )
        keep_from = row[0]
        if keep_from is None:
            async with self.conn.transaction():
                n_ci_runs = await self.prune_ci_runs(None)
            return PruneResult(0, 0, bytes_before, bytes_before, n_ci_runs)
        # Never past a source's last good result: the total still carries it.
        for (name,) in await self._all("SELECT name FROM sources ORDER BY name"):
            last_ok = await self._one(
                "SELECT MAX(snapshot_id) FROM source_results WHERE source = ? AND status = 'ok'",
                (name,),
            )
            if last_ok[0] is not None:
                keep_from = min(keep_from, last_ok[0])
        n_snapshots = 0
        while True:
            async with self.conn.transaction():
                dropped = await self._prune_step(keep_from)
            if dropped is None:
                break
            n_snapshots += dropped
            # A waiting writer retries its lock every 100 ms at most: give it that chance.
            await asyncio.sleep(self.PRUNE_PAUSE_S)
        async with self.conn.transaction():
            n_alerts = await self.conn.execute(
                "DELETE FROM alerts WHERE created_at < ? AND acknowledged_at IS NOT NULL "
                "AND (snapshot_id IS NULL OR snapshot_id < ?)",
                (cutoff, keep_from),
            )
            await self._prune_line_tests()
            n_ci_runs = await self.prune_ci_runs(keep_from)
        if n_snapshots or n_alerts or n_ci_runs:
            await self.conn.reclaim_space()
        return PruneResult(
            n_snapshots, n_alerts, bytes_before, await self.conn.size_bytes(), n_ci_runs
        )

    async def _prune_step(self, keep_from: int) -> int | None:
        """Drop the oldest snapshots, up to about PRUNE_STEP_ROWS file changes' worth (never
        `keep_from` or later); None when there is nothing left to drop."""
        oldest = (await self._one("SELECT MIN(id) FROM snapshots"))[0]
        if oldest is None or oldest >= keep_from:
            return None
        row = await self._one(
            "SELECT snapshot_id FROM file_changes WHERE snapshot_id < ? "
            "ORDER BY snapshot_id LIMIT 1 OFFSET ?",
            (keep_from, self.PRUNE_STEP_ROWS),
        )
        until = keep_from  # this step keeps snapshots from `until` on
        if row is not None:
            after = await self._one(
                "SELECT MIN(id) FROM snapshots WHERE id > ? AND id <= ?", (row[0], keep_from)
            )
            until = after[0] if after[0] is not None else keep_from
        if until <= oldest:  # (rows older than the oldest snapshot: still make progress)
            until = (await self._one("SELECT MIN(id) FROM snapshots WHERE id > ?", (oldest,)))[0]
        # Each file's state as of `until` moves onto that snapshot, so history from there on
        # reads the same after the older rows are gone.
        await self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS carried (file_id INTEGER PRIMARY KEY, sid INTEGER)"
        )
        await self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS dropped_states (id INTEGER PRIMARY KEY)"
        )
        await self.conn.execute("DELETE FROM carried")
        await self.conn.execute("DELETE FROM dropped_states")
        await self.conn.execute(
            "INSERT INTO carried SELECT file_id, MAX(snapshot_id) FROM file_changes "
            "INDEXED BY file_changes_snapshot WHERE snapshot_id <= ? GROUP BY file_id",
            (until,),
        )
        gone = (
            "FROM file_changes WHERE snapshot_id < :until AND NOT EXISTS (SELECT 1 FROM carried "
            "WHERE carried.file_id = file_changes.file_id AND sid = file_changes.snapshot_id)"
        )
        await self.conn.execute(
            f"INSERT INTO dropped_states SELECT state_id {gone} AND state_id IS NOT NULL "
            "ON CONFLICT (id) DO NOTHING",
            {"until": until},
        )
        await self.conn.execute(f"DELETE {gone}", {"until": until})
        await self.conn.execute(
            "UPDATE file_changes SET snapshot_id = ? WHERE snapshot_id < ?", (until, until)
        )
        # A file that had left the report before `until` needs no row at all.
        await self.conn.execute(
            "DELETE FROM file_changes WHERE snapshot_id = ? AND state_id IS NULL "
            "AND file_id IN (SELECT file_id FROM carried WHERE sid < ?)",
            (until, until),
        )
        await self.conn.execute(
            "DELETE FROM file_states WHERE id IN (SELECT id FROM dropped_states) "
            "AND NOT EXISTS (SELECT 1 FROM file_changes WHERE state_id = file_states.id)"
        )
        await self.conn.execute(
            "DELETE FROM files WHERE id IN (SELECT file_id FROM carried WHERE sid < ?) "
            "AND NOT EXISTS (SELECT 1 FROM file_changes WHERE file_id = files.id)",
            (until,),
        )
        await self.conn.execute(
            "UPDATE alerts SET snapshot_id = NULL WHERE snapshot_id < ?", (until,)
        )
        await self.conn.execute("DELETE FROM source_results WHERE snapshot_id < ?", (until,))
        await self.conn.execute("DELETE FROM exclusion_counts WHERE snapshot_id < ?", (until,))
        return await self.conn.execute("DELETE FROM snapshots WHERE id < ?", (until,))

    async def beat(self, name: str, *, started_at: float, next_scan_at: float | None, state: str) -> None:
        """Record that a watcher is alive (and when it scans next)."""
        async with self.conn.transaction():
            await self.conn.execute(
                "INSERT INTO heartbeats (name, pid, started_at, beat_at, next_scan_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, "
                "started_at = excluded.started_at, beat_at = excluded.beat_at, "
                "next_scan_at = excluded.next_scan_at, state = excluded.state",
                (name, os.getpid(), started_at, time.time(), next_scan_at, state),
            )

    async def end_beat(self, name: str) -> None:
        async with self.conn.transaction():
            await self.conn.execute("DELETE FROM heartbeats WHERE name = ?", (name,))

    # -- reading ---------------------------------------------------------------------------

    async def latest_snapshot(self) -> SnapshotRow | None:
        row = await self._one(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots ORDER BY id DESC LIMIT 1")
        return snapshot_row(row) if row else None

    async def snapshot(self, snapshot_id: int) -> SnapshotRow | None:
        row = await self._one(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE id = ?", (snapshot_id,))
        return snapshot_row(row) if row else None

    async def snapshots(self, limit: int = 50, *, since: float | None = None) -> list[SnapshotRow]:
        """Newest first."""
        rows = await self._all(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE created_at >= ? ORDER BY id DESC LIMIT ?",
            (since if since is not None else 0, limit),
        )
        return [snapshot_row(r) for r in rows]

    async def comparable_before(self, snapshot: SnapshotRow) -> SnapshotRow | None:
        """The good snapshot before `snapshot` over the same sources: what its change is against."""
        row = await self._one(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE status = 'ok' AND id < ? AND "
            "sources_key = (SELECT sources_key FROM snapshots WHERE id = ?) ORDER BY id DESC LIMIT 1",
            (snapshot.id, snapshot.id),
        )
        return snapshot_row(row) if row else None

    async def source_good_before(
        self, snapshot_id: int, source: str, *, with_tests: bool = False
    ) -> SnapshotRow | None:
        """The latest snapshot before `snapshot_id` in which `source` ran well (and counted
        tests, with `with_tests`): what that source's results were compared with."""
        row = await self._one(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE id = (SELECT MAX(snapshot_id) "
            "FROM source_results WHERE source = ? AND snapshot_id < ? AND status = 'ok'"
            + (" AND n_tests IS NOT NULL" if with_tests else "") + ")",
            (source, snapshot_id),
        )
        return snapshot_row(row) if row else None

    async def sources(self) -> list[SourceRow]:
        """Each source's latest result, with its previous good coverage for the change.

        When that result measured no coverage (a failed run, test outcomes only) or is not a
        good run (a partial one), its numbers are the source's last good measured ones: what
        the total counts for it.
        """
        rows = []
        for (name,) in await self._all("SELECT name FROM sources ORDER BY name"):
            row = await self._one(
                f"SELECT {SOURCE_COLUMNS} FROM source_results r JOIN snapshots s "
                "ON s.id = r.snapshot_id WHERE r.source = ? ORDER BY r.snapshot_id DESC LIMIT 1",
                (name,),
            )
            if row is not None:
                rows.append(row)
        result = []
        for row in rows:
            name, sid = SOURCE_KEY(row)
            last_ok = await self._one(
                "SELECT snapshot_id FROM source_results WHERE source = ? AND status = 'ok' "
                "AND snapshot_id <= ? ORDER BY snapshot_id DESC LIMIT 1",
                (name, sid),
            )
            previous = await self._one(
                "SELECT snapshot_id, pc_covered FROM source_results WHERE source = ? AND status = 'ok' "
                "AND snapshot_id < ? ORDER BY snapshot_id DESC LIMIT 1",
                (name, last_ok[0] if last_ok else sid),
            )
            shown = source_row(
                row,
                previous_pc=previous[1] if previous else None,
                previous_snapshot_id=previous[0] if previous else None,
                last_ok_snapshot_id=last_ok[0] if last_ok else None,
            )
            if shown.numbers is None or shown.status != "ok":
                measured = await self._one(
                    f"SELECT {NUMBERS} FROM source_results WHERE source = ? AND status = 'ok' "
                    "AND n_files IS NOT NULL ORDER BY snapshot_id DESC LIMIT 1",
                    (name,),
                )
                shown = dataclasses.replace(
                    shown, numbers=Numbers(*measured) if measured is not None else None
                )
            result.append(shown)
        return result

    async def files(self, source: str | None = None, snapshot_id: int | None = None) -> list[FileRow]:
        """Every file's state at `snapshot_id` (default: now), with its state at the source's
        previous good snapshot for the change."""
        names = [source] if source else [r[0] for r in await self._all("SELECT name FROM sources ORDER BY name")]
        result: list[FileRow] = []
        for name in names:
            at = snapshot_id if snapshot_id is not None else LATEST
            current = await self._all(STATE_AT_SQL, {"source": name, "sid": at})
            ok_ids = await self._all(
                "SELECT snapshot_id FROM source_results WHERE source = ? AND status = 'ok' "
                "AND n_files IS NOT NULL AND snapshot_id <= ? ORDER BY snapshot_id DESC LIMIT 2",
                (name, at),
            )
            previous: dict[str, Numbers] = {}
            if len(ok_ids) == 2:
                for row in await self._all(STATE_AT_SQL, {"source": name, "sid": ok_ids[1][0]}):
                    _, path, state_id = STATE_FIELDS(row)
                    if state_id is not None:
                        previous[path] = Numbers(*row[F_NUMBERS])
            for row in current:
                _, path, state_id = STATE_FIELDS(row)
                if state_id is None:
                    continue
                result.append(FileRow(name, path, Numbers(*row[F_NUMBERS]), previous.get(path)))
        return result

    async def file_detail(
        self, source: str, path: str, snapshot_id: int | None = None
    ) -> FileDetail | None:
        row = await self._one(
            f"SELECT {DETAIL.sql} FROM files f JOIN file_changes c ON c.file_id = f.id "
            "JOIN file_states st ON st.id = c.state_id "
            "LEFT JOIN snapshots s ON s.id = c.snapshot_id "
            "WHERE f.source = ? AND f.path = ? AND c.snapshot_id <= ? "
            "ORDER BY c.snapshot_id DESC LIMIT 1",
            (source, path, snapshot_id if snapshot_id is not None else LATEST),
        )
        if row is None:
            return None
        at, created_at, missing_lines, missing_arcs, functions = DETAIL_FIELDS(row)
        return FileDetail(
            source=source,
            path=path,
            numbers=Numbers(*row[D_NUMBERS]),
            missing_lines=decode_lines(missing_lines),
            missing_arcs=decode_arcs(missing_arcs),
            functions=decode_functions(functions),
            snapshot_id=at,
            created_at=created_at or 0.0,
        )

    async def alerts(
        self,
        *,
        limit: int | None = None,
        unacknowledged_only: bool = False,
        since: float | None = None,
        since_snapshot_id: int | None = None,
    ) -> list[Alert]:
        """Newest first. `since_snapshot_id`: raised by that snapshot or a later one (by
        number: a clock that went back can't hide them)."""
        where = ["1 = 1"]
        params: list = []
        if unacknowledged_only:
            where.append("acknowledged_at IS NULL")
        if since is not None:
            where.append("created_at >= ?")
            params.append(since)
        if since_snapshot_id is not None:
            where.append("snapshot_id >= ?")
            params.append(since_snapshot_id)
        sql = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE {' AND '.join(where)} ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [alert_row(r) for r in await self._all(sql, params)]

    async def trend(self, since: float, points: int = 400) -> dict[str, list[TrendPoint]]:
        """Overall and per-source coverage since `since`, at most `points` per line: the last
        good value in each time bucket, found by one index seek per bucket (not a scan of
        every snapshot in the range)."""
        latest = await self._one("SELECT MAX(created_at) FROM snapshots")
        if latest[0] is None:
            return {"overall": []}
        bucket = max((latest[0] - since) / points, 1e-6)
        buckets = _TREND_BUCKETS
        params = {"since": since, "bucket": bucket, "latest": latest[0]}
        overall = await self._all(buckets + _TREND_OVERALL.format(columns="s.created_at, s.pc_covered"), params)
        result = {"overall": [TrendPoint(*r) for r in overall]}
        for (name,) in await self._all("SELECT name FROM sources ORDER BY name"):
            rows = await self._all(
                buckets + "SELECT r.created_at, r.pc_covered FROM b JOIN source_results r "
                "ON r.source = :source AND r.snapshot_id = ("
                "SELECT snapshot_id FROM source_results WHERE source = :source "
                "AND created_at < b.t AND created_at >= b.lo AND status = 'ok' "
                "AND pc_covered IS NOT NULL ORDER BY created_at DESC LIMIT 1) ORDER BY 1",
                {**params, "source": name},
            )
            if rows:
                result[name] = [TrendPoint(*r) for r in rows]
        return result

    async def trend_snapshots(self, since: float, points: int = 400) -> list[tuple[int, float]]:
        """(id, created_at) of the snapshots the overall trend line shows since `since`, in
        the same buckets as `trend` (a component's line is drawn at the same snapshots)."""
        latest = await self._one("SELECT MAX(created_at) FROM snapshots")
        if latest[0] is None:
            return []
        bucket = max((latest[0] - since) / points, 1e-6)
        rows = await self._all(
            _TREND_BUCKETS + _TREND_OVERALL.format(columns="s.id, s.created_at"),
            {"since": since, "bucket": bucket, "latest": latest[0]},
        )
        return [(sid, created_at) for sid, created_at in rows]

    async def file_changes_between(
        self, after_id: int, until_id: int
    ) -> list[tuple[int, str, str, Numbers | None]]:
        """Every file change after snapshot `after_id` up to `until_id`, oldest first, as
        (snapshot id, source, path, numbers; None: the file left the report)."""
        rows = await self._all(
            f"SELECT c.snapshot_id, f.source, f.path, c.state_id, "
            f"{', '.join('st.' + c for c in NUMBER_COLUMNS)} FROM file_changes c "
            "JOIN files f ON f.id = c.file_id LEFT JOIN file_states st ON st.id = c.state_id "
            "WHERE c.snapshot_id > ? AND c.snapshot_id <= ? ORDER BY c.snapshot_id",
            (after_id, until_id),
        )
        return [
            (sid, source, path, None if state_id is None else Numbers(*numbers))
            for sid, source, path, state_id, *numbers in rows
        ]

    async def first_snapshot_at(self) -> float | None:
        """When the oldest snapshot was taken (None: no snapshots)."""
        return (await self._one("SELECT MIN(created_at) FROM snapshots"))[0]

    async def coverage_range(self, since: float) -> tuple[int, float | None, float | None]:
        """How many good snapshots since `since` measured coverage, and its lowest and highest
        value among them (one pass over the trend index)."""
        n, low, high = await self._one(
            "SELECT count(*), MIN(pc_covered), MAX(pc_covered) FROM snapshots "
            "WHERE created_at >= ? AND status = 'ok' AND pc_covered IS NOT NULL",
            (since,),
        )
        return n, low, high

    async def alert_times(self, since: float) -> list[tuple[float, str, float | None]]:
        """(time, severity, the snapshot's overall coverage) of each alert since `since`,
        oldest first: where the trend marks them."""
        return [tuple(r) for r in await self._all(
            "SELECT a.created_at, a.severity, s.pc_covered FROM alerts a "
            "LEFT JOIN snapshots s ON s.id = a.snapshot_id WHERE a.created_at >= ? "
            "ORDER BY a.created_at",
            (since,),
        )]

    async def heartbeats(self) -> list[Heartbeat]:
        return [Heartbeat(*r) for r in await self._all(
            "SELECT name, pid, started_at, beat_at, next_scan_at, state FROM heartbeats"
        )]

    async def n_unacknowledged(self) -> int:
        return (await self._one("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL"))[0]

    async def recent_runs(self, limit: int) -> list[SnapshotRow]:
        """The latest snapshots that ran something (a wall time), newest first."""
        rows = await self._all(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE wall_s IS NOT NULL "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [snapshot_row(r) for r in rows]

    async def good_runs(self, measured: tuple[str, ...], before_id: int, limit: int) -> list[SnapshotRow]:
        """The last `limit` good snapshots before `before_id` that ran exactly the sources in
        `measured` and every test, newest first: what a run's totals are compared with."""
        rows = await self._all(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE status = 'ok' AND measured = ? "
            "AND scope = 'full' AND id < ? AND wall_s IS NOT NULL ORDER BY id DESC LIMIT ?",
            (",".join(measured), before_id, limit),
        )
        return [snapshot_row(r) for r in rows]

    async def good_snapshot_ids(self, limit: int) -> list[int]:
        """The latest `limit` good snapshots that measured coverage, newest first."""
        rows = await self._all(
            "SELECT id FROM snapshots WHERE status = 'ok' AND n_files IS NOT NULL "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [r[0] for r in rows]

    async def n_snapshots(self) -> int:
        return (await self._one("SELECT count(*) FROM snapshots"))[0]


# Bucket n ends at since + n × bucket (multiplied, not summed: no drift).
_TREND_BUCKETS = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE :since + i * :bucket <= :latest), "
    "b(lo, t) AS (SELECT :since + (i - 1) * :bucket, :since + i * :bucket FROM n) "
)
#: The last good snapshot in each bucket (`columns` of it), by one index seek per bucket.
_TREND_OVERALL = (
    "SELECT {columns} FROM b JOIN snapshots s ON s.id = ("
    "SELECT id FROM snapshots WHERE created_at < b.t AND created_at >= b.lo "
    "AND status = 'ok' AND pc_covered IS NOT NULL ORDER BY created_at DESC LIMIT 1) "
    "ORDER BY s.created_at"
)


def _reason_order(rows: list[ReasonCount]) -> list[ReasonCount]:
    """Line reasons by most lines, then file reasons by most files (as they were counted)."""
    return sorted(rows, key=lambda r: (r.n_lines is None, -(r.n_lines if r.n_lines is not None else r.n_files), r.reason))

