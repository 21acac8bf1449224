"""Phase milestones as bars, the current one highlighted, with the progress through it."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from covtui.config import Phase
from covtui.domain.phases import phase_status
from covtui.present.text import phase_progress
from covtui.query.dashboard import DashboardState

from .format import phase_variable
from .panel import panel_css

_EIGHTHS = " ▏▎▍▌▋▊▉"
#: A longer bar says no more (the panel keeps the rest of a wide terminal for others).
MAX_BAR = 32


def bar(fraction: float, width: int) -> str:
    """A bar `width` cells wide, filled to `fraction` in eighths of a cell."""
    fraction = max(0.0, min(1.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


class PhaseBars(Widget):
    """The four milestones: how much of each band is covered, and progress to the next."""

    DEFAULT_CSS = panel_css("PhaseBars")

    state: reactive[DashboardState | None] = reactive(None, always_update=True)

    def __init__(self, phases: list[Phase], **kwargs) -> None:
        super().__init__(**kwargs)
        self.project_phases = self.phases = sorted(phases, key=lambda p: p.start)
        self.border_title = "Phases"

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self.phases)

    def watch_state(self, state: DashboardState | None) -> None:
        # A component shown with phases of its own: its bands.
        component = state.component if state is not None else None
        phases = sorted(component.phases, key=lambda p: p.start) if component else self.project_phases
        if phases != self.phases:
            self.phases = phases
            self.refresh(layout=True)
        self.border_title = self._title(self._current(state))

    def on_resize(self) -> None:
        self.border_title = self._title(self._current(self.state))

    def _title(self, current) -> str:
        """"Phase 3 · 60.9% of the way from 50% to 75%": how far through the current band
        (not a coverage figure), shortened to the room the border has."""
        if current is None:
            return "Phases"
        phase = current.phase
        full = phase_progress(current.pc_progress, phase.start, phase.end)
        room = self.outer_size.width - 6  # the corners and the spaces around the title
        for title in (
            f"Phase {current.number} · {full}",
            full,
            f"{current.pc_progress:.1f}% of the way to {phase.end:g}%",
        ):
            if len(title) <= room:
                return title
        return title

    def _current(self, state: DashboardState | None):
        latest = state.latest if state is not None else None
        if latest is None or latest.numbers is None or not latest.numbers.has_data:
            return None
        return phase_status(latest.numbers.pc_covered, self.phases)

    def render(self) -> Content:
        state = self.state
        current = self._current(state)
        pc = state.latest.numbers.pc_covered if current is not None else None
        width = self.content_region.width or self.size.width
        name_width = max(len(p.name) for p in self.phases) if self.phases else 0
        range_width = max(len(f"{p.start:g}–{p.end:g}%") for p in self.phases) if self.phases else 0
        bar_width = max(4, min(MAX_BAR, width - name_width - range_width - 4))
        lines: list[Content] = []
        for number, phase in enumerate(self.phases, start=1):
            is_current = current is not None and current.number == number
            span = phase.end - phase.start
            fraction = 0.0 if pc is None or span <= 0 else (pc - phase.start) / span
            variable = phase_variable(number)
            style = f"bold ${variable}" if is_current else ""
            lines.append(
                Content.assemble(
                    ("▶ " if is_current else "  ", style),
                    (phase.name.ljust(name_width), style or "$text-muted"),
                    " ",
                    (bar(fraction, bar_width), f"${variable}" if is_current else "$text-success" if fraction >= 1 else "$text-muted"),
                    " " * max(1, width - name_width - range_width - 3 - bar_width),
                    (f"{phase.start:g}–{phase.end:g}%".rjust(range_width), style or "$text-muted"),
                )
            )
        return Content("\n").join(lines)
