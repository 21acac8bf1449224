"""SIGKILL a writer at random moments: the database always opens intact, nothing earlier lost."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path

from tests.counts import record

from .conftest import start_writer

KILLS = int(os.environ.get("COVTUI_FAULT_KILLS", "50"))


def everything(db: Path) -> dict[int, tuple]:
    """Every snapshot row and the file states it points to, by snapshot id."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
        states = conn.execute(
            "SELECT c.snapshot_id, c.file_id, st.missing_lines FROM file_changes c "
            "LEFT JOIN file_states st ON st.id = c.state_id ORDER BY 1, 2"
        ).fetchall()
    by_id = {row[0]: (row, []) for row in rows}
    for sid, file_id, missing in states:
        by_id[sid][1].append((file_id, missing))
    return {sid: (row, tuple(files)) for sid, (row, files) in by_id.items()}


def test_sigkill_during_writes_never_corrupts_or_loses(tmp_path: Path, pickled_reports: Path) -> None:
    db = tmp_path / "covtui.db"
    log = tmp_path / "written.log"
    rng = random.Random(1234)
    seen: dict[int, tuple] = {}
    kills = 0
    while kills < KILLS:
        writer = start_writer(db, pickled_reports, 0, log)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.15))
        writer.kill()
        writer.wait()
        kills += 1
        now = everything(db)
        # Every snapshot that existed before is still there, byte for byte.
        for sid, content in seen.items():
            assert now.get(sid) == content, f"snapshot {sid} changed after kill {kills}"
        # Every snapshot the writer saw committed is there.
        committed = {int(x) for x in log.read_text().split()} if log.exists() else set()
        assert committed <= set(now)
        seen = now
        record("SIGKILLs during writes survived")
    assert kills >= 50 or KILLS < 50
    assert len(seen) > KILLS  # the kills really landed between and during writes
