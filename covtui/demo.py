"""A realistic demo monitoring database, written through covtui's own store.

The project mirrors the seed report's workspace-qdrant-mcp: 212 Python files (49,678
statements, 1,494 covered, 21 files with coverage: 2.32% with branches, and the report's
top-5 critical files) plus a Rust daemon that has no coverage data until two thirds into the
history, then reports through lcov. Coverage climbs along an S-curve; scheduled incidents
(coverage dips, failing-test bursts, slow runs, failed and cancelled scans) make the store's
own alert rules fire. Everything follows from the seed and the end time, so a history can be
rebuilt, or continued later, identically.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from covtui import __version__
from covtui.config import Config
from covtui.domain.model import (
    CoverageReport,
    FileCoverage,
    FunctionCoverage,
    GitInfo,
    RunMetrics,
    RunStatus,
    SnapshotDraft,
    SourceResult,
    TestFailure,
    TestOutcomes,
)
from covtui.domain.numbers import Numbers
from covtui.record import record_snapshot, record_snapshots
from covtui.store import Store

Progress = Callable[[int, int], None]

#: Snapshots per transaction: a dashboard polling the file sees the history grow day by day.
BATCH = 288
RETENTION_DAYS = 90.0

# The seed report's starting point.
SEED_STATEMENTS = 49_678
SEED_EXECUTED = 1_494
SEED_FILES_COVERED = 21
SEED_PC = 2.32
#: (path, statements, branch arcs per statement, target file coverage %), in the seed's order.
SEED_CRITICAL = [
    ("workspace_qdrant_mcp/utils/migration.py", 1207, 0.30, 0.0),
    ("workspace_qdrant_mcp/server.py", 1109, 0.27, 0.0),
    ("common/core/sqlite_state_manager.py", 997, 0.52, 13.9),
    ("common/core/lsp_metadata_extractor.py", 954, 0.31, 0.0),
    ("common/core/automatic_recovery.py", 888, 0.37, 0.0),
]

_PY_TREE = {
    "workspace_qdrant_mcp": "__init__ server stdio_server launcher entry_point elegant_server "
    "server_logging_fix isolated_stdio_server standalone_stdio_server",
    "workspace_qdrant_mcp/tools": "__init__ memory search documents scratchbook grpc_tools "
    "state_management watch_management type_search symbol_resolver code_search "
    "dependency_analyzer research multitenant_tools multitenant_search simplified_interface "
    "compatibility_layer enhanced_state_tools degradation_aware dual_mode_search",
    "workspace_qdrant_mcp/utils": "__init__ migration config_validator project_detection "
    "admin_cli os_directories",
    "workspace_qdrant_mcp/web": "__init__ server routes",
    "workspace_qdrant_mcp/validation": "__init__ project_isolation decorators",
    "workspace_qdrant_mcp/optimization": "__init__ complete_fastmcp_optimization",
    "common": "__init__",
    "common/core": "__init__ client memory hybrid_search sqlite_state_manager "
    "lsp_metadata_extractor automatic_recovery embeddings collections config daemon_client "
    "daemon_manager lsp_client lsp_health_monitor lsp_fallback file_watcher "
    "advanced_watch_config priority_queue_manager incremental_processor metadata_schema "
    "metadata_filtering metadata_optimization multitenant_collections collision_detection "
    "collection_naming collection_types component_coordination component_isolation "
    "component_lifecycle component_migration graceful_degradation error_handling "
    "error_categorization error_message_manager performance_monitor performance_metrics "
    "performance_analytics performance_storage resource_manager smart_ingestion_router "
    "sparse_vectors ssl_config state_aware_ingestion unified_config language_filters "
    "pattern_manager project_config_manager yaml_config yaml_metadata logging_config "
    "auto_ingestion backward_compatibility claude_integration context_injector "
    "depth_validation grpc_client ingestion_config llm_access_control lua_type_adapter "
    "queue_client queue_connection search_cache_manager tool_availability_monitor "
    "watch_validation websocket_server",
    "common/grpc": "__init__ client connection_manager daemon_client types ingestion_pb2 "
    "ingestion_pb2_grpc",
    "common/memory": "__init__ manager types schema conflict_detector claude_integration "
    "token_counter migration_utils",
    "common/utils": "__init__ project_detection os_directories config_validator "
    "file_type_detector async_utils git_utils",
    "common/observability": "__init__ metrics health monitoring endpoints health_dashboard "
    "health_coordinator",
    "common/security": "__init__ access_control encryption audit_logger",
    "common/logging": "__init__ loguru_config handlers",
    "common/service_discovery": "__init__ client registry network health",
    "wqm_cli": "__init__",
    "wqm_cli/cli": "__init__ main ingest status watch_service config_commands formatting utils",
    "wqm_cli/cli/parsers": "__init__ base exceptions file_detector progress pdf_parser "
    "docx_parser markdown_parser html_parser code_parser epub_parser pptx_parser text_parser "
    "web_crawler web_parser mobi_parser",
    "wqm_cli/cli/commands": "__init__ admin search memory library watch service ingest "
    "lsp_management init config",
    "common/tools": "__init__ document_converter performance_benchmark migration_utils",
    "common/dashboard": "__init__ performance_dashboard",
    "common/core/context_injection": "__init__ rule_retrieval session_trigger token_budget "
    "formatters claude_md_injector live_refresh",
    "workspace_qdrant_mcp/core": "__init__ client memory_manager hybrid_search collections",
    "wqm_cli/cli/ingestion": "__init__ engine batch_processor document_pipeline",
    "common/testing": "__init__ fixtures factories",
    "common/nlp": "__init__ tokenizer keyword_extractor",
    "workspace_qdrant_mcp/cli": "__init__ utils",
}


def _words(text: str) -> list[str]:
    return text.split()


_RUST_FILES = _words(
    "daemon/core/src/lib.rs daemon/core/src/config.rs daemon/core/src/processing.rs "
    "daemon/core/src/watching.rs daemon/core/src/ipc.rs daemon/core/src/storage.rs "
    "daemon/core/src/embedding.rs daemon/core/src/error.rs daemon/core/src/logging.rs "
    "daemon/core/src/metrics.rs daemon/core/src/unified_config.rs "
    "daemon/core/src/daemon_state.rs daemon/core/src/queue_processor.rs "
    "daemon/core/src/file_ops.rs daemon/core/src/patterns/mod.rs "
    "daemon/core/src/patterns/detection.rs daemon/core/src/lsp/mod.rs "
    "daemon/core/src/lsp/client.rs daemon/core/src/lsp/detection.rs "
    "daemon/core/src/lsp/state.rs daemon/core/src/lsp/lifecycle.rs "
    "daemon/core/src/service_discovery/mod.rs daemon/core/src/service_discovery/registry.rs "
    "daemon/grpc/src/lib.rs daemon/grpc/src/server.rs daemon/grpc/src/service.rs "
    "daemon/grpc/src/client.rs daemon/grpc/src/error.rs "
    "daemon/grpc/src/services/document_processor.rs daemon/grpc/src/services/search_service.rs "
    "daemon/grpc/src/services/memory_service.rs daemon/grpc/src/services/system_service.rs "
    "daemon/python-bindings/src/lib.rs daemon/shared-test-utils/src/lib.rs"
)
_VERBS = _words(
    "get load parse validate build process handle create update delete resolve sync "
    "register check migrate apply collect format compute dispatch flush restore"
)
_NOUNS = _words(
    "config state record batch entry request response collection document result cache "
    "event session queue metadata schema payload"
)


# -- the simulated project -------------------------------------------------------------------


@dataclass
class _Func:
    name: str
    kind: str
    blocks: list[int]  # statements per block; block 0 runs whenever the function is called
    skip: list[bool]  # per block j >= 1: whether its branch's other exit can be taken
    executed: list[bool]
    lines: list[list[int]] = field(default_factory=list)  # per block, after layout
    start: int = 0
    end: int = 0


@dataclass
class _File:
    path: str
    module_stmts: int  # imports, class and def lines: they run when the module is imported
    funcs: list[_Func]
    excluded: int
    branches: bool
    imported: bool = False
    locked: bool = False  # broken by a dip: left alone until the fix
    module_lines: list[int] = field(default_factory=list)
    cov: FileCoverage | None = None

    @property
    def n_statements(self) -> int:
        return self.module_stmts + sum(sum(fn.blocks) for fn in self.funcs)


def _partition(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` split into `parts` positive integers."""
    parts = max(1, min(parts, total))
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, total]
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


