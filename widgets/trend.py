"""The trend plot: overall and per-source coverage over an hour, a day, a week or 90 days (or
the range the query layer picks by itself), with the snapshots that raised alerts marked."""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta

from rich.text import Text
from textual.color import Color
from textual.markup import escape
from textual.reactive import reactive
from textual_plotext import PlotextPlot

from covtui.config import Phase
from covtui.display import printable
from covtui.query.dashboard import DashboardState

#: Theme variables that colour the lines: overall first, then each source.
LINE_VARIABLES = ("primary", "success", "warning", "secondary", "error")
#: How a snapshot that raised alerts is marked on the overall line, and its colour by the
#: worst severity it raised.
ALERT_MARKER = "◆"
ALERT_VARIABLES = {"critical": "error", "warning": "warning", "info": "accent"}
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
#: Columns the y labels take (the plot is narrower than the panel by about this much).
_Y_LABELS = 10

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
#: Candidate x tick steps, in seconds, smallest first.
TICK_STEPS = (
    _MINUTE, 2 * _MINUTE, 5 * _MINUTE, 10 * _MINUTE, 15 * _MINUTE, 30 * _MINUTE,
    _HOUR, 2 * _HOUR, 3 * _HOUR, 6 * _HOUR, 12 * _HOUR,
    _DAY, 2 * _DAY, 7 * _DAY, 14 * _DAY, 30 * _DAY,
)
#: Candidate y tick steps, in percentage points.
Y_STEPS = (0.1, 0.2, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 25.0)


def _formats(step: float, span: float) -> list[str]:
    """Label formats for ticks `step` seconds apart over `span` seconds, plainest first."""
    if step < _DAY:
        plain = "%H:%M" if span < _DAY else "%a %H:%M"
        return [plain, "%d %H:%M", "%m-%d %H:%M"]
    if span <= 14 * _DAY:
        return ["%a %d", "%b %d", "%Y-%m-%d"]
    return ["%b %d", "%Y-%m-%d"]


def _calendar_ticks(first: float, last: float, step: float) -> list[float]:
    """Ticks of a week or more on the calendar: Mondays at midnight (7 and 14 days), the
    first of the month (30 days and more, every so many months), in local time."""
    start = datetime.fromtimestamp(first).replace(hour=0, minute=0, second=0, microsecond=0)
    ticks: list[float] = []
    if step < 28 * _DAY:
        monday = start + timedelta(days=(7 - start.weekday()) % 7)
        if monday.timestamp() < first:
            monday += timedelta(days=7)
        weeks = round(step / (7 * _DAY))
        t = monday
        while t.timestamp() <= last + 1e-6:
            ticks.append(t.timestamp())
            t += timedelta(days=7 * weeks)
        return ticks
    months = max(1, round(step / (30 * _DAY)))
    year, month = start.year, start.month
    if start.day != 1 or start.timestamp() < first:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    while True:
        t = datetime(year, month, 1).timestamp()
        if t > last + 1e-6:
            return ticks
        ticks.append(t)
        month += months
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1


