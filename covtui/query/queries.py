"""`Queries`: every question the dashboard asks, bound to one read-only connection."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from covtui.config import Config
from covtui.domain.contexts import LineTests
from covtui.domain.exclusions import Audit
from covtui.domain.gaps import FileGaps
from covtui.domain.model import Alert
from covtui.domain.recommend import Recommendation
from covtui.domain.records import FileDetail, FileRow
from covtui.errors import StoreError
from covtui.query import alerts, components, files, recommendations, tests
from covtui.query.dashboard import (
    AUTO,
    TREND_RANGES,
    DashboardState,
    auto_trend_range,
    dashboard_state,
)
from covtui.query.explain import DiffReader
from covtui.store import Store

#: Why there is no connection, before the first one is opened.
NOT_CONNECTED = "not connected yet"


class Queries:
    """The answers the dashboard shows, read from the monitoring database at `db_path`.

    Whoever watches the database (the dashboard's poller) opens and closes the connection;
    every question shares it, and while it is closed each one fails with `unavailable`,
    the reason it is.
    """

    def __init__(
        self, db_path: Path, config: Config, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db_path = Path(db_path) if isinstance(db_path, str) else db_path
        self.config = config
        self.clock = clock
        self.store: Store | None = None
        #: How files changed between two commits, for explanations (set by the app: git).
        self.diffs: DiffReader | None = None
        #: Why the database can't be read now, said by whoever last failed to read it.
        self.unavailable = NOT_CONNECTED

    # -- the connection --------------------------------------------------------------------

    async def connect(self) -> Store:
        """The read-only connection, opened if it is not."""
        if self.store is None:
            self.store = await Store.open(self.db_path, read_only=True)
        return self.store

    async def close(self) -> None:
        store, self.store = self.store, None
        if store is not None:
            with contextlib.suppress(Exception):  # a broken connection is being dropped anyway
                await store.close()

    def _store(self) -> Store:
        if self.store is None:
            raise StoreError(f"the database is not available: {self.unavailable}")
        return self.store

    # -- the answers -----------------------------------------------------------------------

    async def dashboard(self, trend_range: str, component: str | None = None) -> DashboardState:
        """The main screen's state, its trend over `trend_range` (a TREND_RANGES name, or
        "auto") back from the latest snapshot; with `component`, that component's only (its
        phases and alert threshold; a name the config lacks: the whole project)."""
        store = self._store()
        chosen = await components.component_filter(store, self.config, component) if component else None
        latest = await store.latest_snapshot()
        anchor = latest.created_at if latest is not None else self.clock()
        if trend_range == AUTO:
            movement = chosen.coverage_drop if chosen else self.config.alerts.coverage_drop
            name, span = await auto_trend_range(store, anchor, movement)
        else:
            name, span = next((r for r in TREND_RANGES if r[0] == trend_range), TREND_RANGES[2])
        return await dashboard_state(
            store,
            trend_since=anchor - span,
            critical_n=self.config.critical_files,
            median_window=self.config.alerts.test_time_window,
            trend_range=name,
            component=chosen,
        )

    async def files(self, component: str | None = None) -> list[FileRow]:
        """Every file now (with `component`: that component's)."""
        store = self._store()
        found = await store.files()
        chosen = await components.component_filter(store, self.config, component) if component else None
        return [f for f in found if chosen.holds(f.path)] if chosen else found

    async def file_detail(self, source: str, path: str) -> FileDetail | None:
        return await self._store().file_detail(source, path)

    async def file_tests(self, source: str, path: str) -> LineTests | None:
        """Which tests ran each line of the file in the source's latest good run, if kept."""
        return await tests.file_tests(self._store(), source, path)

    async def file_line(self, source: str, path: str, line: int) -> tests.LineAnswer | None:
        return await tests.file_line(self._store(), source, path, line)

    async def file_gaps(self, detail: FileDetail) -> FileGaps:
        """The gap analysis of one file: its source is read and parsed in a thread."""
        return await files.file_gaps(self.config.root, detail)

    async def recommendations(self, component: str | None = None) -> list[Recommendation]:
        """What to test first: the critical files, then the next ones, each with its gaps
        (with `component`: among that component's files)."""
        files = await self.files(component) if component else None
        return (await recommendations.recommend(self._store(), self.config, files)).items

    async def components(self) -> components.ComponentState:
        """Components, gates and generated files now (file headers read in a thread)."""
        return await components.component_state(self._store(), self.config)

    async def component_trend(self, n: int = 20) -> dict[str, list[float | None]]:
        """Each component's coverage at the latest `n` good snapshots, oldest first."""
        return await components.component_trend(self._store(), self.config, n)

    async def exclusions(self) -> Audit:
        """Every excluded line and left-out file, and why (sources parsed in a thread)."""
        from covtui.query.exclusions import exclusions_audit  # (coverage.py's reader: on demand)

        return await exclusions_audit(self._store(), self.config)

    async def alerts(self) -> list[Alert]:
        return await alerts.alert_list(self._store())

    async def alert_context(self, alert: Alert) -> alerts.AlertContext:
        """The snapshot that raised `alert` and the one it was compared with."""
        return await alerts.alert_context(
            self._store(), alert, self.diffs, self.config.alerts.flaky_half_life_days
        )

    async def acknowledge(self, ids: Iterable[int] | None, *, undo: bool = False) -> list[int]:
        """Acknowledge alerts (all when `ids` is None), or with `undo` take that back, through a
        writable connection of its own. Returns the ids whose state changed."""
        self._store()  # the same "not available" error as the reads
        return await alerts.acknowledge(self.db_path, ids, undo=undo)
