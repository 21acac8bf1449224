"""The demo's pretend rescan: the dashboard's `r` key on a project that is not there."""

from __future__ import annotations

import random
from collections.abc import Callable

from covtui.config import Config
from covtui.domain.model import (
    CoverageReport,
    FileCoverage,
    GitInfo,
    RunMetrics,
    RunStatus,
    SnapshotDraft,
    SourceResult,
    TestOutcomes,
)
from covtui.domain.numbers import Numbers
from covtui.record import record_snapshot
from covtui.store import Store


async def demo_scan(
    config: Config,
    *,
    sources: list[str] | None = None,
    trigger: str = "dashboard",
    on_output: Callable[[str, str], None] | None = None,
    store: Store | None = None,
    affected: bool = False,  # a pretend scan has no tests to choose from: the same either way
):
    """A pretend rescan for the demo: streams pytest-like output for a few seconds, then stores
    a snapshot in which a few Python files gained coverage. A `Scanner`
    (covtui.scan.scanner), as `run_scan` is."""
    import asyncio

    from covtui.scan import ScanOutcome, cancelled_result
    from covtui.scan.lock import ScanLock

    lock = ScanLock(config.lock_base)
    lock.acquire()
    try:
        async with await Store.open(config.database_target) as own:
            rng = random.Random()
            files = await own.files(source="python")
            candidates = [f for f in files if f.numbers.n_missing]
            chosen = {f.path for f in rng.sample(candidates, k=min(3, len(candidates)))}
            modules = sorted(f.path for f in files)[:40]
            try:
                for i, path in enumerate(modules, 1):
                    await asyncio.sleep(0.06)
                    name = "tests/test_" + path.rsplit("/", 1)[-1]
                    if on_output:
                        on_output("python", f"{name} {'.' * rng.randint(3, 20)}  [{100 * i // len(modules):3d}%]")
            except asyncio.CancelledError:
                # Recorded as a real scan's cancel is, and shielded from a second cancel alike.
                draft = SnapshotDraft(trigger, [cancelled_result("python")], git=GitInfo("demo", "main", True))
                await asyncio.shield(record_snapshot(own, draft, config))
                raise
            new_files = []
            for row in files:
                detail = await own.file_detail("python", row.path)
                f = FileCoverage(row.path, row.numbers, detail.missing_lines, detail.missing_arcs,
                                 detail.functions)
                if row.path in chosen:
                    gained = rng.randint(1, max(1, min(40, len(f.missing_lines))))
                    keep = f.missing_lines[gained:]
                    n = f.numbers
                    numbers = Numbers(
                        **{**n.__dict__, "n_missing": len(keep), "n_files_covered": 1}
                    )
                    f = FileCoverage(f.path, numbers, keep, f.missing_arcs, f.functions)
                new_files.append(f)
            # Pretend it took as long as python's own runs do, not our few seconds (the
            # snapshot's figures are python's and rust's together).
            python = next((r for r in await own.sources() if r.source == "python"), None)
            tests = python.tests if python else None
            n_tests = (tests.n_tests if tests else 300) + rng.randint(1, 6)
            walls = await own.good_walls("python", 1)
            wall = (walls[0] if walls else 90.0) * rng.uniform(0.97, 1.06)
            peak_kb = (python.run.peak_rss_kb if python else None) or 400_000
            if on_output:
                on_output("python", f"==== {n_tests} passed in {wall:.2f}s (simulated) ====")
            draft = SnapshotDraft(
                trigger,
                [SourceResult(
                    "python", RunStatus.OK,
                    CoverageReport("coverage.py", new_files, True, read_s=0.05),
                    TestOutcomes(n_tests, 0, 0, 0, wall),
                    RunMetrics(wall_s=wall, cpu_s=wall * 0.9, peak_rss_kb=peak_kb, exit_code=0),
                )],
                git=GitInfo("demo", "main", True),
            )
            snapshot_id, alerts = await record_snapshot(own, draft, config)
            return ScanOutcome(snapshot_id, draft.status, alerts, draft)
    finally:
        lock.release()
