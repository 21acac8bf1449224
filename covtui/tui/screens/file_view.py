"""One file's source from disk, its gaps highlighted; `n`/`N` jump between them."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import OptionList, Static

from covtui.display import printable
from covtui.domain.gaps import FileGaps
from covtui.domain.records import FileDetail
from covtui.present.text import plural
from covtui.query.files import OUTSIDE_PROJECT, read_project_file
from covtui.tui.screens.subscreen import SubScreen
from covtui.widgets.format import count, when
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.line_tests_panel import LineTestsPanel
from covtui.widgets.source_view import Gap, SourceModel, SourceView, find_gaps
from covtui.widgets.uncovered_list import Target, UncoveredList

#: Files bigger than this are shown without syntax colours (lexing them would take a while).
HIGHLIGHT_LIMIT = 2_000_000


@dataclass
class DiskFile:
    lines: list[Text] | None
    mtime: float | None
    problem: str | None = None


def highlighted_source(root: Path, name: str, dark: bool) -> DiskFile:
    """The lines of the project file a report names, syntax-coloured (runs in a thread)."""
    found = read_project_file(root, name)
    if found.path is None or found.data is None:
        return DiskFile(None, None, found.problem)
    path, data, mtime = found.path, found.data, found.mtime
    text = data.decode("utf-8", errors="replace")
    # Lines as Python counts them; control characters (an escape sequence in a string
    # literal) are shown as escapes, never sent to the terminal.
    code = "\n".join(printable(line.expandtabs(4)) for line in re.split(r"\r\n|\r|\n", text))
    if len(data) <= HIGHLIGHT_LIMIT:
        lexer = Syntax.guess_lexer(str(path), code)
        syntax = Syntax(code, lexer, theme="ansi_dark" if dark else "ansi_light")
        text = syntax.highlight(code)
        text.rstrip()
        lines = text.split("\n", allow_blank=True)
    else:
        lines = [Text(line) for line in code.splitlines()]
    return DiskFile(lines, mtime)


class FileViewScreen(SubScreen):
    """A file's missed lines and partial branches, from the latest snapshot that measured it."""

    BINDINGS = [
        Binding("n", "next_gap", "Next gap", tooltip="the next missed run or partial branch"),
        Binding("N", "previous_gap", "Previous gap", key_display="N", tooltip="the previous gap"),
        Binding("u", "focus_uncovered", "Uncovered", tooltip="the uncovered functions, handlers and async functions; enter goes to one"),
        Binding("T", "toggle_line_tests", "Tests", key_display="T", tooltip="show / hide the tests that ran the selected line (as `covtui who FILE:LINE`)"),
    ]

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    DEFAULT_CSS = """
    FileViewScreen {
        #file-header {
            height: auto;
            padding: 0 1;
            background: $panel;
        }
        #file-body {
            height: 1fr;
        }
        #file-code {
            width: 1fr;
        }
        LineTestsPanel {
            display: none;
        }
        &.-line-tests LineTestsPanel {
            display: block;
        }
        &.-narrow LineTestsPanel {
            height: 6;
        }
        &.-narrow #file-body {
            layout: vertical;
        }
        &.-narrow UncoveredList {
            width: 1fr;
            height: 8;
        }
        #file-gap {
            height: 1;
            padding: 0 1;
            background: $panel;
            color: $text-muted;
        }
    }
    """

    def __init__(self, source: str, path: str) -> None:
        super().__init__()
        self.source = source
        self.path = path
        self.detail: FileDetail | None = None
        self.gaps: list[Gap] = []
        self.gap_index: int | None = None
        #: True when the file is not on disk and the view lists the gaps instead.
        self.gaps_are_rows = False
        #: The gap analysis (functions, handlers, async functions); None until loaded.
        self.file_gaps: FileGaps | None = None
        #: Whether the tests panel was shown or hidden with `T` (None: not yet: it opens by
        #: itself when the latest scan kept per-test coverage).
        self.line_tests_chosen: bool | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble((printable(self.path), "bold"), " · loading…"), id="file-header")
        with Horizontal(id="file-body"):
            with Vertical(id="file-code"):
                yield SourceView(id="source")
                yield LineTestsPanel(id="line-tests")
            yield UncoveredList(id="uncovered")
        yield Static("", id="file-gap")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(SourceView).focus()
        self.query_one(UncoveredList).show_pending()
        self.load()

    @work(exclusive=True, group="file-view")
    async def load(self) -> None:
        header = self.query_one("#file-header", Static)
        path = printable(self.path)
        try:
            detail = await self.app.queries.file_detail(self.source, self.path)
        except Exception as exc:  # noqa: BLE001  (shown, and the screen stays usable)
            header.update(Content.assemble((path, "bold"), (printable(f" · {exc}"), "$text-error")))
            return
        if detail is None:
            header.update(Content.assemble((path, "bold"), " · not in the database"))
            return
        self.detail = detail
        # Both read the file in a thread: one colours it, the other parses it for functions.
        disk, file_gaps = await asyncio.gather(
            asyncio.to_thread(
                highlighted_source, self.app.config.root, self.path, self.app.current_theme.dark
            ),
            self._analyse(detail),
        )
        self.file_gaps = file_gaps
        if file_gaps is not None:
            self.query_one(UncoveredList).show(file_gaps)
        self.gaps = find_gaps(detail.missing_lines, detail.missing_arcs)
        partial = {g.start: g for g in self.gaps if g.kind == "partial"}
        if disk.lines is None:
            # No source to show: list the gaps themselves.
            lines = [Text(f"{g.describe()}") for g in self.gaps] or [Text("nothing missed")]
            model = SourceModel(lines, numbered=False)
            self.gaps_are_rows = True
        else:
            model = SourceModel(disk.lines, set(detail.missing_lines), partial)
            self.gaps_are_rows = False
        self.query_one(SourceView).show(model)
        header.update(self._header(detail, disk))
        # Open at the first gap, not at line 1 (a licence header, imports).
        self.gap_index = 0 if self.gaps else None
        self._show_gap()
        if not self.gaps_are_rows:
            # After the scroll to the gap (itself after the next refresh).
            self.call_after_refresh(self.load_tests, model)

    async def _analyse(self, detail: FileDetail) -> FileGaps | None:
        try:
            return await self.app.queries.file_gaps(detail)
        except Exception as exc:  # noqa: BLE001  (the source view still works without it)
            self.query_one(UncoveredList).failed(f"cannot analyse the file: {exc}")
            return None

    @work(exclusive=True, group="file-tests")
    async def load_tests(self, model: SourceModel) -> None:
        """Per-test coverage of the file, if the latest scan kept it: a tests column."""
        try:
            tests = await self.app.queries.file_tests(self.source, self.path)
        except Exception:  # noqa: BLE001  (the view works without it)
            return
        if tests is not None:
            model.tests = tests
            self.query_one(SourceView).show(model)
            if self.line_tests_chosen is None:
                self._show_line_tests(True)

    # -- the tests panel -------------------------------------------------------------------

    def action_toggle_line_tests(self) -> None:
        self.line_tests_chosen = not self.has_class("-line-tests")
        self._show_line_tests(self.line_tests_chosen)

    def _show_line_tests(self, shown: bool) -> None:
        self.set_class(shown, "-line-tests")
        line = self.query_one(SourceView).cursor_line
        if shown and line is not None:
            self.load_line(line)

    def on_source_view_cursor_moved(self, event: SourceView.CursorMoved) -> None:
        if self.has_class("-line-tests"):
            self.load_line(event.line)

    def selected_source_line(self, row: int) -> int | None:
        """The file's line at the view's `row` (None where the rows are gaps, not lines)."""
        return None if self.gaps_are_rows else row

    @work(exclusive=True, group="line-tests")
    async def load_line(self, row: int) -> None:
        """Ask the query layer who ran the selected line (`covtui who`'s answer)."""
        panel = self.query_one(LineTestsPanel)
        line = self.selected_source_line(row)
        if line is None or self.detail is None:
            panel.show_no_lines()
            return
        panel.show_pending(line)
        try:
            answer = await self.app.queries.file_line(self.source, self.path, line)
        except Exception as exc:  # noqa: BLE001  (shown; the view stays usable)
            panel.failed(f"cannot read the tests of line {line}: {exc}")
            return
        panel.show(line, answer)

    def _scanned_at(self, detail: FileDetail) -> float:
        """When this file's numbers were last confirmed: its source's latest good result."""
        state = self.app.state
        if state is not None:
            for row in state.sources:
                if row.source == self.source and row.status == "ok":
                    return max(row.created_at, detail.created_at)
        return detail.created_at

    def _header(self, detail: FileDetail, disk: DiskFile) -> Content:
        n = detail.numbers
        precision = self.app.config.precision
        n_partial = sum(1 for g in self.gaps if g.kind == "partial")
        lines = [
            Content.assemble(
                (printable(self.path), "bold"),
                (f" · {printable(self.source)} · ", "$text-muted"),
                (f"{n.pc_covered_str(precision)}%", "bold"),
                f" · {count(n.n_missing)}/{count(n.n_statements)} lines missed",
                f" · {count(n_partial)} partial" if n.n_branches else "",
            ),
        ]
        scanned = self._scanned_at(detail)
        if disk.problem == OUTSIDE_PROJECT:
            lines.append(
                Content.styled(
                    "⚠ the file resolves outside the project root, so covtui does not open it:"
                    " showing its gaps only",
                    "bold $text-warning",
                )
            )
        elif disk.lines is None:
            lines.append(
                Content.styled(
                    printable(f"⚠ the file is {disk.problem} (under the project root): showing its gaps only"),
                    "bold $text-warning",
                )
            )
        elif disk.mtime is not None and disk.mtime > scanned + 1:
            lines.append(
                Content.styled(
                    f"⚠ changed on disk since the scan (modified {when(disk.mtime)}, scanned "
                    f"{when(scanned)}): highlighted lines may have moved",
                    "bold $text-warning",
                )
            )
        else:
            lines.append(
                Content.styled(f"as of snapshot #{detail.snapshot_id} at {when(scanned)}", "$text-muted")
            )
        return Content("\n").join(lines)

    def _show_gap(self) -> None:
        view = self.query_one(SourceView)
        label = self.query_one("#file-gap", Static)
        if not self.gaps:
            label.update("no gaps: every line and branch ran")
            view.current_gap = None
            if view.cursor_line is None and view.model.lines:
                view.cursor_line = 1
            return
        if self.gap_index is None:
            label.update(f"{plural(len(self.gaps), 'gap')} · n: next gap · N: previous gap")
            return
        gap = self.gaps[self.gap_index]
        label.update(
            Content.assemble(
                (f"gap {self.gap_index + 1} of {len(self.gaps)}: ", "bold"), gap.describe()
            )
        )
        row = self.gap_index + 1 if self.gaps_are_rows else gap.start
        view.current_gap = Gap(row, row, gap.kind) if self.gaps_are_rows else gap
        view.cursor_line = row
        view.go_to_line(row)

    def action_next_gap(self) -> None:
        if self.gaps:
            self.gap_index = 0 if self.gap_index is None else (self.gap_index + 1) % len(self.gaps)
            self._show_gap()

    def action_previous_gap(self) -> None:
        if self.gaps:
            self.gap_index = (
                len(self.gaps) - 1 if self.gap_index is None else (self.gap_index - 1) % len(self.gaps)
            )
            self._show_gap()

    # -- the uncovered list ----------------------------------------------------------------

    def action_focus_uncovered(self) -> None:
        self.query_one(UncoveredList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        target = self.query_one(UncoveredList).targets.get(event.option.id or "")
        if target is not None:
            self.jump_to(target)

    def jump_to(self, target: Target) -> None:
        """Show `target`'s lines; `n` then goes on to the first gap inside it."""
        view = self.query_one(SourceView)
        label = self.query_one("#file-gap", Static)
        inside = [i for i, g in enumerate(self.gaps) if g.end >= target.start and g.start <= target.end]
        if inside:
            self.gap_index = inside[0] - 1 if inside[0] > 0 else None
        if self.gaps_are_rows:
            # No source on disk: the rows are the gaps; go to the first one inside.
            if not inside:
                label.update(Content.assemble(("not in the gap list: ", "bold"), target.label))
                return
            row = inside[0] + 1
            view.current_gap = Gap(row, row, "missed")
            view.cursor_line = row
            view.go_to_line(row)
        else:
            view.current_gap = Gap(target.start, target.end, "missed")
            view.cursor_line = target.start
            view.go_to_line(target.start)
        label.update(Content.assemble(("▶ ", "bold"), target.label))
