"""Recording a snapshot: read the history it is judged against, plan it, store it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from covtui.config import Config
from covtui.domain.exclusions import ReasonCount
from covtui.domain.explain import DiffReader, FileDiff
from covtui.domain.flaky import Measured, Score
from covtui.domain.model import Alert, FileCoverage, RunStatus, SnapshotDraft, SourceResult
from covtui.domain.plan import file_sources, plan_snapshot, sources_key
from covtui.domain.recording import FileState, SnapshotHistory, SnapshotPlan
from covtui.domain.shards import FAILED, CiRun, is_overdue, timed_out_message
from covtui.errors import CovtuiError
from covtui.store import Store

#: Per source: its files' states after the batch's last snapshot (a batch reads them once).
FilesMemo = dict[str, dict[str, FileState]]


@dataclass
class Prefetched:
    """A source's current files, read while its result was still being read (`covtui
    ingest`: its reader's worker works on the other core); used only if nothing committed
    since (`version`, checked inside the write transaction)."""

    version: tuple[int, int]  # (data version, schema version) before the files were read
    files: FilesMemo
    #: The source's files as the store keeps them: (FileCoverage, its stored texts) each.
    stored: list[tuple[FileCoverage, tuple[str, str, str]]]


async def prefetch(store: Store, source: str) -> Prefetched:
    """Read `source`'s current files ahead of its result."""
    version = (await store.data_version(), await store.schema_version())
    files, stored = await store.current_files_as_stored(source)
    pairs = [(state.coverage, stored[path]) for path, state in files.items()
             if state.coverage is not None]
    return Prefetched(version, {source: files}, pairs)


async def record_snapshot(
    store: Store, draft: SnapshotDraft, config: Config, diffs: DiffReader | None = None,
    prefetched: Prefetched | None = None,
) -> tuple[int, list[Alert]]:
    """Store `draft` and the alerts it raises, all in one transaction. With `diffs` (git, at
    the project root), a drop alert's cause follows moved lines as `covtui explain` does.
    `prefetched` files stand in for the store's when no other writer committed since."""
    async with store.transaction():
        memo = None
        if prefetched is not None and prefetched.version == (
            await store.data_version(), await store.schema_version()
        ):
            memo = dict(prefetched.files)
        return await _record(store, draft, config, memo, diffs)


async def record_in_transaction(
    store: Store, draft: SnapshotDraft, config: Config, diffs: DiffReader | None = None
) -> tuple[int, list[Alert]]:
    """`record_snapshot` inside a transaction the caller holds (a CI run's last shard)."""
    return await _record(store, draft, config, None, diffs)


async def record_expired_runs(
    store: Store, config: Config, now: float | None = None
) -> list[tuple[CiRun, int, list[Alert]]]:
    """Record every CI run that waited longer than `ci_shard_timeout` for its shards as a
    failed snapshot naming the shards that never came: (run, snapshot id, alerts) each."""
    now = time.time() if now is None else now
    timeout = config.ci_shard_timeout
    if not any(is_overdue(r, now, timeout) for r in await store.open_ci_runs()):
        return []
    done = []
    async with store.transaction():
        for run in await store.open_ci_runs():
            run = await store.lock_ci_run(run.run_id, run.source, run.n_shards, now)
            if not is_overdue(run, now, timeout):
                continue
            message = timed_out_message(run, timeout)
            draft = SnapshotDraft(
                "ingest", [SourceResult(run.source, RunStatus.FAILED, message=message)],
                label=ci_label(run.run_id),
            )
            snapshot_id, alerts = await _record(store, draft, config, None)
            await store.finish_ci_run(run.run_id, run.source, FAILED, snapshot_id, message)
            done.append((run, snapshot_id, alerts))
    return done


def ci_label(run_id: str, label: str = "") -> str:
    """The label of a CI run's snapshot."""
    return f"CI run {run_id}" + (f": {label}" if label else "")


async def record_snapshots(
    store: Store, drafts: Iterable[SnapshotDraft], config: Config
) -> list[tuple[int, list[Alert]]]:
    """Store many snapshots in one transaction (imports, the demo, benchmarks)."""
    memo: FilesMemo = {}
    async with store.transaction():
        return [await _record(store, draft, config, memo) for draft in drafts]


async def _record(
    store: Store,
    draft: SnapshotDraft,
    config: Config,
    memo: FilesMemo | None,
    diffs: DiffReader | None = None,
) -> tuple[int, list[Alert]]:
    history = await read_history(store, draft, config, memo)
    if diffs is not None:
        history.diffs = await _diffs_since_measured(history, draft, diffs)
    plan = plan_snapshot(draft, history, config, now=time.time())
    if draft.status is RunStatus.OK and (config.components or config.codeowners_text):
        for alert in await component_alerts(store, plan, history, config):
            alert.created_at = plan.created_at
            plan.alerts.append(alert)
    snapshot_id = await store.insert_snapshot(plan)
    if memo is not None:
        memo.update(plan.files)
    return snapshot_id, plan.alerts


async def count_exclusions(
    store: Store, draft: SnapshotDraft, config: Config
) -> tuple[ReasonCount, ...] | None:
    """What `draft` leaves out per reason (the exclusions audit's counts), for it to store:
    the files of every source as they will be after it (its reports, and the latest files of
    sources it did not measure), read by coverage.py in a worker process (the files the
    scan's read parsed come from its analysis cache), before the write transaction. None for
    a run that did not complete (never compared), or when coverage.py's config can't be read
    (not recorded, rather than wrong). When the census the read's worker took
    (`CoverageReport.exclusions`) counted exactly these files, it is used: no worker of its
    own, and no file read again if it found the generated files too."""
    from covtui.domain.exclusions import census_counts

    if draft.status is not RunStatus.OK:
        return None
    reported = {s.name: s.report for s in draft.sources if s.report is not None}
    paths = {f.path for report in reported.values() for f in report.files}
    for name in await store.last_good_numbers():
        if name not in reported:
            paths |= {path for path, state in (await store.current_files(name)).items() if state.coverage}
    try:
        census = [r.exclusions for r in reported.values()]
        # The read's own census, when it counted exactly these files.
        whole = census[0] if len(census) == 1 and census[0] and census[0].paths == paths else None
        generated: list[tuple[str, str]] = []
        if config.generated.leave_out and whole is not None and whole.generated is not None:
            generated = list(whole.generated)
        elif config.generated.leave_out:
            # Imported only here: it imports coverage.py (its glob rules), a tenth of a
            # warm ingest, which the read's own census spares.
            from covtui.readers.heads import find_generated_files

            found = await asyncio.to_thread(find_generated_files, config, sorted(paths))
            generated = [(g.path, g.why) for g in found]
        if whole is not None:
            return census_counts(whole, generated)
        from covtui.readers.exclusions import start_counting_exclusions

        counting = start_counting_exclusions(
            config.root, paths, generated, config.work_dir / "cache"
        )
        return await asyncio.to_thread(counting)
    except CovtuiError:
        return None


async def read_history(
    store: Store, draft: SnapshotDraft, config: Config, memo: FilesMemo | None = None
) -> SnapshotHistory:
    """What the store holds that `draft` is planned against (call inside a transaction).

    `memo` holds files already known from earlier in the batch: those are not read again.
    """
    last_good = await store.last_good_numbers()
    key = sources_key(last_good, draft)
    baseline = await store.baseline(key)
    with_files = set(file_sources(draft))
    sources = {}
    for name in dict.fromkeys(s.name for s in draft.sources):
        past = await store.source_history(name, config.alerts.test_time_window)
        if name in with_files:
            past.files = memo[name] if memo and name in memo else await store.current_files(name)
            if any(s.report.line_tests is not None for s in draft.sources
                   if s.name == name and s.report is not None):
                await _per_test_history(store, name, past)
        sources[name] = past
    return SnapshotHistory(last_good, {key: baseline} if baseline else {}, sources)


async def _diffs_since_measured(
    history: SnapshotHistory, draft: SnapshotDraft, diffs: DiffReader
) -> Mapping[str, FileDiff] | None:
    """git's diff from the commit of the per-test coverage the draft's sources are compared
    with to the draft's commit; None unless there is exactly one such commit."""
    then = {past.measured.commit for past in history.sources.values() if past.measured is not None}
    now = draft.git.commit
    if len(then) != 1 or now is None or None in then:
        return None
    (commit,) = then
    if commit == now:
        return {}  # what git's diff of a commit with itself says, without a git process
    return await diffs(commit, now)


async def component_alerts(
    store: Store, plan: SnapshotPlan, history: SnapshotHistory, config: Config
) -> list[Alert]:
    """Components whose coverage fell by their threshold: every source's files before and
    after this snapshot (sources it did not measure count the same on both sides), generated
    files left out as the component figures leave them out."""
    from covtui.domain.components import break_down, component_drops, components_of
    from covtui.readers.heads import find_generated_files

    before: list = []
    after: list = []
    for name in dict.fromkeys([*history.last_good, *plan.files]):
        if name in plan.files:
            past = history.sources.get(name)
            before += [s.coverage for s in ((past.files if past else None) or {}).values() if s.coverage]
            after += [s.coverage for s in plan.files[name].values() if s.coverage]
        else:
            same = [s.coverage for s in (await store.current_files(name)).values() if s.coverage]
            before += same
            after += same
    left_out: set[str] = set()
    if config.generated.leave_out:
        paths = {f.path for f in (*before, *after)}
        left_out = {g.path for g in await asyncio.to_thread(find_generated_files, config, paths)}
    components = components_of(config)
    return component_drops(
        break_down(before, components, left_out), break_down(after, components, left_out), config
    )


async def _per_test_history(store: Store, source: str, past) -> None:
    """The source's newest per-test coverage and its flaky scores, for flaky lines."""
    for snapshot_id in await store.line_test_snapshots():
        tests = await store.line_tests(snapshot_id, source=source, deferred=True)
        if not tests:
            continue
        snapshot = await store.snapshot(snapshot_id)
        states = await store.states_at(snapshot_id)
        past.measured = Measured(
            {path: t for (_, path), t in tests.items()},
            {path: frozenset(f.missing_lines) for (src, path), f in states.items() if src == source},
            (await store.test_outcomes(snapshot_id)).get(source),
            snapshot.git_commit if snapshot else None,
            snapshot.git_dirty if snapshot else None,
        )
        break
    past.flaky = {
        path: {line: Score(*value) for line, value in lines.items()}
        for (_, path), lines in (await store.flaky_scores(source)).items()
    }
