"""The whole alert history: filter by severity and rule, acknowledge one or all (and undo),
`enter` for an alert in full."""

from __future__ import annotations

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Select, Static

from covtui.display import printable
from covtui.domain.model import Alert, Severity
from covtui.present.text import plural
from covtui.tui.screens.alert_detail import AlertDetailScreen, acknowledge_alerts
from covtui.tui.screens.subscreen import SubScreen
from covtui.widgets.alert_history import alert_cells
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.keyed_table import KeyedTable
from covtui.widgets.title_bar import TitleBar

ALL = "all"


class AlertsTable(KeyedTable):
    """Every alert, newest first; the message column takes the room the others leave."""

    # The table has the focus, so its `enter` is the one the footer shows.
    BINDINGS = [Binding("enter", "select_cursor", "Detail", key_display="enter", tooltip="the selected alert in full")]

    FIXED = {"ack": 1, "when": 11, "severity": 8, "rule": 15, "source": 8}
    #: Every column, in order, with its header.
    COLUMNS = {
        "ack": " ", "id": Text("#", justify="right"), "when": "When", "severity": "Severity",
        "rule": "Rule", "source": "Source", "message": "Message",
    }
    #: Narrower than this, the Source column is left out (the alert in full names it): at 80
    #: columns the message gets its cells.
    WIDE = 100

    def column_keys(self) -> list[str]:
        wide = (self.size.width or self.WIDE) >= self.WIDE
        return [key for key in self.COLUMNS if wide or key != "source"]

    def build_columns(self) -> None:
        """Add the columns this width shows (again, when a resize changed them)."""
        keys = self.column_keys()
        if [column.value for column in self.columns] == keys:
            return
        self.clear(columns=True)
        for key in keys:
            self.add_column(self.COLUMNS[key], key=key, width=self.FIXED.get(key))
        self.set_column_width("message", self.message_width())

    def message_width(self) -> int:
        id_width = max((len(str(k.value)) for k in self.rows), default=1)
        keys = self.column_keys()
        fixed = sum(self.FIXED[key] for key in keys if key in self.FIXED)
        return self.room_left(fixed + id_width, len(keys))

    def on_resize(self, event: events.Resize) -> None:
        # The messages are cut (with an ellipsis) to the new width, not just their column.
        # After the layout: the content region then leaves out the scrollbar's gutter.
        if isinstance(self.screen, AlertsScreen):
            self.call_after_refresh(self.screen.show_alerts)


