"""CI runs waiting for their shards: `Store`'s part for `covtui ingest --run ID --shard K/N`.

Written in portable SQL (SQLite and PostgreSQL alike). Call every method inside
`store.transaction()`, starting with `lock_ci_run`: concurrent shards of one run must see each
other's rows, so that exactly one of them finds the run complete and assembles it.
"""

from __future__ import annotations

from collections.abc import Sequence

from covtui.domain.records import PENDING, CiRun


class ShardStore:
    """Mixed into `Store`: needs its `conn`, `_all` and `_one`."""

    async def lock_ci_run(self, run_id: str, source: str, n_shards: int, now: float) -> CiRun:
        """Make sure the run's row exists and lock it for this transaction; return the run.

        The lock is explicit: an UPDATE that changes nothing takes the row lock on
        PostgreSQL (a second shard of the run waits here until the first commits, then reads
        what it wrote); on SQLite `BEGIN IMMEDIATE` already holds the database's write lock.
        """
        await self.conn.execute(
            "INSERT INTO ci_runs (run_id, source, n_shards, started_at, state) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, source) DO NOTHING",
            (run_id, source, n_shards, now, PENDING),
        )
        await self.conn.execute(
            "UPDATE ci_runs SET n_shards = n_shards WHERE run_id = ? AND source = ?",
            (run_id, source),
        )
        run = await self.ci_run(run_id, source)
        assert run is not None
        return run

    async def ci_run(self, run_id: str, source: str) -> CiRun | None:
        row = await self._one(
            "SELECT n_shards, started_at, state, snapshot_id, message FROM ci_runs "
            "WHERE run_id = ? AND source = ?",
            (run_id, source),
        )
        if row is None:
            return None
        shards = await self._all(
            "SELECT shard, digest FROM ci_shards WHERE run_id = ? AND source = ? ORDER BY shard",
            (run_id, source),
        )
        n_shards, started_at, state, snapshot_id, message = row
        return CiRun(run_id, source, n_shards, started_at, state, dict(shards), snapshot_id, message)

    async def open_ci_runs(self) -> list[CiRun]:
        """Every run still waiting for shards, oldest first."""
        rows = await self._all(
            "SELECT run_id, source FROM ci_runs WHERE state = ? ORDER BY started_at, run_id, source",
            (PENDING,),
        )
        return [run for run_id, source in rows if (run := await self.ci_run(run_id, source))]

    async def add_ci_shard(
        self, run_id: str, source: str, shard: int, digest: str, now: float,
        files: Sequence[tuple[str, str, bytes]],
    ) -> None:
        """Store one shard's input files: (name, format, bytes) each."""
        await self.conn.execute(
            "INSERT INTO ci_shards (run_id, source, shard, digest, arrived_at) VALUES (?, ?, ?, ?, ?)",
            (run_id, source, shard, digest, now),
        )
        await self.conn.executemany(
            "INSERT INTO ci_shard_files (run_id, source, shard, position, name, format, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, source, shard, i, name, fmt, data) for i, (name, fmt, data) in enumerate(files)],
        )

    async def ci_shard_formats(self, run_id: str, source: str) -> set[str]:
        """The formats of the run's stored inputs."""
        rows = await self._all(
            "SELECT DISTINCT format FROM ci_shard_files WHERE run_id = ? AND source = ?",
            (run_id, source),
        )
        return {fmt for (fmt,) in rows}

    async def ci_shard_files(self, run_id: str, source: str) -> list[tuple[int, str, str, bytes]]:
        """Every stored input of the run: (shard, name, format, bytes), by shard."""
        rows = await self._all(
            "SELECT shard, name, format, data FROM ci_shard_files WHERE run_id = ? AND source = ? "
            "ORDER BY shard, position",
            (run_id, source),
        )
        return [(shard, name, fmt, bytes(data)) for shard, name, fmt, data in rows]

    async def finish_ci_run(
        self, run_id: str, source: str, state: str, snapshot_id: int | None, message: str = ""
    ) -> None:
        """The run became snapshot `snapshot_id` (complete or failed): its input bytes go."""
        await self.conn.execute(
            "UPDATE ci_runs SET state = ?, snapshot_id = ?, message = ? WHERE run_id = ? AND source = ?",
            (state, snapshot_id, message, run_id, source),
        )
        await self.conn.execute(
            "DELETE FROM ci_shard_files WHERE run_id = ? AND source = ?", (run_id, source)
        )


    async def prune_ci_runs(self, keep_from: int | None) -> int:
        """Forget finished runs whose snapshot is gone (older than snapshot `keep_from`; every
        one when None): their shard rows only served to recognise a shard sent again. Runs
        still waiting keep their inputs: the next ingest records them failed at their timeout.
        """
        gone = "state <> ? AND (snapshot_id IS NULL OR snapshot_id < ?)"
        params = (PENDING, keep_from if keep_from is not None else 2**62)
        for table in ("ci_shard_files", "ci_shards"):
            await self.conn.execute(
                f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM ci_runs r "
                f"WHERE r.run_id = {table}.run_id AND r.source = {table}.source AND r.{gone})",
                params,
            )
        return await self.conn.execute(f"DELETE FROM ci_runs WHERE {gone}", params)
