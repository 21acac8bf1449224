"""A file's source with missed lines and partial branches highlighted (Line API: big files stay cheap)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from covtui.domain.contexts import LineTests

from .format import theme_color


@dataclass(frozen=True)
class Gap:
    """A run of missed lines, or one line with a branch never taken."""

    start: int
    end: int
    kind: str  # "missed" or "partial"
    #: For a partial line: the destinations it never jumped to (negative: the function's exit).
    destinations: tuple[int, ...] = ()

    def describe(self) -> str:
        if self.kind == "partial":
            return f"line {self.start} {self.what()}"
        if self.start == self.end:
            return f"line {self.start} never ran"
        return f"lines {self.start}–{self.end} never ran"

    def what(self) -> str:
        """What went missing, without the line number ("never jumped to 15")."""
        return never_taken(self.destinations) if self.kind == "partial" else "never ran"


def never_taken(destinations: tuple[int, ...]) -> str:
    """"never jumped to 42 or 44", "never returned", "never jumped to 42 and never returned":
    coverage.py's missed arcs in words (a negative destination is the function's exit)."""
    lines = [str(d) for d in destinations if d > 0]
    parts = []
    if lines:
        listed = lines[0] if len(lines) == 1 else f"{', '.join(lines[:-1])} or {lines[-1]}"
        parts.append(f"never jumped to {listed}")
    if any(d <= 0 for d in destinations):
        parts.append("never returned")
    return " and ".join(parts) if parts else "never took a branch"


def find_gaps(missing_lines: tuple[int, ...], missing_arcs: tuple[tuple[int, int], ...]) -> list[Gap]:
    """Missed runs and partial lines, in line order."""
    missed = sorted(set(missing_lines))
    gaps: list[Gap] = []
    for n in missed:
        if gaps and gaps[-1].end == n - 1:
            gaps[-1] = Gap(gaps[-1].start, n, "missed")
        else:
            gaps.append(Gap(n, n, "missed"))
    partial: dict[int, list[int]] = {}
    missed_set = set(missed)
    for source, destination in missing_arcs:
        if source > 0 and source not in missed_set:
            partial.setdefault(source, []).append(destination)
    gaps += [Gap(line, line, "partial", tuple(sorted(d, key=lambda x: (x <= 0, x)))) for line, d in partial.items()]
    gaps.sort(key=lambda g: g.start)
    return gaps


#: A branch note shorter than this is not shown beside the code (the gap bar has it).
MIN_NOTE = 12


def fitted_note(what: str, room: int, color: str) -> Text:
    """"   ↳ never jumped to 4" after a partial line, cut with an ellipsis to `room` cells
    (the pane's edge), or left out where even a short note would not fit."""
    note = f"   ↳ {what}"
    if len(note) > room:
        if room < MIN_NOTE:
            return Text("")
        note = note[: room - 1] + "…"
    return Text(note, style=Style(color=color, italic=True))


@dataclass
class SourceModel:
    lines: list[Text]
    missed: set[int] = field(default_factory=set)
    partial: dict[int, Gap] = field(default_factory=dict)
    #: False: the lines are not the file's (a list of gaps): no line numbers.
    numbered: bool = True
    #: Which tests ran each line (per-test coverage), when the latest scan kept it.
    tests: LineTests | None = None


#: Cells of the tests column: a count up to 999 ("999+" beyond), or "imp" / "fix".
TESTS_WIDTH = 5


def count_cell(tests: LineTests, line: int) -> Text:
    """How many tests ran `line`; "imp" when it ran only at import (no test), "fix" when only
    in tests' setup or teardown (fixtures); blank when it did not run."""
    if line not in tests.lines:
        return Text(" " * TESTS_WIDTH)
    n = tests.n_tests(line)
    if tests.only_outside_tests(line):
        label = "fix" if n else "imp"
        return Text(f"{label:>{TESTS_WIDTH - 1}} ", style=Style(dim=True, italic=True))
    shown = f"{n:,}" if n < 1000 else "999+"
    return Text(f"{shown:>{TESTS_WIDTH - 1}} ", style=Style(dim=True))


class SourceView(ScrollView, can_focus=True):
    """Line numbers, per-test counts (when kept), a gap marker, the code; partial lines say
    which jumps never happened. A cursor selects a line (keys or a click)."""

    DEFAULT_CSS = """
    SourceView {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False, tooltip="select the line above / below"),
        Binding("down", "cursor_down", "Down", show=False, tooltip="select the line above / below"),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False, tooltip="a page up / down"),
        Binding("pagedown", "cursor_page_down", "Page down", show=False, tooltip="a page up / down"),
        Binding("home", "cursor_home", "Top", show=False, tooltip="the first / last line of the file"),
        Binding("end", "cursor_end", "Bottom", show=False, tooltip="the first / last line of the file"),
    ]

    current_gap: reactive[Gap | None] = reactive(None)
    #: The selected row (1-based: a line of the file, or a gap where the rows are gaps).
    cursor_line: reactive[int | None] = reactive(None)

    class CursorMoved(Message):
        """The selected row changed."""

        def __init__(self, view: SourceView, line: int) -> None:
            super().__init__()
            self.view = view
            self.line = line

        @property
        def control(self) -> SourceView:
            return self.view

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = SourceModel([])
        self._gutter = 4

    def show(self, model: SourceModel) -> None:
        self.model = model
        self._gutter = len(str(max(1, len(model.lines)))) + 1
        if model.tests is not None:
            self._gutter += TESTS_WIDTH
        width = max((line.cell_len for line in model.lines), default=0)
        # The branch notes are shortened to the pane (the gap bar says them whole): only
        # the code decides how far the view scrolls sideways.
        self.virtual_size = Size(self._gutter + 2 + width, len(model.lines))
        if self.cursor_line is not None and self.cursor_line > len(model.lines):
            self.cursor_line = len(model.lines) or None
        self.refresh()

    def watch_current_gap(self) -> None:
        self.refresh()

    def watch_cursor_line(self, line: int | None) -> None:
        self.refresh()
        if line is not None:
            self.post_message(self.CursorMoved(self, line))

    def select_line(self, line: int) -> None:
        """Move the cursor to `line` (kept inside the file) and scroll it into view."""
        n = len(self.model.lines)
        if n == 0:
            return
        line = min(max(1, line), n)
        self.cursor_line = line
        top, height = int(self.scroll_y), max(1, self.size.height)
        if line - 1 < top:
            self.scroll_to(y=line - 1, animate=False)
        elif line - 1 >= top + height:
            self.scroll_to(y=line - height, animate=False)

    def _page(self) -> int:
        return max(1, self.size.height - 1)

    def action_cursor_up(self) -> None:
        self.select_line((self.cursor_line or 1) - 1)

    def action_cursor_down(self) -> None:
        self.select_line((self.cursor_line or 0) + 1)

    def action_cursor_page_up(self) -> None:
        self.select_line((self.cursor_line or 1) - self._page())

    def action_cursor_page_down(self) -> None:
        self.select_line((self.cursor_line or 1) + self._page())

    def action_cursor_home(self) -> None:
        self.select_line(1)

    def action_cursor_end(self) -> None:
        self.select_line(len(self.model.lines))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self.select_line(int(self.scroll_y) + offset.y + 1)

    def go_to_line(self, line: int, tries: int = 8) -> None:
        """Scroll so that `line` sits a third of the way down; again after each refresh until
        the scroll holds (just after `show` or on a new screen, the new length may not be laid
        out for a frame or two, and the scroll would stop short)."""
        y = max(0, line - 1 - self.size.height // 3)
        self.scroll_to(y=y, animate=False)
        if tries > 1 and (self.size.height == 0 or self.scroll_y < y):
            self.call_after_refresh(self.go_to_line, line, tries - 1)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if index >= len(self.model.lines):
            return Strip.blank(width, base)
        number = index + 1
        model = self.model
        app = self.app
        missed = number in model.missed
        partial = model.partial.get(number)
        gap = self.current_gap
        in_current = gap is not None and gap.start <= number <= gap.end
        if missed:
            marker_color = theme_color(app, "text-error", "red")
            background = theme_color(app, "error-muted", "default")
        elif partial is not None:
            marker_color = theme_color(app, "text-warning", "yellow")
            background = theme_color(app, "warning-muted", "default")
        else:
            marker_color, background = "default", None
        gutter_style = Style(dim=not in_current, reverse=in_current, bold=in_current)
        label = str(number) if model.numbered else ("▶" if in_current else "")
        tests = model.tests
        width_number = self._gutter - 1 - (TESTS_WIDTH if tests is not None else 0)
        text = Text.assemble((f"{label:>{width_number}} ", gutter_style))
        if tests is not None:
            text.append_text(count_cell(tests, number))
        text.append_text(Text.assemble(
            ("▌" if (missed or partial) else " ", Style(color=marker_color)), " "
        ))
        code = model.lines[index].copy()
        if background:
            code.stylize(Style(bgcolor=background))
        text.append_text(code)
        if partial is not None:
            text.append_text(fitted_note(partial.what(), scroll_x + width - text.cell_len, marker_color))
        if number == self.cursor_line:
            # The selected line: one band across the view, over the gap colours.
            base = base + Style(bgcolor=theme_color(app, "primary-muted", "blue"))
            text.stylize(Style(bgcolor=theme_color(app, "primary-muted", "blue"), bold=True))
        segments = list(text.render(app.console))
        segments = [Segment(s.text, base + s.style if s.style else base) for s in segments if s.text != "\n"]
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, base)