def _make_file(rng: random.Random, path: str, size: int, arc_ratio: float, rust: bool) -> _File:
    stem = path.rsplit("/", 1)[-1].split(".")[0]
    words = [w for w in stem.split("_") if w and w != "init"] or ["module"]
    if stem == "__init__" or size < 8:
        return _File(path, size, [], 0, not rust)
    classes = 0 if rust or size < 60 else rng.randint(0, 3)
    imports = 0 if rust else min(rng.randint(3, 14), size // 4)
    n_funcs = max(1, round((size - imports) / rng.uniform(12, 22)))
    module = 0 if rust else imports + n_funcs + classes
    while size - module < 2 * n_funcs and n_funcs > 1:
        n_funcs -= 1
        module = 0 if rust else imports + n_funcs + classes
    body = size - module
    bodies = _partition(rng, body, n_funcs)
    # Blocks beyond each function's first one bring a branch with two exits.
    n_blocks = n_funcs + round(arc_ratio * size / 2)
    weights = [b / body for b in bodies]
    class_names = [
        "".join(w.title() for w in words[-2:]) + suffix
        for suffix in ("", "Manager", "Config")[:classes]
    ]
    funcs, seen = [], set()
    for k, b in enumerate(bodies):
        nb = max(1, min(b, round(n_blocks * weights[k])))
        blocks = _partition(rng, b, nb)
        name = f"{rng.choice(_VERBS)}_{rng.choice(words + _NOUNS)}"
        if class_names and k >= len(bodies) // 3:
            owner = class_names[min(len(class_names) - 1, (k * len(class_names)) // len(bodies))]
            name = f"{owner}.{'__init__' if f'{owner}.__init__' not in seen else name}"
        while name in seen:
            name += "_"
        seen.add(name)
        kind = "async function" if not rust and rng.random() < 0.2 else "function"
        skip = [rng.random() < 0.8 for _ in blocks]
        funcs.append(_Func(name, kind, blocks, skip, [False] * len(blocks)))
    return _File(path, module, funcs, 0 if rust else rng.choice((0, 0, 0, 1, 2, 3)), not rust)


def _layout(rng: random.Random, f: _File) -> None:
    """Give every statement a line number, with the gaps real source has."""
    line = 4 if f.branches else 1  # Python modules open with a docstring
    n_imports = f.module_stmts - len(f.funcs)
    f.module_lines = []
    if f.funcs and f.branches:
        n_classes = len({fn.name.split(".")[0] for fn in f.funcs if "." in fn.name})
        n_imports -= n_classes
    for _ in range(n_imports if f.funcs else f.module_stmts):
        f.module_lines.append(line)
        line += 1
    line += 2
    owner = None
    for fn in f.funcs:
        cls = fn.name.split(".")[0] if "." in fn.name else None
        if f.branches and cls is not None and cls != owner:
            f.module_lines.append(line)  # the class line
            line += 3
        owner = cls
        fn.start = line
        fn.lines = []
        if f.branches:
            f.module_lines.append(line)  # the def line
            line += 1 + rng.choice((0, 1, 1, 3))  # docstring
        for size in fn.blocks:
            fn.lines.append(list(range(line, line + size)))
            line += size + (1 if rng.random() < 0.3 else 0)  # else:, comments
        fn.end = fn.lines[-1][-1]
        line = fn.end + 3


def _coverage(f: _File) -> FileCoverage:
    """The file's result as coverage.py (Python) or lcov (Rust) would report it."""
    missing: list[int] = [] if f.imported or not f.branches else list(f.module_lines)
    arcs: list[tuple[int, int]] = []
    n_branches = n_partial = 0
    n_missing_functions = 0
    functions = []
    for fn in f.funcs:
        ex = fn.executed
        fn_missing = 0
        for j, lines in enumerate(fn.lines):
            if not ex[j]:
                missing += lines
                fn_missing += len(lines)
        if f.branches:
            nb = len(fn.lines)
            for j in range(1, nb):
                src = fn.lines[j - 1][-1]
                into = ex[j - 1] and ex[j]
                past = ex[j - 1] and fn.skip[j] and (j + 1 == nb or ex[j + 1])
                if not into:
                    arcs.append((src, fn.lines[j][0]))
                if not past:
                    arcs.append((src, fn.lines[j + 1][0] if j + 1 < nb else -fn.start))
                n_partial += into != past
            n_branches += 2 * (nb - 1)
        if not ex[0]:
            n_missing_functions += 1
        n_body = sum(fn.blocks)
        functions.append(FunctionCoverage(fn.name, fn.kind, fn.start, fn.end, n_body, fn_missing))
    n_statements = f.n_statements
    numbers = Numbers(
        n_files=1,
        n_files_covered=int(len(missing) < n_statements),
        n_statements=n_statements,
        n_excluded=f.excluded,
        n_missing=len(missing),
        n_branches=n_branches,
        n_partial_branches=n_partial,
        n_missing_branches=len(arcs),
        n_functions=0 if f.branches else len(f.funcs),
        n_missing_functions=0 if f.branches else n_missing_functions,
    )
    # Sorted, as the store decodes them: a file read back compares equal to the one written.
    return FileCoverage(
        f.path, numbers, tuple(sorted(missing)), tuple(sorted(arcs)), tuple(functions)
    )


def _n_executed(f: _File) -> int:
    """Executed statements, without laying the file out."""
    ran = sum(b for fn in f.funcs for b, e in zip(fn.blocks, fn.executed, strict=True) if e)
    return ran + (f.module_stmts if f.imported and f.branches else 0)


def _units(n: Numbers) -> int:
    """Covered statements plus covered branch exits: what pc_covered counts."""
    return n.n_executed + n.n_executed_branches


def _call(rng: random.Random, fn: _Func, p_more: float) -> None:
    """Tests reach a function: its entry block and some of the rest."""
    fn.executed[0] = True
    for j in range(1, len(fn.executed)):
        if not fn.executed[j] and rng.random() < p_more:
            fn.executed[j] = True


def _cover(rng: random.Random, f: _File, wanted: int) -> None:
    """New tests for `f`: import it, then reach functions until about `wanted` units."""
    gained = 0
    if not f.imported and f.branches:
        f.imported = True
        gained += f.module_stmts
    todo = [fn for fn in f.funcs if not all(fn.executed)]
    rng.shuffle(todo)
    for fn in todo:
        if gained >= wanted:
            break
        before = sum(b for b, e in zip(fn.blocks, fn.executed, strict=True) if e)
        _call(rng, fn, 0.6 if not fn.executed[0] else 0.5)
        after = sum(b for b, e in zip(fn.blocks, fn.executed, strict=True) if e)
        gained += int((after - before) * (1.4 if f.branches else 1.0))


class _Source:
    """One measured source: its files, their current results and the report's total."""

    def __init__(self, files: list[_File]) -> None:
        self.files = files
        for f in files:
            f.cov = _coverage(f)
        self.report_files: list[FileCoverage] = [f.cov for f in files]
        self.total = sum((c.numbers for c in self.report_files), Numbers())
        self.report: CoverageReport | None = None

    def refresh(self, changed: list[_File]) -> None:
        """Recompute the changed files; unchanged FileCoverage objects are reused as they are."""
        if not changed:
            return
        index = {id(f): k for k, f in enumerate(self.files)}
        files = list(self.report_files)  # copy-on-write: earlier drafts keep their list
        for f in changed:
            f.cov = _coverage(f)
            files[index[id(f)]] = f.cov
        self.report_files = files
        self.total = sum((c.numbers for c in files), Numbers())
        self.report = None

    def make_report(self, fmt: str, branches: bool, read_s: float) -> CoverageReport:
        if self.report is None:
            self.report = CoverageReport(fmt, self.report_files, branches, read_s)
            self.report.__dict__["numbers"] = self.total  # prime the cached sum
        return self.report


def _python_project(rng: random.Random, scale: int) -> list[_File]:
    """212 × `scale` files sized and covered exactly as the seed report's starting point."""
    stems = [f"{pkg}/{name}.py" for pkg, names in _PY_TREE.items() for name in names.split()]
    top = {p: (n, r, pc) for p, n, r, pc in SEED_CRITICAL}
    others = [p for p in stems if p not in top][: 212 - len(top)]
    paths: list[tuple[str, str]] = []  # (full path, seed path)
    for k in range(scale):
        prefix = "src/python" if k == 0 else f"src/python/ext{k:02d}"
        paths += [(f"{prefix}/{p}", p) for p in (list(top) if k == 0 else []) + others]
        if k > 0:  # the copies get ordinary files where the seed's critical ones stand
            paths += [(f"{prefix}/common/core/extra_{j}.py", "") for j in range(len(top))]
    n_top_stmts = sum(n for n, _, _ in top.values())
    target = SEED_STATEMENTS * scale
    sizes: dict[str, int] = {}
    ordinary = []
    for full, seed_path in paths:
        if seed_path in top:
            sizes[full] = top[seed_path][0]
        elif full.endswith("__init__.py"):
            sizes[full] = rng.randint(2, 25)
        else:
            ordinary.append(full)
            sizes[full] = round(math.exp(rng.gauss(math.log(200), 0.6)))
    # Scale the ordinary files so the total is exact, keeping each under the critical five.
    rest = target - n_top_stmts - sum(sizes[p] for p in sizes if p.endswith("__init__.py"))
    factor = rest / sum(sizes[p] for p in ordinary)
    for p in ordinary:
        sizes[p] = max(25, min(760, round(sizes[p] * factor)))
    diff = rest - sum(sizes[p] for p in ordinary)
    while diff:
        p = rng.choice(ordinary)
        step = 1 if diff > 0 else -1
        if 25 <= sizes[p] + step <= 760:
            sizes[p] += step
            diff -= step
    files = []
    for full, seed_path in paths:
        ratio = top[seed_path][1] if seed_path in top else rng.uniform(0.30, 0.45)
        files.append(_make_file(rng, full, sizes[full], ratio, rust=False))
    by_path = {f.path: f for f in files}
    critical = [by_path[f"src/python/{p}"] for p, *_ in SEED_CRITICAL]
    _seed_coverage(rng, files, critical, scale)
    for f in files:
        _layout(rng, f)
    return files


def _seed_coverage(
    rng: random.Random, files: list[_File], critical: list[_File], scale: int
) -> None:
    """Cover files so the totals are the seed's: exact statements, 2.32% with branches."""
    for f in files:
        _layout(rng, f)  # provisional, for the branch counts
    sqlite = critical[2]
    sqlite.imported = True
    fns = list(sqlite.funcs)
    rng.shuffle(fns)
    for fn in fns:  # calls that keep it within the seed's 13.9%
        if _coverage(sqlite).numbers.pc_covered >= 13.85:
            break
        saved = list(fn.executed)
        _call(rng, fn, 0.3)
        if _coverage(sqlite).numbers.pc_covered >= 13.95:
            fn.executed = saved
    pool = [f for f in files if f not in critical and f.n_statements >= 20]
    chosen = [sqlite, *rng.sample(pool, SEED_FILES_COVERED * scale - 1)]
    for f in chosen[1:]:
        f.imported = True
    target = SEED_EXECUTED * scale

    done = sum(_n_executed(f) for f in chosen)
    while done < target:
        f = rng.choice(chosen[1:])
        uncalled = [fn for fn in f.funcs if not fn.executed[0]]
        if uncalled:
            fn = rng.choice(uncalled)
            done -= _n_executed(f)
            _call(rng, fn, 0.4)
            done += _n_executed(f)
    # Trim the overshoot from executed blocks and give those statements to an uncovered file.
    over = done - target
    uncovered = [f for f in files if not f.imported and f.funcs and f not in critical]
    while over:
        f = rng.choice(chosen[1:])
        blocks = [
            (fn, j) for fn in f.funcs for j, e in enumerate(fn.executed) if e and fn.blocks[j] > 1
        ]
        if not blocks:
            continue
        fn, j = rng.choice(blocks)
        fn.blocks[j] -= 1
        rng.choice(rng.choice(uncovered).funcs).blocks[0] += 1
        over -= 1
    # Branch exits: split or merge blocks of uncovered files until the total shows 2.32%.
    for f in files:
        _layout(rng, f)
    total = sum((_coverage(f).numbers for f in files), Numbers())
    eb = total.n_executed_branches
    wanted = round((target + eb) / (SEED_PC / 100) - SEED_STATEMENTS * scale)
    arcs = total.n_branches
    while abs(arcs - wanted) > 1:
        fn = rng.choice(rng.choice(uncovered).funcs)
        if arcs < wanted:
            j = rng.randrange(len(fn.blocks))
            if fn.blocks[j] > 1:
                a = rng.randint(1, fn.blocks[j] - 1)
                fn.blocks[j : j + 1] = [a, fn.blocks[j] - a]
                fn.skip.insert(j + 1, rng.random() < 0.8)
                fn.executed.insert(j + 1, False)
                arcs += 2
        elif len(fn.blocks) > 1:
            j = rng.randrange(1, len(fn.blocks))
            fn.blocks[j - 1] += fn.blocks.pop(j)
            fn.skip.pop(j)
            fn.executed.pop(j)
            arcs -= 2


def _rust_project(rng: random.Random) -> list[_File]:
    sizes = [round(math.exp(rng.gauss(math.log(230), 0.55))) for _ in _RUST_FILES]
    files = [
        _make_file(rng, f"src/rust/{p}", max(40, min(900, n)), 0.0, rust=True)
        for p, n in zip(_RUST_FILES, sizes, strict=True)
    ]
    for f in files:
        _layout(rng, f)
    return files


# -- the timeline ----------------------------------------------------------------------------


def _s_curve(frac: float) -> float:
    """Python coverage target (%) along the history: the seed's 2.32% up towards ~66%."""

    def s(x: float) -> float:
        return 1 / (1 + math.exp(-7 * (x - 0.45)))

    return SEED_PC + (66 - SEED_PC) * (s(frac) - s(0)) / (s(1) - s(0))


def _rust_curve(frac: float) -> float:
    return 34 + 26 * (1 - math.exp(-9 * max(0.0, frac - 2 / 3)))


#: Incident kinds: (per day, at least, earliest and latest fraction of the period).
_INCIDENTS = {
    "dip": (1 / 12, 2, 0.2, 0.95),
    "failures": (1 / 8, 2, 0.05, 0.97),
    "slow": (1 / 7, 2, 0.05, 0.97),
    "failed": (1 / 15, 1, 0.05, 0.97),
    "cancelled": (0, 1, 0.05, 0.97),
    "timeout": (1 / 60, 0, 0.05, 0.97),
    "regression": (1 / 6, 1, 0.1, 0.97),
    "rust_failed": (1 / 30, 0, 0.75, 0.97),
}


def _incidents(rng: random.Random, n: int, days: float) -> dict[int, tuple[str, int]]:
    """Where each incident of one period happens: index → (kind, how many scans it lasts)."""
    events: dict[int, tuple[str, int]] = {}
    for kind, (per_day, least, lo, hi) in _INCIDENTS.items():
        count = max(least, round(days * per_day))
        first, last = max(12, int(lo * n)), max(13, int(hi * n))
        for _ in range(count):
            for _attempt in range(50):
                i = rng.randrange(first, last)
                if all(abs(i - j) > 4 for j in events):
                    break
            else:
                continue
            scans = max(1, round(n * 0.004))
            duration = {
                "dip": rng.randint(2, max(3, min(24, scans * 2))),
                "failures": rng.randint(1, max(2, min(12, scans * 2))),
                "slow": rng.randint(1, 3),
            }.get(kind, 1)
            events[i] = (kind, duration)
    return events


class DemoHistory:
    """The demo project's snapshots: `drafts()` yields them from the first one on.

    Index i is at `origin + i × interval_s`; the history proper is indices 0 … n-1, ending at
    `end`. Later indices continue it (coverage flattens out, incidents keep coming), which is
    how a cached demo database is topped up to the present.
    """

    def __init__(
        self,
        *,
        days: float = 90,
        interval_s: float = 300,
        seed: int = 2025,
        end: float | None = None,
        scale: int = 1,
    ) -> None:
        self.days = days
        self.interval_s = interval_s
        self.seed = seed
        self.scale = scale
        self.n = max(24, round(days * 86400 / interval_s))
        self.end = time.time() if end is None else end
        self.origin = self.end - (self.n - 1) * interval_s
        self.rust_start = round(self.n * 2 / 3)

    def time_of(self, index: int) -> float:
        return self.origin + index * self.interval_s

    def index_at(self, t: float) -> int:
        """The last index at or before `t`."""
        return math.floor((t - self.origin) / self.interval_s + 1e-9)

    def drafts(self, stop: int | None = None) -> Iterator[SnapshotDraft]:
        """Snapshot drafts for indices 0 … stop-1 (endless when `stop` is None)."""
        sim = _Simulation(self)
        i = 0
        while stop is None or i < stop:
            yield sim.step(i)
            i += 1


class _Simulation:
    def __init__(self, h: DemoHistory) -> None:
        self.h = h
        self.rng = random.Random(h.seed)
        build_rng = random.Random(f"{h.seed}:project:{h.scale}")
        self.python = _Source(_python_project(build_rng, h.scale))
        rust_files = _rust_project(build_rng)
        for f in rust_files:  # the daemon's coverage when first measured
            wanted = _rust_curve(2 / 3) / 100 * build_rng.uniform(0.6, 1.4) * f.n_statements
            while _n_executed(f) < wanted:
                _call(build_rng, build_rng.choice(f.funcs), 0.5)
        self.rust = _Source(rust_files)
        self.periods: dict[int, dict[int, tuple[str, int]]] = {}
        self.commit = f"{self.rng.getrandbits(160):040x}"
        self.n_tests = 312 * h.scale
        self.rust_tests = 186
        self.base_failures = 0
        self.extra_failures = (0, -1)  # (how many, until index)
        self.slow = (1.0, -1)
        self.dip: tuple[int, list[tuple[_File, list[list[bool]]]]] | None = None
        self.denominator = self.python.total.n_statements + self.python.total.n_branches

    def incident(self, i: int) -> tuple[str, int] | None:
        period, offset = divmod(i, self.h.n)
        if period not in self.periods:
            rng = random.Random(f"{self.h.seed}:incidents:{period}")
            self.periods[period] = _incidents(rng, self.h.n, self.h.days)
        return self.periods[period].get(offset)

    def p_commit(self, t: float) -> float:
        if self.h.days < 14:  # a short demo has no nights or weekends to speak of
            return 0.15
        tm = time.gmtime(t)
        p = 0.18 if 8 <= tm.tm_hour < 18 else 0.05 if 18 <= tm.tm_hour < 23 else 0.01
        return p * (0.25 if tm.tm_wday >= 5 else 1.0)

    def step(self, i: int) -> SnapshotDraft:
        rng, h = self.rng, self.h
        t = h.time_of(i)
        frac = i / (h.n - 1)
        incident = self.incident(i)
        kind, duration = incident if incident else ("", 0)
        changed: list[_File] = []
        rust_changed: list[_File] = []

        if self.dip is not None and i >= self.dip[0]:  # the fix lands
            for f, executed in self.dip[1]:
                for fn, ex in zip(f.funcs, executed, strict=True):
                    fn.executed = ex
                f.locked = False
                changed.append(f)
            self.dip = None
            self.commit = f"{rng.getrandbits(160):040x}"
        elif kind == "dip" and self.dip is None:
            changed += self.break_files(i + duration)
            self.commit = f"{rng.getrandbits(160):040x}"
        elif kind == "regression":
            changed += self.regress()
            self.commit = f"{rng.getrandbits(160):040x}"
        elif rng.random() < self.p_commit(t):
            self.commit = f"{rng.getrandbits(160):040x}"
            changed += self.add_tests(_s_curve(frac))
            if i >= h.rust_start and rng.random() < 0.35:
                rust_changed += self.add_rust_tests(_rust_curve(frac))
            if rng.random() < 0.1:
                self.base_failures = rng.choice((0, 0, 0, 1, 1, 2, 3))
        self.python.refresh(changed)
        self.rust.refresh(rust_changed)

        if kind == "failures":
            self.extra_failures = (rng.randint(8, 30), i + duration)
        if kind == "slow":
            self.slow = (rng.uniform(1.3, 1.7), i + duration)
        failures = self.base_failures + (
            self.extra_failures[0] if i < self.extra_failures[1] else 0
        )
        slow = self.slow[0] if i < self.slow[1] else 1.0

        sources = [self.python_result(kind, failures, slow)]
        # Until its coverage is set up, the daemon's plain `cargo test` runs hourly: no data.
        if i >= h.rust_start or i % 12 == 0:
            sources.append(self.rust_result(i, kind))
        return SnapshotDraft(
            trigger="demo",
            sources=sources,
            created_at=t,
            git=GitInfo(self.commit, "main", False),
        )

    # -- coverage work -----------------------------------------------------------------------

    def add_tests(self, target_pc: float) -> list[_File]:
        """A commit with new tests, closing part of the gap to the curve."""
        rng = self.rng
        total = self.python.total
        deficit = target_pc / 100 * self.denominator - _units(total)
        if deficit <= 0:
            return []
        units = int(min(deficit * rng.uniform(0.5, 1.2), 0.012 * self.denominator)) + 1
        n_files = rng.choices((1, 2, 3, 4, 5), (45, 25, 15, 10, 5))[0]
        n_files = max(1, min(n_files, units // 12))
        open_files = [f for f in self.python.files if not f.locked and f.cov.numbers.n_missed_total]
        if not open_files:
            return []
        chosen: list[_File] = []
        for _ in range(n_files):
            if rng.random() < 0.4:  # straight from the dashboard's critical list
                pick = max(open_files, key=lambda f: f.cov.numbers.n_missed_total)
            else:
                pick = rng.choices(open_files, [f.cov.numbers.n_statements for f in open_files])[0]
            if pick not in chosen:
                chosen.append(pick)
                open_files.remove(pick)
                if not open_files:
                    break
        before = _units(total)
        for f in chosen:
            _cover(rng, f, units // len(chosen))
        self.python.refresh(chosen)
        gained = _units(self.python.total) - before
        self.n_tests += max(1, round(gained / 15 * rng.uniform(0.7, 1.3)))
        return chosen

    def add_rust_tests(self, target_pc: float) -> list[_File]:
        total = self.rust.total
        deficit = target_pc / 100 * total.n_statements - total.n_executed
        if deficit <= 0:
            return []
        open_files = [f for f in self.rust.files if f.cov.numbers.n_missing]
        if not open_files:
            return []
        f = self.rng.choice(open_files)
        _cover(self.rng, f, int(min(deficit, 0.01 * total.n_statements)) + 1)
        self.rust_tests += self.rng.randint(1, 6)
        return [f]

    def break_files(self, until: int) -> list[_File]:
        """A dip: the tests of a few well-covered modules stop running (e.g. a conftest
        import error); they run again at `until`. Loses at least 0.7 points overall."""
        rng = self.rng
        need = 0.007 * (self.denominator + self.rust.total.n_statements)
        covered = [f for f in self.python.files if f.funcs and _units(f.cov.numbers) > 20]
        rng.shuffle(covered)
        broken, lost = [], 0
        for f in covered:
            if lost >= need:
                break
            broken.append((f, [list(fn.executed) for fn in f.funcs]))
            lost += _units(f.cov.numbers) - f.module_stmts
            for fn in f.funcs:
                fn.executed = [False] * len(fn.blocks)
            f.locked = True
        self.dip = (until, broken)
        return [f for f, _ in broken]

    def regress(self) -> list[_File]:
        """A refactor drops a test: one file loses a block or two of coverage."""
        candidates = [
            (f, fn)
            for f in self.python.files
            if not f.locked
            for fn in f.funcs
            if sum(fn.executed) > 1
        ]
        if not candidates:
            return []
        f, fn = candidates[self.rng.randrange(len(candidates))]
        j = self.rng.choice([j for j in range(1, len(fn.executed)) if fn.executed[j]])
        fn.executed[j] = False
        return [f]

    # -- results -------------------------------------------------------------------------------

    def python_result(self, kind: str, failures: int, slow: float) -> SourceResult:
        rng = self.rng
        base = (50 + 0.021 * self.n_tests / self.h.scale) * rng.uniform(0.97, 1.03)
        if kind in ("failed", "cancelled", "timeout"):
            status, message, wall, code = {
                "failed": (
                    RunStatus.FAILED,
                    "pytest exited with code 4: ImportError while loading conftest "
                    "'tests/conftest.py'",
                    rng.uniform(3, 9),
                    4,
                ),
                "cancelled": (RunStatus.CANCELLED, "cancelled (Ctrl-C)", base * 0.4, None),
                "timeout": (
                    RunStatus.TIMEOUT,
                    "timed out after 1800 s: process group killed",
                    1800.0,
                    None,
                ),
            }[kind]
            return SourceResult(
                "python",
                status,
                run=RunMetrics(wall, wall * 0.9, 150_000, code, message),
                message=message,
            )
        wall = base * slow
        report = self.python.make_report(
            "coverage.py", True, round(0.8 + 0.00002 * self.denominator, 3)
        )
        fails = [
            TestFailure(f"tests/unit/test_core.py::test_case_{k}", "AssertionError")
            for k in range(min(failures, 3))
        ]
        tests = TestOutcomes(self.n_tests, failures, 0, 7, round(wall * 0.82, 2), fails)
        run = RunMetrics(
            round(wall, 2),
            round(wall * rng.uniform(0.85, 0.95), 2),
            180_000 + 60 * self.n_tests + rng.randrange(20_000),
            1 if failures else 0,
        )
        return SourceResult("python", RunStatus.OK, report, tests, run)

    def rust_result(self, i: int, kind: str) -> SourceResult:
        """Before `rust_start` the daemon's tests run without coverage: no data."""
        rng = self.rng
        wall = round((70 + 0.15 * self.rust_tests) * rng.uniform(0.97, 1.03), 2)
        run = RunMetrics(wall, round(wall * 1.6, 2), 420_000 + rng.randrange(40_000), 0)
        if kind == "rust_failed" and i >= self.h.rust_start + 24:
            message = (
                "cargo llvm-cov exited with code 101: could not compile `workspace-qdrant-daemon`"
            )
            return SourceResult(
                "rust",
                RunStatus.FAILED,
                run=RunMetrics(wall * 0.3, wall * 0.5, 380_000, 101, message),
                message=message,
            )
        tests = TestOutcomes(self.rust_tests, 0, 0, 2, round(wall * 0.7, 2))
        if i < self.h.rust_start:
            return SourceResult("rust", RunStatus.OK, None, tests, run, "no coverage data yet")
        return SourceResult(
            "rust", RunStatus.OK, self.rust.make_report("lcov", False, 0.15), tests, run
        )


# -- databases -------------------------------------------------------------------------------


async def _write(
    store: Store,
    drafts: Iterator[SnapshotDraft],
    total: int,
    config: Config,
    progress: Progress | None,
) -> None:
    batch: list[SnapshotDraft] = []
    done = 0
    for draft in drafts:
        batch.append(draft)
        if len(batch) >= BATCH:
            await record_snapshots(store, batch, config)
            done += len(batch)
            batch = []
            if progress:
                progress(done, total)
    if batch:
        await record_snapshots(store, batch, config)
        done += len(batch)
    if progress:
        progress(done, total)


def _remove_database(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


async def build_demo_database(
    path: Path,
    *,
    days: float = 90,
    interval_s: float = 300,
    seed: int = 2025,
    end: float | None = None,
    progress: Progress | None = None,
    scale: int = 1,
) -> None:
    """Write a demo history of `days` ending at `end` (default: now) to `path`, replacing
    any database there. `scale` multiplies the Python files (benchmarks)."""
    history = DemoHistory(days=days, interval_s=interval_s, seed=seed, end=end, scale=scale)
    path = Path(path)
    _remove_database(path)
    config = Config(root=path.parent)
    async with await Store.open(path) as store:
        await _write(store, history.drafts(history.n), history.n, config, progress)


def demo_database_path(seed: int = 2025) -> Path:
    """Where the cached demo database lives."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "covtui" / f"demo-{__version__}-{seed}.db"


async def ensure_demo_database(
    progress: Progress | None = None,
    *,
    seed: int = 2025,
    days: float = RETENTION_DAYS,
    rebuild: bool = False,
) -> Path:
    """The cached demo database, built on first use and topped up to now afterwards
    (snapshots older than `days` pruned), so it always looks live."""
    path = demo_database_path(seed)
    meta_path = path.with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.with_suffix(".lock")):
        meta = _read_meta(meta_path, seed)
        if not rebuild and meta is not None and meta["days"] == days and path.exists():
            history = DemoHistory(
                days=days, interval_s=meta["interval_s"], seed=seed, end=meta["end"]
            )
            now = time.time()
            async with await Store.open(path) as store:
                latest = await store.latest_snapshot()
                if latest is not None:
                    last = history.index_at(latest.created_at + 1e-3)
                    stop = history.index_at(now) + 1
                    if stop - last - 1 <= history.n:  # else a rebuild is as quick
                        drafts = itertools.islice(history.drafts(stop), last + 1, None)
                        config = Config(root=path.parent)
                        await _write(store, drafts, stop - last - 1, config, progress)
                        await store.prune(days, now=now)
                        return path
        # Build next to the final file and move it in: a killed build leaves no half database.
        # The metadata goes first and comes back last, so it never describes another build.
        with contextlib.suppress(FileNotFoundError):
            meta_path.unlink()
        end = time.time()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            await build_demo_database(tmp, days=days, seed=seed, end=end, progress=progress)
            _remove_database(path)
            os.replace(tmp, path)
        finally:
            _remove_database(tmp)
        tmp_meta = meta_path.with_name(f".{meta_path.name}.{os.getpid()}.tmp")
        meta = {"version": __version__, "seed": seed, "days": days, "interval_s": 300, "end": end}
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, meta_path)
        return path


def _read_meta(path: Path, seed: int) -> dict | None:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("version") != __version__ or meta.get("seed") != seed:
        return None
    return meta


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time (best effort where there is no fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def demo_config(path: Path) -> Config:
    """The config the demo dashboard runs with: the seed's two sources, the database at `path`."""
    from covtui.config import SourceConfig

    return Config(
        root=path.parent,
        database=str(path),
        sources=[
            SourceConfig("python", command="pytest -q"),
            SourceConfig(
                "rust",
                command="cargo llvm-cov --lcov --output-path target/lcov.info",
                report="target/lcov.info",
                format="lcov",
            ),
        ],
    )


async def demo_scan(
    config: Config,
    *,
    sources: list[str] | None = None,
    trigger: str = "dashboard",
    on_output: Callable[[str, str], None] | None = None,
    store: Store | None = None,
):
    """A pretend rescan for the demo: streams pytest-like output for a few seconds, then stores
    a snapshot in which a few Python files gained coverage. Same contract as `run_scan`."""
    import asyncio

    from covtui.scan import ScanOutcome, cancelled_result
    from covtui.scan.lock import ScanLock

    lock = ScanLock(config.database_path)
    lock.acquire()
    try:
        async with await Store.open(config.database_path) as own:
            rng = random.Random()
            files = await own.files(source="python")
            latest = await own.latest_snapshot()
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
            tests = latest.tests if latest else None
            n_tests = (tests.n_tests if tests else 300) + rng.randint(1, 6)
            # Pretend it took as long as the project's real runs do, not our few seconds.
            last_run = latest.run if latest else None
            wall = (last_run.wall_s if last_run and last_run.wall_s else 90.0) * rng.uniform(0.97, 1.06)
            peak_kb = last_run.peak_rss_kb if last_run and last_run.peak_rss_kb else 400_000
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
