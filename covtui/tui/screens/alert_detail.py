"""One alert in full: its whole message, the snapshot that raised it and the one it was compared
with, its value against the threshold; `space` acknowledges it, `z` takes that back."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from covtui.display import printable
from covtui.domain.model import Alert, AlertRule
from covtui.domain.numbers import pc_str
from covtui.domain.records import SnapshotRow
from covtui.present.text import plural
from covtui.query.alerts import AlertContext
from covtui.tui.screens.subscreen import SubScreen
from covtui.widgets.format import SEVERITY_VARIABLE, theme_style, when
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.title_bar import TitleBar

#: What each rule's value counts, one and many; "%": a percentage by coverage.py's rule.
_UNITS = {
    AlertRule.COVERAGE_DROP.value: ("point", "points"),
    AlertRule.MILESTONE.value: ("%", "%"),
    "diff_coverage": ("%", "%"),
    AlertRule.TEST_TIME.value: ("% over the median", "% over the median"),
    AlertRule.TEST_FAILURES.value: ("more failing test", "more failing tests"),
    AlertRule.TESTS_REMOVED.value: ("fewer test", "fewer tests"),
    AlertRule.FILES_LEFT.value: ("file", "files"),
    AlertRule.FILE_REGRESSION.value: ("covered line lost", "covered lines lost"),
    AlertRule.EXCLUDED_LINES.value: ("more excluded line", "more excluded lines"),
    AlertRule.COMPONENT_DROP.value: ("point", "points"),
    AlertRule.INCREMENTAL_DRIFT.value: ("file differs", "files differ"),
}

#: Rules whose value is a number of points, written as the message writes it.
_POINTS = frozenset({AlertRule.COVERAGE_DROP.value, AlertRule.COMPONENT_DROP.value})

#: When a rule fires, in words (the threshold is the configured one, `[tool.covtui.alerts]`).
RULES = {
    AlertRule.SCAN_FAILED.value: "a source's scan failed, timed out or was cancelled",
    AlertRule.COVERAGE_DROP.value: "overall coverage fell at least the threshold since the previous "
    "good snapshot over the same sources",
    AlertRule.MILESTONE.value: "overall coverage rose past the end of a phase",
    AlertRule.TEST_FAILURES.value: "a source has at least the threshold more failing tests than at "
    "its previous good run",
    AlertRule.TEST_TIME.value: "a source's test run took at least the threshold percent longer than "
    "the median of its recent runs",
    AlertRule.TESTS_REMOVED.value: "a source has at least the threshold fewer tests than at its "
    "previous good run",
    AlertRule.FILES_LEFT.value: "at least the threshold measured code files left the report",
    AlertRule.FILE_REGRESSION.value: "covered lines of code files became missed, at least the "
    "threshold in a file",
    "diff_coverage": "the lines changed since the merge base are covered less than the threshold",
    AlertRule.COMPONENT_DROP.value: "a component's coverage fell at least its threshold (its "
    "coverage_drop, or the project's) since its files' previous state",
    AlertRule.EXCLUDED_LINES.value: "at least the threshold more lines were excluded (pragmas, "
    "exclude regexes) than at the previous good snapshot over the same sources",
    AlertRule.INCREMENTAL_DRIFT.value: "the periodic full scan's figures differ from what the "
    "incremental rescans (scan --affected, r) give for the same tree, in at least one file",
}

#: What rules that compare with no single snapshot compare with.
_NO_BASELINE = {
    AlertRule.SCAN_FAILED.value: "nothing: the scan itself failed",
    AlertRule.TEST_TIME.value: "the median of the source's recent runs (in the message)",
    "diff_coverage": "the merge base (in the message)",
    AlertRule.COMPONENT_DROP.value: "its files' previous results (in the message)",
    AlertRule.INCREMENTAL_DRIFT.value: "the incremental rescans' figures for the same tree",
}


def quantity(rule: str, value: float | None, precision: int) -> str:
    """An alert's value or threshold in its rule's unit, as the message writes it."""
    if value is None:
        return "—"
    one, many = _UNITS.get(rule, ("", ""))
    if one == "%":
        return f"{pc_str(value, precision)}%"
    if rule == AlertRule.TEST_TIME.value:
        return f"{value:.0f}{one}"
    if rule not in _POINTS and float(value).is_integer():  # a count
        shown, unit = f"{int(value):,}", one if value == 1 else many
    else:
        shown, unit = f"{value:.{precision}f}", many
    return f"{shown} {unit}".rstrip()


def snapshot_text(snapshot: SnapshotRow) -> Text:
    """"snapshot #29 · 2025-09-21 20:00:00 · commit 3f2a9c1 on main (uncommitted changes)"."""
    parts = [f"snapshot #{snapshot.id}", when(snapshot.created_at, seconds=True)]
    if snapshot.git_commit:
        commit = f"commit {snapshot.git_commit[:7]}"
        if snapshot.git_branch:
            commit += f" on {snapshot.git_branch}"
        if snapshot.git_dirty:
            commit += " (uncommitted changes)"
        parts.append(commit)
    if snapshot.status != "ok":
        parts.append(snapshot.status)
    return Text(printable(" · ".join(parts)))


def detail_table(context: AlertContext, precision: int, *, severity_style=None) -> Table:
    """The alert's facts, one per row: a label, then the value wrapped under itself."""
    alert = context.alert
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")

    def row(label: str, value: Text | str) -> None:
        table.add_row(label, value if isinstance(value, Text) else Text(printable(value)))

    row("Message", Text(printable(alert.message), style="bold"))
    row("Severity", Text(alert.severity.value, style=severity_style or ""))
    rule = printable(alert.rule)
    meaning = RULES.get(alert.rule)
    row("Rule", f"{rule}: {meaning}" if meaning else rule)
    if alert.source:
        row("Source", alert.source)
    if alert.path:
        row("File", Text.assemble(printable(alert.path), ("  (o opens it)", "dim")))
    if context.snapshot is not None:
        row("Raised by", snapshot_text(context.snapshot))
    elif alert.snapshot_id is not None:
        row("Raised by", f"snapshot #{alert.snapshot_id} (no longer stored)")
    if context.baseline is not None:
        row("Compared with", snapshot_text(context.baseline))
    elif alert.rule in _NO_BASELINE:
        row("Compared with", _NO_BASELINE[alert.rule])
    if alert.value is not None:
        row("Value", quantity(alert.rule, alert.value, precision))
    if alert.threshold is not None:
        row("Threshold", quantity(alert.rule, alert.threshold, precision))
    if alert.acknowledged_at is None:
        row("Acknowledged", Text("no (space acknowledges)"))
    else:
        row("Acknowledged", f"yes, {when(alert.acknowledged_at, seconds=True)} (z takes it back)")
    if context.explanation:
        row("Why", Text("\n".join(printable(line) for line in context.explanation.splitlines())))
    lines = alert.detail.splitlines()
    if lines:
        row(plural(len(lines), "detail line"), Text("\n".join(printable(line) for line in lines)))
    return table


