"""The dashboard app: shows the main screen, runs the poller, starts and cancels rescans."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from covtui import collector
from covtui.config import Config
from covtui.display import printable
from covtui.domain.model import Alert, RunStatus, Severity
from covtui.errors import CovtuiError, ScanBusy
from covtui.query.dashboard import DashboardState
from covtui.query.queries import Queries
from covtui.signals import Interrupted, on_stop_signals
from covtui.tui.messages import (
    AlertsRaised,
    DashboardLoaded,
    HistoryFilled,
    HistoryFilling,
    PollFailed,
    PollStatus,
    PollSucceeded,
    ScanFinished,
    ScanLine,
    ScanOutput,
    ScanStarted,
)
from covtui.tui.poller import Poller
from covtui.tui.screens.main import MainScreen

if TYPE_CHECKING:
    from covtui.demo.fill import DemoFill
    from covtui.scan.scanner import Scanner

_TOAST_SEVERITY = {Severity.CRITICAL: "error", Severity.WARNING: "warning", Severity.INFO: "information"}


class CovtuiApp(App):
    """A live view of the monitoring database at `db_path`; `r` rescans with `scanner`."""

    CSS_PATH = Path(__file__).parent / "covtui.tcss"
    TITLE = "covtui"

    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="quit (a running scan is cancelled first)"),
        Binding("r", "rescan", "Rescan", tooltip="rescan: only the tests your changes affect, where that is exact (else every test: the scan log says why)"),
        Binding("R", "full_rescan", "Full rescan", show=False, tooltip="rescan running every test"),
        Binding("c", "cancel_scan", "Cancel scan", tooltip="cancel the running scan (recorded as a cancelled snapshot)"),
        Binding("a", "show_alerts", "Alerts", tooltip="the Alerts screen: every alert"),
        Binding("f", "show_files", "Files", tooltip="the Files screen: every file of the latest snapshot"),
        Binding("g", "show_recommendations", "What to test", tooltip="the What-to-test screen: recommendations by priority"),
        Binding("C", "show_components", "Components", show=False, tooltip="the Components screen: each one's coverage and gate"),
        Binding("x", "show_excluded", "Excluded", show=False, tooltip="the Excluded screen: every line coverage.py excludes and file left out (omit, generated), and why"),
        Binding("w", "whole_project", "Whole project", tooltip="show the whole project again (the dashboard shows one component: d on the Components screen chose it)"),
        Binding("t", "trend_range", "Trend range", tooltip="cycle the trend's range: auto (the default: the shortest range that holds the history or its recent movement), hour, day, week, 90 days"),
        Binding("question_mark", "show_help", "Help", key_display="?", tooltip="the keys of this screen"),
    ]

    # The owners only hand these down; the widgets that show them repaint themselves.
    state: reactive[DashboardState | None] = reactive(None, always_update=True, repaint=False)
    poll_status: reactive[PollStatus] = reactive(PollStatus, always_update=True, repaint=False)
    scan_started_at: reactive[float | None] = reactive(None, repaint=False)
    trend_range: reactive[str] = reactive("auto", repaint=False)
    #: The component the dashboard shows (None: the whole project).
    component: reactive[str | None] = reactive(None, repaint=False)
    #: Work going on behind the data, for the status line (the demo's history filling in).
    activity: reactive[str | None] = reactive(None, repaint=False)

    def __init__(
        self,
        config: Config,
        db_path: Path,
        *,
        scanner: Scanner,
        demo: bool = False,
        clock: Callable[[], float] = time.time,
        fill: DemoFill | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.db_path = Path(db_path) if isinstance(db_path, str) else db_path
        self.demo = demo
        self.clock = clock
        self.sub_title = printable(f"{'demo · ' if demo else ''}{self.db_path}")
        #: The questions the screens ask; the poller watches for changes and keeps it connected.
        self.queries = Queries(self.db_path, config, clock=clock)
        if not demo:  # explanations follow code through git (the demo's project has none)
            from covtui.git.lines import file_diffs

            self.queries.diffs = functools.partial(file_diffs, config.root)
        self.poller = Poller(self, self.queries, clock=clock)
        self.trend_range = self.poller.trend_range
        #: What `r` runs: `run_scan`, the demo's `demo_scan`, or a test's fake.
        self.scanner = scanner
        self._scan_worker: Worker | None = None
        self._quit_when_scan_ends = False
        self._quitting = False
        #: Set by `run_dashboard`: SIGINT/SIGTERM/SIGHUP (a closed terminal) quit as `q` does.
        self.handle_stop_signals = False
        #: The stop signal that ended the app, if one did.
        self.stop_signal: int | None = None
        self._undo_signals: Callable[[], None] | None = None
        self._scan_lines: list[ScanLine] = []
        self._thread_id = threading.get_ident()
        #: The demo's history filling in behind the dashboard (a child process), if it is.
        self.fill = fill
        #: Alerts of snapshots up to this time are history being filled in, not news.
        self._history_until: float | None = None
        self._fill_shown = False
        self._fill_building = False

    def get_default_screen(self) -> Screen:
        return MainScreen(self.config)

    @property
    def main_screen(self) -> MainScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.poller.start()
        if self.fill is not None:
            first = self.fill.first
            self.activity = first.text if first is not None else "preparing the demo's history…"
            if first is not None:
                self._history_until = first.until
                self._fill_building = first.building
            # A daemon thread of our own, not a worker: nothing waits for it at exit.
            threading.Thread(target=self._watch_fill, name="covtui-demo-fill", daemon=True).start()
        if self.handle_stop_signals:
            self._undo_signals = on_stop_signals(self._stop_by_signal)

    async def on_unmount(self) -> None:
        try:
            if self._scan_worker is not None and not self._scan_worker.is_finished:
                # Quitting some other way than `q`: let the scan end its command and record
                # the cancel (Textual has cancelled it already) before the loop goes away.
                self._scan_worker.cancel()
                with contextlib.suppress(WorkerCancelled, WorkerFailed):
                    await self._scan_worker.wait()
        finally:
            if self.fill is not None:
                self.fill.stop()  # what it committed stays; the next `covtui demo` goes on
            # Always: an open connection's thread would keep the process from exiting.
            await self.poller.stop()
            if self._undo_signals is not None:
                self._undo_signals()

    def _stop_by_signal(self, signum: int) -> None:
        self.stop_signal = signum
        self.call_later(self.action_quit)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Once `q` is pressed nothing else starts: a screen pushed onto a closing app fails
        # to mount (a key typed right after `q` showed a traceback).
        if self._quitting:
            return action == "quit"
        if action == "whole_project":
            return self.component is not None  # (False: left out of the footer)
        return True

    def show_component(self, name: str | None) -> None:
        """Switch the dashboard to component `name` (None: the whole project) and show it;
        the poller loads it in the background and every later reload keeps it."""
        self.component = name
        self.poller.show_component(name)
        self.refresh_bindings()
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_whole_project(self) -> None:
        if self.component is not None:
            self.show_component(None)

    async def action_quit(self) -> None:
        """Quit; a running rescan is cancelled first (its command's process group killed, the
        cancel recorded), and the app quits when it has ended."""
        self._quitting = True
        if not self.scanning:
            self.exit()
        elif not self._quit_when_scan_ends:
            self._quit_when_scan_ends = True
            self._scan_worker.cancel()
            self.notify("Cancelling the scan, then quitting…", markup=False)

    # -- what the poller found -------------------------------------------------------------

    def on_dashboard_loaded(self, message: DashboardLoaded) -> None:
        self.state = message.state
        self.poll_status = message.status

    def on_poll_succeeded(self, message: PollSucceeded) -> None:
        self.poll_status = message.status

    def on_poll_failed(self, message: PollFailed) -> None:
        self.poll_status = message.status
        if self.state is None:
            # Nothing was ever loaded: the panels say "no data" rather than "loading…".
            self.state = DashboardState(None, None, [], [], [], 0, {"overall": []})

    # -- the demo's history filling in ----------------------------------------------------

    def _watch_fill(self) -> None:
        """(A thread.) Relay the fill's progress until its process ends (post_message is
        thread-safe, and a no-op once the app has closed)."""
        fill = self.fill
        assert fill is not None
        for p in fill.progress():
            self.post_message(HistoryFilling(p.done, p.total, p.until, p.text, p.building))
        code = fill.wait()
        self.post_message(HistoryFilled(code, fill.error() if code else ""))

    def on_history_filling(self, message: HistoryFilling) -> None:
        self._history_until = max(self._history_until or 0.0, message.until)
        self.activity = message.text
        self._fill_building = self._fill_building or message.building
        if message.done and not self._fill_shown:
            # The first data at once; after that the poll's own pace shows the rest.
            self._fill_shown = True
            self.poller.request_reload()

    def on_history_filled(self, message: HistoryFilled) -> None:
        code, error = message.code, message.error
        self.activity = None
        if self._history_until is None:
            self._history_until = 0.0  # it ended before writing anything: nothing to hide
        self.poller.request_reload()
        if code == 0 and self._fill_building:
            self.notify("The demo's history is complete: r runs a pretend rescan.", markup=False)
        elif code > 0:  # not when it was stopped (a signal) because the app is quitting
            self.notify(
                printable(f"The demo's history could not be built: {error or f'exit {code}'}"),
                severity="error", markup=False,
            )

    @property
    def filling(self) -> bool:
        return self.fill is not None and self.activity is not None

    def on_alerts_raised(self, message: AlertsRaised) -> None:
        if self.fill is not None and self._history_until is None:
            return  # the fill has not said how far it goes: all it wrote so far is history
        if self._history_until is not None:
            # The demo's history being written is not news: the same alerts a full build
            # would have stored before the dashboard opened, where none is announced.
            alerts = [a for a in message.alerts if (a.created_at or 0) > self._history_until]
            if not alerts:
                return
            message = AlertsRaised(alerts)
        shown = message.alerts[-3:]
        for alert in shown:
            self.notify(
                printable(alert.message),
                title=f"{alert.severity.value} alert #{alert.id}",
                severity=_TOAST_SEVERITY.get(alert.severity, "information"),
                markup=False,
                timeout=8,
            )
        if len(message.alerts) > len(shown):
            self.notify(f"and {len(message.alerts) - len(shown)} more: press a", markup=False)
        # The bell is for what needs attention; info (a milestone, a cancel you asked for) isn't.
        if self.config.bell and any(a.severity is not Severity.INFO for a in message.alerts):
            self.bell()

    # -- screens ---------------------------------------------------------------------------

    def _show(self, screen: Screen) -> None:
        """Open `screen` on top of the main screen (closing any other screen first)."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(screen)

    def action_show_alerts(self) -> None:
        from covtui.tui.screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self._show(AlertsScreen())

    def action_show_files(self) -> None:
        from covtui.tui.screens.files import FilesScreen

        if not isinstance(self.screen, FilesScreen):
            self._show(FilesScreen())

    def action_show_recommendations(self) -> None:
        from covtui.tui.screens.recommendations import RecommendationsScreen

        if not isinstance(self.screen, RecommendationsScreen):
            self._show(RecommendationsScreen())

    def action_show_components(self) -> None:
        from covtui.tui.screens.components import ComponentsScreen

        if not isinstance(self.screen, ComponentsScreen):
            self._show(ComponentsScreen())

    def action_show_excluded(self) -> None:
        from covtui.tui.screens.excluded import ExcludedScreen

        if not isinstance(self.screen, ExcludedScreen):
            self._show(ExcludedScreen())

    def action_show_help(self) -> None:
        from covtui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def open_alert(self, alert: Alert) -> None:
        from covtui.tui.screens.alert_detail import AlertDetailScreen

        self.push_screen(AlertDetailScreen(alert))

    def open_file(self, source: str, path: str) -> None:
        from covtui.tui.screens.file_view import FileViewScreen

        self.push_screen(FileViewScreen(source, path))

    def action_trend_range(self) -> None:
        self.trend_range = self.poller.next_trend_range()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Rescan", "Rescan now: only the affected tests where that is exact (r)", self.action_rescan)
        yield SystemCommand("Full rescan", "Rescan now, running every test (R)", self.action_full_rescan)
        yield SystemCommand("Cancel scan", "Stop the running scan (c)", self.action_cancel_scan)
        yield SystemCommand("Alerts", "Every alert; acknowledge them (a)", self.action_show_alerts)
        yield SystemCommand("Files", "Every file, sortable and filterable (f)", self.action_show_files)
        yield SystemCommand(
            "What to test", "Recommendations: what to test first, and where (g)",
            self.action_show_recommendations,
        )
        yield SystemCommand("Trend range", "Cycle auto / hour / day / week / 90 days (t)", self.action_trend_range)
        yield SystemCommand("Help", "Keys and what the panels mean (?)", self.action_show_help)

    # -- rescans ---------------------------------------------------------------------------

    @property
    def scanning(self) -> bool:
        return self._scan_worker is not None and self._scan_worker.is_running

    def action_rescan(self) -> None:
        self._start_scan(affected=True)

    def action_full_rescan(self) -> None:
        self._start_scan(affected=False)

    def _start_scan(self, *, affected: bool) -> None:
        if self.filling:
            self.notify("The demo's history is still filling in: r works once it is complete.",
                        markup=False, timeout=4)
            return
        if self.scanning:
            self.notify("A scan is already running (c cancels it).", markup=False)
            return
        self._scan_worker = self.run_worker(
            self._scan(affected), name="scan", group="scan", exclusive=True, exit_on_error=False
        )

    def action_cancel_scan(self) -> None:
        if self.scanning and self._scan_worker is not None:
            self._scan_worker.cancel()
        else:
            self.notify("No scan is running.", markup=False, timeout=3)

    async def _scan(self, affected: bool = True) -> None:
        started = time.monotonic()
        self.scan_started_at = self.clock()
        self.main_screen.post_message(ScanStarted(self.scan_started_at))
        status, summary = "error", "scan failed"
        try:
            def on_output(source: str, line: str) -> None:
                item = ScanLine(source, line, time.monotonic() - started)
                if threading.get_ident() == self._thread_id:
                    self._queue_scan_line(item)
                else:
                    self.call_from_thread(self._queue_scan_line, item)

            outcome = await self.scanner(
                self.config, trigger="dashboard", on_output=on_output, affected=affected
            )
            status = getattr(outcome.status, "value", str(outcome.status))
            n_alerts = len(outcome.alerts or [])
            # Why a source measured nothing this time (a failure, a save during the run).
            unmeasured = [
                f"{source.name}: {source.message}"
                for source in getattr(getattr(outcome, "draft", None), "sources", ())
                if source.status is not RunStatus.OK and source.message
            ]
            summary = f"scan {status}: snapshot #{outcome.snapshot_id}" + (
                f", {n_alerts} alert{'s' if n_alerts != 1 else ''}" if n_alerts else ""
            ) + "".join(f" · {note}" for note in (*getattr(outcome, "notes", ()), *unmeasured))
        except asyncio.CancelledError:
            status, summary = "cancelled", "scan cancelled (recorded as a cancelled snapshot)"
            raise
        except ScanBusy as exc:
            status, summary = "busy", f"cannot scan now: {exc}"
        except CovtuiError as exc:
            status, summary = "error", f"scan failed: {exc}"
        except Exception as exc:  # noqa: BLE001  (the dashboard survives a broken scanner)
            status, summary = "error", f"scan crashed: {type(exc).__name__}: {exc}"
        finally:
            if self.is_running:  # not when the app is shutting down around it
                self._flush_scan_lines()
                elapsed = time.monotonic() - started
                self.scan_started_at = None
                self.main_screen.post_message(ScanFinished(status, summary, elapsed))
                self.notify(
                    printable(summary),
                    title="Rescan",
                    severity="information" if status == "ok" else "warning" if status == "cancelled" else "error",
                    markup=False,
                )
                # The scan wrote through its own connection: data_version shows it; check now.
                self.poller.request_reload()
                if self._quit_when_scan_ends:
                    self.exit()

    def _queue_scan_line(self, item: ScanLine) -> None:
        if not self._scan_lines:
            self.set_timer(0.05, self._flush_scan_lines)
        self._scan_lines.append(item)

    def _flush_scan_lines(self) -> None:
        lines, self._scan_lines = self._scan_lines, []
        if lines:
            self.main_screen.post_message(ScanOutput(lines))


def run_dashboard(
    config: Config, db_path: Path, *, scanner: Scanner, demo: bool = False,
    fill: DemoFill | None = None,
) -> None:
    """Open the dashboard on `db_path` until the user quits; when a stop signal (a closed
    terminal's SIGHUP, SIGTERM) ended it, exit 128 + the signal. `fill`: the demo's history
    filling in behind it."""
    collector.for_interactive_work()
    app = CovtuiApp(config, db_path, scanner=scanner, demo=demo, fill=fill)
    app.handle_stop_signals = True
    app.run()
    if app.stop_signal is not None:
        # The scan (if any) has ended and its cancel is written. Exit now rather than wait
        # at interpreter shutdown for a thread nothing is left to stop: once, under heavy
        # load, a dashboard whose terminal closed stayed there.
        stopped = Interrupted(app.stop_signal)
        with contextlib.suppress(OSError):  # the closed terminal took stderr with it
            print(f"covtui: {stopped}", file=sys.stderr, flush=True)
        if fill is not None:
            fill.stop()
        os._exit(stopped.exit_code)
