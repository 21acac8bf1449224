"""Scanning: run each source's tests, read what they report, store one snapshot.

`run_scan` is the one scan: `covtui scan`, the dashboard's `r` key and `covtui watch`
all call it. It is a `Scanner` (covtui.scan.scanner), as the demo's pretend scan is.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from covtui.config import Config, ConfigError, SourceConfig
from covtui.domain.model import RunStatus, SnapshotDraft, SourceResult
from covtui.errors import CovtuiError
from covtui.git import git_info
from covtui.git.lines import file_diffs
from covtui.readers import read_coverage, read_tests
from covtui.record import count_exclusions, record_expired_runs, record_snapshot
from covtui.scan.affected import COLLECTED_ENV, Keeper
from covtui.scan.lock import ScanLock
from covtui.scan.outcome import PYTEST_NO_TESTS, pytest_failure
from covtui.scan.runner import run_command
from covtui.scan.scanner import OnOutput, ScanOutcome
from covtui.store import Store

#: covtui's pytest plugin: names each test's coverage context and records its outcome.
PLUGIN_DIR = Path(__file__).with_name("pytest_plugin")
PLUGIN_NAME = "covtui_contexts"
OUTCOMES_ENV = "COVTUI_TEST_OUTCOMES"
#: Set for every command a scan runs: covtui's pytest11 plugin then leaves the recording to the
#: scan (covtui.pytest_plugin.SCANNING_ENV, the same string).
SCANNING_ENV = "COVTUI_SCANNING"
#: Per-test contexts are on by default up to this many measured files (benchmarks.contexts).
CONTEXTS_AUTO_MAX_FILES = 1000


@dataclass
class _Plan:
    """How one source is run and where its results will be."""

    argv: list[str]
    report_paths: Callable[[], list[Path]]
    junit: Path | None
    is_pytest: bool
    work_dir: Path | None = None  # emptied before the run
    env: dict[str, str] = field(default_factory=dict)  # on top of the source's own
    outcomes: Path | None = None  # each test's outcome, written by covtui's pytest plugin
    collected: Path | None = None  # the test modules collected, written by the plugin


async def run_scan(
    config: Config,
    *,
    sources: list[str] | None = None,
    trigger: str = "scan",
    on_output: OnOutput | None = None,
    store: Store | None = None,
    affected: bool = False,
) -> ScanOutcome:
    """Run the configured sources (or the named ones) and store the snapshot.

    `affected`: rerun only the tests a change affects where the merge is exact (an
    incremental snapshot), else every test, saying why in one line of the output.

    Raises ScanBusy when another scan holds this database. Cancelling the task kills the
    running command's process group and records a cancelled snapshot before re-raising.
    """
    chosen = [config.source(name) for name in sources] if sources else list(config.sources)
    lock = ScanLock(config.lock_base)
    lock.acquire()
    try:
        own_store = store is None
        if own_store:
            store = await Store.open(config.database_target)
        try:
            return await _scan(config, chosen, trigger, on_output, store, affected)
        finally:
            if own_store:
                await store.close()
    finally:
        lock.release()


async def _scan(config, chosen, trigger, on_output, store: Store, affected: bool = False) -> ScanOutcome:
    # The reads after the run fork from a server started now, while the tests run.
    readers = asyncio.ensure_future(asyncio.to_thread(_prestart_readers))
    try:
        return await _scan_sources(config, chosen, trigger, on_output, store, affected)
    finally:
        # A short thread (it starts one process): waited for, so that no task is left behind.
        await asyncio.wait([readers])


def _prestart_readers() -> None:
    from covtui.readers.worker import prestart

    with contextlib.suppress(Exception):  # reads then start their own server, as before
        prestart()


async def _scan_sources(
    config, chosen, trigger, on_output, store: Store, affected: bool = False
) -> ScanOutcome:
    await record_expired_runs(store, config)  # CI runs that waited too long for shards: failed
    created_at = time.time()
    # What was tested: asked as the tests start, answered while they run (`git status` of a
    # large tree takes a while).
    git = asyncio.ensure_future(git_info(config.root))
    try:
        return await _scan_with_git(config, chosen, trigger, on_output, store, affected, created_at, git)
    finally:
        with contextlib.suppress(Exception):
            await git  # a few milliseconds: no git process is left behind


async def _scan_with_git(
    config, chosen, trigger, on_output, store: Store, affected: bool, created_at: float,
    git: asyncio.Future,
) -> ScanOutcome:
    last_good = await store.last_good_numbers()
    results: list[SourceResult] = []
    keepers: dict[str, Keeper] = {}
    cancelled = False
    for source in chosen:
        if cancelled:
            break
        keeper = Keeper(
            config, source, affected=affected, full_scan_every=config.full_scan_every,
            last_good=await store.last_good_snapshot(source.name), now=created_at,
        )
        try:
            last = last_good.get(source.name)
            result = await scan_source(
                config, source, on_output, previous_files=last.n_files if last else None,
                keeper=keeper,
            )
            results.append(result)
            keepers[source.name] = keeper
        except asyncio.CancelledError:
            cancelled = True
            results.append(cancelled_result(source.name))
    incremental = [k for k in keepers.values() if k.incremental]
    draft = SnapshotDraft(
        trigger, results, created_at=created_at, git=await git,
        scope="incremental" if incremental else "full",
        n_tests_run=sum(k.n_tests_run or 0 for k in incremental) if incremental else None,
        scan_alerts=[k.drift for k in keepers.values() if k.drift is not None],
    )
    if not cancelled:
        draft.diff = await measure_diff(config, results)
        draft.exclusions = await count_exclusions(store, draft, config)
    # Record the snapshot even when cancelled: shielded so a second cancel can't cut the write.
    snapshot_id, alerts = await asyncio.shield(record_snapshot(
        store, draft, config, functools.partial(file_diffs, config.root)
    ))
    pruned = 0
    if not cancelled:
        for result in results:
            keeper = keepers.get(result.name)
            if keeper is not None and keeper.keeps and result.status is RunStatus.OK:
                await asyncio.to_thread(keeper.commit, snapshot_id)
        pruned = (await store.prune(config.retention_days)).n_snapshots
    notes = [k.note for k in keepers.values() if k.note]
    outcome = ScanOutcome(snapshot_id, draft.status, alerts, draft, pruned, notes)
    if cancelled:
        raise asyncio.CancelledError()
    return outcome


def cancelled_result(source: str) -> SourceResult:
    """A source whose run was cancelled on request (a key, Ctrl-C, a signal)."""
    return SourceResult(source, RunStatus.CANCELLED, message="cancelled by the user")


async def measure_diff(config: Config, results: list[SourceResult]):
    """Diff coverage over the sources that measured well; None outside git."""
    from covtui.domain.diffcov import diff_coverage
    from covtui.git.diff import changed_lines

    changed = await changed_lines(config.root, config.diff_base)
    if changed is None:
        return None
    files = [f for r in results if r.status is RunStatus.OK and r.report for f in r.report.files]
    return diff_coverage(changed, files)


async def scan_source(
    config: Config,
    source: SourceConfig,
    on_output: OnOutput | None = None,
    previous_files: int | None = None,
    keeper: Keeper | None = None,
) -> SourceResult:
    """Run one source's command and read its report; failures become a failed result.

    `previous_files`: how many files its last good run measured (for `contexts`' default).
    `keeper`: the source's affected-rescan state (keeps per-test data; reruns only the
    affected tests when asked and exact)."""
    plan = plan_source(config, source, previous_files)
    early = None
    if keeper is not None:
        if plan.outcomes is None or plan.work_dir is None:
            if keeper.affected:
                keeper.note = (
                    f"full scan: {source.name} records no per-test coverage "
                    "(pytest under coverage.py with 'contexts' on does)"
                )
            keeper.keeps = False
        else:
            if keeper.affected and plan.is_pytest:
                # The tests start while covtui decides which of them to run: Python's,
                # coverage.py's and pytest's start-up overlap the decision.
                early = await _start_waiting(config, source, plan, on_output)
            try:
                await asyncio.to_thread(keeper.decide)
            except BaseException:
                await _stop(early)
                raise
            if early is not None and not keeper.incremental:
                await _stop(early)  # a full run after all: started afresh, without a selection
                early = None
                plan = plan_source(config, source, previous_files)
        if keeper.note and on_output is not None:
            on_output(source.name, f"covtui: {keeper.note}")
    result = await _run_source(config, source, plan, on_output, keeper, early)
    if keeper is None:
        return result
    return await _after_incremental(config, source, previous_files, on_output, keeper, result)


async def _after_incremental(
    config: Config, source: SourceConfig, previous_files: int | None, on_output: OnOutput | None,
    keeper: Keeper, result: SourceResult,
) -> SourceResult:
    """An incremental run checked against a full one when due, or replaced by one when it
    could not be exact."""
    if keeper.incremental and keeper.verify and not keeper.failed_why:
        from covtui.domain.affected import drift_alert

        chain = result
        keeper.fall_back(keeper.verify)
        if on_output is not None:
            on_output(source.name, f"covtui: {keeper.note}")
        plan = plan_source(config, source, previous_files)
        result = await _run_source(config, source, plan, on_output, keeper)
        if chain.status is RunStatus.OK and result.status is RunStatus.OK:
            keeper.drift = drift_alert(
                source.name, chain.report.files, result.report.files, config.precision
            )
        return result
    if keeper.incremental and keeper.failed_why:
        # A selected test errored in collection, or the merge failed: run every test.
        keeper.fall_back(keeper.failed_why)
        if on_output is not None:
            on_output(source.name, f"covtui: {keeper.note}")
        plan = plan_source(config, source, previous_files)
        result = await _run_source(config, source, plan, on_output, keeper)
    return result


def _import_what_follows() -> None:
    """Import what reading, checking and storing a run's results needs (coverage.py's
    globs and numbers above all, about 0.1 s), so that none of it waits for the tests."""
    with contextlib.suppress(Exception):  # imported again where needed, and failing there
        import covtui.coverage_compat  # noqa: F401
        import covtui.domain.components  # noqa: F401
        import covtui.domain.diffcov  # noqa: F401
        import covtui.git.diff  # noqa: F401
        import covtui.readers.heads  # noqa: F401


@dataclass
class _Early:
    """A source's test process started before the affected tests were known: covtui's plugin
    waits in it, after Python's, coverage.py's and pytest's start-up, for the selection."""

    running: asyncio.Task
    started: float


