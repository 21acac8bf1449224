"""Being told that a write committed, instead of asking: PostgreSQL's LISTEN/NOTIFY.

Every counted write transaction on PostgreSQL sends `NOTIFY covtui_changes` before its COMMIT
(a notification is delivered only if, and when, its transaction commits). A `ChangeFeed`
listens on a connection of its own, so the dashboard learns of a new snapshot, alert or
acknowledgement at once and checks `data_version()` then, polling only slowly besides. SQLite
has no such thing: its readers poll `PRAGMA data_version`, which costs no I/O.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from covtui.errors import StoreError

#: The channel covtui's writers notify and its dashboards listen on.
CHANNEL = "covtui_changes"
#: Sent inside each write transaction (delivered at commit, collapsed with duplicates).
NOTIFY_SQL = f"NOTIFY {CHANNEL}"
#: What the listening connection calls itself on the server (pg_stat_activity).
APPLICATION_NAME = "covtui-listen"
#: TCP keepalives (seconds): a listener on a server that vanished without a word (a cable, a
#: paused VM) hears of it within about idle + interval × count, not hours later.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


class ChangeFeed:
    """A PostgreSQL connection that LISTENs for covtui's writes."""

    def __init__(self, raw, target) -> None:
        self.raw = raw
        self.target = target

    @classmethod
    async def open(cls, target) -> ChangeFeed:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        try:
            given = conninfo_to_dict(target.conninfo)
            extra = {k: v for k, v in KEEPALIVES.items() if k not in given}
            extra.setdefault("connect_timeout", given.get("connect_timeout", 10))
            raw = await psycopg.AsyncConnection.connect(
                target.conninfo, autocommit=True, application_name=APPLICATION_NAME, **extra
            )
        except psycopg.Error as exc:
            raise StoreError(target.scrub(f"{target}: cannot listen for changes: {_one_line(exc)}")) from None
        try:
            await raw.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            await raw.close()
            raise StoreError(target.scrub(f"{target}: cannot listen for changes: {_one_line(exc)}")) from None
        return cls(raw, target)

    async def wait(self, timeout: float) -> bool:
        """Whether a write committed (since the last wait) within `timeout` seconds; a lost
        connection is a StoreError."""
        import psycopg

        got = False
        try:
            async for _ in self.raw.notifies(timeout=timeout, stop_after=1):
                got = True
        except psycopg.Error as exc:
            raise StoreError(
                self.target.scrub(f"{self.target}: change notifications lost: {_one_line(exc)}")
            ) from None
        if self.raw.closed or self.raw.broken:
            raise StoreError(f"{self.target}: change notifications lost: connection closed")
        return got

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.raw.close()


async def open_change_feed(target: Path | object) -> ChangeFeed | None:
    """A feed of the database's commits, or None where there is none (SQLite: poll it)."""
    if isinstance(target, Path | str):
        return None
    return await ChangeFeed.open(target)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
