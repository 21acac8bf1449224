"""Alert history: newest first, coloured by severity, unacknowledged ones marked."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.reactive import reactive

from covtui.display import printable
from covtui.domain.model import Alert
from covtui.query.dashboard import DashboardState

from .format import SEVERITY_VARIABLE, short_when, theme_style
from .keyed_table import KeyedTable

UNACKNOWLEDGED = "●"


def alert_cells(
    table: KeyedTable, alert: Alert, *, message_width: int | None = None, full: bool = False
) -> list[Text]:
    """One alert as table cells (the alerts screen adds its id, rule and source)."""
    style = theme_style(table.app, SEVERITY_VARIABLE.get(alert.severity, "text-primary"))
    unacknowledged = alert.acknowledged_at is None
    message = printable(alert.message.replace("\n", " "))
    cells = [Text(UNACKNOWLEDGED if unacknowledged else " ", style=style)]
    if full:
        cells.append(Text(str(alert.id), style="dim", justify="right"))
    cells += [
        Text(short_when(alert.created_at) if alert.created_at else "—", style="" if unacknowledged else "dim"),
        Text(alert.severity.value, style=style + Style(bold=unacknowledged)),
    ]
    if full:
        cells.append(Text(printable(alert.rule), style="dim"))
        cells.append(Text(printable(alert.source or "—"), style="dim"))
    if message_width is not None and len(message) > message_width:
        message = message[: max(1, message_width - 1)] + "…"
    cells.append(Text(message, style="" if unacknowledged else "dim", no_wrap=True))
    return cells


class AlertHistory(KeyedTable):
    """The most recent alerts (the `a` screen has all of them)."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", show=False, tooltip="on an alert, that alert in full"),
    ]

    DEFAULT_CSS = """
    AlertHistory {
        height: 1fr;
    }
    """

    state: reactive[DashboardState | None] = reactive(None, always_update=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Alerts"

    @property
    def alerts(self) -> list[Alert]:
        return self.state.alerts if self.state is not None else []

    def on_mount(self) -> None:
        self.add_column(" ", key="ack", width=1)
        self.add_column("When", key="when", width=11)
        self.add_column("Severity", key="severity", width=8)
        self.add_column("Message", key="message", width=self._message_width())

    def _message_width(self) -> int:
        return self.room_left(1 + 11 + 8, 4, fallback=60, minimum=10)

    def on_resize(self, event: events.Resize) -> None:
        self.set_column_width("message", self._message_width())
        self.watch_state(self.state)

    def watch_state(self, state: DashboardState | None) -> None:
        if not self.columns:
            return
        width = self._message_width()
        self.set_column_width("message", width)
        self.sync(
            [(str(alert.id), alert_cells(self, alert, message_width=width)) for alert in self.alerts]
        )
        if state is None:
            self.border_subtitle = "loading…"
        elif state.n_unacknowledged:
            self.border_subtitle = f"{state.n_unacknowledged:,} unacknowledged · a: all alerts"
        else:
            self.border_subtitle = "a: all alerts"
