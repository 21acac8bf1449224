"""A small monitoring database with fixed times and names that look like markup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from covtui.config import AlertConfig, Config, SourceConfig
from covtui.domain.diffcov import diff_coverage
from covtui.domain.model import (
    ChangedLines,
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
            await record_snapshot(store, draft, config)
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
        await record_snapshot(store, SnapshotDraft("scan", [python], created_at=created_at), config)


# -- a real project: coverage.py measures a small package, for gaps and recommendations -------

#: A service with known gaps: `create_app` and `Cache.drop` never run, three except handlers
#: never run, two async functions never run.
REAL_SERVICE = '''\
"""A small service: the dashboard's fixture for gap analysis."""
import asyncio


def create_app(config):
    routes = {}
    for name in config.get("routes", []):
        routes[name] = name.upper()
    if config.get("debug"):
        routes["debug"] = "DEBUG"
    try:
        port = int(config.get("port", 8000))
    except ValueError:
        port = 8000
    return {"routes": routes, "port": port}


def parse(text):
    try:
        return int(text)
    except ValueError:
        return None


def load(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""
    except PermissionError as exc:
        return str(exc)


async def fetch(n):
    await asyncio.sleep(0)
    return n * 2


async def fetch_all(items):
    return [await fetch(i) for i in items]


class Cache:
    def __init__(self):
        self.items = {}

    def put(self, key, value):
        self.items[key] = value

    def drop(self, key):
        if key in self.items:
            del self.items[key]
            return True
        return False
'''

REAL_HELPERS = '''\
def double(n):
    return n * 2


def triple(n):
    return n * 3
'''

REAL_FILES = {"app/__init__.py": "", "app/service.py": REAL_SERVICE, "app/helpers.py": REAL_HELPERS}

#: What the "tests" run: the first snapshot's, then the latest's (which reaches more).
REAL_EXERCISES = {
    "first": "from app.service import parse\nparse('1')\n",
    "latest": (
        "from app.helpers import double\nfrom app.service import Cache, load, parse\n"
        "parse('1')\nload('app/helpers.py')\nCache().put('a', 1)\ndouble(2)\n"
    ),
}

#: The diff base the latest snapshot is compared with, as `covtui.domain.diffcov` names it.
REAL_DIFF_BASE = "main (3f2a9c1)"

#: Expected in the recommendations and the file view (from the gaps above).
REAL_UNCOVERED = ("create_app", "Cache.drop", "fetch_all", "fetch")


def write_real_project(root: Path) -> None:
    for name, text in REAL_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def measure_real_project(root: Path) -> dict[str, CoverageReport]:
    """Run each exercise under real coverage.py (with branches) and read what it measured."""
    from covtui.readers import read_coverage

    write_real_project(root)
    (root / "pyproject.toml").write_text('[tool.coverage.run]\nsource = ["app"]\nbranch = true\n')
    reports = {}
    for name, code in REAL_EXERCISES.items():
        (root / f"exercise_{name}.py").write_text(code)
        data = root / f".coverage-{name}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
        subprocess.run(
            [sys.executable, "-m", "coverage", "run", f"--data-file={data}", f"exercise_{name}.py"],
            cwd=root, env=env, check=True, capture_output=True,
        )
        reports[name] = read_coverage([data], root=root)
    return reports


def real_changed_lines() -> ChangedLines:
    """Lines "changed since main": `create_app` and `parse` edited, helpers.py a new file."""
    lines = REAL_SERVICE.splitlines()
    start = next(i for i, line in enumerate(lines, 1) if line.startswith("def create_app"))
    end = next(i for i, line in enumerate(lines, 1) if line.startswith("def load"))
    return ChangedLines(
        REAL_DIFF_BASE, {"app/service.py": frozenset(range(start, end)), "app/helpers.py": None}
    )


def real_drafts(reports: dict[str, CoverageReport]) -> list[SnapshotDraft]:
    latest = reports["latest"]
    return [
        SnapshotDraft(
            "scan",
            [SourceResult("python", RunStatus.OK, reports["first"],
                          TestOutcomes(n_tests=1, duration_s=0.5), RunMetrics(wall_s=1.5, peak_rss_kb=40_000))],
            created_at=T0 - STEP,
            git=GitInfo(commit="3f2a9c1", branch="main", dirty=False),
        ),
        SnapshotDraft(
            "scan",
            [SourceResult("python", RunStatus.OK, latest,
                          TestOutcomes(n_tests=4, duration_s=0.6), RunMetrics(wall_s=1.6, peak_rss_kb=41_000))],
            created_at=T0,
            git=GitInfo(commit="8d0e4b2", branch="feature", dirty=True),
            diff=diff_coverage(real_changed_lines(), latest.files),
        ),
    ]


async def build_real_database(config: Config, reports: dict[str, CoverageReport]) -> Path:
    """The real project's two snapshots, its sources on disk under `config.root` (last
    touched before the first snapshot)."""
    write_real_project(config.root)
    for name in REAL_FILES:
        os.utime(config.root / name, (T0 - 2 * STEP, T0 - 2 * STEP))
    async with await Store.open(config.database_path) as store:
        for draft in real_drafts(reports):
            await record_snapshot(store, draft, config)
    return config.database_path
