"""A small monitoring database with fixed times and names that look like markup."""

from __future__ import annotations

from pathlib import Path

from covtui.config import AlertConfig, Config, SourceConfig
from covtui.model import (
    CoverageReport,
    FileCoverage,
    GitInfo,
    RunMetrics,
    RunStatus,
    SnapshotDraft,
    SourceResult,
    TestOutcomes,
)
from covtui.numbers import Numbers
from covtui.store import Store

#: 2025-09-21 20:00:00 UTC: every fixture time is counted from here.
T0 = 1758484800.0
STEP = 6 * 3600.0  # a snapshot every six hours
N_SNAPSHOTS = 29  # a week of them, plus the one that regresses

MARKUP_RED = "src/pkg/[red]x[/].py"
MARKUP_CLICK = "src/pkg/[@click=app.quit]x.py"

# (path, statements, branches); coverage climbs with the snapshot index.
PYTHON_FILES = [
    ("src/pkg/utils/migration.py", 1207, 120),
    ("src/pkg/server.py", 1109, 96),
    ("src/pkg/core/sqlite_state_manager.py", 997, 88),
    ("src/pkg/core/lsp_metadata_extractor.py", 954, 70),
    ("src/pkg/core/automatic_recovery.py", 888, 64),
    ("src/pkg/client.py", 420, 40),
    (MARKUP_RED, 60, 8),
    (MARKUP_CLICK, 40, 4),
]
RUST_FILES = [
    ("crates/engine/src/lib.rs", 800, 0),
    ("crates/engine/src/index.rs", 600, 0),
    ("crates/engine/src/query.rs", 450, 0),
]


def fixture_config(root: Path, **overrides) -> Config:
    values = dict(
        root=root,
        database="covtui.db",
        sources=[
            SourceConfig("python"),
            SourceConfig("rust", command="cargo llvm-cov --lcov", report="lcov.info"),
            SourceConfig("docs", command="true", report="docs.lcov"),
        ],
        alerts=AlertConfig(),
        poll_interval=0.05,
        bell=False,
    )
    values.update(overrides)
    return Config(**values)


def _file(path: str, n_statements: int, n_branches: int, fraction: float) -> FileCoverage:
    executed = int(n_statements * fraction)
    missing = tuple(range(n_statements - (n_statements - executed) + 1, n_statements + 1))
    # Branches: a quarter of the taken ones are partial (one arc missed).
    executed_branches = int(n_branches * fraction)
    n_missing_branches = n_branches - executed_branches
    arcs = tuple((i + 1, i + 3) for i in range(n_missing_branches // 2)) + tuple(
        (i + 1, -1) for i in range(n_missing_branches - n_missing_branches // 2)
    )
    numbers = Numbers(
        n_files=1,
        n_files_covered=1 if executed else 0,
        n_statements=n_statements,
        n_missing=n_statements - executed,
        n_branches=n_branches,
        n_partial_branches=n_missing_branches // 2,
        n_missing_branches=n_missing_branches,
    )
    return FileCoverage(path, numbers, missing, arcs)


def _fraction(i: int, k: int) -> float:
    """How covered file k is at snapshot i: a slow climb, different per file."""
    base = [0.0, 0.02, 0.139, 0.0, 0.05, 0.6, 0.3, 0.5][k % 8]
    if base == 0.0:
        return 0.0
    return min(1.0, base + 0.004 * i)


def fixture_drafts(n: int = N_SNAPSHOTS) -> list[SnapshotDraft]:
    drafts = []
    for i in range(n):
        last = i == n - 1
        python_files = [
            _file(path, st, br, _fraction(i, k) - (0.05 if last and k == 6 else 0.0))
            for k, (path, st, br) in enumerate(PYTHON_FILES)
        ]
        rust_files = [
            _file(path, st, br, 0.0 if i < 4 else 0.1 + 0.01 * i) for path, st, br in RUST_FILES
        ]
        failed = 1 if not last else 7
        python = SourceResult(
            "python",
            RunStatus.OK,
            CoverageReport("coverage.py", python_files, has_branches=True, read_s=0.2),
            TestOutcomes(n_tests=300 + i, n_failed=failed, n_errors=0, n_skipped=4, duration_s=40.0),
            RunMetrics(wall_s=44.0 + (i % 3) + (20.0 if last else 0.0), cpu_s=40.0, peak_rss_kb=400_000 + 1000 * i, exit_code=0),
        )
        sources = [python]
        if i % 2 == 0 or last:
            sources.append(
                SourceResult(
                    "rust",
                    RunStatus.OK,
                    CoverageReport("lcov", rust_files, has_branches=False, read_s=0.05),
                    TestOutcomes(n_tests=120, n_failed=0, n_errors=0, n_skipped=0, duration_s=12.0),
                    RunMetrics(wall_s=15.0, cpu_s=30.0, peak_rss_kb=250_000, exit_code=0),
                )
            )
        drafts.append(
            SnapshotDraft(
                trigger="watch" if i % 4 else "scan",
                sources=sources,
                created_at=T0 - (n - 1 - i) * STEP,
                git=GitInfo(commit=f"{i:07x}", branch="main", dirty=False),
            )
        )
    return drafts


async def build_fixture_database(path: Path, config: Config, n: int = N_SNAPSHOTS) -> Path:
    """Write the fixture snapshots (their alerts come from the real rules)."""
    async with await Store.open(path) as store:
        for draft in fixture_drafts(n):
            await store.write_snapshot(draft, config)
    return path


async def add_snapshot(path: Path, config: Config, *, created_at: float, fraction_bump: float = 0.1) -> None:
    """A second connection writes one more snapshot (what `covtui scan` would do)."""
    drafts = fixture_drafts()
    draft = drafts[-2]
    files = [
        FileCoverage(f.path, f.numbers, f.missing_lines, f.missing_arcs)
        for f in draft.sources[0].report.files
    ]
    files[0] = _file(PYTHON_FILES[0][0], PYTHON_FILES[0][1], PYTHON_FILES[0][2], fraction_bump)
    python = SourceResult(
        "python",
        RunStatus.OK,
        CoverageReport("coverage.py", files, has_branches=True),
        draft.sources[0].tests,
        RunMetrics(wall_s=45.0, peak_rss_kb=400_000),
    )
    async with await Store.open(path, create=False) as store:
        await store.write_snapshot(SnapshotDraft("scan", [python], created_at=created_at), config)
