"""The scan: run each source's tests, read what they report, store one snapshot.

`run_scan` is the one scan: `covtui scan`, the dashboard's `r` key and `covtui watch`
all call it. It is a `Scanner` (covtui.scan.scanner), as the demo's pretend scan is.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path

from covtui.config import Config, SourceConfig
from covtui.domain.digests import saved_meanwhile
from covtui.domain.model import ChangedLines, RunStatus, SnapshotDraft, SourceResult
from covtui.errors import CovtuiError
from covtui.git import git_info
from covtui.git.diff import changed_lines
from covtui.git.lines import file_diffs
from covtui.readers import read_coverage, read_tests
from covtui.record import count_exclusions, record_expired_runs, record_snapshot
from covtui.scan import early as early_tests
from covtui.scan.affected import Keeper, digests_before
from covtui.scan.lock import ScanLock
from covtui.scan.outcome import PYTEST_NO_TESTS, pytest_failure
from covtui.scan.plan import PLUGIN_DIR, Plan, command_env, fresh_folder, plan_source, waiting_env
from covtui.scan.runner import run_command
from covtui.scan.scanner import OnOutput, ScanOutcome
from covtui.store import Store


async def run_scan(
    config: Config,
    *,
    sources: list[str] | None = None,
    trigger: str = "scan",
    on_output: OnOutput | None = None,
    store: Store | None = None,
    affected: bool = False,
    keep_warm: bool = False,
) -> ScanOutcome:
    """Run the configured sources (or the named ones) and store the snapshot.

    `affected`: rerun only the tests a change affects where the merge is exact (an
    incremental snapshot), else every test, saying why in one line of the output.
    `keep_warm`: for a covtui that stays open: once done, start the next scan's tests as far
    as they go without the project (covtui.scan.early.prestart).

    Raises ScanBusy when another scan holds this database. Cancelling the task kills the
    running command's process group and records a cancelled snapshot before re-raising.
    """
    chosen = [config.source(name) for name in sources] if sources else list(config.sources)
    # The entry point may hold the lock already, with the first source's tests waiting.
    lock = early_tests.take_lock(config.lock_base)
    if lock is None:
        lock = ScanLock(config.lock_base)
        lock.acquire()
    try:
        own_store = store is None
        if own_store:
            store = await Store.open(config.database_target)
        try:
            outcome = await _scan(config, chosen, trigger, on_output, store, affected)
        finally:
            if own_store:
                await store.close()
    finally:
        early_tests.discard()  # not taken: not this scan's command after all
        lock.release()
    if keep_warm:
        await asyncio.to_thread(early_tests.prestart, config)
    return outcome


async def _scan(config, chosen, trigger, on_output, store: Store, affected: bool = False) -> ScanOutcome:
    # The reads after the run fork from a server started now, while the tests run; unless
    # the one read is to go to the worker `covtui`'s entry point forked already.
    readers = asyncio.ensure_future(asyncio.to_thread(_prestart_readers, len(chosen)))
    try:
        return await _scan_sources(config, chosen, trigger, on_output, store, affected)
    finally:
        # A short thread (it starts one process): waited for, so that no task is left behind.
        await asyncio.wait([readers])


def _prestart_readers(n_sources: int) -> None:
    from covtui.readers.worker import COVERAGE_READER, prestart, waiting

    if n_sources == 1 and waiting(COVERAGE_READER):
        return
    with contextlib.suppress(Exception):  # reads then start their own server, as before
        prestart()


async def _scan_sources(
    config, chosen, trigger, on_output, store: Store, affected: bool = False
) -> ScanOutcome:
    await record_expired_runs(store, config)  # CI runs that waited too long for shards: failed
    created_at = time.time()
    # What was tested: asked as the tests start, answered while they run (`git status` of a
    # large tree takes a while; the diff for diff coverage is five git commands).
    git = asyncio.ensure_future(git_info(config.root))
    diff = asyncio.ensure_future(changed_lines(config.root, config.diff_base))
    try:
        return await _scan_with_git(
            config, chosen, trigger, on_output, store, affected, created_at, git, diff
        )
    finally:
        for asked in (git, diff):
            with contextlib.suppress(Exception):
                await asked  # a few milliseconds: no git process is left behind


async def _scan_with_git(
    config, chosen, trigger, on_output, store: Store, affected: bool, created_at: float,
    git: asyncio.Future, diff: asyncio.Future,
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
        draft.diff = measure_diff(await diff, results)
        draft.exclusions = await count_exclusions(store, draft, config)
    # Record the snapshot even when cancelled, and once recording has begun finish it (keep
    # the base, prune: milliseconds): a cancel landing now can't cut the write, and the scan
    # then says what it stored, not that it was cancelled.
    finishing = asyncio.ensure_future(_record_and_keep(store, draft, config, results, keepers, cancelled))
    try:
        snapshot_id, alerts, pruned = await asyncio.shield(finishing)
    except asyncio.CancelledError:
        snapshot_id, alerts, pruned = await finishing
        uncancel = getattr(asyncio.current_task(), "uncancel", None)  # Python 3.11+
        if uncancel is not None:
            uncancel()  # handled: an enclosing timeout or task group sees no cancel
    notes = [k.note for k in keepers.values() if k.note]
    outcome = ScanOutcome(snapshot_id, draft.status, alerts, draft, pruned, notes)
    if cancelled:
        raise asyncio.CancelledError()
    return outcome


async def _record_and_keep(store: Store, draft, config, results, keepers, cancelled: bool):
    """Store the snapshot, then (unless the scan was cancelled) keep each source's base and
    prune the history: (snapshot id, alerts, snapshots pruned)."""
    snapshot_id, alerts = await record_snapshot(
        store, draft, config, functools.partial(file_diffs, config.root)
    )
    pruned = 0
    if not cancelled:
        for result in results:
            keeper = keepers.get(result.name)
            if keeper is not None and keeper.keeps and result.status is RunStatus.OK:
                await asyncio.to_thread(keeper.commit, snapshot_id)
        pruned = (await store.prune(config.retention_days)).n_snapshots
    return snapshot_id, alerts, pruned


def cancelled_result(source: str) -> SourceResult:
    """A source whose run was cancelled on request (a key, Ctrl-C, a signal)."""
    return SourceResult(source, RunStatus.CANCELLED, message="cancelled by the user")


def measure_diff(changed: ChangedLines | None, results: list[SourceResult]):
    """Diff coverage of the `changed` lines over the sources that measured well; None outside
    git."""
    from covtui.domain.diffcov import diff_coverage

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
            if plan.is_pytest:
                # The tests start while covtui decides which of them to run (all of them,
                # for a full scan): Python's, coverage.py's and pytest's start-up overlap
                # the decision and the hashing of the tree.
                early = await _start_waiting(config, source, plan, on_output)
            try:
                await asyncio.to_thread(keeper.decide)
            except BaseException:
                await _stop(early)
                raise
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
        import covtui.readers.heads  # noqa: F401
        import covtui.readers.junit  # noqa: F401 - the XML parsers, 3 ms


@dataclass
class _Early:
    """A source's test process started before covtui knew which tests to run: covtui's
    plugin waits in it, after Python's, coverage.py's and pytest's start-up, for the
    selection (every test, for a full run)."""

    running: asyncio.Task
    started: float


async def _start_waiting(
    config: Config, source: SourceConfig, plan: Plan, on_output: OnOutput | None
) -> _Early | None:
    """Start the source's tests now, to wait for their selection (None: no run folder)."""
    if plan.work_dir is None:
        return None
    plan.env.update(waiting_env(plan.work_dir))
    adopted = early_tests.take(source.name, plan.argv, command_env(source, plan), config.root)
    if adopted is not None:  # started by the entry point, exactly as it would be here
        return _Early(
            asyncio.ensure_future(_command(config, source, plan, on_output, adopted)),
            adopted.started,
        )
    await asyncio.to_thread(fresh_folder, plan.work_dir)
    # Or by this covtui, which stays open, after its last scan: waiting at the launcher's gate.
    taking = asyncio.ensure_future(asyncio.to_thread(
        early_tests.take_warm, source.name, plan.argv, command_env(source, plan), config.root
    ))
    try:
        warm = await asyncio.shield(taking)
    except asyncio.CancelledError:
        taking.add_done_callback(lambda done: early_tests.end(done.result()))
        raise
    if warm is not None:
        early_tests.go(warm)
        return _Early(
            asyncio.ensure_future(_command(config, source, plan, on_output, warm)), warm.started
        )
    started = time.time()
    return _Early(asyncio.ensure_future(_command(config, source, plan, on_output)), started)


