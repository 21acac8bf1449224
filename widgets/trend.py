"""The trend plot: overall and per-source coverage over a day, a week or 90 days."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.color import Color
from textual.reactive import reactive
from textual_plotext import PlotextPlot

from covtui.config import Phase
from covtui.query.dashboard import DashboardState

#: Theme variables that colour the lines: overall first, then each source.
LINE_VARIABLES = ("primary", "success", "warning", "secondary", "error")

#: How the x axis labels its ticks, per range name.
TICK_FORMATS = {"day": "%H:%M", "week": "%a %d", "90 days": "%b %d"}


def y_bounds(values: list[float], phases: list[Phase]) -> tuple[float, float]:
    """The milestones just below the lowest and above the highest value: the targets show."""
    marks = sorted({0.0, 100.0} | {p.start for p in phases} | {p.end for p in phases})
    if not values:
        return marks[0], marks[1] if len(marks) > 1 else 100.0
    low, high = min(values), max(values)
    bottom = max((m for m in marks if m <= low), default=0.0)
    top = min((m for m in marks if m > high), default=100.0)
    if high >= 100.0:
        top = 100.0
    if top <= bottom:
        bottom = max(0.0, top - 25.0)
    return bottom, top


class TrendPlot(PlotextPlot):
    """Coverage over time; milestones are horizontal lines. `t` (on the app) cycles the range."""

    DEFAULT_CSS = """
    TrendPlot {
        height: 1fr;
        min-height: 6;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
    }
    """

    #: plotext marker: "hd" (quarter blocks) renders the same in terminals and in SVG
    #: screenshots; "braille" is finer but its glyphs are wider than a cell in many fonts.
    marker = "hd"

    state: reactive[DashboardState | None] = reactive(None, always_update=True)
    range_name: reactive[str] = reactive("week")

    def __init__(self, phases: list[Phase], **kwargs) -> None:
        super().__init__(**kwargs)
        self.phases = phases
        self._cache: tuple[object, Text] | None = None
        self.border_title = "Trend"

    def watch_state(self, state: DashboardState | None) -> None:
        has_history = state is not None and any(len(p) > 0 for p in state.trend.values())
        self.border_subtitle = "t: day / week / 90 days" if has_history else "no history yet"
        self._cache = None
        self.refresh()

    def watch_range_name(self, name: str) -> None:
        self.border_title = f"Trend · {name}"
        self._cache = None
        self.refresh()

    def _muted(self) -> tuple[int, int, int]:
        variables = self.app.theme_variables
        foreground = Color.parse(variables.get("foreground", "#888888"))
        background = Color.parse(variables.get("surface", "#000000"))
        return foreground.blend(background, 0.65).rgb

    def _rgb(self, variable: str) -> tuple[int, int, int]:
        return Color.parse(self.app.theme_variables.get(variable, "#888888")).rgb

    def render(self):
        key = (self.size, self.app.theme, id(self.state), self.range_name)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        self._draw()
        text = super().render()
        self._cache = (key, text)
        return text

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        state = self.state
        trend = state.trend if state is not None else {}
        series = [("overall", trend.get("overall", []))] + [
            (name, points) for name, points in sorted(trend.items()) if name != "overall"
        ]
        # One source: its line is the overall line, drawn once.
        if len(series) == 2 and [p.pc_covered for p in series[0][1]] == [p.pc_covered for p in series[1][1]]:
            series = series[:1]
        values = [p.pc_covered for _, points in series for p in points]
        times = [p.created_at for _, points in series for p in points]
        bottom, top = y_bounds(values, self.phases)
        marks = sorted({p.start for p in self.phases} | {p.end for p in self.phases})
        for mark in marks:
            if bottom < mark < top or mark in (bottom, top):
                plt.hline(mark, self._muted())
        # The overall line last, so that it is drawn over the sources.
        for i, (name, points) in reversed(list(enumerate(series))):
            if not points:
                continue
            plt.plot(
                [p.created_at for p in points],
                [p.pc_covered for p in points],
                label=name,
                color=self._rgb(LINE_VARIABLES[i % len(LINE_VARIABLES)]),
                marker=self.marker,
            )
        plt.ylim(bottom, top)
        plt.yticks(
            [m for m in marks if bottom <= m <= top],
            [f"{m:g}%" for m in marks if bottom <= m <= top],
        )
        if times:
            first, last = min(times), max(times)
            if last > first:
                # A little room on the right: plotext draws the last point past an exact limit.
                plt.xlim(first, last + (last - first) * 0.01)
                fmt = TICK_FORMATS.get(self.range_name, "%m-%d")
                n = max(2, min(6, self.size.width // 16))
                ticks = [first + (last - first) * i / (n - 1) for i in range(n)]
                plt.xticks(ticks, [datetime.fromtimestamp(t).strftime(fmt) for t in ticks])
            else:
                # One moment of history: centre it, and label it with its time.
                plt.xlim(first - 3600, first + 3600)
                plt.xticks([first], [datetime.fromtimestamp(first).strftime("%m-%d %H:%M")])
        else:
            plt.xticks([], [])
