"""Row mapping: the columns each query selects, read back by name into the domain's
records, and the value tuples each insert writes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter

from covtui.domain.codec import (
    decode_arcs,
    decode_functions,
    decode_lines,
    encode_arcs,
    encode_functions,
    encode_lines,
)
from covtui.domain.model import Alert, FileCoverage, Severity, SourceResult
from covtui.domain.numbers import Numbers
from covtui.domain.records import (
    RunMetricsRow,
    SnapshotRow,
    SourceRow,
    TestCounts,
)
from covtui.store.schema import NUMBER_COLUMNS, RUN_COLUMNS, TEST_COLUMNS

# `Numbers(*row[numbers])` relies on the columns being in the dataclass's order.
assert tuple(f.name for f in dataclasses.fields(Numbers)) == NUMBER_COLUMNS


class Columns:
    """A SELECT list and where each of its columns lands in a row: rows are read by name."""

    def __init__(self, *columns: str) -> None:
        self.sql = ", ".join(columns)
        self.index = {c.rsplit(".", 1)[-1]: i for i, c in enumerate(columns)}

    def get(self, *names: str) -> Callable[[Sequence], tuple]:
        """Reads the named columns of a row, in that order (one C call per row)."""
        return itemgetter(*(self.index[n] for n in names))

    def named(self, *names: str) -> Callable[[Sequence], dict]:
        """Reads the named columns of a row as keyword arguments (column name → value)."""
        get = self.get(*names)
        return lambda row: dict(zip(names, get(row), strict=True))

    def span(self, names: Sequence[str]) -> slice:
        """Where a run of adjacent columns lands (the numbers, the test counts, the run cost)."""
        start = self.index[names[0]]
        if [self.index[n] for n in names] != list(range(start, start + len(names))):
            raise ValueError(f"not adjacent in the SELECT list: {', '.join(names)}")
        return slice(start, start + len(names))


def prefixed(prefix: str, columns: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{prefix}.{c}" for c in columns)


NUMBERS = ", ".join(NUMBER_COLUMNS)
N_NUMBER_COLUMNS = len(NUMBER_COLUMNS)
LATEST = 2**62  # "at or before the newest snapshot"

SNAPSHOT = Columns(
    "id", "created_at", "trigger", "label", "status", "git_commit", "git_branch", "git_dirty",
    "measured", *NUMBER_COLUMNS, *TEST_COLUMNS, *RUN_COLUMNS,
    "diff_base", "n_diff_statements", "n_diff_missing", "scope", "n_tests_run",
)
SNAPSHOT_COLUMNS = SNAPSHOT.sql
# The columns `SnapshotRow` takes as they are; git_dirty and measured are converted.
SNAPSHOT_AS_IS = SNAPSHOT.named(
    "id", "created_at", "trigger", "label", "status", "git_commit", "git_branch",
    "diff_base", "n_diff_statements", "n_diff_missing", "scope", "n_tests_run",
)
SNAPSHOT_CONVERTED = SNAPSHOT.get("git_dirty", "measured")
SOURCE = Columns(
    "r.source", "r.snapshot_id", "s.created_at", "r.status", "r.format",
    *prefixed("r", NUMBER_COLUMNS), *prefixed("r", TEST_COLUMNS), *prefixed("r", RUN_COLUMNS),
    "r.message", "r.measures_unimported",
)
SOURCE_COLUMNS = SOURCE.sql
SOURCE_KEY = SOURCE.get("source", "snapshot_id")
SOURCE_AS_IS = SOURCE.named("source", "snapshot_id", "created_at", "status", "format", "message")
SOURCE_UNIMPORTED = SOURCE.get("measures_unimported")
ALERT = Columns(
    "id", "snapshot_id", "created_at", "rule", "severity", "source", "path", "message", "value",
    "threshold", "acknowledged_at", "detail",
)
ALERT_COLUMNS = ALERT.sql
ALERT_FIELDS = ALERT.named(*ALERT.index)

# A source's files with their state at snapshot :sid (the latest change at or before it).
STATE_AT = Columns(
    "f.id", "f.path", "c.state_id", *prefixed("st", NUMBER_COLUMNS),
    "st.missing_lines", "st.missing_arcs", "st.functions",
)
STATE_AT_SQL = (
    f"SELECT {STATE_AT.sql} "
    "FROM files f JOIN file_changes c ON c.file_id = f.id AND c.snapshot_id = "
    "(SELECT MAX(snapshot_id) FROM file_changes WHERE file_id = f.id AND snapshot_id <= :sid) "
    "LEFT JOIN file_states st ON st.id = c.state_id WHERE f.source = :source ORDER BY f.path"
)
STATE_FIELDS = STATE_AT.get("id", "path", "state_id")
STATE_DETAIL = STATE_AT.get("missing_lines", "missing_arcs", "functions")

# A file's latest stored state at or before a snapshot, and when that was.
DETAIL = Columns(
    "c.snapshot_id", "s.created_at", *prefixed("st", NUMBER_COLUMNS),
    "st.missing_lines", "st.missing_arcs", "st.functions",
)
DETAIL_FIELDS = DETAIL.get(
    "snapshot_id", "created_at", "missing_lines", "missing_arcs", "functions"
)
D_NUMBERS = DETAIL.span(NUMBER_COLUMNS)

# Each source's last good numbers (a result that measured coverage). CROSS JOIN keeps the few
# sources as the outer loop: SQLite would otherwise scan every result.
LAST_GOOD = Columns("s.name", *prefixed("r", NUMBER_COLUMNS))
LAST_GOOD_SQL = (
    f"SELECT {LAST_GOOD.sql} FROM sources s CROSS JOIN source_results r ON r.source = s.name "
    "AND r.snapshot_id = (SELECT snapshot_id FROM source_results WHERE source = s.name "
    "AND status = 'ok' AND n_files IS NOT NULL ORDER BY snapshot_id DESC LIMIT 1)"
)
LAST_GOOD_NUMBERS = LAST_GOOD.span(NUMBER_COLUMNS)

INSERT_SNAPSHOT = (
    "INSERT INTO snapshots (created_at, trigger, label, status, git_commit, git_branch, "
    f"git_dirty, measured, sources_key, {NUMBERS}, pc_covered, "
    f"{', '.join(TEST_COLUMNS)}, {', '.join(RUN_COLUMNS)}, "
    "diff_base, n_diff_statements, n_diff_missing, scope, n_tests_run) "
    f"VALUES ({', '.join('?' * (9 + N_NUMBER_COLUMNS + 1 + len(TEST_COLUMNS) + len(RUN_COLUMNS) + 5))})"
)
INSERT_SOURCE_RESULT = (
    "INSERT INTO source_results (source, snapshot_id, created_at, status, format, has_branches, "
    f"{NUMBERS}, pc_covered, {', '.join(TEST_COLUMNS)}, {', '.join(RUN_COLUMNS)}, "
    "exit_code, message, output_tail, measures_unimported) "
    f"VALUES ({', '.join('?' * (6 + N_NUMBER_COLUMNS + 1 + len(TEST_COLUMNS) + len(RUN_COLUMNS) + 4))})"
)
INSERT_STATE = (
    f"INSERT INTO file_states (id, {NUMBERS}, missing_lines, missing_arcs, functions) "
    f"VALUES ({', '.join('?' * (1 + N_NUMBER_COLUMNS + 3))})"
)


def numbers_of(values: Sequence) -> Numbers | None:
    return None if values[0] is None else Numbers(*values)


def tests_of(values: Sequence) -> TestCounts | None:
    return None if values[0] is None else TestCounts(*values)


S_NUMBERS = SNAPSHOT.span(NUMBER_COLUMNS)
S_TESTS = SNAPSHOT.span(TEST_COLUMNS)
S_RUN = SNAPSHOT.span(RUN_COLUMNS)


def snapshot_row(row: Sequence) -> SnapshotRow:
    git_dirty, measured = SNAPSHOT_CONVERTED(row)
    return SnapshotRow(
        **SNAPSHOT_AS_IS(row),
        git_dirty=None if git_dirty is None else bool(git_dirty),
        measured=tuple(filter(None, measured.split(","))),
        numbers=numbers_of(row[S_NUMBERS]),
        tests=tests_of(row[S_TESTS]),
        run=RunMetricsRow(*row[S_RUN]),
    )


R_NUMBERS = SOURCE.span(NUMBER_COLUMNS)
R_TESTS = SOURCE.span(TEST_COLUMNS)
R_RUN = SOURCE.span(RUN_COLUMNS)


def source_row(row: Sequence, **extra) -> SourceRow:
    measures_unimported = SOURCE_UNIMPORTED(row)
    return SourceRow(
        **SOURCE_AS_IS(row),
        numbers=numbers_of(row[R_NUMBERS]),
        tests=tests_of(row[R_TESTS]),
        run=RunMetricsRow(*row[R_RUN]),
        measures_unimported=None if measures_unimported is None else bool(measures_unimported),
        **extra,
    )


def alert_row(row: Sequence) -> Alert:
    fields = ALERT_FIELDS(row)
    fields["severity"] = Severity(fields["severity"])
    return Alert(**fields)


F_NUMBERS = STATE_AT.span(NUMBER_COLUMNS)


def file_coverage_of(path: str, row: Sequence) -> FileCoverage:
    """A file's state from a `STATE_AT_SQL` row that has one."""
    missing_lines, missing_arcs, functions = STATE_DETAIL(row)
    return FileCoverage(
        path,
        Numbers(*row[F_NUMBERS]),
        decode_lines(missing_lines),
        decode_arcs(missing_arcs),
        decode_functions(functions),
    )


def state_values(f: FileCoverage) -> tuple:
    n = f.numbers
    return (
        *(getattr(n, c) for c in NUMBER_COLUMNS),
        encode_lines(f.missing_lines),
        encode_arcs(f.missing_arcs),
        encode_functions(f.functions),
    )


def source_values(snapshot_id: int, created_at: float, result: SourceResult) -> tuple:
    numbers = result.numbers
    report = result.report
    return (
        result.name,
        snapshot_id,
        created_at,
        result.status.value,
        report.format if report else None,
        int(report.has_branches) if report else None,
        *((getattr(numbers, c) for c in NUMBER_COLUMNS) if numbers else [None] * N_NUMBER_COLUMNS),
        numbers.pc_covered if numbers else None,
        *test_values(result.tests),
        result.run.wall_s,
        result.run.cpu_s,
        result.run.peak_rss_kb,
        report.read_s if report else None,
        result.run.exit_code,
        result.message,
        result.run.output_tail[-20_000:],
        None if report is None or report.measures_unimported is None
        else int(report.measures_unimported),
    )




def test_values(tests) -> tuple:
    if tests is None:
        return (None,) * 5
    return (tests.n_tests, tests.n_failed, tests.n_errors, tests.n_skipped, tests.duration_s)