async def _start_waiting(
    config: Config, source: SourceConfig, plan: _Plan, on_output: OnOutput | None
) -> _Early | None:
    """Start the source's tests now, to wait for their selection (None: no run folder)."""
    if plan.work_dir is None:
        return None
    await asyncio.to_thread(_fresh_folder, plan.work_dir)
    plan.env.update(Keeper.waiting_env(plan.work_dir))
    started = time.time()
    return _Early(asyncio.ensure_future(_command(config, source, plan, on_output)), started)


async def _stop(early: _Early | None) -> None:
    """End a waiting test process (its process group is killed) before it ran anything."""
    if early is None:
        return
    early.running.cancel()
    await asyncio.wait([early.running])  # its kill done; our own cancellation still comes through


def _command(config: Config, source: SourceConfig, plan: _Plan, on_output: OnOutput | None):
    def on_line(line: str) -> None:
        if on_output is not None:
            on_output(source.name, line)

    return run_command(
        plan.argv, cwd=config.root, env={**source.env, **plan.env, SCANNING_ENV: "1"},
        timeout=source.timeout, on_line=on_line,
    )


async def _run_source(
    config: Config, source: SourceConfig, plan: _Plan, on_output: OnOutput | None,
    keeper: Keeper | None, early: _Early | None = None,
) -> SourceResult:
    incremental = keeper is not None and keeper.incremental
    if early is not None:
        # Its process waits for the selection: written whole, it goes on.
        started = early.started
        try:
            await asyncio.to_thread(keeper.write_selection, plan.work_dir)
        except BaseException:
            await _stop(early)
            raise
        running = early.running
    else:
        if plan.work_dir is not None:
            # The last run's data (parallel runs leave a shard per process) is removed in a
            # thread: on the dashboard's event loop it would freeze the screen.
            await asyncio.to_thread(_fresh_folder, plan.work_dir)
        if incremental:
            plan.env.update(keeper.select_env(plan.work_dir))
        started = time.time()
        running = asyncio.ensure_future(_command(config, source, plan, on_output))

    # This process only waits while the tests run: it imports what comes after them meanwhile.
    warming = asyncio.ensure_future(asyncio.to_thread(_import_what_follows))
    try:
        result = await running
    finally:
        await asyncio.wait([warming])  # a short thread, never left behind
    metrics = result.metrics
    if result.not_found:
        return SourceResult(
            source.name, RunStatus.FAILED, run=metrics,
            message=f"command not found: {result.not_found}",
        )
    if result.timed_out:
        return SourceResult(
            source.name, RunStatus.TIMEOUT, run=metrics,
            message=f"timed out after {source.timeout:g}s; the process group was killed",
        )
    tests = None
    if plan.junit is not None and plan.junit.is_file() and plan.junit.stat().st_mtime >= started - 1:
        try:
            tests = await asyncio.to_thread(read_tests, plan.junit)
        except CovtuiError as exc:
            return SourceResult(source.name, RunStatus.FAILED, run=metrics, message=str(exc))
    if plan.is_pytest:
        # pytest's exit code says whether the suite ran; a run that stopped early (a
        # collection error, no tests) measured a fraction of it and is not compared.
        why = pytest_failure(metrics.exit_code, metrics.output_tail, config.root)
        if incremental and metrics.exit_code == PYTEST_NO_TESTS and keeper.selection.empty_run:
            why = None  # every test deselected: only import-time lines were measured again
        if why is not None:
            if incremental:
                keeper.failed_why = f"the incremental run failed ({why})"
            return SourceResult(source.name, RunStatus.FAILED, tests=tests, run=metrics, message=why)
        exit_ok = True
    else:
        # Other runners exit non-zero when tests fail: their JUnit says whether they ran.
        exit_ok = metrics.exit_code == 0 or bool(tests and (tests.n_failed or tests.n_errors))
    reports = plan.report_paths()
    if not reports:
        why = "the command exited 0 but wrote no coverage report" if metrics.exit_code == 0 else (
            f"the command exited with {metrics.exit_code} and wrote no coverage report"
        )
        where = source.report or "coverage data"
        return SourceResult(
            source.name, RunStatus.FAILED, tests=tests, run=metrics, message=f"{where}: {why}"
        )
    if source.report is not None and all(p.stat().st_mtime < started - 1 for p in reports):
        return SourceResult(
            source.name, RunStatus.FAILED, tests=tests, run=metrics,
            message=f"{source.report}: not updated by the command (an old report)",
        )
    if not exit_ok:
        # Its partial coverage is not shown or stored: the source keeps its last good numbers.
        return SourceResult(
            source.name, RunStatus.FAILED, tests=tests, run=metrics,
            message=f"the command exited with {metrics.exit_code}",
        )
    if keeper is not None and keeper.keeps:
        await asyncio.to_thread(keeper.read_collected, plan.collected, started)
        if incremental:
            why = await asyncio.to_thread(keeper.collection_problem, reports)
            if why:
                keeper.failed_why = why
                return SourceResult(source.name, RunStatus.FAILED, run=metrics, message=why)
            try:
                reports = [await asyncio.to_thread(keeper.merge, reports, plan.work_dir)]
            except Exception as exc:  # noqa: BLE001 - any merge failure: a full run is exact
                keeper.failed_why = f"the rerun's coverage data could not be merged ({exc})"
                return SourceResult(source.name, RunStatus.FAILED, run=metrics, message=str(exc))
        await asyncio.to_thread(keeper.data_to_keep, reports)
    try:
        report = await asyncio.to_thread(
            read_coverage, reports, source.format, root=config.root,
            cache_dir=config.work_dir / "cache",
            # Our own plugin ran with the tests: without `source`, an editable install's
            # copy would be measured as if it were the project's code.
            leave_out=(PLUGIN_DIR,) if plan.outcomes is not None else (),
            # The exclusions census in the same worker: the snapshot records it without a
            # worker of its own (record.count_exclusions).
            census=True, generated=config.generated if config.generated.leave_out else None,
        )
    except CovtuiError as exc:
        return SourceResult(source.name, RunStatus.FAILED, tests=tests, run=metrics, message=str(exc))
    outcomes = await asyncio.to_thread(_read_outcomes, plan.outcomes, started)
    if keeper is not None and keeper.keeps:
        outcomes, merged = await asyncio.to_thread(keeper.kept_tests, outcomes, plan.junit)
        if merged is not None:
            tests = merged
            keeper.note = (
                f"incremental: {keeper.n_tests_run} of {merged.n_tests} tests"
                f"{keeper.collection_note()}"
            )
    return SourceResult(source.name, RunStatus.OK, report, tests, metrics, outcomes=outcomes)


