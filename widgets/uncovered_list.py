"""The file view's side panel: uncovered functions, except handlers and async functions."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from covtui.display import printable
from covtui.domain.gaps import FileGaps

from .format import count, theme_style


@dataclass(frozen=True)
class Target:
    """Where a jump from the list goes, and what to say about it."""

    start: int
    end: int
    label: str


def _lines(n: int) -> str:
    return f"{count(n)} line{'s' if n != 1 else ''}"


def _span(start: int, end: int) -> str:
    return f"line {start}" if start == end else f"lines {start}–{end}"


#: Kinds in the list's few columns.
SHORT_KINDS = {
    "function": "fn",
    "async function": "async fn",
    "method": "method",
    "async method": "async method",
    "class": "class",
}


def function_row(n_missing: int, n_statements: int, name: str, kind: str, missed: Style, muted: Style) -> Table:
    """"  12/30   Cache.drop method": the counts in columns, the name and kind wrapped under
    the name (a hanging indent), never back to the left edge."""
    row = Table.grid()
    row.add_column(width=4, justify="right", no_wrap=True)
    row.add_column(width=6, no_wrap=True)
    row.add_column(ratio=1, overflow="fold")
    row.add_row(
        Text(f"{n_missing}", style=missed),
        Text(f"/{n_statements}", style=muted),
        Text.assemble((name, "bold"), (f" {kind}", muted)),
    )
    return row


def line_row(line: int, text: Text, muted: Style) -> Table:
    """"  29 except FileNotFoundError in load": the text wrapped under itself."""
    row = Table.grid()
    row.add_column(width=5, no_wrap=True)
    row.add_column(ratio=1, overflow="fold")
    row.add_row(Text(f"{line:>4}", style=muted), text)
    return row


class UncoveredList(OptionList):
    """What in the file no test reaches; `enter` on an item moves the source view there."""

    DEFAULT_CSS = """
    UncoveredList {
        height: 1fr;
        width: 44;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
        background: $surface;
        &:focus {
            border: round $primary;
        }
    }
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("markup", False)
        super().__init__(**kwargs)
        self.targets: dict[str, Target] = {}
        self.border_title = "Uncovered"
        self.border_subtitle = "u: focus · enter: go to"

    def show_pending(self) -> None:
        self.clear_options()
        self.add_option(Option(Content.styled("loading…", "$text-muted"), disabled=True))

    def failed(self, problem: str) -> None:
        self.clear_options()
        self.add_option(Option(Content.styled(printable(problem), "$text-error"), disabled=True))

    def show(self, gaps: FileGaps) -> None:
        """List `gaps`' functions, handlers and never-run async functions, in source order."""
        targets: dict[str, Target] = {}
        options: list[Option] = []

        def heading(text: str) -> None:
            options.append(Option(Content.styled(text, "bold $text-accent"), disabled=True))

        def item(key: str, prompt: Content | Table, target: Target) -> None:
            targets[key] = target
            options.append(Option(prompt, id=key))

        if gaps.note:
            options.append(
                Option(Content.styled(f"⚠ {gaps.note}: except handlers not counted", "$text-warning"), disabled=True)
            )
        functions = gaps.functions
        if functions:
            heading("Functions · lines missed/measured")
        muted = theme_style(self.app, "text-muted")
        missed = theme_style(self.app, "text-error", bold=True)
        for i, f in enumerate(functions):
            name = printable(f.name)
            item(
                f"function-{i}",
                function_row(f.n_missing, f.n_statements, name, SHORT_KINDS.get(f.kind, f.kind), missed, muted),
                Target(f.start_line, f.end_line, f"{name} ({f.kind}): {_lines(f.n_missing)} uncovered"
                       f" of {count(f.n_statements)} · {_span(f.start_line, f.end_line)}"),
            )
        handlers = gaps.uncovered_handlers
        if handlers:
            heading(f"Except handlers never run ({len(handlers)})")
        for i, h in enumerate(handlers):
            caught = f"except {printable(h.exception)}" if h.exception else "bare except"
            where = f" in {printable(h.function)}" if h.function else ""
            item(
                f"handler-{i}",
                line_row(h.line, Text.assemble((caught, "bold"), (where, muted)), muted),
                Target(h.line, h.end_line, f"{caught}{where}: never ran · {_span(h.line, h.end_line)}"),
            )
        never = gaps.uncovered_async
        if never:
            heading(f"Async functions never run ({len(never)})")
        for i, f in enumerate(never):
            name = printable(f.name)
            item(
                f"async-{i}",
                line_row(f.start_line, Text(name, style="bold"), muted),
                Target(f.start_line, f.end_line, f"{name} (async, never run) · {_span(f.start_line, f.end_line)}"),
            )
        if not targets:
            message = "no uncovered functions" if gaps.numbers.n_missing == 0 else (
                "no uncovered functions known for this file"
            )
            options.append(Option(Content.styled(message, "$text-muted"), disabled=True))
        self.targets = targets
        self.clear_options()
        self.add_options(options)
