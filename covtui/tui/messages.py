"""Messages the poller and the scan post to the app, named for what happened."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from covtui.domain.model import Alert
from covtui.query.dashboard import DashboardState


@dataclass(frozen=True)
class PollStatus:
    """How the last conversations with the database went, for the status line."""

    #: When the last check succeeded (epoch seconds); None before the first.
    last_ok_at: float | None = None
    #: Why the last check failed; None while the database answers.
    error: str | None = None
    #: When the checks started failing.
    failing_since: float | None = None
    #: Seconds until the next attempt after a failure.
    retry_in: float | None = None
    #: Seconds of database work of the last full reload.
    load_s: float | None = None
    #: When the last full reload finished.
    loaded_at: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class DashboardLoaded(Message):
    """A full reload finished: everything the main screen shows."""

    def __init__(self, state: DashboardState, status: PollStatus) -> None:
        super().__init__()
        self.state = state
        self.status = status

    def can_replace(self, message: Message) -> bool:
        # Textual drops this message when `can_replace(the next one)`: only a newer full
        # load may stand in for it; a bare status after it must not lose the state.
        return isinstance(message, DashboardLoaded)


class PollSucceeded(Message):
    """A change check found the database readable (and, maybe, unchanged)."""

    def __init__(self, status: PollStatus) -> None:
        super().__init__()
        self.status = status

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, (PollSucceeded, DashboardLoaded))


class PollFailed(Message):
    """The database could not be read; the poller backs off and retries by itself."""

    def __init__(self, status: PollStatus) -> None:
        super().__init__()
        self.status = status

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, (PollFailed, PollSucceeded))


class AlertsRaised(Message):
    """Alerts newer than any seen before arrived (oldest first)."""

    def __init__(self, alerts: list[Alert]) -> None:
        super().__init__()
        self.alerts = alerts


@dataclass(frozen=True)
class ScanLine:
    source: str
    line: str
    elapsed_s: float


class ScanStarted(Message):
    def __init__(self, started_at: float) -> None:
        super().__init__()
        self.started_at = started_at


class ScanOutput(Message):
    """Lines a running scan printed (batched so a chatty test suite stays cheap)."""

    def __init__(self, lines: list[ScanLine]) -> None:
        super().__init__()
        self.lines = lines


class ScanFinished(Message):
    """A scan ended: `status` is "ok", "failed", "timeout", "cancelled", "busy" or "error"."""

    def __init__(self, status: str, summary: str, elapsed_s: float) -> None:
        super().__init__()
        self.status = status
        self.summary = summary
        self.elapsed_s = elapsed_s


class HistoryFilling(Message):
    """The demo's history, filling in behind the dashboard, got further: `text` says how far;
    `until` is the time of the last snapshot the fill will write."""

    def __init__(self, done: int, total: int, until: float, text: str, building: bool) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.until = until
        self.text = text
        self.building = building  # the history proper, not a top-up to now

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HistoryFilling)


class HistoryFilled(Message):
    """The fill's process ended: `code` 0 when the history is complete; `error` says why not."""

    def __init__(self, code: int, error: str) -> None:
        super().__init__()
        self.code = code
        self.error = error
