"""Top critical files: where the most coverage is missing, so tests there lift the total most."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.reactive import reactive

from covtui.display import printable
from covtui.domain.records import FileRow
from covtui.query.dashboard import DashboardState

from .format import change_text, count, shorten_path
from .keyed_table import KeyedTable

#: Widths of the columns after the path (cells, without padding).
_COVER, _MISSED, _CHANGE = 7, 13, 8


def file_key(source: str, path: str) -> str:
    return f"{source}\x00{path}"


def split_file_key(key: str) -> tuple[str, str]:
    source, _, path = key.partition("\x00")
    return source, path


class CriticalFiles(KeyedTable):
    """The top files by missed lines + branches; `enter` opens one (the screen handles it)."""

    DEFAULT_CSS = """
    CriticalFiles {
        height: auto;
        max-height: 100%;
    }
    """

    state: reactive[DashboardState | None] = reactive(None, always_update=True)

    def __init__(self, precision: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.precision = precision
        self.border_title = "Critical files"

    def on_mount(self) -> None:
        self.add_column("File", key="path", width=self._path_width())
        self.add_column(Text("Cover", justify="right"), key="cover", width=_COVER)
        self.add_column(Text("Missed/total", justify="right"), key="missed", width=_MISSED)
        self.add_column(Text("Change", justify="right"), key="change", width=_CHANGE)

    def _path_width(self) -> int:
        return self.room_left(_COVER + _MISSED + _CHANGE, 4, fallback=40, minimum=10)

    def on_resize(self, event: events.Resize) -> None:
        self.set_column_width("path", self._path_width())
        self._show(self.state)

    def watch_state(self, state: DashboardState | None) -> None:
        self._show(state)

    def _show(self, state: DashboardState | None) -> None:
        if not self.columns:
            return
        files: list[FileRow] = state.critical_files if state is not None else []
        self.border_subtitle = _empty_note(state) if not files else "enter: open"
        sources = {f.source for f in files}
        path_width = self._path_width()
        rows = []
        for f in files:
            n = f.numbers
            shown = printable(f.path if len(sources) < 2 else f"{f.source}: {f.path}")
            change = None if f.pc_change is None else f.pc_change
            rows.append(
                (
                    file_key(f.source, f.path),
                    [
                        Text(shorten_path(shown, path_width), no_wrap=True),
                        Text(n.pc_covered_str(self.precision) + "%", justify="right"),
                        Text(
                            f"{count(n.n_missed_total)}/{count(n.n_statements + n.n_branches)}",
                            justify="right",
                        ),
                        Text.assemble(change_text(self.app, change, self.precision), justify="right")
                        if change is not None
                        else Text("new", style="dim", justify="right"),
                    ],
                )
            )
        self.sync(rows)


def _empty_note(state: DashboardState | None) -> str:
    """What an empty list means: no data yet is not "nothing missed"."""
    if state is None:
        return ""
    if state.latest is None or state.latest.numbers is None:
        return "no data"
    return "none: no line or branch missed"
