"""The file view's tests panel: which tests ran the selected line (what `covtui who` says)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from covtui.display import printable
from covtui.present.text import (
    NO_PER_TEST_DATA,
    ONLY_OUTSIDE_TESTS,
    RAN_AT_IMPORT,
    not_run,
    plural,
    test_phases,
)
from covtui.query.tests import LineAnswer


class LineTestsPanel(VerticalScroll, can_focus=False):
    """The tests that covered one line in the latest snapshot, their phases when not only the
    test's body, and whether the line ran only at import or in fixtures."""

    DEFAULT_CSS = """
    LineTestsPanel {
        height: 9;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
        #line-tests-body {
            width: 1fr;
        }
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Tests of the line"
        self.border_subtitle = "T: hide"
        #: The line whose answer is shown (None while loading) and the answer itself.
        self.shown_line: int | None = None
        self.answer: LineAnswer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="line-tests-body", markup=False)

    def _body(self, content: Content) -> None:
        self.query_one("#line-tests-body", Static).update(content)
        self.scroll_home(animate=False)

    def show_pending(self, line: int) -> None:
        self.shown_line = None
        self.border_title = f"Tests of line {line:,}"
        self._body(Content.styled("loading…", "$text-muted"))

    def failed(self, problem: str) -> None:
        self._body(Content.styled(printable(problem), "$text-error"))

    def show_no_lines(self) -> None:
        """The file is not on disk: its rows are gaps, not lines."""
        self.border_title = "Tests of the line"
        self._body(Content.styled("the file's lines are not shown: no line to select", "$text-muted"))

    def show(self, line: int, answer: LineAnswer | None) -> None:
        """`answer` None: the snapshot kept no per-test coverage ("no data", not "no tests")."""
        self.shown_line, self.answer = line, answer
        if answer is None:
            self.border_title = f"Tests of line {line:,}"
            self._body(Content.styled(
                f"{NO_PER_TEST_DATA} (a scan of pytest under coverage.py with the source's"
                " 'contexts' on records it)", "$text-muted",
            ))
            return
        self.border_title = f"Tests of line {line:,} · snapshot #{answer.snapshot_id}"
        if not answer.ran:
            self._body(Content.styled(not_run(answer.missed), "$text-muted"))
            return
        rows: list[Content] = []
        summary = plural(answer.n_tests, "test")
        if answer.only_outside_tests:
            summary += f"; {ONLY_OUTSIDE_TESTS}"
        rows.append(Content.styled(summary, "bold"))
        if answer.at_import:
            rows.append(Content.styled(RAN_AT_IMPORT, "$text-muted"))
        for test in answer.tests:
            # Test ids are data: Content.assemble takes them as text, never as markup.
            rows.append(Content.assemble(printable(test.name), (test_phases(test.phases), "$text-muted")))
        self._body(Content("\n").join(rows))