class AlertsScreen(SubScreen):
    """`space` acknowledges the selected alert, `A` all shown, `z` takes the last of those
    back; each writes to the database. `enter` shows the alert in full."""

    BINDINGS = [
        Binding("enter", "open_alert", "Detail", show=False, tooltip="the selected alert in full"),
        Binding("space", "acknowledge", "Acknowledge", tooltip="acknowledge the selected alert"),
        Binding("A", "acknowledge_all", "Acknowledge all", key_display="A", tooltip="acknowledge every alert shown"),
        Binding("z", "undo", "Undo", tooltip="take back the last acknowledgement (none made here: the selected alert's)"),
        Binding("s", "cycle_severity", "Severity", tooltip="cycle the severity filter"),
        Binding("u", "cycle_rule", "Rule", tooltip="cycle the rule filter"),
        Binding("o", "open_file", "Open file", show=False, tooltip="open the file the selected alert is about"),
    ]

    DEFAULT_CSS = """
    AlertsScreen {
        #alert-filters {
            height: auto;
            padding: 0 1;
            background: $panel;
        }
        #alert-filters Static {
            width: auto;
            padding: 0 1 0 0;
        }
        #alert-filters Select {
            width: 24;
            margin-right: 3;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[Alert] = []
        self.loaded = False
        self._rule_options: list[tuple[str, str]] = [("all", ALL)]
        #: What the last `space` or `A` acknowledged: what `z` takes back.
        self.last_acknowledged: list[int] = []

    def compose(self) -> ComposeResult:
        yield TitleBar("Alerts", "loading…", id="title")
        with Horizontal(id="alert-filters"):
            yield Static("Severity (s)")
            yield Select(
                [("all", ALL)] + [(s.value, s.value) for s in Severity],
                value=ALL,
                allow_blank=False,
                compact=True,
                id="severity-filter",
            )
            yield Static("Rule (u)")
            yield Select(
                [("all", ALL)], value=ALL, allow_blank=False, compact=True, id="rule-filter"
            )
        yield AlertsTable(id="alerts-table")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(AlertsTable)
        table.build_columns()
        table.focus()
        self.follow_the_data()

    @work(exclusive=True, group="alerts")
    async def load(self) -> None:
        alerts = await self.fetched("the alerts", self.app.queries.alerts())
        if alerts is None:
            return
        self.alerts = alerts
        self.loaded = True
        rules = sorted({a.rule for a in self.alerts})
        select = self.query_one("#rule-filter", Select)
        current = select.value
        options = [("all", ALL)] + [(Text(printable(rule)), rule) for rule in rules]
        if options != self._rule_options:
            self._rule_options = options
            with self.prevent(Select.Changed):
                select.set_options(options)
                select.value = current if current in (v for _, v in options) else ALL
        self.show_alerts()

    def filtered(self) -> list[Alert]:
        severity = self.query_one("#severity-filter", Select).value
        rule = self.query_one("#rule-filter", Select).value
        return [
            a
            for a in self.alerts
            if (severity == ALL or a.severity.value == severity) and (rule == ALL or a.rule == rule)
        ]

    def selected(self) -> Alert | None:
        key = self.query_one(AlertsTable).cursor_key
        return next((a for a in self.alerts if str(a.id) == key), None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_alert()

    def action_open_alert(self) -> None:
        """The selected alert in full."""
        alert = self.selected()
        if alert is not None:
            self.app.push_screen(AlertDetailScreen(alert))

    def action_open_file(self) -> None:
        alert = self.selected()
        if alert is not None and alert.path and alert.source:
            self.app.open_file(alert.source, alert.path)
        elif alert is not None:
            self.notify("This alert is about no one file.", markup=False, timeout=3)

    def on_select_changed(self, event: Select.Changed) -> None:
        self.show_alerts()

    def show_alerts(self) -> None:
        table = self.query_one(AlertsTable)
        shown = self.filtered()
        selected = table.cursor_key
        table.build_columns()
        width = table.message_width()
        table.set_column_width("message", width)
        # alert_cells gives every column; keep the ones this width shows.
        picked = [i for i, key in enumerate(AlertsTable.COLUMNS) if key in table.column_keys()]
        rows = []
        for a in shown:
            cells = alert_cells(table, a, message_width=width, full=True)
            rows.append((str(a.id), [cells[i] for i in picked]))
        table.sync(rows)
        if selected is not None and selected != table.cursor_key and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        if self.loaded:
            unacknowledged = sum(1 for a in shown if a.acknowledged_at is None)
            severity = self.query_one("#severity-filter", Select).value
            rule = self.query_one("#rule-filter", Select).value
            filters = [f"{name}: {value}" for name, value in (("severity", severity), ("rule", rule)) if value != ALL]
            self.query_one(TitleBar).show(
                f"{len(shown):,} of {plural(len(self.alerts), 'alert')} shown",
                f"{unacknowledged:,} unacknowledged (●)",
                *(printable(f) for f in filters),
                "newest first",
            )

    def _cycle(self, select_id: str, values: list[str]) -> None:
        select = self.query_one(select_id, Select)
        position = values.index(select.value) if select.value in values else -1
        select.value = values[(position + 1) % len(values)]

    def action_cycle_severity(self) -> None:
        self._cycle("#severity-filter", [ALL] + [s.value for s in Severity])

    def action_cycle_rule(self) -> None:
        self._cycle("#rule-filter", [value for _, value in self._rule_options])

    def action_acknowledge(self) -> None:
        key = self.query_one(AlertsTable).cursor_key
        if key is not None:
            self.acknowledge([int(key)])

    def action_acknowledge_all(self) -> None:
        shown = self.filtered()
        if len(shown) == len(self.alerts):
            self.acknowledge(None)
        else:
            self.acknowledge([a.id for a in shown if a.acknowledged_at is None and a.id is not None])

    def action_undo(self) -> None:
        """Take back the last acknowledgement made here; with none, the selected alert's."""
        if self.last_acknowledged:
            self.acknowledge(self.last_acknowledged, undo=True)
            return
        alert = self.selected()
        if alert is not None and alert.acknowledged_at is not None and alert.id is not None:
            self.acknowledge([alert.id], undo=True)
        else:
            self.notify("Nothing to undo: no acknowledged alert selected.", markup=False, timeout=3)

    @work(group="acknowledge")
    async def acknowledge(self, ids: list[int] | None, *, undo: bool = False) -> None:
        if ids == []:
            self.notify("Nothing to acknowledge here.", markup=False, timeout=3)
            return
        changed = await acknowledge_alerts(self, ids, undo=undo)
        if changed is None:
            return
        self.last_acknowledged = [] if undo else changed
        self.load()
