"""The monitoring database's schema and its forward migrations.

The database is the contract between the writers (scan, ingest, watch) and the dashboard.
Per-file results are stored only when they change (`file_changes`), so 90 days of 5-minute
snapshots of a 212-file project stay small; a file's state at snapshot S is its latest change
at or before S.
"""

from __future__ import annotations

#: Bumped by every migration; a database with a higher number was written by a newer covtui.
SCHEMA_VERSION = 8

NUMBER_COLUMNS = (
    "n_files",
    "n_files_covered",
    "n_statements",
    "n_excluded",
    "n_missing",
    "n_branches",
    "n_partial_branches",
    "n_missing_branches",
    "n_functions",
    "n_missing_functions",
)
_numbers_ddl = ",\n    ".join(f"{c} INTEGER" for c in NUMBER_COLUMNS)

TEST_COLUMNS = ("n_tests", "n_failed", "n_errors", "n_skipped", "test_s")
RUN_COLUMNS = ("wall_s", "cpu_s", "peak_rss_kb", "read_s")

_V1 = f"""
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    trigger TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    git_commit TEXT,
    git_branch TEXT,
    git_dirty INTEGER,
    -- sources measured by this snapshot, and sources whose latest good result makes the total
    measured TEXT NOT NULL,
    sources_key TEXT NOT NULL,
    -- overall numbers across sources (NULL: no data)
    {_numbers_ddl},
    pc_covered REAL,
    n_tests INTEGER, n_failed INTEGER, n_errors INTEGER, n_skipped INTEGER, test_s REAL,
    wall_s REAL, cpu_s REAL, peak_rss_kb INTEGER, read_s REAL
);
CREATE INDEX snapshots_created ON snapshots(created_at);

CREATE TABLE source_results (
    source TEXT NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    format TEXT,
    has_branches INTEGER,
    {_numbers_ddl},
    pc_covered REAL,
    n_tests INTEGER, n_failed INTEGER, n_errors INTEGER, n_skipped INTEGER, test_s REAL,
    wall_s REAL, cpu_s REAL, peak_rss_kb INTEGER, read_s REAL,
    exit_code INTEGER,
    message TEXT NOT NULL DEFAULT '',
    output_tail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (source, snapshot_id)
) WITHOUT ROWID;
CREATE INDEX source_results_snapshot ON source_results(snapshot_id);

-- Every source ever measured (a few rows: lets readers find each source's latest result by key).
CREATE TABLE sources (name TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    UNIQUE (source, path)
);

CREATE TABLE file_states (
    id INTEGER PRIMARY KEY,
    {_numbers_ddl},
    missing_lines TEXT NOT NULL DEFAULT '',
    missing_arcs TEXT NOT NULL DEFAULT '',
    functions TEXT NOT NULL DEFAULT ''
);

-- A file's result changed at this snapshot (state_id NULL: the file left the report).
CREATE TABLE file_changes (
    file_id INTEGER NOT NULL REFERENCES files(id),
    snapshot_id INTEGER NOT NULL,
    state_id INTEGER REFERENCES file_states(id),
    PRIMARY KEY (file_id, snapshot_id)
) WITHOUT ROWID;
CREATE INDEX file_changes_snapshot ON file_changes(snapshot_id);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER,
    created_at REAL NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    source TEXT,
    path TEXT,
    message TEXT NOT NULL,
    value REAL,
    threshold REAL,
    acknowledged_at REAL
);
CREATE INDEX alerts_created ON alerts(created_at);
CREATE INDEX alerts_unacknowledged ON alerts(id) WHERE acknowledged_at IS NULL;

-- Who is watching: `covtui watch` beats here so the dashboard can tell it is alive.
CREATE TABLE heartbeats (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    beat_at REAL NOT NULL,
    next_scan_at REAL,
    state TEXT NOT NULL DEFAULT ''
);
"""

# Diff coverage: the changed lines since a git base that are statements, and those missed.
# A source's trend reads its own rows by key: it carries the snapshot time.
_V2 = """
ALTER TABLE snapshots ADD COLUMN diff_base TEXT;
ALTER TABLE snapshots ADD COLUMN n_diff_statements INTEGER;
ALTER TABLE snapshots ADD COLUMN n_diff_missing INTEGER;
ALTER TABLE source_results ADD COLUMN created_at REAL;
UPDATE source_results SET created_at = (SELECT created_at FROM snapshots WHERE id = snapshot_id);
CREATE INDEX snapshots_trend ON snapshots(created_at, status, pc_covered);
CREATE INDEX source_results_trend ON source_results(source, created_at, status, pc_covered)
"""

