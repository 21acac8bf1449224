"""Every file of the latest snapshot: sortable by missed / percent / name, filtered as you type.

`escape` goes back, as on every screen (it does not clear the filter first: `ctrl+u` does).
"""

from __future__ import annotations

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input

from covtui.display import printable
from covtui.domain.records import FileRow
from covtui.present.text import plural
from covtui.tui.screens.subscreen import SubScreen
from covtui.widgets.critical_files import file_key, split_file_key
from covtui.widgets.format import change_text, count, shorten_path
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.keyed_table import KeyedTable
from covtui.widgets.title_bar import TitleBar

#: The orders `ctrl+s` cycles through: (name, key, reverse).
SORTS = {
    "missed": lambda f: (-f.numbers.n_missed_total, f.numbers.pc_covered, f.path),
    "percent": lambda f: (f.numbers.pc_covered, -f.numbers.n_missed_total, f.path),
    "name": lambda f: (f.path, f.source),
}
#: Widths of the columns after the path (cells, without padding).
_FIXED = {"source": 8, "cover": 7, "missed": 13, "change": 8}


class FilesTable(KeyedTable):
    """All files; the path column takes the room the others leave."""

    def path_width(self) -> int:
        return self.room_left(sum(_FIXED.values()), len(_FIXED) + 1)

    def on_blur(self) -> None:
        # The filter box has the cursor most of the time: the selected row stays shown, as
        # it is what enter opens.
        self.show_cursor = True

    def on_resize(self, event: events.Resize) -> None:
        # The paths are shortened (with an ellipsis) to the new width, not just their column.
        # After the layout: the content region then leaves out the scrollbar's gutter.
        if isinstance(self.screen, FilesScreen):
            self.call_after_refresh(self.screen.show_files)


class FilesScreen(SubScreen):
    """The filter box has the cursor: letters type into it (`tab` moves to the table, where the
    app's keys work; `/` comes back). Up/down/enter, home/end work from the box too."""

    BINDINGS = [
        Binding("ctrl+s", "cycle_sort", "Sort", key_display="^s", tooltip="cycle the sort (missed, percent, name)"),
        Binding("slash", "focus_filter", "Filter", key_display="/", tooltip="type in the filter box"),
        # `?` types into the filter box: help has a key that doesn't.
        Binding("f1", "app.show_help", "Help", key_display="F1", tooltip="the keys of this screen"),
        Binding("enter", "open", "Open", show=False, tooltip="the selected file's source, its gaps highlighted"),
        Binding("up", "cursor('up')", "Up", show=False, tooltip="move the selection, from the filter box too"),
        Binding("down", "cursor('down')", "Down", show=False, tooltip="move the selection, from the filter box too"),
        Binding("pageup", "cursor('page_up')", "Page up", show=False, tooltip="a page up / down"),
        Binding("pagedown", "cursor('page_down')", "Page down", show=False, tooltip="a page up / down"),
        # Priority: the filter box would take them to move its own cursor.
        Binding("home", "cursor('first_row')", "First file", show=False, priority=True, tooltip="the first / last file"),
        Binding("end", "cursor('last_row')", "Last file", show=False, priority=True, tooltip="the first / last file"),
    ]

    #: Said in help: while the filter box has the cursor, the app's letter keys type into it.
    TYPING = "#files-filter"

    DEFAULT_CSS = """
    FilesScreen {
        #files-filter {
            margin: 0 1;
        }
        FilesTable {
            height: 1fr;
            scrollbar-gutter: stable;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.files: list[FileRow] = []
        self.sort_name = "missed"
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield TitleBar("Files", "loading…", id="title")
        yield Input(placeholder="type to filter files (path or source)…", id="files-filter", compact=True)
        yield FilesTable(id="files-table")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(FilesTable)
        table.show_cursor = True
        table.add_column("Source", key="source", width=_FIXED["source"])
        table.add_column("File", key="path", width=table.path_width())
        table.add_column(Text("Cover", justify="right"), key="cover", width=_FIXED["cover"])
        table.add_column(Text("Missed/total", justify="right"), key="missed", width=_FIXED["missed"])
        table.add_column(Text("Change", justify="right"), key="change", width=_FIXED["change"])
        self.query_one(Input).focus()
        self.follow_the_data()

    @work(exclusive=True, group="files")
    async def load(self) -> None:
        files = await self.fetched("the files", self.app.queries.files())
        if files is None:
            return
        self.files = files
        self.loaded = True
        self.show_files()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_files()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.open_selected()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_selected()

    def action_open(self) -> None:
        self.open_selected()

    def action_focus_filter(self) -> None:
        self.query_one(Input).focus()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        column = event.column_key.value
        sort = {"path": "name", "source": "name", "cover": "percent", "missed": "missed"}.get(column or "")
        if sort:
            self.sort_name = sort
            self.show_files()

    def open_selected(self) -> None:
        key = self.query_one(FilesTable).cursor_key
        if key:
            self.app.open_file(*split_file_key(key))

    def action_cursor(self, direction: str) -> None:
        table = self.query_one(FilesTable)
        getattr(table, f"action_{'cursor_' if direction in ('up', 'down') else ''}{direction}")()

    def action_cycle_sort(self) -> None:
        names = list(SORTS)
        self.sort_name = names[(names.index(self.sort_name) + 1) % len(names)]
        self.show_files()

    def show_files(self) -> None:
        table = self.query_one(FilesTable)
        words = self.query_one(Input).value.lower().split()
        shown = [
            f
            for f in self.files
            if all(w in f.path.lower() or w in f.source.lower() for w in words)
        ]
        shown.sort(key=SORTS[self.sort_name])
        precision = self.app.config.precision
        width = table.path_width()
        table.set_column_width("path", width)
        rows = []
        for f in shown:
            n = f.numbers
            rows.append(
                (
                    file_key(f.source, f.path),
                    [
                        Text(printable(f.source), style="dim"),
                        Text(shorten_path(printable(f.path), width), no_wrap=True),
                        Text(n.pc_covered_str(precision) + "%", justify="right"),
                        Text(
                            f"{count(n.n_missed_total)}/{count(n.n_statements + n.n_branches)}",
                            justify="right",
                        ),
                        change_text(self.app, f.pc_change, precision)
                        if f.pc_change is not None
                        else Text("new", style="dim"),
                    ],
                )
            )
        table.sync(rows)
        if self.loaded:
            words = self.query_one(Input).value.split()
            self.query_one(TitleBar).show(
                f"{len(shown):,} of {plural(len(self.files), 'file')}",
                f"sorted by {self.sort_name} (^s or a header)",
                *([f"filter: {printable(' '.join(words))}"] if words else []),
            )
