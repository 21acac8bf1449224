"""The dashboard's watch on the database: a cheap change check, a reload when needed."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from textual.message_pump import MessagePump
from textual.timer import Timer

from covtui.errors import StoreError
from covtui.query.dashboard import AUTO, TREND_RANGES, DashboardState
from covtui.query.queries import NOT_CONNECTED, Queries
from covtui.store import Store
from covtui.store.changes import open_change_feed
from covtui.store.schema import SCHEMA_VERSION
from covtui.tui.messages import AlertsRaised, DashboardLoaded, PollFailed, PollStatus, PollSucceeded

#: What `t` cycles through, starting with the automatic range.
RANGE_CYCLE: list[str] = [AUTO] + [name for name, _ in TREND_RANGES]

#: The longest wait between attempts while the database is unavailable.
MAX_BACKOFF_S = 10.0

#: Seconds between change checks while the database notifies its commits (PostgreSQL): a
#: safety net for a notification lost, not the way changes are found.
FALLBACK_POLL_S = 30.0

_DATABASE_ERRORS = (StoreError, sqlite3.Error, OSError, ValueError)


def _fingerprint(path: Path | object) -> tuple[int, int, int] | None:
    """Identity and size of the database file: notices a replaced or truncated file (a
    PostgreSQL database has no file: the server sees to that)."""
    if not isinstance(path, Path):
        return (0, 0, 0)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class Poller:
    """Polls the monitoring database and posts what it finds to `target`.

    Every `config.poll_interval` seconds it checks `data_version()` (and an SQLite file's
    identity); only when either changed does it load the whole `DashboardState`. Where the
    database tells of its commits (PostgreSQL's LISTEN/NOTIFY, `store.changes`), a check runs
    as soon as one is told and the regular one only every FALLBACK_POLL_S; while that feed is
    down it polls every `poll_interval` again and reconnects the feed by itself. The next poll
    is scheduled when the last one finished, so polls never overlap; after an error it closes
    the connection, backs off, and reopens it when the database is usable again. The
    connection is `queries`' (the screens ask their questions through it): the poller opens
    and closes it, and tells it why the database is unavailable.
    """

    def __init__(
        self,
        target: MessagePump,
        queries: Queries,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target = target
        self.queries = queries
        self.config = queries.config
        self.db_path = queries.db_path
        self.clock = clock
        self.poll_interval = max(0.01, float(queries.config.poll_interval))
        self.fallback_interval = max(self.poll_interval, FALLBACK_POLL_S)
        #: Whether the database's change notifications are being heard right now.
        self.listening = False
        self._feed_task: asyncio.Task | None = None
        self._check_requested = False
        self.trend_range_index = 0  # automatic
        #: The component the dashboard shows (None: the whole project); every reload keeps it.
        self.component: str | None = None
        self._status = PollStatus()
        self._opened_fingerprint: tuple[int, int, int] | None = None
        self._seen: tuple[int, tuple[int, int, int] | None] | None = None
        self._highest_alert_id: int | None = None
        self._alerts_ino: int | None = None
        self._failures = 0
        self._timer: Timer | None = None
        self._polling = False
        self._reload_requested = False
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._stopped = False
        self._schedule(0)
        self._feed_task = asyncio.create_task(self._follow_changes(), name="covtui-listen")

    async def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        task, self._feed_task = self._feed_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    @property
    def interval(self) -> float:
        """Seconds until the next regular change check."""
        return self.fallback_interval if self.listening else self.poll_interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        self.poll_interval = seconds
        self.fallback_interval = max(seconds, FALLBACK_POLL_S)

    def check_now(self) -> None:
        """Check for changes as soon as possible (the database said something committed)."""
        self._check_requested = True
        if not self._polling and not self._stopped:
            self._schedule(0)

    def request_reload(self) -> None:
        """Reload everything as soon as possible (after a write of our own, a new range)."""
        self._reload_requested = True
        if not self._polling and not self._stopped:
            self._schedule(0)

    @property
    def status(self) -> PollStatus:
        return self._status

    @status.setter
    def status(self, status: PollStatus) -> None:
        self._status = status
        # What the screens' questions are told while the connection is closed.
        self.queries.unavailable = status.error or NOT_CONNECTED

    @property
    def trend_range(self) -> str:
        """The range asked for: "auto" or one of TREND_RANGES' names."""
        return RANGE_CYCLE[self.trend_range_index]

    def next_trend_range(self) -> str:
        self.trend_range_index = (self.trend_range_index + 1) % len(RANGE_CYCLE)
        self.request_reload()
        return self.trend_range

    def show_component(self, name: str | None) -> None:
        """Load the dashboard of component `name` from now on (None: the whole project)."""
        self.component = name
        self.request_reload()

    def _schedule(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.stop()
        # (a zero delay would divide by zero inside Timer)
        self._timer = self.target.set_timer(max(delay, 0.001), self._poll, name="covtui-poll")

    # -- polling ---------------------------------------------------------------------------

    async def _poll(self) -> None:
        self._timer = None  # the one that fired: done
        if self._polling or self._stopped:
            return
        self._polling = True
        delay = self.interval
        try:
            await self._check()
            self._failures = 0
        except _DATABASE_ERRORS as exc:
            if self._stopped:
                return  # closed under a poll in flight: nothing to report
            await self._close()
            self._failures += 1
            delay = min(
                self.poll_interval * 2**self._failures, max(self.poll_interval, MAX_BACKOFF_S)
            )
            now = self.clock()
            self.status = PollStatus(
                last_ok_at=self.status.last_ok_at,
                # The file's name is enough on one status line (and stays the same in tests).
                error=_describe(exc).replace(str(self.db_path), self.db_path.name),
                failing_since=self.status.failing_since or now,
                retry_in=delay,
                load_s=self.status.load_s,
                loaded_at=self.status.loaded_at,
            )
            self.target.post_message(PollFailed(self.status))
        finally:
            self._polling = False
        if self._stopped:
            return
        if (self._reload_requested or self._check_requested) and self._failures == 0:
            delay = 0
        self._schedule(delay)

    async def _check(self) -> None:
        self._check_requested = False
        fingerprint = _fingerprint(self.db_path)
        if fingerprint is None:
            if self.status.loaded_at is None:
                raise StoreError(f"{self.db_path}: no monitoring database yet (press r to scan)")
            raise StoreError(f"{self.db_path}: the database is missing")
        if self.queries.store is not None and fingerprint != self._opened_fingerprint:
            # Replaced, or overwritten in place (`cp garbage covtui.db`): an open connection
            # keeps reading its cached pages and WAL, a new one reads the file itself. (A
            # checkpoint changes the file too: one extra reopen, harmless.)
            await self._close()
        opening = self.queries.store is None
        # stop() may close the connection meanwhile: then this one fails cleanly.
        store = await self.queries.connect()
        if opening:
            self._opened_fingerprint = fingerprint
            self._seen = None
        version = await store.data_version()
        seen = (version, fingerprint)
        if seen != self._seen or self._reload_requested:
            self._reload_requested = False
            await self._check_schema(store)
            started = time.perf_counter()
            state = await self.queries.dashboard(self.trend_range, self.component)
            load_s = time.perf_counter() - started
            self._seen = seen
            now = self.clock()
            self.status = PollStatus(last_ok_at=now, load_s=load_s, loaded_at=now)
            self.target.post_message(DashboardLoaded(state, self.status))
            self._announce_new_alerts(state, fingerprint[0])
        else:
            now = self.clock()
            self.status = PollStatus(
                last_ok_at=now, load_s=self.status.load_s, loaded_at=self.status.loaded_at
            )
            self.target.post_message(PollSucceeded(self.status))

    # -- being told of changes ------------------------------------------------------------

    async def _follow_changes(self) -> None:
        """Listen for the database's commits while the dashboard runs (nothing on SQLite);
        when the feed is lost, poll at the regular interval and reconnect it, backing off."""
        backoff = self.poll_interval
        while not self._stopped:
            try:
                feed = await open_change_feed(self.db_path)
            except _DATABASE_ERRORS:
                feed = None
                if self._stopped:
                    return
            else:
                if feed is None:
                    return  # a database that does not notify: the regular polls are all
            if feed is not None:
                try:
                    self.listening = True
                    backoff = self.poll_interval
                    self.check_now()  # whatever committed while no one listened
                    while not self._stopped:
                        if await feed.wait(self.fallback_interval):
                            self.check_now()
                except _DATABASE_ERRORS:
                    pass
                finally:
                    self.listening = False
                    await feed.close()
                if self._stopped:
                    return
                # The server may be gone: a check now shows it (stale indicator) at once.
                self.check_now()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _check_schema(self, store: Store) -> None:
        """A newer covtui may have migrated the file since we connected: never misread it."""
        version = await store.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.db_path}: written by a newer covtui (schema {version}; this one reads up "
                f"to {SCHEMA_VERSION}): upgrade covtui"
            )

    def _announce_new_alerts(self, state: DashboardState, ino: int) -> None:
        highest = max((a.id for a in state.alerts if a.id is not None), default=0)
        if self._highest_alert_id is None or self._alerts_ino != ino:
            # The first load (or another file): its history is not news.
            self._highest_alert_id, self._alerts_ino = highest, ino
            return
        new = [a for a in state.alerts if a.id is not None and a.id > self._highest_alert_id]
        self._highest_alert_id = max(highest, self._highest_alert_id)
        if new:
            self.target.post_message(AlertsRaised(sorted(new, key=lambda a: a.id or 0)))

    async def _close(self) -> None:
        self._seen = None
        await self.queries.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, StoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
