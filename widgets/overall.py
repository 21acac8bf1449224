"""The overall coverage panel: a large percentage, its counts, and its change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.markup import escape
from textual.reactive import reactive
from textual.widgets import Digits, Static

from covtui.config import Phase
from covtui.display import printable
from covtui.domain.phases import phase_status
from covtui.domain.records import SnapshotRow
from covtui.present.text import diff_coverage_parts
from covtui.query.dashboard import DashboardState

from .format import change_content, count, when
from .panel import panel_css


class OverallPanel(Vertical):
    """Overall coverage of the latest snapshot, coloured by the phase it is in."""

    DEFAULT_CSS = panel_css("OverallPanel", """
        #overall-percent {
            width: auto;
            text-style: bold;
        }
        #overall-details {
            height: auto;
            color: $text;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        #overall-diff {
            height: auto;
            display: none;
        }
        #overall-diff.-shown {
            display: block;
        }
        &.-phase-1 #overall-percent { color: $text-error; }
        &.-phase-2 #overall-percent { color: $text-warning; }
        &.-phase-3 #overall-percent { color: $text-primary; }
        &.-phase-4 #overall-percent { color: $text-success; }
        &.-no-data #overall-percent { color: $text-muted; }""")

    state: reactive[DashboardState | None] = reactive(None, always_update=True)

    def __init__(self, phases: list[Phase], precision: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.phases = phases
        self.precision = precision
        self.border_title = "Overall coverage"

    def compose(self) -> ComposeResult:
        yield Digits("…", id="overall-percent")
        yield Static("loading…", id="overall-details")
        yield Static("", id="overall-diff")

    def watch_state(self, state: DashboardState | None) -> None:
        component = state.component if state is not None else None
        self.border_title = f"Component {escape(printable(component.name))}" if component else "Overall coverage"
        if component is not None and component.floor:
            self.border_subtitle = f"floor: {escape(component.floor)}"
        else:
            self.border_subtitle = ""
        digits = self.query_one("#overall-percent", Digits)
        details = self.query_one("#overall-details", Static)
        diff = self.query_one("#overall-diff", Static)
        line = diff_line(state.latest if state is not None else None, self.precision)
        diff.set_class(line is not None, "-shown")
        diff.update(line or "")
        self.remove_class("-phase-1", "-phase-2", "-phase-3", "-phase-4", "-no-data")
        if state is None:
            digits.update("…")
            details.update("loading…")
            return
        latest = state.latest
        numbers = latest.numbers if latest is not None else None
        if numbers is None or not numbers.has_data:
            self.add_class("-no-data")
            digits.update("--")
            lines = [Content.styled("no data", "bold $text-warning")]
            if latest is None:
                lines.append(Content("no snapshots yet: press r to scan"))
            else:
                lines.append(Content(f"snapshot #{latest.id} measured nothing ({latest.status})"))
            details.update(Content("\n").join(lines))
            return
        phase = phase_status(numbers.pc_covered, state.component.phases if state.component else self.phases)
        self.add_class(f"-phase-{min(phase.number, 4)}")
        digits.update(numbers.pc_covered_str(self.precision) + "%")
        lines = [
            Content.assemble(
                (count(numbers.n_executed), "bold"), f" of {count(numbers.n_statements)} lines"
            )
        ]
        if numbers.n_branches:
            lines.append(
                Content.assemble(
                    (count(numbers.n_executed_branches), "bold"),
                    f" of {count(numbers.n_branches)} branches",
                )
            )
        lines.append(
            Content.assemble(
                (count(numbers.n_files_covered), "bold"),
                f" of {count(numbers.n_files)} files have coverage",
            )
        )
        previous = state.previous
        if previous is not None and previous.pc_covered is not None:
            lines.append(
                Content.assemble(
                    change_content(numbers.pc_covered - previous.pc_covered, self.precision),
                    (
                        f" since #{previous.id} at "
                        f"{when(previous.created_at, reference=latest.created_at)}",
                        "$text-muted",
                    ),
                )
            )
        else:
            lines.append(Content.styled("first comparable snapshot", "$text-muted"))
        status = "" if latest.status == "ok" else f" · {latest.status}"
        # A partial run is news, not a failure (the Sources and Last-run panels count its tests).
        status_style = "$text-warning" if latest.status == "partial" else "bold $text-error"
        now = self.app.clock() if hasattr(self.app, "clock") else None
        lines.append(
            Content.assemble(
                (f"#{latest.id} at {when(latest.created_at, reference=now)} · {latest.trigger}", "$text-muted"),
                (status, status_style),
            )
        )
        details.update(Content("\n").join(lines))


def diff_line(latest: SnapshotRow | None, precision: int = 2) -> Content | None:
    """"changed lines since main (3f2a9c1): 71.43% of 21"; None when diff coverage was not
    measured (no git, or no base to compare with)."""
    parts = diff_coverage_parts(latest, precision)
    if parts is None:
        return None
    label, figure, rest = parts
    return Content.assemble(
        (label, "$text-muted"), (figure, "bold" if latest.n_diff_statements else ""), rest
    )
