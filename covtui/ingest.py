"""Ingest: turn reports already on disk into one source's result, and record it as a snapshot.

Coverage comes from coverage.py data files (combined like `coverage combine`), coverage.json,
lcov or Cobertura XML; test outcomes from JUnit XML. `covtui ingest` parses its arguments and
calls these two steps: `read_reports` (every input read first, so bad input stops before the
database is touched) and `record_ingest`.

A CI run split into N shards (`--run ID --shard K/N`) goes through `record_shard`: each
shard's inputs are checked the same way, then stored as they are; the shard that completes the
run assembles it (coverage.py data combined as `coverage combine` does, lcov and Cobertura
merged per line, JUnit outcomes summed) and records the one snapshot.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from covtui.config import Config
from covtui.domain.model import (
    Alert,
    CoverageReport,
    FileCoverage,
    RunStatus,
    SnapshotDraft,
    SourceResult,
    TestOutcomes,
)
from covtui.domain.records import COMPLETE, FAILED, CiRun
from covtui.dsn import PostgresTarget
from covtui.errors import CovtuiError, InputError
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
) -> PendingReports:
    """`read_reports()` begun: a coverage.py read starts in its worker process now; calling
    what is returned waits for it and gives the result."""
    for path in paths:
        if not path.exists():
            raise InputError(path, "no such file")
        if path.is_dir():
            raise InputError(path, "is a directory")
        if not path.is_file():  # opened to read its format, a pipe would wait for a writer
            raise InputError(path, "not a regular file (a pipe or a device): save it to a file first")
    coverage_paths, tests, fmt_used = _coverage_and_tests(
        [(path, fmt or detect_format(path)) for path in paths]
    )
    report: Callable[[], CoverageReport] | None = None
    if coverage_paths:
        with contextlib.suppress(OSError):  # opening the database reports it in one line
            make_database_folder(config.work_dir / "cache")  # before the analysis cache goes in it
        report = start_reading(
            coverage_paths, fmt, root=config.root, cache_dir=config.work_dir / "cache", census=True,
            generated=config.generated if config.generated.leave_out else None,
        )

    def name() -> str:
        if source:
            return source
        if coverage_paths:
            return _default_source(config, fmt_used)
        return _junit_source(config, paths)

    def result() -> SourceResult:
        read = report() if report is not None else None
        return SourceResult(name(), RunStatus.OK, read, tests)

    # Known before the read ends for coverage (the JUnit-only source may be an error, said by
    # result() in its turn).
    return PendingReports(
        result, name() if coverage_paths else None, getattr(report, "reuse", None)
    )


@dataclass
class PendingReports:
    """Reports being read: calling it waits for the result. `coverage_of`: the source whose
    coverage it brings, when known before the read ends (None: no coverage, or unknown)."""

    read: Callable[[], SourceResult]
    coverage_of: str | None
    #: Hands the read files known already (the source's current ones), if it can use them.
    reuse: Callable[[Iterable[tuple[FileCoverage, tuple[str, str, str]]]], None] | None = None
    _result: SourceResult | None = None

    def __call__(self) -> SourceResult:
        if self._result is None:
            self._result = self.read()
        return self._result


async def record_ingest(
    config: Config,
    db_path: Path | PostgresTarget,
    result: SourceResult | PendingReports,
    *,
    label: str = "",
    trigger: str = "ingest",
    scope: str = "full",
    n_tests_run: int | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[int, list[Alert]]:
    """Store `result` as a snapshot in `db_path`: (its id, the alerts it raised, after those
    of CI runs that timed out meanwhile, recorded as failed first).

    A result still being read (`PendingReports`) is waited for while the store opens and
    reads what the snapshot is compared with, then `meanwhile` is called (`covtui ingest`
    imports what it prints with); bad input still stops before anything is written.
    `trigger`: what recorded it ("ingest", or "pytest" for covtui's pytest plugin); `scope`
    and `n_tests_run` as on `SnapshotDraft`.
    """
    # Imported here, not above: `covtui ingest` imports these while its read is running.
    import asyncio

    from covtui.git import git_info
    from covtui.git.lines import file_diffs
    from covtui.record import count_exclusions, record_expired_runs, record_snapshot

    git = asyncio.ensure_future(git_info(config.root))  # git runs while the store opens
    try:
        store, prefetched, result = await _open_while_reading(config, db_path, result, meanwhile)
        async with store:
            expired = [a for _, _, alerts in await record_expired_runs(store, config) for a in alerts]
            if expired:
                prefetched = None  # this connection wrote since
            draft = SnapshotDraft(
                trigger, [result], label=label, git=await git, scope=scope,
                n_tests_run=n_tests_run,
            )
            draft.exclusions = await count_exclusions(store, draft, config)
            snapshot_id, alerts = await record_snapshot(
                store, draft, config, functools.partial(file_diffs, config.root), prefetched
            )
            return snapshot_id, expired + alerts
    finally:
        if not git.done():
            git.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await git


async def _open_while_reading(
    config: Config, db_path: Path | PostgresTarget, result: SourceResult | PendingReports,
    meanwhile: Callable[[], object] | None = None,
):
    """(the store, what was prefetched or None, the result). A pending read is waited for in a
    thread while an existing database opens and its source's files are read; if that fails,
    the store opens after the read, as it would have, and says why there."""
    import asyncio
    import sqlite3

    from covtui.record import prefetch
    from covtui.store import Store

    if isinstance(result, SourceResult):
        if meanwhile is not None:
            meanwhile()
        return await Store.open(db_path), None, result
    reading = asyncio.ensure_future(asyncio.to_thread(result))
    store = prefetched = None
    try:
        if result.coverage_of is not None and (
            isinstance(db_path, PostgresTarget) or db_path.is_file()
        ):
            try:
                store = await Store.open(db_path, create=False)
                prefetched = await prefetch(store, result.coverage_of)
            except (CovtuiError, OSError, ValueError, sqlite3.Error):
                prefetched = None  # opened again below, after the read, to say why
            if prefetched is not None and result.reuse is not None:
                result.reuse(prefetched.stored)
        if meanwhile is not None:
            meanwhile()
        read = await reading
    except BaseException:
        if store is not None:
            await store.close()
        raise
    if prefetched is None:
        if store is not None:
            await store.close()
        store = await Store.open(db_path)
    return store, prefetched, read


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


@dataclass
class ShardOutcome:
    """What sending one shard did."""

    run: CiRun  # the run after it
    stored: bool  # False: the very same shard was there already (nothing changed)
    snapshot_id: int | None = None  # the run's snapshot, when this shard completed it
    alerts: list[Alert] | None = None
    result: SourceResult | None = None  # the assembled source result
    #: Runs that waited past `ci_shard_timeout`, recorded as failed meanwhile.
    expired: list[tuple[CiRun, int, list[Alert]]] | None = None


def shard_inputs(paths: Sequence[Path], fmt: str | None) -> list[tuple[str, str, bytes]]:
    """Each input of a shard as (name, format, bytes), for the store."""
    inputs = []
    for path in paths:
        kind = fmt or detect_format(path)
        if kind == "coverage.json":
            raise InputError(path, "coverage.json cannot be combined with other shards exactly "
                                   "(it has no arcs); send the coverage.py data file (.coverage)")
        try:
            inputs.append((path.name, kind, path.read_bytes()))
        except OSError as exc:
            raise InputError(path, exc.strerror or str(exc)) from None
    return inputs


def inputs_digest(inputs: Sequence[tuple[str, str, bytes]]) -> str:
    """The same inputs (formats and bytes, in any order and under any names) give the same digest."""
    parts = sorted(hashlib.sha256(fmt.encode() + b"\0" + data).hexdigest() for _, fmt, data in inputs)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def record_shard(
    config: Config, db_path: Path, result: SourceResult, inputs: Sequence[tuple[str, str, bytes]],
    *, run_id: str, shard: int, n_shards: int, label: str = "",
) -> ShardOutcome:
    """Store shard `shard` of `n_shards` of CI run `run_id` (its inputs already read into
    `result`, so they are known to be good); the shard that completes the run records it.

    Every step runs in one transaction that locks the run: shards arriving at once from many
    hosts are stored one after the other, and exactly one of them finds the run complete.
    """
    from covtui.domain.shards import is_repeat, shard_conflict
    from covtui.git import git_info
    from covtui.record import record_expired_runs
    from covtui.store import Store

    digest = inputs_digest(inputs)
    git = await git_info(config.root)
    async with await Store.open(db_path) as store:
        expired = await record_expired_runs(store, config)
        async with store.transaction():
            now = time.time()
            run = await store.lock_ci_run(run_id, result.name, n_shards, now)
            if is_repeat(run, shard, digest):
                return ShardOutcome(run, stored=False, expired=expired)
            if problem := shard_conflict(run, shard, n_shards, digest):
                raise CovtuiError(problem)
            if problem := await _format_conflict(store, run, inputs):
                raise CovtuiError(problem)
            await store.add_ci_shard(run_id, result.name, shard, digest, now, inputs)
            run = await store.lock_ci_run(run_id, result.name, n_shards, now)
            if not run.is_complete:
                return ShardOutcome(run, stored=True, expired=expired)
            return await _assemble(store, config, run, git, label, expired)


async def _format_conflict(store, run: CiRun, inputs: Sequence[tuple[str, str, bytes]]) -> str | None:
    """Why these inputs cannot join the run's earlier shards: another coverage format."""
    kinds = {fmt for _, fmt, _ in inputs} | await store.ci_shard_formats(run.run_id, run.source)
    kinds.discard("junit")
    if len(kinds) > 1:
        return (f"CI run {run.run_id!r} ({run.source}): shards in different coverage formats "
                f"({', '.join(sorted(kinds))}) cannot be combined")
    return None


async def _assemble(store, config: Config, run: CiRun, git, label: str, expired) -> ShardOutcome:
    """Every shard is in: combine them into one result and record it (in the caller's
    transaction). Inputs that cannot be combined make a failed snapshot saying why."""
    import asyncio  # here: `covtui ingest` imports asyncio only while its read runs

    from covtui.git.lines import file_diffs
    from covtui.record import ci_label, count_exclusions, record_in_transaction

    files = await store.ci_shard_files(run.run_id, run.source)
    try:
        result = await asyncio.to_thread(_combine, config, run.source, files)
        state, message = COMPLETE, ""
    except CovtuiError as exc:
        message = f"CI run {run.run_id!r}: its {run.n_shards} shards cannot be combined: {exc}"
        result = SourceResult(run.source, RunStatus.FAILED, message=message)
        state = FAILED
    draft = SnapshotDraft("ingest", [result], label=ci_label(run.run_id, label), git=git)
    draft.exclusions = await count_exclusions(store, draft, config)
    snapshot_id, alerts = await record_in_transaction(
        store, draft, config, functools.partial(file_diffs, config.root)
    )
    await store.finish_ci_run(run.run_id, run.source, state, snapshot_id, message)
    run = await store.ci_run(run.run_id, run.source)
    return ShardOutcome(run, True, snapshot_id, alerts, result, expired)


def _combine(config: Config, source: str, files: list[tuple[int, str, str, bytes]]) -> SourceResult:
    """One source result from every shard's stored inputs, read as one set of reports."""
    with tempfile.TemporaryDirectory(prefix="covtui-shards-") as tmp:
        written = [(Path(tmp) / f"shard-{k}" / f"input-{i}", fmt, data)
                   for i, (k, _, fmt, data) in enumerate(files)]
        try:
            return _read_written(config, source, written)
        except InputError as exc:
            names = {str(path): f"shard {k} ({name})"
                     for (path, _, _), (k, name, _, _) in zip(written, files, strict=True)}
            raise InputError(names.get(exc.path, exc.path), exc.problem) from None


def _coverage_and_tests(
    inputs: Sequence[tuple[Path, str]],
) -> tuple[list[Path], TestOutcomes | None, str | None]:
    """(path, format) each: the coverage reports' paths and their format, and the JUnit
    files' outcomes read and summed."""
    coverage_paths: list[Path] = []
    tests: TestOutcomes | None = None
    kind = None
    for path, fmt in inputs:
        if fmt == "junit":
            outcome = read_tests(path)
            tests = outcome if tests is None else tests + outcome
        else:
            coverage_paths.append(path)
            kind = fmt
    return coverage_paths, tests, kind


def _read_written(config: Config, source: str, written: list[tuple[Path, str, bytes]]) -> SourceResult:
    for path, _, data in written:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    coverage_paths, tests, kind = _coverage_and_tests([(path, fmt) for path, fmt, _ in written])
    report = None
    if coverage_paths:
        report = start_reading(
            coverage_paths, kind, root=config.root,
            cache_dir=config.work_dir / "cache", merge=True,
        )()
    return SourceResult(source, RunStatus.OK, report, tests)