def x_ticks(first: float, last: float, max_ticks: int) -> tuple[list[float], list[str]]:
    """Ticks at round local times between `first` and `last` (at most `max_ticks`, at least
    two when the span allows), labelled so that no two labels are equal. Steps of a week or
    more fall on Mondays or on the first of the month."""
    if last <= first:
        return [first], [datetime.fromtimestamp(first).strftime("%m-%d %H:%M")]
    span = last - first
    max_ticks = max(2, max_ticks)
    step = next((s for s in TICK_STEPS if span / s <= max_ticks - 1), None)
    if step is None:  # longer than the steps: whole multiples of the largest
        step = TICK_STEPS[-1] * math.ceil(span / TICK_STEPS[-1] / (max_ticks - 1))
    if step >= 7 * _DAY:
        ticks = _calendar_ticks(first, last, step)
    else:
        offset = time.localtime(first).tm_gmtoff  # round in local time: midnight, not 00:00 UTC
        start = math.ceil((first + offset) / step) * step - offset
        ticks = []
        t = start
        while t <= last + 1e-6:
            ticks.append(t)
            t += step
    if len(ticks) < 2:  # a short span between round times: its ends
        ticks = [first, last]
    for fmt in _formats(step, span):
        labels = [datetime.fromtimestamp(t).strftime(fmt) for t in ticks]
        if len(set(labels)) == len(labels):
            return ticks, labels
    return ticks, [datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") for t in ticks]


def y_bounds(values: list[float], max_ticks: int = 5) -> tuple[float, float, float]:
    """A y range fitted to `values`: a little margin, ends on whole multiples of a round step
    (at most `max_ticks` - 1 steps), kept within 0–100. Returns (bottom, top, step)."""
    if not values:
        return 0.0, 100.0, 25.0
    low, high = min(values), max(values)
    margin = max((high - low) * 0.1, 0.5)
    low, high = max(0.0, low - margin), min(100.0, high + margin)
    for step in Y_STEPS:
        bottom = math.floor(low / step + 1e-9) * step
        top = math.ceil(high / step - 1e-9) * step
        if (top - bottom) / step <= max(1, max_ticks - 1) + 1e-9:
            break
    bottom, top = max(0.0, bottom), min(100.0, top)
    if top <= bottom:
        top = min(100.0, bottom + step)
        bottom = top - step
    return bottom, top, step


def y_ticks(bottom: float, top: float, step: float) -> list[float]:
    """The multiples of `step` from `bottom` to `top`."""
    n = round((top - bottom) / step)
    return [round(bottom + i * step, 6) for i in range(n + 1)]


def with_milestones(ticks: list[float], milestones: list[float], rows: int) -> list[float]:
    """The y ticks plus the milestones inside their range that keep two rows (of `rows`)
    from every other label: a milestone line gets its value where there is room."""
    if len(ticks) < 2 or rows <= 0:
        return ticks
    room = 2 * (ticks[-1] - ticks[0]) / rows
    labels = list(ticks)
    for m in milestones_within(ticks[0], ticks[-1], milestones):
        if all(abs(m - t) >= room for t in labels):
            labels.append(m)
    return sorted(labels)


def milestones_within(bottom: float, top: float, milestones: list[float]) -> list[float]:
    """The milestones that fall inside the y range (its ends included): the lines to draw."""
    return [m for m in milestones if bottom <= m <= top]


def _label(value: float) -> str:
    return f"{value:g}%"


class TrendPlot(PlotextPlot):
    """Coverage over time, its legend in the title; milestones are horizontal lines.
    `t` (on the app) cycles the range."""

    DEFAULT_CSS = """
    TrendPlot {
        height: 1fr;
        min-height: 6;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
    }
    """

    #: plotext marker: "braille" (2×4 dots a cell) draws the finest lines.
    marker = "hd"

    state: reactive[DashboardState | None] = reactive(None, always_update=True)
    range_name: reactive[str] = reactive("auto")

    def __init__(self, phases: list[Phase], **kwargs) -> None:
        super().__init__(**kwargs)
        self.phases = phases
        self._cache: tuple[object, Text] | None = None
        #: The y range last drawn (bottom, top, step).
        self.y_range: tuple[float, float, float] = (0.0, 100.0, 25.0)
        self.border_title = "Trend"

    @property
    def milestones(self) -> list[float]:
        """The phases' boundaries between 0 and 100."""
        component = self.state.component if self.state is not None else None
        phases = component.phases if component else self.phases
        return sorted(({p.start for p in phases} | {p.end for p in phases}) - {0.0, 100.0})

    def watch_state(self, state: DashboardState | None) -> None:
        has_history = state is not None and any(len(p) > 0 for p in state.trend.values())
        self.border_subtitle = "t: range" if has_history else "no history yet"
        self._cache = None
        self.refresh()

    def watch_range_name(self, name: str) -> None:
        self.border_title = self._range_title()
        self._cache = None
        self.refresh()

    def _range_title(self) -> str:
        """"Trend · week", or "Trend · auto: hour" with the range the automatic one chose."""
        chosen = self.state.trend_range if self.state is not None else ""
        component = self.state.component if self.state is not None else None
        name = f"Trend of {escape(printable(component.name))}" if component else "Trend"
        if self.range_name == "auto" and chosen:
            return f"{name} · auto: {chosen}"
        return f"{name} · {self.range_name}"

    def _muted(self) -> tuple[int, int, int]:
        variables = self.app.theme_variables
        foreground = Color.parse(variables.get("foreground", "#888888"))
        background = Color.parse(variables.get("surface", "#000000"))
        return foreground.blend(background, 0.65).rgb

    def _colour(self, variable: str) -> Color:
        return Color.parse(self.app.theme_variables.get(variable, "#888888"))

    def render(self):
        key = (self.size, self.app.theme, id(self.state), self.range_name)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        self._draw()
        text = super().render()
        self._cache = (key, text)
        return text

    def _series(self) -> list[tuple[str, list]]:
        trend = self.state.trend if self.state is not None else {}
        series = [("overall", trend.get("overall", []))] + [
            (name, points) for name, points in sorted(trend.items()) if name != "overall"
        ]
        # One source: its line is the overall line, drawn once.
        if len(series) == 2 and [p.pc_covered for p in series[0][1]] == [p.pc_covered for p in series[1][1]]:
            series = series[:1]
        return series

    def _retitle(self, series: list[tuple[str, list]], marks: list) -> None:
        """The range, then the legend: each line's name in its colour, the alerts' mark
        (outside the data)."""
        title = self._range_title()
        shown = [(i, name) for i, (name, points) in enumerate(series) if points]
        keys = []
        if len(shown) > 1:
            keys += [
                f"[{self._colour(LINE_VARIABLES[i % len(LINE_VARIABLES)]).hex}]━ {name}[/]"
                for i, name in shown
            ]
        if marks:
            keys.append(f"[{self._colour('warning').hex}]{ALERT_MARKER} alerts[/]")
        if keys:
            title = f"{title}  {' '.join(keys)}"
        if self.border_title != title:
            self.border_title = title

    def alert_marks(self) -> list[tuple[float, float, str]]:
        """(time, coverage, severity) of the snapshots that raised alerts within the overall
        line's time span, at that snapshot's own coverage (a long range's line shows one
        snapshot per time bucket: a dip can fall between them, its mark does not). Where
        alerts crowd (90 days of them), one mark per two columns, the worst one there, so
        that the line stays readable between them."""
        if self.state is None:
            return []
        points = self.state.trend.get("overall", [])
        if not points:
            return []
        first, last = points[0].created_at, points[-1].created_at
        inside = [
            a for a in self.state.trend_alerts
            if a.pc_covered is not None and first <= a.created_at <= last
        ]
        slots = max(1, (self.size.width - _Y_LABELS) // 2)
        width = (last - first) / slots
        if width <= 0:
            return [(a.created_at, a.pc_covered, a.severity) for a in inside]
        worst: dict[int, object] = {}
        for a in inside:
            slot = int((a.created_at - first) / width)
            kept = worst.get(slot)
            if kept is None or _SEVERITY_RANK.get(a.severity, 3) < _SEVERITY_RANK.get(kept.severity, 3):
                worst[slot] = a
        return [(a.created_at, a.pc_covered, a.severity) for _, a in sorted(worst.items())]

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        series = self._series()
        marks = self.alert_marks()
        self._retitle(series, marks)
        values = [p.pc_covered for _, points in series for p in points] + [y for _, y, _ in marks]
        times = [p.created_at for _, points in series for p in points]
        rows = max(2, self.size.height - 3)
        bottom, top, step = self.y_range = y_bounds(values, max_ticks=max(2, min(6, rows // 2 + 1)))
        for mark in milestones_within(bottom, top, self.milestones):
            plt.hline(mark, self._muted())
        # The overall line last, so that it is drawn over the sources.
        for i, (_name, points) in reversed(list(enumerate(series))):
            if not points:
                continue
            plt.plot(
                [p.created_at for p in points],
                [p.pc_covered for p in points],
                color=self._colour(LINE_VARIABLES[i % len(LINE_VARIABLES)]).rgb,
                marker=self.marker,
            )
        # Alerts over the lines: one mark per snapshot, coloured by its worst severity.
        for severity in ("info", "warning", "critical"):
            at = [(t, y) for t, y, sev in marks if sev == severity]
            if at:
                plt.scatter(
                    [t for t, _ in at], [y for _, y in at],
                    color=self._colour(ALERT_VARIABLES[severity]).rgb,
                    marker=ALERT_MARKER,
                )
        plt.ylim(bottom, top)
        ticks = with_milestones(y_ticks(bottom, top, step), self.milestones, rows)
        plt.yticks(ticks, [_label(t) for t in ticks])
        if not times:
            plt.xticks([], [])
            return
        first, last = min(times), max(times)
        if last > first:
            # A little room on the right: plotext draws the last point past an exact limit.
            plt.xlim(first, last + (last - first) * 0.01)
        else:
            # One moment of history: centre it.
            plt.xlim(first - 3600, first + 3600)
        xs, labels = x_ticks(first, last, max(2, min(7, self.size.width // 10)))
        plt.xticks(xs, labels)