class AlertDetailScreen(SubScreen):
    """The alert with id `alert_id`, reloaded when the data changes (another process may
    acknowledge it)."""

    BINDINGS = [
        Binding("space", "acknowledge", "Acknowledge", tooltip="acknowledge this alert"),
        Binding("z", "undo", "Undo", tooltip="take this alert's acknowledgement back"),
        Binding("o", "open_file", "Open file", tooltip="open the file the alert is about"),
    ]

    DEFAULT_CSS = """
    AlertDetailScreen {
        #alert-body {
            height: 1fr;
            padding: 0 1;
            background: $surface;
        }
    }
    """

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert
        self.context: AlertContext | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield TitleBar(f"Alert #{self.alert.id}", id="title")
        with VerticalScroll(id="alert-body"):
            yield Static("loading…", id="alert-facts")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#alert-body").focus()
        self.show()
        self.follow_the_data()

    @work(exclusive=True, group="alert-detail")
    async def load(self) -> None:
        alerts = await self.fetched("the alert", self.app.queries.alerts())
        if alerts is None:
            return
        alert = next((a for a in alerts if a.id == self.alert.id), None)
        if alert is None:
            self.say_problem(f"Alert #{self.alert.id} is no longer stored (pruned).")
            return
        context = await self.fetched("the alert", self.app.queries.alert_context(alert))
        if context is None:
            return
        self.alert, self.context = alert, context
        self.loaded = True
        self.show()

    def say_problem(self, text: str) -> None:
        self.query_one("#alert-facts", Static).update(Text(text))

    def show(self) -> None:
        alert = self.alert
        self.query_one(TitleBar).show(
            alert.severity.value,
            printable(alert.rule),
            "acknowledged" if alert.acknowledged_at is not None else "unacknowledged",
        )
        self.refresh_bindings()
        if self.context is None:
            return
        style = theme_style(self.app, SEVERITY_VARIABLE.get(alert.severity, "text-primary"), bold=True)
        self.query_one("#alert-facts", Static).update(
            detail_table(self.context, self.app.config.precision, severity_style=style)
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        acknowledged = self.alert.acknowledged_at is not None
        # False: the key is left out of the footer (it would do nothing here).
        if action == "acknowledge":
            return not acknowledged
        if action == "undo":
            return acknowledged
        if action == "open_file":
            return bool(self.alert.path and self.alert.source)
        return True

    def action_acknowledge(self) -> None:
        if self.alert.id is not None:
            self.write([self.alert.id], undo=False)

    def action_undo(self) -> None:
        if self.alert.id is not None:
            self.write([self.alert.id], undo=True)

    def action_open_file(self) -> None:
        if self.alert.path and self.alert.source:
            self.app.open_file(self.alert.source, self.alert.path)

    @work(group="acknowledge")
    async def write(self, ids: list[int], *, undo: bool) -> None:
        if await acknowledge_alerts(self, ids, undo=undo) is not None:
            self.load()


async def acknowledge_alerts(screen, ids: list[int] | None, *, undo: bool) -> list[int] | None:
    """Acknowledge alerts (all when `ids` is None) or take that back; says what happened.
    Returns the ids that changed, None when the write failed."""
    verb = "unacknowledge" if undo else "acknowledge"
    try:
        changed = await screen.app.queries.acknowledge(ids, undo=undo)
    except Exception as exc:  # noqa: BLE001  (a locked or missing database: say so)
        screen.notify(printable(f"Could not {verb}: {exc}"), severity="error", markup=False)
        return None
    screen.app.poller.request_reload()  # written through another connection: show it now
    screen.notify(f"{verb.capitalize()}d {plural(len(changed), 'alert')}.", markup=False, timeout=3)
    return changed
