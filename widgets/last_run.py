"""The last test run: duration, passed/failed, peak memory, each against the median of the
good runs before it (the test-time alert's median, domain/run_median)."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from covtui.display import printable
from covtui.domain.run_median import VersusMedian
from covtui.present.text import duration, memory
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

    def _lines(self, compared: LastRunComparison) -> list[Content]:
        """A small grid: what, this run, the median of the good runs before, the change."""
        last = compared.run
        status_style = "$text-success" if last.status == "ok" else "bold $text-error"
        lines = [
            Content.assemble(
                (f"#{last.id} at {when(last.created_at)} · ", "$text-muted"),
                (last.status, status_style),
            ),
        ]
        if last.status == "ok" and last.tests is not None and (last.tests.n_failed or last.tests.n_errors):
            # A line of its own: beside the header it would wrap in a 120-column terminal.
            lines.append(Content.styled(failed_tests(last.tests), "bold $text-error"))
        lines.append(
            Content.assemble(
                ("".ljust(_LABEL), ""),
                ("last".rjust(_VALUE), "$text-muted"),
                ("median".rjust(_MEDIAN + 1), "$text-muted"),
            )
        )
        if len(compared.times) > 1:
            # Each source against its own good runs: the figure its test-time alert gives.
            for t in compared.times:
                lines.append(
                    _row(shorten(printable(t.source), _LABEL - 1), duration(t.wall_s),
                         duration(_median(t.versus)), versus(t.versus))
                )
        else:
            # One source: its time is the run's, compared as its alert compares it.
            one = compared.times[0].versus if compared.times else compared.wall
            lines.append(
                _row("Duration", duration(last.run.wall_s), duration(_median(one)), versus(one))
            )
        tests = last.tests
        if tests is not None:
            failed = tests.n_failed + tests.n_errors
            lines.append(
                _row("Passed", count(tests.n_passed), _number(_median(compared.passed)),
                     versus(compared.passed, higher_is_worse=False))
            )
            lines.append(
                _row("Failed", count(failed), _number(_median(compared.failed)),
                     _difference(failed, _median(compared.failed)),
                     value_style="bold $text-error" if failed else "bold")
            )
        else:
            lines.append(_row("Tests", "no results", "", Content("")))
        lines.append(
            _row("Peak memory", memory(last.run.peak_rss_kb), memory(_median(compared.peak)),
                 versus(compared.peak))
        )
        return lines


_LABEL, _VALUE, _MEDIAN = 11, 8, 9


def _row(label: str, value: str, typical: str, change: Content, *, value_style: str = "bold") -> Content:
    return Content.assemble(
        (label.ljust(_LABEL), "$text-muted"),
        (value.rjust(_VALUE), value_style),
        (typical.rjust(_MEDIAN + 1), ""),
        "  ",
        change,
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
