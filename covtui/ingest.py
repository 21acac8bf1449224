"""Ingest: turn reports already on disk into one source's result, and record it as a snapshot.

Coverage comes from coverage.py data files (combined like `coverage combine`), coverage.json,
lcov or Cobertura XML; test outcomes from JUnit XML. `covtui ingest` parses its arguments and
calls these two steps: `read_reports` (every input read first, so bad input stops before the
database is touched) and `record_ingest`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from covtui.config import Config
from covtui.domain.model import (
    Alert,
    CoverageReport,
    RunStatus,
    SnapshotDraft,
    SourceResult,
    TestOutcomes,
)
from covtui.errors import InputError
from covtui.folder import make_database_folder
from covtui.readers import detect_format, read_tests, start_reading


def read_reports(
    config: Config, paths: Sequence[Path], *, source: str | None = None, fmt: str | None = None
) -> SourceResult:
    """Read every file in `paths` (format `fmt`, or detected from each file's content) into the
    result of the source named `source`, or of the source they belong to."""
    return start_reports(config, paths, source=source, fmt=fmt)()


def start_reports(
    config: Config, paths: Sequence[Path], *, source: str | None = None, fmt: str | None = None
) -> Callable[[], SourceResult]:
    """`read_reports()` begun: a coverage.py read starts in its worker process now; the
    function returned waits for it and gives the result."""
    coverage_paths: list[Path] = []
    tests: TestOutcomes | None = None
    for path in paths:
        if not path.exists():
            raise InputError(path, "no such file")
        if path.is_dir():
            raise InputError(path, "is a directory")
        kind = fmt or detect_format(path)
        if kind == "junit":
            outcome = read_tests(path)
            tests = outcome if tests is None else tests + outcome
        else:
            coverage_paths.append(path)
            fmt_used = kind
    report: Callable[[], CoverageReport] | None = None
    if coverage_paths:
        with contextlib.suppress(OSError):  # opening the database reports it in one line
            make_database_folder(config.database_path)  # before the analysis cache goes in it
        report = start_reading(
            coverage_paths, fmt, root=config.root, cache_dir=config.database_path.parent / "cache"
        )

    def result() -> SourceResult:
        read = report() if report is not None else None
        if source:
            name = source
        elif coverage_paths:
            name = _default_source(config, fmt_used)
        else:
            name = _junit_source(config, paths)
        return SourceResult(name, RunStatus.OK, read, tests)

    return result


def store_modules() -> None:
    """Import what `record_ingest` needs (for `covtui ingest` to do it while its read runs)."""
    import covtui.record
    import covtui.scan
    import covtui.store  # noqa: F401


async def record_ingest(
    config: Config,
    db_path: Path,
    result: SourceResult,
    *,
    label: str = "",
    trigger: str = "ingest",
    scope: str = "full",
    n_tests_run: int | None = None,
) -> tuple[int, list[Alert]]:
    """Store `result` as a snapshot in `db_path`: (its id, the alerts it raised).

    `trigger`: what recorded it ("ingest", or "pytest" for covtui's pytest plugin); `scope` and
    `n_tests_run` as on `SnapshotDraft`.
    """
    # Imported here, not above: `covtui ingest` imports these while its read is running.
    from covtui.record import count_exclusions, record_snapshot
    from covtui.scan import git_info
    from covtui.scan.git_lines import file_diffs
    from covtui.store import Store

    async with await Store.open(db_path) as store:
        draft = SnapshotDraft(
            trigger, [result], label=label, git=await git_info(config.root), scope=scope,
            n_tests_run=n_tests_run,
        )
        draft.exclusions = await count_exclusions(store, draft, config)
        return await record_snapshot(
            store, draft, config, functools.partial(file_diffs, config.root)
        )


def _junit_source(config: Config, paths: Sequence[Path]) -> str:
    """The source test outcomes belong to: the one whose `junit` is this file, or the only one."""
    given = {path.resolve() for path in paths}
    named = [s.name for s in config.sources if s.junit and (config.root / s.junit).resolve() in given]
    if len(named) == 1:
        return named[0]
    if len(config.sources) == 1:
        return config.sources[0].name
    choices = ", ".join(s.name for s in config.sources)
    raise InputError(
        paths[0], f"test outcomes only; say which source they belong to with --source ({choices})"
    )


def _default_source(config: Config, fmt: str) -> str:
    """The source coverage in format `fmt` belongs to when `--source` doesn't say."""
    if fmt in ("coverage.py", "coverage.json"):
        return "python"
    for s in config.sources:
        if s.format == fmt or (s.report and s.report.endswith((".info", ".lcov")) and fmt == "lcov"):
            return s.name
    return fmt
