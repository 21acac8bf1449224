"""The main screen: every panel of the dashboard, fed from the app's state."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable

from covtui.config import Config
from covtui.display import printable
from covtui.query.dashboard import DashboardState
from covtui.tui.messages import PollStatus, ScanFinished, ScanOutput, ScanStarted
from covtui.widgets.alert_history import AlertHistory
from covtui.widgets.components import ComponentsPanel
from covtui.widgets.critical_files import CriticalFiles, split_file_key
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.last_run import LastRun
from covtui.widgets.overall import OverallPanel
from covtui.widgets.phase_bars import PhaseBars
from covtui.widgets.project_header import ProjectHeader
from covtui.widgets.scan_log import ScanLog
from covtui.widgets.sources import SourcesPanel
from covtui.widgets.status_line import StatusLine
from covtui.widgets.trend import TrendPlot


class MainScreen(Screen):
    """Overall coverage, sources, phases, critical files, alerts, trend, last run, scan log."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal"), (150, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-medium"), (42, "-tall")]

    BINDINGS = [
        Binding("escape", "escape", "Cancel scan / hide log", show=False),
    ]

    state: reactive[DashboardState | None] = reactive(None, always_update=True, repaint=False)
    poll_status: reactive[PollStatus] = reactive(PollStatus, always_update=True, repaint=False)
    scan_started_at: reactive[float | None] = reactive(None, repaint=False)
    trend_range: reactive[str] = reactive("auto", repaint=False)
    activity: reactive[str | None] = reactive(None, repaint=False)

    def __init__(self, config: Config, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config = config

    def compose(self) -> ComposeResult:
        config = self.config
        yield ProjectHeader(config.root.name, config.root, id="project").data_bind(MainScreen.state)
        with Horizontal(id="top"):
            yield OverallPanel(config.phases, config.precision, id="overall").data_bind(
                MainScreen.state
            )
            with Vertical(id="progress"):
                yield PhaseBars(config.phases, id="phases").data_bind(MainScreen.state)
                yield SourcesPanel(
                    [s.name for s in config.sources], config.precision, id="sources"
                ).data_bind(MainScreen.state)
            yield LastRun(id="last-run").data_bind(MainScreen.state)
        critical = CriticalFiles(config.precision, id="critical")
        critical.border_title = f"Top {config.critical_files} critical files"
        yield critical.data_bind(MainScreen.state)
        if config.components or config.codeowners or config.gates:
            yield ComponentsPanel(config.precision, live=True, id="components")
        with Horizontal(id="middle"):
            yield TrendPlot(config.phases, id="trend").data_bind(
                MainScreen.state, range_name=MainScreen.trend_range
            )
            yield ScanLog(id="scan-log")
            yield AlertHistory(id="alert-history").data_bind(MainScreen.state)
        yield StatusLine(config.poll_interval, self.app.clock, config.ci_shard_timeout, id="status").data_bind(
            MainScreen.state, MainScreen.poll_status, MainScreen.scan_started_at,
            MainScreen.activity,
        )
        yield KeyFooter()

    def on_mount(self) -> None:
        app = self.app
        self.watch(app, "state", self._take("state"))
        self.watch(app, "poll_status", self._take("poll_status"))
        self.watch(app, "scan_started_at", self._take("scan_started_at"))
        self.watch(app, "trend_range", self._take("trend_range"))
        self.watch(app, "activity", self._take("activity"))
        self.query_one(CriticalFiles).focus()

    def watch_state(self, state: DashboardState | None) -> None:
        component = state.component if state is not None else None
        where = f" in {escape(printable(component.name))}" if component else ""
        self.query_one(CriticalFiles).border_title = f"Top {self.config.critical_files} critical files{where}"
        self.query_one(AlertHistory).border_title = f"Alerts{where}"
        for panel in self.query(ComponentsPanel):
            panel.selected = component.name if component else None
        self.call_after_refresh(self._align_top)

    def on_resize(self) -> None:
        self.call_after_refresh(self._align_top)

    def _align_top(self) -> None:
        """The top row's panels end on one line: each is stretched to the tallest one's height
        (their content decides it: the number of sources, a failed-tests line, a diff line)."""
        overall = self.query_one(OverallPanel)
        phases = self.query_one(PhaseBars)
        sources = self.query_one(SourcesPanel)
        last = self.query_one(LastRun)

        def natural(widget) -> int:
            size = widget.content_region.size
            return widget.get_content_height(size, self.size, size.width) + widget.gutter.height

        overall_h = sum(c.outer_size.height for c in overall.children if c.display)
        columns = [overall_h + overall.gutter.height, phases.outer_size.height + natural(sources)]
        if last.display:
            columns.append(natural(last))
        target = max(columns)
        overall.styles.min_height = target
        sources.styles.min_height = target - phases.outer_size.height
        last.styles.min_height = target

    def _take(self, name: str):
        def take(value) -> None:
            setattr(self, name, value)

        return take

    # -- scan ------------------------------------------------------------------------------

    def on_scan_started(self, message: ScanStarted) -> None:
        self.add_class("-scan-visible")
        self.query_one(ScanLog).started()

    def on_scan_output(self, message: ScanOutput) -> None:
        self.query_one(ScanLog).add_lines(message.lines)

    def on_scan_finished(self, message: ScanFinished) -> None:
        self.query_one(ScanLog).finished(message.summary, message.elapsed_s)

    def action_escape(self) -> None:
        if self.scan_started_at is not None:
            self.app.action_cancel_scan()
        elif self.has_class("-scan-visible"):
            self.remove_class("-scan-visible")

    # -- files -----------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, CriticalFiles) and event.row_key.value:
            source, path = split_file_key(event.row_key.value)
            self.app.open_file(source, path)
        elif isinstance(event.data_table, AlertHistory):
            key = event.row_key.value
            alert = next((a for a in event.data_table.alerts if str(a.id) == key), None)
            if alert is not None:
                self.app.open_alert(alert)  # the alert in full