async def _stop(early: _Early | None) -> None:
    """End a waiting test process (its process group is killed) before it ran anything."""
    if early is None:
        return
    early.running.cancel()
    await asyncio.wait([early.running])  # its kill done; our own cancellation still comes through


def _command(
    config: Config, source: SourceConfig, plan: Plan, on_output: OnOutput | None,
    adopted: early_tests.Started | None = None,
):
    def on_line(line: str) -> None:
        if on_output is not None:
            on_output(source.name, line)

    return run_command(
        plan.argv, cwd=config.root, env=command_env(source, plan),
        timeout=source.timeout, on_line=on_line, adopted=adopted,
    )


async def _run_source(
    config: Config, source: SourceConfig, plan: Plan, on_output: OnOutput | None,
    keeper: Keeper | None, early: _Early | None = None,
) -> SourceResult:
    incremental = keeper is not None and keeper.incremental
    # The sources as the tests start, to check the report against (`saved_meanwhile`):
    # the keeper's tree, hashed as the run began, else hashed now, beside the tests.
    tree = keeper.tree if keeper is not None and early is not None else None
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
            await asyncio.to_thread(fresh_folder, plan.work_dir)
        if incremental:
            plan.env.update(keeper.select_env(plan.work_dir))
        started = time.time()
    before = asyncio.ensure_future(asyncio.to_thread(digests_before, config, tree))
    if early is None:
        running = asyncio.ensure_future(_command(config, source, plan, on_output))

    # This process only waits while the tests run: it imports what comes after them meanwhile.
    warming = asyncio.ensure_future(asyncio.to_thread(_import_what_follows))
    try:
        result = await running
    finally:
        await asyncio.wait([warming, before])  # short threads, never left behind
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
            # Merged data: the files neither the rerun nor the dropped tests touched, as read
            # last time (unless their source changed).
            reuse=keeper.reuse() if incremental else None,
        )
    except CovtuiError as exc:
        return SourceResult(source.name, RunStatus.FAILED, tests=tests, run=metrics, message=str(exc))
    saved = saved_meanwhile(before.result(), report.source_digests)
    if saved:
        # Not the figures of any tree: the run is void, as if cancelled (never compared, an
        # info alert: a save during a scan is news, not an emergency; the next scan measures).
        return SourceResult(
            source.name, RunStatus.CANCELLED, tests=tests, run=metrics,
            message=f"{saved} (not stored, not compared); scan again",
        )
    if keeper is not None and keeper.keeps:
        keeper.results_to_keep(report)
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


