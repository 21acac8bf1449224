"""The last test run: duration, passed/failed, peak memory, each against the recent median."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from covtui.domain.records import SnapshotRow
from covtui.present.text import duration, memory
from covtui.query.dashboard import DashboardState

from .format import count, failed_tests, median, when
from .panel import panel_css


def versus(value: float | None, typical: float | None, *, higher_is_worse: bool = True) -> Content:
    """"+12% vs median": coloured when it is more than 10% worse than usual."""
    if value is None or typical is None or typical == 0:
        return Content("")
    pc = 100.0 * (value - typical) / typical
    worse = pc > 10 if higher_is_worse else pc < -10
    better = pc < -10 if higher_is_worse else pc > 10
    style = "$text-warning bold" if worse else "$text-success" if better else "$text-muted"
    return Content.styled(f"{pc:+.0f}%", style)


class LastRun(Static):
    """What the newest measured run cost, compared with the runs before it."""

    DEFAULT_CSS = panel_css("LastRun")

    state: reactive[DashboardState | None] = reactive(None, always_update=True)

    def __init__(self, **kwargs) -> None:
        super().__init__("loading…", **kwargs)
        self.border_title = "Last test run"

    def watch_state(self, state: DashboardState | None) -> None:
        if state is None:
            self.update("loading…")
            return
        if not state.recent_runs:
            self.update(Content.styled("no test runs recorded yet", "$text-muted"))
            return
        last, *before = state.recent_runs
        before = [r for r in before if r.status == "ok"]
        self.update(Content("\n").join(self._lines(last, before)))

    def _lines(self, last: SnapshotRow, before: list[SnapshotRow]) -> list[Content]:
        """A small grid: what, this run, the median of the runs before, the change."""
        typical_wall = median(r.run.wall_s for r in before)
        typical_peak = median(r.run.peak_rss_kb for r in before)
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
        lines += [
            Content.assemble(
                ("".ljust(_LABEL), ""),
                ("last".rjust(_VALUE), "$text-muted"),
                ("median".rjust(_MEDIAN + 1), "$text-muted"),
            ),
            _row("Duration", duration(last.run.wall_s), duration(typical_wall),
                 versus(last.run.wall_s, typical_wall)),
        ]
        tests = last.tests
        if tests is not None:
            failed = tests.n_failed + tests.n_errors
            with_tests = [r.tests for r in before if r.tests is not None]
            typical_passed = median(t.n_passed for t in with_tests)
            typical_failed = median(t.n_failed + t.n_errors for t in with_tests)
            lines.append(
                _row("Passed", count(tests.n_passed), _number(typical_passed),
                     versus(tests.n_passed, typical_passed, higher_is_worse=False))
            )
            lines.append(
                _row("Failed", count(failed), _number(typical_failed),
                     _difference(failed, typical_failed),
                     value_style="bold $text-error" if failed else "bold")
            )
        else:
            lines.append(_row("Tests", "no results", "", Content("")))
        lines.append(
            _row("Peak memory", memory(last.run.peak_rss_kb), memory(typical_peak),
                 versus(last.run.peak_rss_kb, typical_peak))
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
