"""The scan log: what a running scan prints, with the elapsed time of each line."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from covtui.display import printable
from covtui.tui.messages import ScanLine

from .format import printable_text


class ScanLog(RichLog):
    """Scan output, escaped (every line is plain text, never markup)."""

    DEFAULT_CSS = """
    ScanLog {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    ScanLog.-running {
        border: round $accent;
    }
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_lines", 2000)
        kwargs.setdefault("wrap", False)
        kwargs.setdefault("markup", False)
        kwargs.setdefault("highlight", False)
        super().__init__(**kwargs)
        self.border_title = "Scan log"
        self.border_subtitle = "r: rescan"

    def started(self) -> None:
        self.clear()
        self.add_class("-running")
        self.border_subtitle = "running · c: cancel"

    def add_lines(self, lines: list[ScanLine]) -> None:
        for line in lines:
            self.write(
                Text.assemble(
                    (f"{line.elapsed_s:7.1f}s ", "dim"),
                    (f"{printable(line.source)} ", "bold"),
                    # Colours of the tools survive; markup-like text stays text; any other
                    # control character shows as an escape.
                    printable_text(Text.from_ansi(line.line.rstrip("\n"), no_wrap=True)),
                    no_wrap=True,
                )
            )

    def finished(self, summary: str, elapsed_s: float) -> None:
        self.remove_class("-running")
        self.write(Text.assemble((f"{elapsed_s:7.1f}s ", "dim"), (printable(summary), "bold")))
        self.border_subtitle = "r: rescan · escape: hide"
