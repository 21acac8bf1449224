"""The demo's history: coverage climbing along an S-curve, with scheduled incidents.

Incidents (coverage dips, failing-test bursts, slow runs, failed and cancelled scans) make the
store's own alert rules fire; the Rust daemon has no coverage data until two thirds into the
history. Everything follows from the seed and the end time, so a history can be rebuilt, or
continued later, identically.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator

from covtui.demo.project import (
    SEED_PC,
    SimFile,
    SimSource,
    call_function,
    cover_file,
    executed_statements,
    python_project,
    rust_project,
    units_covered,
)
from covtui.domain.model import (
    GitInfo,
    RunMetrics,
    RunStatus,
    SnapshotDraft,
    SourceResult,
    TestFailure,
    TestOutcomes,
)


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
        self.python = SimSource(python_project(build_rng, h.scale))
        rust_files = rust_project(build_rng)
        for f in rust_files:  # the daemon's coverage when first measured
            wanted = _rust_curve(2 / 3) / 100 * build_rng.uniform(0.6, 1.4) * f.n_statements
            while executed_statements(f) < wanted:
                call_function(build_rng, build_rng.choice(f.funcs), 0.5)
        self.rust = SimSource(rust_files)
        self.periods: dict[int, dict[int, tuple[str, int]]] = {}
        self.commit = f"{self.rng.getrandbits(160):040x}"
        self.n_tests = 312 * h.scale
        self.rust_tests = 186
        self.base_failures = 0
        self.extra_failures = (0, -1)  # (how many, until index)
        self.slow = (1.0, -1)
        self.dip: tuple[int, list[tuple[SimFile, list[list[bool]]]]] | None = None
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
        changed: list[SimFile] = []
        rust_changed: list[SimFile] = []

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

    def add_tests(self, target_pc: float) -> list[SimFile]:
        """A commit with new tests, closing part of the gap to the curve."""
        rng = self.rng
        total = self.python.total
        deficit = target_pc / 100 * self.denominator - units_covered(total)
        if deficit <= 0:
            return []
        units = int(min(deficit * rng.uniform(0.5, 1.2), 0.012 * self.denominator)) + 1
        n_files = rng.choices((1, 2, 3, 4, 5), (45, 25, 15, 10, 5))[0]
        n_files = max(1, min(n_files, units // 12))
        open_files = [f for f in self.python.files if not f.locked and f.cov.numbers.n_missed_total]
        if not open_files:
            return []
        chosen: list[SimFile] = []
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
        before = units_covered(total)
        for f in chosen:
            cover_file(rng, f, units // len(chosen))
        self.python.refresh(chosen)
        gained = units_covered(self.python.total) - before
        self.n_tests += max(1, round(gained / 15 * rng.uniform(0.7, 1.3)))
        return chosen

    def add_rust_tests(self, target_pc: float) -> list[SimFile]:
        total = self.rust.total
        deficit = target_pc / 100 * total.n_statements - total.n_executed
        if deficit <= 0:
            return []
        open_files = [f for f in self.rust.files if f.cov.numbers.n_missing]
        if not open_files:
            return []
        f = self.rng.choice(open_files)
        cover_file(self.rng, f, int(min(deficit, 0.01 * total.n_statements)) + 1)
        self.rust_tests += self.rng.randint(1, 6)
        return [f]

    def break_files(self, until: int) -> list[SimFile]:
        """A dip: the tests of a few well-covered modules stop running (e.g. a conftest
        import error); they run again at `until`. Loses at least 0.7 points overall."""
        rng = self.rng
        need = 0.007 * (self.denominator + self.rust.total.n_statements)
        covered = [f for f in self.python.files if f.funcs and units_covered(f.cov.numbers) > 20]
        rng.shuffle(covered)
        broken, lost = [], 0
        for f in covered:
            if lost >= need:
                break
            broken.append((f, [list(fn.executed) for fn in f.funcs]))
            lost += units_covered(f.cov.numbers) - f.module_stmts
            for fn in f.funcs:
                fn.executed = [False] * len(fn.blocks)
            f.locked = True
        self.dip = (until, broken)
        return [f for f, _ in broken]

    def regress(self) -> list[SimFile]:
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