# Alerts that list what their one line leaves out; whether coverage.py saw files no test
# imported; each source's test ids at its latest good run (sorted, "\n"-joined, zlib), which
# is all the "tests removed" rule needs.
_V3 = """
ALTER TABLE alerts ADD COLUMN detail TEXT NOT NULL DEFAULT '';
ALTER TABLE source_results ADD COLUMN measures_unimported INTEGER;
CREATE TABLE test_ids (
    source TEXT PRIMARY KEY,
    snapshot_id INTEGER NOT NULL,
    ids BLOB NOT NULL
) WITHOUT ROWID
"""

# Deleting a file state (prune) looks up the changes that point at it: without this index,
# with foreign keys on, each delete scanned every change (prune was quadratic).
_V4 = """
CREATE INDEX IF NOT EXISTS file_changes_state ON file_changes(state_id)
"""

# Per-test coverage (covtui who / explain): per snapshot and file, which contexts ran each
# line, as a blob shared by every snapshot where it is the same (a file's tests rarely change),
# with the digest of the file's source; each test's outcome per source. Prune keeps them for
# the newest snapshots and those alerts refer to. Flaky lines: a score per line as of its last
# flip (it halves with time: the domain's rule).
_V5 = """
CREATE TABLE line_test_blobs (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    data BLOB NOT NULL
);
CREATE TABLE line_tests (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    file_id INTEGER NOT NULL,
    blob_id INTEGER NOT NULL REFERENCES line_test_blobs(id),
    content TEXT,
    PRIMARY KEY (snapshot_id, file_id)
) WITHOUT ROWID;
CREATE INDEX line_tests_blob ON line_tests(blob_id);
CREATE TABLE test_runs (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    outcomes BLOB NOT NULL,
    PRIMARY KEY (snapshot_id, source)
) WITHOUT ROWID;
CREATE TABLE flaky_lines (
    file_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    score REAL NOT NULL,
    flipped_at REAL NOT NULL,
    PRIMARY KEY (file_id, line)
) WITHOUT ROWID
"""

# The exclusions audit's counts per reason (a regex, an omit pattern, "generated"), as the
# scan or ingest that wrote the snapshot counted them: excluded lines (NULL for a reason that
# leaves out whole files) and files. `exclusions_counted` = 1 says the snapshot has its counts
# (none at all is then a true 0); older snapshots have NULL: "not recorded".
_V6 = """
ALTER TABLE snapshots ADD COLUMN exclusions_counted INTEGER;
CREATE TABLE exclusion_counts (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    n_lines INTEGER,
    n_files INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, reason)
) WITHOUT ROWID
"""

# How much of the suite a snapshot ran: 'full' (all of it), 'incremental' (the affected tests,
# merged exactly with the previous per-test coverage) or 'partial' (a subset, not merged: never
# compared as a regression); and how many tests ran (NULL: all).
_V7 = """
ALTER TABLE snapshots ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
ALTER TABLE snapshots ADD COLUMN n_tests_run INTEGER
"""

# CI shards (`covtui ingest --run ID --shard K/N`): a run of one source waits here until all
# its N shards have arrived, then becomes one snapshot. Each shard's input files are kept as
# their raw bytes (coverage.py data must be combined, with the project's `[paths]`, from the
# line and arc data itself: per-file summaries cannot be combined exactly); the bytes are
# deleted once the run is assembled or has failed, the shard rows (with their digest, so a
# shard sent again is recognised) stay.
_V8 = """
CREATE TABLE ci_runs (
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    n_shards INTEGER NOT NULL,
    started_at REAL NOT NULL,
    state TEXT NOT NULL,
    snapshot_id INTEGER,
    message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, source)
);
CREATE INDEX ci_runs_state ON ci_runs(state);
CREATE TABLE ci_shards (
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    shard INTEGER NOT NULL,
    digest TEXT NOT NULL,
    arrived_at REAL NOT NULL,
    PRIMARY KEY (run_id, source, shard)
);
CREATE TABLE ci_shard_files (
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    shard INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (run_id, source, shard, position)
)
"""

#: MIGRATIONS[n] takes a database from version n to n + 1.
MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8]
assert len(MIGRATIONS) == SCHEMA_VERSION
