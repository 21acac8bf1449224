"""The last test run: duration, passed/failed, peak memory, each against the recent median."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from covtui.store.views import DashboardState, SnapshotRow

from .format import count, duration, median, memory, when


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

    DEFAULT_CSS = """
    LastRun {
        height: auto;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
        padding: 0 1;
    }
    """

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
        label_width = 12
        typical_wall = median(r.run.wall_s for r in before)
        typical_peak = median(r.run.peak_rss_kb for r in before)
        status_style = "$text-success" if last.status == "ok" else "bold $text-error"
        lines = [
            Content.assemble(
                (f"#{last.id} at {when(last.created_at)} · ", "$text-muted"),
                (last.status, status_style),
            ),
            Content.assemble(
                ("Duration".ljust(label_width), "$text-muted"),
                (duration(last.run.wall_s).ljust(10), "bold"),
                (f"median {duration(typical_wall)}  ", "$text-muted"),
                versus(last.run.wall_s, typical_wall),
            ),
        ]
        tests = last.tests
        if tests is not None:
            failed = tests.n_failed + tests.n_errors
            typical_failed = median(
                r.tests.n_failed + r.tests.n_errors for r in before if r.tests is not None
            )
            lines.append(
                Content.assemble(
                    ("Tests".ljust(label_width), "$text-muted"),
                    (f"{count(tests.n_passed)} passed", "bold $text-success"),
                    " · ",
                    (f"{count(failed)} failed", "bold $text-error" if failed else "$text-muted"),
                    (
                        f"  median {typical_failed:g} failed" if typical_failed is not None else "",
                        "$text-muted",
                    ),
                )
            )
            if tests.n_skipped:
                lines.append(
                    Content.assemble(
                        ("".ljust(label_width), ""), (f"{count(tests.n_skipped)} skipped", "$text-muted")
                    )
                )
        else:
            lines.append(
                Content.assemble(("Tests".ljust(label_width), "$text-muted"), ("no results", "$text-muted"))
            )
        lines.append(
            Content.assemble(
                ("Peak memory".ljust(label_width), "$text-muted"),
                (memory(last.run.peak_rss_kb).ljust(10), "bold"),
                (f"median {memory(typical_peak)}  ", "$text-muted"),
                versus(last.run.peak_rss_kb, typical_peak),
            )
        )
        return lines
