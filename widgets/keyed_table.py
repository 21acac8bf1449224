"""A DataTable updated in place by row key: no flicker, and the cursor stays on its row."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist


class KeyedTable(DataTable):
    """Base of the dashboard's tables: `sync()` shows rows by key, changing only what changed.
    `home`/`end` go to the first/last row (a DataTable's scroll sideways)."""

    BINDINGS = [
        Binding("home", "first_row", "First row", show=False, tooltip="the first / last row"),
        Binding("end", "last_row", "Last row", show=False, tooltip="the first / last row"),
    ]

    DEFAULT_CSS = """
    KeyedTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
    }
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", False)
        super().__init__(**kwargs)
        self.show_cursor = False

    def on_focus(self) -> None:
        self.show_cursor = True

    def on_blur(self) -> None:
        # An unfocused table shows no cursor row: its colours stay readable.
        self.show_cursor = False

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0, animate=False)
        self.scroll_to(x=0, animate=False)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)
        self.scroll_to(x=0, animate=False)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # noqa: BLE001  (an empty or shrinking table has no cursor row)
            return None
        return row_key.value

    def sync(self, rows: Sequence[tuple[str, Sequence[Text | str | int]]]) -> None:
        """Show exactly `rows` (key, cells), in this order.

        Cells should be `Text`: a `str` cell would be read as markup.
        """
        cursor_key = self.cursor_key
        wanted = {key for key, _ in rows}
        for row_key in [k for k in self.rows if k.value not in wanted]:
            self.remove_row(row_key)
        columns = list(self.columns)
        for key, cells in rows:
            cells = list(cells)
            if cells and not isinstance(cells[0], Text):
                cells[0] = Text(str(cells[0]))  # a distinct object per row, for the sort below
            if key in self.rows:
                for column, cell in zip(columns, cells, strict=True):
                    if self.get_cell(key, column) != cell:
                        self.update_cell(key, column, cell)
            else:
                self.add_row(*cells, key=key)
        order = [key for key, _ in rows]
        if [row.key.value for row in self.ordered_rows] != order and columns:
            # Sort by the wanted position, found through each row's first cell object.
            position = {id(self.get_cell(key, columns[0])): i for i, key in enumerate(order)}
            self.sort(key=lambda values: position[id(values[0])])
        if cursor_key is not None and cursor_key in wanted:
            try:
                self.move_cursor(row=self.get_row_index(cursor_key), animate=False, scroll=False)
            except RowDoesNotExist:
                pass

    def room_left(self, fixed: int, n_columns: int, *, fallback: int = 80, minimum: int = 12) -> int:
        """The width left for the one stretching column of `n_columns` (padding counted), when
        the others' cells take `fixed` cells."""
        width = self.scrollable_content_region.width or self.size.width or fallback
        return max(minimum, width - fixed - 2 * self.cell_padding * n_columns)

    def set_column_width(self, key: str, width: int) -> None:
        """Give a fixed-width column a new width (after a resize)."""
        column = self.columns.get(key)  # type: ignore[call-overload]
        if column is None or column.width == width:
            return
        column.width = width
        self._require_update_dimensions = True
        self.refresh()
