"""The last test run: duration, passed/failed, peak memory, each against the median of the
good runs before it (the test-time alert's median, domain/run_median)."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from covtui.display import printable
from covtui.domain.run_median import MIN_RUNS, VersusMedian
from covtui.present.text import duration, incremental_run, memory, partial_run
from covtui.query.dashboard import DashboardState, LastRunComparison

from .format import count, failed_tests, when
from .panel import panel_css


def versus(compared: VersusMedian | None, *, higher_is_worse: bool = True) -> Content:
    """"+12%": the change against the median (domain/run_median, as the test-time alert
    words it), coloured when it is more than 10% worse or better than usual."""
    if compared is None or compared.pc_change is None:
        return Content("")
    pc = compared.pc_change
    worse = pc > 10 if higher_is_worse else pc < -10
    better = pc < -10 if higher_is_worse else pc > 10
    style = "$text-warning bold" if worse else "$text-success" if better else "$text-muted"
    return Content.styled(compared.change_str, style)


def _median(compared: VersusMedian | None) -> float | None:
    return compared.median if compared is not None else None


class LastRun(Static):
    """What the newest measured run cost, against the median of the good runs before it."""

    DEFAULT_CSS = panel_css("LastRun")

    state: reactive[DashboardState | None] = reactive(None, always_update=True)

    def __init__(self, **kwargs) -> None:
        super().__init__("loading…", **kwargs)
        self.border_title = "Last test run"

    def watch_state(self, state: DashboardState | None) -> None:
        if state is None:
            self.update("loading…")
            return
        if state.last_run is None:
            self.update(Content.styled("no test runs recorded yet", "$text-muted"))
            return
        self.update(Content("\n").join(self._lines(state.last_run)))

    def on_resize(self) -> None:
        # The history column comes and goes with the room.
        self.watch_state(self.state)

    def _history_room(self, n_history: int) -> int:
        """How many runs the history column shows: what fits after the grid (0: none)."""
        room = self.content_region.width - _GRID
        return min(room, n_history + 1) if room >= _MIN_HISTORY and n_history >= MIN_RUNS else 0

    def _lines(self, compared: LastRunComparison) -> list[Content]:
        """A small grid: what, this run, the median of the good runs before, the change; where
        there is room, the runs before as a sparkline ending with this one."""
        last = compared.run
        if last.status == "partial":
            status, status_style = partial_run(last.n_tests_run), "$text-warning"
        else:
            status = last.status
            status_style = "$text-success" if last.status == "ok" else "bold $text-error"
        lines = [
            Content.assemble(
                (f"#{last.id} at {when(last.created_at)} · ", "$text-muted"),
                (status, status_style),
            ),
        ]
        if last.scope == "incremental":
            lines.append(Content.styled(incremental_run(last), "$text-accent"))
        if last.status == "ok" and last.tests is not None and (last.tests.n_failed or last.tests.n_errors):
            # A line of its own: beside the header it would wrap in a 120-column terminal.
            lines.append(Content.styled(failed_tests(last.tests), "bold $text-error"))
        history = list(reversed(compared.history))  # oldest first
        n = self._history_room(max([len(history)] + [len(t.recent) for t in compared.times]))
        lines.append(
            Content.assemble(
                ("".ljust(_LABEL), ""),
                ("last".rjust(_VALUE), "$text-muted"),
                ("median".rjust(_MEDIAN + 1), "$text-muted"),
                (f"{'':{_CHANGE + 4}}{_history_label(n)}", "$text-muted"),
            )
        )

        def spark(before: list, now) -> Content:
            return sparkline(before, now, n) if n > 1 else Content("")

        if len(compared.times) > 1:
            # Each source against its own good runs: the figure its test-time alert gives.
            for t in compared.times:
                lines.append(
                    _row(shorten(printable(t.source), _LABEL - 1), duration(t.wall_s),
                         duration(_median(t.versus)), versus(t.versus),
                         spark(list(reversed(t.recent)), t.wall_s))
                )
        else:
            # One source: its time is the run's, compared as its alert compares it.
            one = compared.times[0] if compared.times else None
            walls = list(reversed(one.recent)) if one else [r.run.wall_s for r in history]
            against = one.versus if one else compared.wall
            lines.append(
                _row("Duration", duration(last.run.wall_s), duration(_median(against)),
                     versus(against), spark(walls, last.run.wall_s))
            )
        tests = last.tests
        if tests is not None:
            failed = tests.n_failed + tests.n_errors
            with_tests = [r.tests for r in history if r.tests is not None]
            lines.append(
                _row("Passed", count(tests.n_passed), _number(_median(compared.passed)),
                     versus(compared.passed, higher_is_worse=False),
                     spark([t.n_passed for t in with_tests], tests.n_passed))
            )
            lines.append(
                _row("Failed", count(failed), _number(_median(compared.failed)),
                     _difference(failed, _median(compared.failed)),
                     spark([t.n_failed + t.n_errors for t in with_tests], failed),
                     value_style="bold $text-error" if failed else "bold")
            )
        else:
            lines.append(_row("Tests", "no results", "", Content("")))
        lines.append(
            _row("Peak memory", memory(last.run.peak_rss_kb), memory(_median(compared.peak)),
                 versus(compared.peak), spark([r.run.peak_rss_kb for r in history], last.run.peak_rss_kb))
        )
        return lines


_LABEL, _VALUE, _MEDIAN, _CHANGE = 11, 8, 9, 6
#: The grid's width before the history column, and the least room that column needs.
_GRID = _LABEL + _VALUE + _MEDIAN + 1 + 2 + _CHANGE + 2
_MIN_HISTORY = 8
_BARS = "▁▂▃▄▅▆▇█"


def _history_label(n: int) -> str:
    """The history column's heading, as long as the column is wide."""
    if n <= 1:
        return ""
    return next((label for label in ("earlier runs → this one", "runs → this", "runs") if len(label) <= n), "")


def sparkline(before: list[float | None], now: float | None, width: int) -> Content:
    """The last `width` - 1 values of `before` (oldest first), then `now` in bold: each a bar
    from the lowest to the highest of them (unknown values: a gap)."""
    values = [*before[-(width - 1):], now] if width > 1 else [now]
    known = [v for v in values if v is not None]
    if not known:
        return Content("")
    low, high = min(known), max(known)

    def bar(v: float | None) -> str:
        if v is None:
            return " "
        return _BARS[3] if high == low else _BARS[round((v - low) / (high - low) * 7)]

    return Content.assemble(
        ("".join(bar(v) for v in values[:-1]), "$text-muted"), (bar(values[-1]), "bold $text-accent")
    )


def _row(label: str, value: str, typical: str, change: Content, history: Content | None = None,
         *, value_style: str = "bold") -> Content:
    return Content.assemble(
        (label.ljust(_LABEL), "$text-muted"),
        (value.rjust(_VALUE), value_style),
        (typical.rjust(_MEDIAN + 1), ""),
        "  ",
        change,
        *(["".ljust(_CHANGE - len(change.plain) + 2), history] if history and history.plain else []),
    )


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _difference(value: int, typical: float | None) -> Content:
    """Failures compare as a count: "+6" is clearer than "+600%"."""
    if typical is None:
        return Content("")
    delta = value - typical
    if delta == 0:
        return Content.styled("=", "$text-muted")
    return Content.styled(f"{delta:+,.0f}", "bold $text-warning" if delta > 0 else "$text-success")


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
