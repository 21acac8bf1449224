"""The status line: is the data live or stale, when was it polled, is a watcher alive, which CI
runs wait for shards."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from covtui.display import printable
from covtui.domain.records import Heartbeat
from covtui.domain.shards import short_state_text
from covtui.present.text import plural
from covtui.query.dashboard import DashboardState
from covtui.tui.messages import PollStatus

from .format import ago, count, when

#: A watcher that has not beaten for this long is reported as silent.
WATCHER_SILENT_S = 180.0


def process_gone(beat: Heartbeat) -> bool:
    """True when the watcher ran on this machine and its process no longer exists.

    `covtui watch` names itself "watch@HOST:PID"; a watcher on another host (a shared
    database) is judged by its heartbeat alone.
    """
    host = beat.name.partition("@")[2].rpartition(":")[0]
    if host != socket.gethostname() or beat.pid <= 0:
        return False
    try:
        os.kill(beat.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # someone else's process: it exists
        return False
    return False


def watcher_text(beat: Heartbeat, now: float) -> tuple[str, bool]:
    """" · watcher NAME: alive (idle), next scan in 4 min", and whether it needs attention."""
    text = f" · watcher {printable(beat.name)}: "
    if process_gone(beat):
        return text + f"stopped (pid {beat.pid} is gone; last beat {ago(now - beat.beat_at)} ago)", True
    if now - beat.beat_at > WATCHER_SILENT_S:
        return text + f"silent for {ago(now - beat.beat_at)}", True
    state = printable(beat.state or "")
    if state == "scanning":
        return text + "alive, scanning now", False
    detail = f"alive ({state})" if state else "alive"
    if beat.next_scan_at:
        due = beat.next_scan_at - now
        if due > 0:
            detail += f", next scan in {ago(due)} at {when(beat.next_scan_at, reference=now, seconds=True)}"
        else:
            detail += ", next scan due now"
    return text + detail, False


class StatusLine(Widget):
    """One line at the bottom of the main screen; red when the data is not current."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text;
        &.-stale {
            background: $error;
            color: $text;
            text-style: bold;
        }
        &.-scanning {
            background: $accent 30%;
        }
    }
    """

    poll_status: reactive[PollStatus] = reactive(PollStatus, always_update=True)
    state: reactive[DashboardState | None] = reactive(None, always_update=True)
    scan_started_at: reactive[float | None] = reactive(None)
    #: Work going on behind the data ("building the demo's 90-day history: day 12 of 90").
    activity: reactive[str | None] = reactive(None)

    def __init__(
        self, poll_interval: float, clock: Callable[[], float],
        ci_shard_timeout: float = 6 * 3600.0, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.poll_interval = poll_interval
        self.clock = clock
        self.ci_shard_timeout = ci_shard_timeout

    def on_mount(self) -> None:
        # Notices a poll that hangs (a locked database): no message arrives then.
        self.set_interval(1.0, self._update)

    def stale_after(self) -> float:
        return max(3.0, 3 * self.poll_interval)

    def is_stale(self, now: float) -> bool:
        status = self.poll_status
        if status.error is not None:
            return True
        return status.last_ok_at is not None and now - status.last_ok_at > self.stale_after()

    def _update(self) -> None:
        self.set_class(self.is_stale(self.clock()), "-stale")
        self.set_class(self.scan_started_at is not None, "-scanning")
        self.refresh()

    def watch_poll_status(self) -> None:
        self._update()

    def watch_scan_started_at(self) -> None:
        self._update()

    def render(self) -> Content:
        now = self.clock()
        status = self.poll_status
        parts: list[Content | str | tuple[str, str]] = []
        stale = False
        if status.error is not None:
            stale = True
            # STALE: what is on screen is old; NO DATA: nothing could be read at all.
            parts.append(("▲ STALE " if status.loaded_at is not None else "▲ NO DATA ", "bold"))
            parts.append(printable(status.error))
            if status.retry_in is not None:
                parts.append(f" · retrying every {ago(status.retry_in)}" if status.retry_in >= 1 else " · retrying")
            if status.loaded_at is not None:
                parts.append(f" · showing data loaded at {when(status.loaded_at, reference=now, seconds=True)}")
        elif status.last_ok_at is None:
            parts.append(("◌ connecting to the database…", "$text-muted"))
        elif now - status.last_ok_at > self.stale_after():
            stale = True
            parts.append(("▲ STALE ", "bold"))
            parts.append(f"no answer from the database for {ago(now - status.last_ok_at)}")
        else:
            parts.append(("● live", "bold $text-success"))
            parts.append(f" · polled {when(status.last_ok_at, reference=now, seconds=True)}")
        if self.activity:
            parts.append((f" · ◌ {printable(self.activity)}", "bold $text-accent"))
        if self.scan_started_at is not None:
            parts.append(
                (f" · scanning {ago(now - self.scan_started_at)} (c: cancel)", "bold")
            )
        state = self.state
        if state is not None:
            parts.append((f" · {plural(state.n_snapshots, 'snapshot')}", "$text-muted"))
            if state.n_unacknowledged:
                parts.append(" · ")
                parts.append((f"{count(state.n_unacknowledged)} unacknowledged", "bold $text-warning" if not stale else "bold"))
            for beat in state.heartbeats:
                text, alarming = watcher_text(beat, now)
                parts.append(
                    (text, ("bold $text-warning" if not stale else "bold") if alarming else "$text-muted")
                )
            for run in state.ci_runs:
                parts.append((f" · {short_state_text(run, now, self.ci_shard_timeout)}",
                              "bold $text-warning" if not stale else "bold"))
        return Content.assemble(*parts)
