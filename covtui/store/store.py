"""`Store`: the writes and reads of the monitoring database."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from covtui.config import Config
from covtui.domain import alerts as alert_rules
from covtui.domain.codec import (
    decode_arcs,
    decode_functions,
    decode_lines,
    decode_names,
    encode_arcs,
    encode_functions,
    encode_lines,
    encode_names,
)
from covtui.domain.critical import critical_files
from covtui.domain.model import (
    Alert,
    FileCoverage,
    RunStatus,
    Severity,
    SnapshotDraft,
    SourceResult,
)
from covtui.domain.numbers import Numbers
from covtui.domain.records import (
    DashboardState,
    FileDetail,
    FileRow,
    Heartbeat,
    RunCost,
    SnapshotRow,
    SourceRow,
    TestCounts,
    TrendPoint,
)
from covtui.domain.retention import retention_cutoff
from covtui.errors import StoreError
from covtui.store import connect
from covtui.store.schema import NUMBER_COLUMNS, RUN_COLUMNS, TEST_COLUMNS

_NUMBERS = ", ".join(NUMBER_COLUMNS)
_SNAPSHOT_COLUMNS = (
    "id, created_at, trigger, label, status, git_commit, git_branch, git_dirty, measured, "
    f"{_NUMBERS}, {', '.join(TEST_COLUMNS)}, {', '.join(RUN_COLUMNS)}, "
    "diff_base, n_diff_statements, n_diff_missing"
)
_SOURCE_COLUMNS = (
    "r.source, r.snapshot_id, s.created_at, r.status, r.format, "
    f"{', '.join('r.' + c for c in NUMBER_COLUMNS)}, "
    f"{', '.join('r.' + c for c in TEST_COLUMNS)}, {', '.join('r.' + c for c in RUN_COLUMNS)}, "
    "r.message, r.measures_unimported"
)
_N = len(NUMBER_COLUMNS)
_LATEST = 2**62  # "at or before the newest snapshot"


@dataclass(frozen=True)
class PruneResult:
    n_snapshots: int
    n_alerts: int
    bytes_before: int
    bytes_after: int


def _numbers(row: Sequence) -> Numbers | None:
    return None if row[0] is None else Numbers(*row)


def _tests(row: Sequence) -> TestCounts | None:
    return None if row[0] is None else TestCounts(*row)


def _snapshot(row: Sequence) -> SnapshotRow:
    base = 9
    return SnapshotRow(
        id=row[0],
        created_at=row[1],
        trigger=row[2],
        label=row[3],
        status=row[4],
        git_commit=row[5],
        git_branch=row[6],
        git_dirty=None if row[7] is None else bool(row[7]),
        measured=tuple(filter(None, row[8].split(","))),
        numbers=_numbers(row[base : base + _N]),
        tests=_tests(row[base + _N : base + _N + 5]),
        run=RunCost(*row[base + _N + 5 : base + _N + 9]),
        diff_base=row[base + _N + 9],
        n_diff_statements=row[base + _N + 10],
        n_diff_missing=row[base + _N + 11],
    )


def _source(row: Sequence, **extra) -> SourceRow:
    base = 5
    return SourceRow(
        source=row[0],
        snapshot_id=row[1],
        created_at=row[2],
        status=row[3],
        format=row[4],
        numbers=_numbers(row[base : base + _N]),
        tests=_tests(row[base + _N : base + _N + 5]),
        run=RunCost(*row[base + _N + 5 : base + _N + 9]),
        message=row[base + _N + 9],
        measures_unimported=None if row[base + _N + 10] is None else bool(row[base + _N + 10]),
        **extra,
    )


def _alert(row: Sequence) -> Alert:
    return Alert(
        id=row[0],
        snapshot_id=row[1],
        created_at=row[2],
        rule=row[3],
        severity=Severity(row[4]),
        source=row[5],
        path=row[6],
        message=row[7],
        value=row[8],
        threshold=row[9],
        acknowledged_at=row[10],
        detail=row[11],
    )


_ALERT_COLUMNS = (
    "id, snapshot_id, created_at, rule, severity, source, path, message, value, threshold, "
    "acknowledged_at, detail"
)


def _state_values(f: FileCoverage) -> tuple:
    n = f.numbers
    return (
        *(getattr(n, c) for c in NUMBER_COLUMNS),
        encode_lines(f.missing_lines),
        encode_arcs(f.missing_arcs),
        encode_functions(f.functions),
    )


class Store:
    """One connection to the monitoring database."""

    #: About how many file changes one prune transaction drops (a few tenths of a second),
    #: and the pause after it in which writers get the lock.
    PRUNE_STEP_ROWS = 20_000
    PRUNE_PAUSE_S = 0.12

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = Path(path)

    @classmethod
    async def open(cls, path: Path, *, create: bool = True, read_only: bool = False) -> Store:
        """`read_only`: for readers (status, report, the dashboard); needs no write access."""
        return cls(await connect(path, create=create and not read_only, read_only=read_only), path)

    async def close(self) -> None:
        await self.conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # One trip to aiosqlite's thread per query (execute + fetch + close would be three).
    async def _all(self, sql: str, params: Sequence | dict = ()) -> list:
        return list(await self.conn.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: Sequence | dict = ()):
        rows = await self.conn.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def schema_version(self) -> int:
        """The file's schema version now (a newer covtui may migrate it while we are open)."""
        return (await self._one("PRAGMA user_version"))[0]

    async def data_version(self) -> int:
        """Changes whenever another connection commits: the dashboard's cheap change check."""
        return (await self._one("PRAGMA data_version"))[0]

    # -- writing ---------------------------------------------------------------------------

    async def write_snapshot(self, draft: SnapshotDraft, config: Config) -> tuple[int, list[Alert]]:
        """Store `draft` and the alerts it raises, all in one transaction."""
        created_at = draft.created_at if draft.created_at is not None else time.time()
        async with _Transaction(self.conn, self.path):
            return await self._write_snapshot(draft, config, created_at)

    async def write_snapshots(
        self, drafts: Iterable[SnapshotDraft], config: Config
    ) -> list[tuple[int, list[Alert]]]:
        """Store many snapshots in one transaction (imports, the demo, benchmarks)."""
        results = []
        memo: dict[str, dict[str, tuple[int, FileCoverage]]] = {}
        async with _Transaction(self.conn, self.path):
            for draft in drafts:
                created_at = draft.created_at if draft.created_at is not None else time.time()
                results.append(await self._write_snapshot(draft, config, created_at, memo))
        return results

    async def _write_snapshot(
        self, draft: SnapshotDraft, config: Config, created_at: float, memo: dict | None = None
    ) -> tuple[int, list[Alert]]:
        measured = {s.name: s for s in draft.sources}
        # Each source's latest good result: the total carries sources this snapshot did not
        # measure (or whose run failed) at their last good numbers.
        carried: dict[str, Numbers] = {}
        for (name,) in await self._all("SELECT name FROM sources"):
            row = await self._one(
                f"SELECT {_NUMBERS} FROM source_results WHERE source = ? AND status = 'ok' "
                "AND n_files IS NOT NULL ORDER BY snapshot_id DESC LIMIT 1",
                (name,),
            )
            if row is not None:
                carried[name] = Numbers(*row)
        contributing: dict[str, Numbers] = dict(carried)
        for name, result in measured.items():
            if result.status is RunStatus.OK and result.numbers is not None:
                contributing[name] = result.numbers
        overall = sum(contributing.values(), Numbers()) if contributing else None
        sources_key = ",".join(sorted(contributing))

        baseline_row = await self._one(
            "SELECT id, created_at, pc_covered FROM snapshots "
            "WHERE status = 'ok' AND sources_key = ? ORDER BY id DESC LIMIT 1",
            (sources_key,),
        )
        baseline = alert_rules.Baseline(*baseline_row) if baseline_row else None

        tests = [s.tests for s in draft.sources if s.tests is not None]
        test_sum = sum(tests[1:], tests[0]) if tests else None

        def total(attr: str):
            values = [getattr(s.run, attr) for s in draft.sources if getattr(s.run, attr) is not None]
            return sum(values) if values else None

        read_values = [s.report.read_s for s in draft.sources if s.report is not None]
        peak = [s.run.peak_rss_kb for s in draft.sources if s.run.peak_rss_kb is not None]
        cursor = await self.conn.execute(
            f"INSERT INTO snapshots (created_at, trigger, label, status, git_commit, git_branch, "
            f"git_dirty, measured, sources_key, {_NUMBERS}, pc_covered, "
            f"{', '.join(TEST_COLUMNS)}, {', '.join(RUN_COLUMNS)}, "
            "diff_base, n_diff_statements, n_diff_missing) "
            f"VALUES ({', '.join('?' * (9 + _N + 1 + 5 + 4 + 3))})",
            (
                created_at,
                draft.trigger,
                draft.label,
                draft.status.value,
                draft.git.commit,
                draft.git.branch,
                None if draft.git.dirty is None else int(draft.git.dirty),
                ",".join(measured),
                sources_key,
                *(
                    (getattr(overall, c) for c in NUMBER_COLUMNS)
                    if overall is not None
                    else [None] * _N
                ),
                overall.pc_covered if overall is not None else None,
                *_test_values(test_sum),
                total("wall_s"),
                total("cpu_s"),
                max(peak) if peak else None,
                sum(read_values) if read_values else None,
                draft.diff.base if draft.diff else None,
                draft.diff.n_statements if draft.diff else None,
                draft.diff.n_missing if draft.diff else None,
            ),
        )
        snapshot_id = cursor.lastrowid

        previous_failures: dict[str, int] = {}
        previous_tests: dict[str, alert_rules.PreviousTests] = {}
        recent_wall: dict[str, list[float]] = {}
        file_changes: list[alert_rules.FileChange] = []
        files_left: list[alert_rules.FileLeft] = []
        for name, result in measured.items():
            await self._insert_source_result(snapshot_id, created_at, result)
            row = await self._one(
                "SELECT n_failed + n_errors, snapshot_id, n_tests FROM source_results "
                "WHERE source = ? AND status = 'ok' AND n_tests IS NOT NULL AND snapshot_id < ? "
                "ORDER BY snapshot_id DESC LIMIT 1",
                (name, snapshot_id),
            )
            if row is not None:
                previous_failures[name] = row[0]
                previous_tests[name] = alert_rules.PreviousTests(
                    row[1], row[2], await self._test_ids(name, row[1])
                )
            if result.status is RunStatus.OK and result.tests is not None:
                await self.conn.execute(
                    "INSERT OR REPLACE INTO test_ids (source, snapshot_id, ids) VALUES (?, ?, ?)",
                    (name, snapshot_id, encode_names(result.tests.ids)),
                )
            recent_wall[name] = [
                r[0]
                for r in await self._all(
                    "SELECT wall_s FROM source_results WHERE source = ? AND status = 'ok' "
                    "AND wall_s IS NOT NULL AND snapshot_id < ? ORDER BY snapshot_id DESC LIMIT ?",
                    (name, snapshot_id, config.alerts.test_time_window),
                )
            ]
            if result.status is RunStatus.OK and result.report is not None:
                changed, left = await self._write_file_changes(
                    snapshot_id, name, result.report.files, memo
                )
                file_changes += changed
                files_left += left

        inputs = alert_rules.AlertInputs(
            draft=draft,
            overall=overall,
            overall_baseline=baseline,
            previous_failures=previous_failures,
            recent_wall_s=recent_wall,
            file_changes=file_changes,
            previous_tests=previous_tests,
            files_left=files_left,
        )
        new_alerts = alert_rules.evaluate(inputs, config.alerts, config.phases, config.precision)
        for alert in new_alerts:
            alert.snapshot_id = snapshot_id
            alert.created_at = created_at
            cursor = await self.conn.execute(
                "INSERT INTO alerts (snapshot_id, created_at, rule, severity, source, path, message, "
                "value, threshold, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    snapshot_id,
                    created_at,
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
            alert.id = cursor.lastrowid
        return snapshot_id, new_alerts

    async def _insert_source_result(
        self, snapshot_id: int, created_at: float, result: SourceResult
    ) -> None:
        numbers = result.numbers
        report = result.report
        await self.conn.execute("INSERT OR IGNORE INTO sources (name) VALUES (?)", (result.name,))
        await self.conn.execute(
            f"INSERT INTO source_results (source, snapshot_id, created_at, status, format, has_branches, "
            f"{_NUMBERS}, pc_covered, {', '.join(TEST_COLUMNS)}, {', '.join(RUN_COLUMNS)}, "
            f"exit_code, message, output_tail, measures_unimported) "
            f"VALUES ({', '.join('?' * (6 + _N + 1 + 5 + 4 + 4))})",
            (
                result.name,
                snapshot_id,
                created_at,
                result.status.value,
                report.format if report else None,
                int(report.has_branches) if report else None,
                *((getattr(numbers, c) for c in NUMBER_COLUMNS) if numbers else [None] * _N),
                numbers.pc_covered if numbers else None,
                *_test_values(result.tests),
                result.run.wall_s,
                result.run.cpu_s,
                result.run.peak_rss_kb,
                report.read_s if report else None,
                result.run.exit_code,
                result.message,
                result.run.output_tail[-20_000:],
                None if report is None or report.measures_unimported is None
                else int(report.measures_unimported),
            ),
        )

    async def _test_ids(self, source: str, snapshot_id: int) -> frozenset[str] | None:
        """The source's test ids at `snapshot_id`, if they were kept (only the latest are)."""
        row = await self._one(
            "SELECT ids FROM test_ids WHERE source = ? AND snapshot_id = ?", (source, snapshot_id)
        )
        return decode_names(row[0]) if row is not None else None

    async def _write_file_changes(
        self,
        snapshot_id: int,
        source: str,
        files: Iterable[FileCoverage],
        memo: dict[str, dict[str, tuple[int, FileCoverage]]] | None = None,
    ) -> tuple[list[alert_rules.FileChange], list[alert_rules.FileLeft]]:
        """Store the files whose result differs from their current state; return what changed
        and which files left the report.

        `memo` carries each source's last written files between the snapshots of one batch,
        so a batch reads the current states from the database only once.
        """
        if memo is not None and source in memo:
            current = memo[source]
        else:
            current = {}
            for row in await self._all(_STATE_AT_SQL, {"source": source, "sid": _LATEST}):
                if row[2] is None:
                    current[row[1]] = (row[0], None)
                    continue
                current[row[1]] = (
                    row[0],
                    FileCoverage(
                        row[1],
                        Numbers(*row[3 : 3 + _N]),
                        decode_lines(row[3 + _N]),
                        decode_arcs(row[4 + _N]),
                        decode_functions(row[5 + _N]),
                    ),
                )
        changes: list[alert_rules.FileChange] = []
        written: dict[str, tuple[int, FileCoverage]] = {}
        for f in files:
            file_id, old = current.get(f.path, (None, None))
            if old is not None and (old is f or old == f):
                # Remember the caller's object: the next draft often reuses it (identity check).
                written[f.path] = (file_id, f)
                continue
            if file_id is None:
                cursor = await self.conn.execute(
                    "INSERT INTO files (source, path) VALUES (?, ?) "
                    "ON CONFLICT (source, path) DO UPDATE SET path = excluded.path RETURNING id",
                    (source, f.path),
                )
                file_id = (await cursor.fetchone())[0]
            cursor = await self.conn.execute(
                f"INSERT INTO file_states ({_NUMBERS}, missing_lines, missing_arcs, functions) "
                f"VALUES ({', '.join('?' * (_N + 3))})",
                _state_values(f),
            )
            await self.conn.execute(
                "INSERT INTO file_changes (file_id, snapshot_id, state_id) VALUES (?, ?, ?)",
                (file_id, snapshot_id, cursor.lastrowid),
            )
            written[f.path] = (file_id, f)
            if old is not None:
                changes.append(
                    alert_rules.FileChange(
                        source, f.path, old.numbers, f.numbers,
                        frozenset(old.missing_lines), f.missing_lines,
                    )
                )
        left: list[alert_rules.FileLeft] = []
        for path, (file_id, old) in current.items():
            if path not in written and old is not None:
                await self.conn.execute(
                    "INSERT INTO file_changes (file_id, snapshot_id, state_id) VALUES (?, ?, NULL)",
                    (file_id, snapshot_id),
                )
                left.append(alert_rules.FileLeft(source, path, old.numbers))
        if memo is not None:
            memo[source] = written
        return changes, left

    async def acknowledge(self, ids: Iterable[int] | None = None) -> int:
        """Acknowledge the given alerts (all unacknowledged ones when `ids` is None)."""
        now = time.time()
        async with _Transaction(self.conn, self.path):
            if ids is None:
                cursor = await self.conn.execute(
                    "UPDATE alerts SET acknowledged_at = ? WHERE acknowledged_at IS NULL", (now,)
                )
                return cursor.rowcount
            ids = list(ids)
            known = {
                r[0]
                for r in await self._all(
                    f"SELECT id FROM alerts WHERE id IN ({', '.join('?' * len(ids))})", ids
                )
            }
            missing = sorted(set(ids) - known)
            if missing:
                raise StoreError(f"{self.path}: no alert with id {missing[0]}")
            cursor = await self.conn.execute(
                f"UPDATE alerts SET acknowledged_at = ? WHERE acknowledged_at IS NULL "
                f"AND id IN ({', '.join('?' * len(ids))})",
                (now, *ids),
            )
            return cursor.rowcount

    async def prune(self, older_than_days: float, now: float | None = None) -> PruneResult:
        """Drop snapshots older than the cutoff, keeping the latest snapshot and the file
        states it needs, and unacknowledged alerts.

        Oldest first, in short transactions of about `PRUNE_STEP_ROWS` file changes: each
        one leaves a complete, smaller history, and writers get the lock between them.
        """
        now = time.time() if now is None else now
        bytes_before = _file_size(self.path)
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
            return PruneResult(0, 0, bytes_before, bytes_before)
        # Never past a source's last good result: the total still carries it.
        for (name,) in await self._all("SELECT name FROM sources"):
            last_ok = await self._one(
                "SELECT MAX(snapshot_id) FROM source_results WHERE source = ? AND status = 'ok'",
                (name,),
            )
            if last_ok[0] is not None:
                keep_from = min(keep_from, last_ok[0])
        n_snapshots = 0
        while True:
            async with _Transaction(self.conn, self.path):
                dropped = await self._prune_step(keep_from)
            if dropped is None:
                break
            n_snapshots += dropped
            # A waiting writer retries its lock every 100 ms at most: give it that chance.
            await asyncio.sleep(self.PRUNE_PAUSE_S)
        async with _Transaction(self.conn, self.path):
            alerts = await self.conn.execute(
                "DELETE FROM alerts WHERE created_at < ? AND acknowledged_at IS NOT NULL "
                "AND (snapshot_id IS NULL OR snapshot_id < ?)",
                (cutoff, keep_from),
            )
            n_alerts = alerts.rowcount
        if n_snapshots or n_alerts:
            # Hand freed pages back a slice at a time (each slice is a short write too).
            free = (await self._one("PRAGMA freelist_count"))[0]
            while free:
                await self._all("PRAGMA incremental_vacuum(2000)")
                free, before = (await self._one("PRAGMA freelist_count"))[0], free
                if free >= before:
                    break  # (a file without auto_vacuum keeps its free pages for reuse)
            await self._all("PRAGMA wal_checkpoint(TRUNCATE)")
        return PruneResult(n_snapshots, n_alerts, bytes_before, _file_size(self.path))

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
            f"INSERT OR IGNORE INTO dropped_states SELECT state_id {gone} AND state_id IS NOT NULL",
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
        snapshots = await self.conn.execute("DELETE FROM snapshots WHERE id < ?", (until,))
        return snapshots.rowcount

    async def beat(self, name: str, *, started_at: float, next_scan_at: float | None, state: str) -> None:
        """Record that a watcher is alive (and when it scans next)."""
        async with _Transaction(self.conn, self.path):
            await self.conn.execute(
                "INSERT INTO heartbeats (name, pid, started_at, beat_at, next_scan_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, "
                "started_at = excluded.started_at, beat_at = excluded.beat_at, "
                "next_scan_at = excluded.next_scan_at, state = excluded.state",
                (name, os.getpid(), started_at, time.time(), next_scan_at, state),
            )

    async def end_beat(self, name: str) -> None:
        async with _Transaction(self.conn, self.path):
            await self.conn.execute("DELETE FROM heartbeats WHERE name = ?", (name,))

    # -- reading ---------------------------------------------------------------------------

    async def latest_snapshot(self) -> SnapshotRow | None:
        row = await self._one(f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots ORDER BY id DESC LIMIT 1")
        return _snapshot(row) if row else None

    async def snapshot(self, snapshot_id: int) -> SnapshotRow | None:
        row = await self._one(f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE id = ?", (snapshot_id,))
        return _snapshot(row) if row else None

    async def snapshots(self, limit: int = 50, *, since: float | None = None) -> list[SnapshotRow]:
        """Newest first."""
        rows = await self._all(
            f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE created_at >= ? ORDER BY id DESC LIMIT ?",
            (since if since is not None else 0, limit),
        )
        return [_snapshot(r) for r in rows]

    async def comparable_before(self, snapshot: SnapshotRow) -> SnapshotRow | None:
        """The good snapshot before `snapshot` over the same sources: what its change is against."""
        row = await self._one(
            f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE status = 'ok' AND id < ? AND "
            "sources_key = (SELECT sources_key FROM snapshots WHERE id = ?) ORDER BY id DESC LIMIT 1",
            (snapshot.id, snapshot.id),
        )
        return _snapshot(row) if row else None

    async def sources(self) -> list[SourceRow]:
        """Each source's latest result, with its previous good coverage for the change.

        When that result measured no coverage (a failed run, test outcomes only), its numbers
        are the source's last measured ones: what the total counts for it.
        """
        rows = []
        for (name,) in await self._all("SELECT name FROM sources ORDER BY name"):
            row = await self._one(
                f"SELECT {_SOURCE_COLUMNS} FROM source_results r JOIN snapshots s "
                "ON s.id = r.snapshot_id WHERE r.source = ? ORDER BY r.snapshot_id DESC LIMIT 1",
                (name,),
            )
            if row is not None:
                rows.append(row)
        result = []
        for row in rows:
            name, sid = row[0], row[1]
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
            source_row = _source(
                row,
                previous_pc=previous[1] if previous else None,
                previous_snapshot_id=previous[0] if previous else None,
                last_ok_snapshot_id=last_ok[0] if last_ok else None,
            )
            if source_row.numbers is None:
                measured = await self._one(
                    f"SELECT {_NUMBERS} FROM source_results WHERE source = ? AND status = 'ok' "
                    "AND n_files IS NOT NULL ORDER BY snapshot_id DESC LIMIT 1",
                    (name,),
                )
                if measured is not None:
                    source_row = dataclasses.replace(source_row, numbers=Numbers(*measured))
            result.append(source_row)
        return result

    async def files(self, source: str | None = None, snapshot_id: int | None = None) -> list[FileRow]:
        """Every file's state at `snapshot_id` (default: now), with its state at the source's
        previous good snapshot for the change."""
        names = [source] if source else [r[0] for r in await self._all("SELECT name FROM sources")]
        result: list[FileRow] = []
        for name in names:
            at = snapshot_id if snapshot_id is not None else _LATEST
            current = await self._all(_STATE_AT_SQL, {"source": name, "sid": at})
            ok_ids = await self._all(
                "SELECT snapshot_id FROM source_results WHERE source = ? AND status = 'ok' "
                "AND n_files IS NOT NULL AND snapshot_id <= ? ORDER BY snapshot_id DESC LIMIT 2",
                (name, at),
            )
            previous: dict[str, Numbers] = {}
            if len(ok_ids) == 2:
                previous = {
                    row[1]: Numbers(*row[3 : 3 + _N])
                    for row in await self._all(_STATE_AT_SQL, {"source": name, "sid": ok_ids[1][0]})
                    if row[2] is not None
                }
            for row in current:
                if row[2] is None:
                    continue
                result.append(FileRow(name, row[1], Numbers(*row[3 : 3 + _N]), previous.get(row[1])))
        return result

    async def file_detail(
        self, source: str, path: str, snapshot_id: int | None = None
    ) -> FileDetail | None:
        row = await self._one(
            f"SELECT c.snapshot_id, s.created_at, {', '.join('st.' + c for c in NUMBER_COLUMNS)}, "
            "st.missing_lines, st.missing_arcs, st.functions "
            "FROM files f JOIN file_changes c ON c.file_id = f.id "
            "JOIN file_states st ON st.id = c.state_id "
            "LEFT JOIN snapshots s ON s.id = c.snapshot_id "
            "WHERE f.source = ? AND f.path = ? AND c.snapshot_id <= ? "
            "ORDER BY c.snapshot_id DESC LIMIT 1",
            (source, path, snapshot_id if snapshot_id is not None else _LATEST),
        )
        if row is None:
            return None
        return FileDetail(
            source=source,
            path=path,
            numbers=Numbers(*row[2 : 2 + _N]),
            missing_lines=decode_lines(row[2 + _N]),
            missing_arcs=decode_arcs(row[3 + _N]),
            functions=decode_functions(row[4 + _N]),
            snapshot_id=row[0],
            created_at=row[1] or 0.0,
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
        where = ["1"]
        params: list = []
        if unacknowledged_only:
            where.append("acknowledged_at IS NULL")
        if since is not None:
            where.append("created_at >= ?")
            params.append(since)
        if since_snapshot_id is not None:
            where.append("snapshot_id >= ?")
            params.append(since_snapshot_id)
        sql = f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE {' AND '.join(where)} ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_alert(r) for r in await self._all(sql, params)]

    async def trend(self, since: float, points: int = 400) -> dict[str, list[TrendPoint]]:
        """Overall and per-source coverage since `since`, at most `points` per line: the last
        good value in each time bucket, found by one index seek per bucket (not a scan of
        every snapshot in the range)."""
        latest = await self._one("SELECT MAX(created_at) FROM snapshots")
        if latest[0] is None:
            return {"overall": []}
        bucket = max((latest[0] - since) / points, 1e-6)
        # Bucket n ends at since + n × bucket (multiplied, not summed: no drift).
        buckets = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE :since + i * :bucket <= :latest), "
            "b(lo, t) AS (SELECT :since + (i - 1) * :bucket, :since + i * :bucket FROM n) "
        )
        params = {"since": since, "bucket": bucket, "latest": latest[0]}
        overall = await self._all(
            buckets + "SELECT s.created_at, s.pc_covered FROM b JOIN snapshots s ON s.id = ("
            "SELECT id FROM snapshots WHERE created_at < b.t AND created_at >= b.lo "
            "AND status = 'ok' AND pc_covered IS NOT NULL ORDER BY created_at DESC LIMIT 1) "
            "ORDER BY 1",
            params,
        )
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

    async def heartbeats(self) -> list[Heartbeat]:
        return [Heartbeat(*r) for r in await self._all(
            "SELECT name, pid, started_at, beat_at, next_scan_at, state FROM heartbeats"
        )]

    async def dashboard_state(
        self, *, trend_since: float, critical_n: int = 5, alert_limit: int = 50
    ) -> DashboardState:
        """Everything the main screen shows."""
        latest = await self.latest_snapshot()
        previous = await self.comparable_before(latest) if latest else None
        files = await self.files()
        n_unacknowledged = (
            await self._one("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL")
        )[0]
        recent_runs = [
            _snapshot(r)
            for r in await self._all(
                f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE wall_s IS NOT NULL "
                "ORDER BY id DESC LIMIT 20"
            )
        ]
        n_snapshots = (await self._one("SELECT count(*) FROM snapshots"))[0]
        return DashboardState(
            latest=latest,
            previous=previous,
            sources=await self.sources(),
            critical_files=critical_files(files, critical_n),
            alerts=await self.alerts(limit=alert_limit),
            n_unacknowledged=n_unacknowledged,
            trend=await self.trend(trend_since),
            recent_runs=recent_runs,
            heartbeats=await self.heartbeats(),
            n_snapshots=n_snapshots,
        )


# A source's files with their state at snapshot :sid (the latest change at or before it).
_STATE_AT_SQL = (
    f"SELECT f.id, f.path, c.state_id, {', '.join('st.' + c for c in NUMBER_COLUMNS)}, "
    "st.missing_lines, st.missing_arcs, st.functions "
    "FROM files f JOIN file_changes c ON c.file_id = f.id AND c.snapshot_id = "
    "(SELECT MAX(snapshot_id) FROM file_changes WHERE file_id = f.id AND snapshot_id <= :sid) "
    "LEFT JOIN file_states st ON st.id = c.state_id WHERE f.source = :source"
)


def _test_values(tests) -> tuple:
    if tests is None:
        return (None,) * 5
    return (tests.n_tests, tests.n_failed, tests.n_errors, tests.n_skipped, tests.duration_s)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


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