def _read_outcomes(path: Path | None, started: float) -> dict[str, str] | None:
    """The tests' outcomes the plugin wrote in this run (None: none, or not readable)."""
    if path is None:
        return None
    try:
        if path.stat().st_mtime < started - 1:
            return None
        with open(path, encoding="utf-8") as f:
            outcomes = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(outcomes, dict):
        return None
    return {str(k): str(v) for k, v in outcomes.items()}


def contexts_on(source: SourceConfig, previous_files: int | None) -> bool:
    """Whether to record per-test contexts: as configured, else while the source is small."""
    if source.contexts is not None:
        return source.contexts
    return previous_files is None or previous_files <= CONTEXTS_AUTO_MAX_FILES


def plan_source(config: Config, source: SourceConfig, previous_files: int | None = None) -> _Plan:
    """Turn a source's config into the command to run and the files to read afterwards."""
    if source.shell:
        argv = ["/bin/sh", "-c", source.command]
    else:
        try:
            argv = shlex.split(source.command)
        except ValueError as exc:
            raise ConfigError(f"source {source.name!r}: command: {exc}") from None
    if not argv:
        raise ConfigError(f"source {source.name!r}: empty command")
    junit = (config.root / source.junit) if source.junit else None

    if not source.runs_under_coverage:
        report = config.root / source.report
        return _Plan(argv, lambda: [report] if report.is_file() else [], junit, _is_pytest(argv))

    # Run under coverage.py, honouring the project's own coverage config, into a fresh folder.
    work = config.work_dir / "run" / source.name
    data_file = work / ".coverage"
    coverage_run = [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data_file}"]
    is_pytest = _is_pytest(argv)
    if source.shell:
        raise ConfigError(
            f"source {source.name!r}: shell commands can't run under coverage.py; "
            "give 'report' with the file the command writes"
        )
    env: dict[str, str] = {}
    outcomes = collected = None
    if is_pytest:
        module_args = argv[3:] if _is_python(argv[0]) else argv[1:]
        # covtui's pytest11 plugin records the runs people make themselves: not the scan's
        # (and an editable install's copy would be measured as the project's code).
        command = [*coverage_run, "-m", "pytest", "-p", "no:covtui", *module_args]
        if not any(a.startswith("--junitxml") or a.startswith("--junit-xml") for a in module_args):
            junit = work / "junit.xml"
            command.append(f"--junitxml={junit}")
        if contexts_on(source, previous_files):
            outcomes = work / "outcomes.json"
            collected = work / "collected.json"
            command[len(coverage_run) + 2:len(coverage_run) + 2] = ["-p", PLUGIN_NAME]
            path = source.env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
            env = {
                "PYTHONPATH": os.pathsep.join(filter(None, [str(PLUGIN_DIR), path])),
                OUTCOMES_ENV: str(outcomes),
                COLLECTED_ENV: str(collected),
            }
    elif len(argv) >= 3 and _is_python(argv[0]) and argv[1] == "-m":
        command = [*coverage_run, "-m", *argv[2:]]
    elif argv[0].endswith(".py"):
        command = [*coverage_run, *argv]
    elif _is_python(argv[0]) and len(argv) >= 2 and argv[1].endswith(".py"):
        command = [*coverage_run, *argv[1:]]
    else:
        raise ConfigError(
            f"source {source.name!r}: can't run {argv[0]!r} under coverage.py (use pytest, "
            "python -m MODULE or a .py script), or give 'report' with the file it writes"
        )

    def data_files() -> list[Path]:
        # Parallel mode and subprocess measurement leave `.coverage.*` shards beside it.
        return sorted(p for p in work.glob(".coverage*") if p.is_file())

    return _Plan(command, data_files, junit, is_pytest, work, env, outcomes, collected)


def _fresh_folder(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)


def _is_python(program: str) -> bool:
    name = Path(program).name
    return name.startswith("python") and not name.endswith(".py")


def _is_pytest(argv: list[str]) -> bool:
    if Path(argv[0]).name in ("pytest", "py.test"):
        return True
    return len(argv) >= 3 and _is_python(argv[0]) and argv[1] == "-m" and argv[2] == "pytest"
