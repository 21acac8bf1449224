"""The Excluded screen: every line coverage.py excludes and every file left out, and why,
with the counts per reason and the change since the snapshot before."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from covtui.display import printable
from covtui.domain.exclusions import Audit
from covtui.present.text import exclusions_compared, plural
from covtui.tui.screens.subscreen import SubScreen
from covtui.widgets.critical_files import file_key, split_file_key
from covtui.widgets.format import shorten_path
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.keyed_table import KeyedTable

_FIXED = {"line": 6, "reason": 34}


def reason_lines(audit: Audit) -> Text:
    """Lines and files per reason as the latest snapshot recorded them, with the change since
    the comparable one before ("not recorded" where a snapshot kept none, never 0)."""
    last = audit.history[-1] if audit.history else None
    text = Text()
    if audit.reasons is None:
        where = f"not recorded at snapshot #{last.snapshot_id}" if last else "no snapshot yet"
        text += Text(f"\nBy reason: on disk now ({where})", style="dim")
        for reason, n in audit.counts().items():
            text += Text("\n") + Text(printable(f"  {n:>6,}  {reason}"))
        return text
    against = exclusions_compared(audit.previous_id, audit.previous_recorded)
    text += Text(f"\nBy reason at snapshot #{last.snapshot_id} · lines, files ({against})", style="dim")
    for c in audit.reasons:
        lines = "" if c.now.n_lines is None else f"{c.now.n_lines:,}"
        files = plural(c.now.n_files, "file")
        text += Text("\n") + Text(printable(f"  {lines:>6}  {files:<10} {c.now.reason}"))
        if audit.previous_recorded:
            parts = [f"{n:+,} {unit}{'' if abs(n) == 1 else 's'}"
                     for n, unit in ((c.lines_change, "line"), (c.files_change, "file")) if n]
            rose = (c.lines_change or 0) > 0 or (c.now.n_lines is None and (c.files_change or 0) > 0)
            text += Text(f"  {', '.join(parts) or '='}", style="bold red" if rose else "dim")
    return text


class ExcludedScreen(SubScreen):
    DEFAULT_CSS = """
    ExcludedScreen {
        #excluded-summary { height: auto; max-height: 40%; padding: 0 1; }
        #excluded-lines { height: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.audit: Audit | None = None

    def compose(self) -> ComposeResult:
        yield Static("loading… (coverage.py parses the measured files)", id="excluded-summary")
        yield KeyedTable(id="excluded-lines")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        table.add_column("File", key="path", width=self._path_width())
        table.add_column(Text("Line", justify="right"), key="line", width=_FIXED["line"])
        table.add_column("Why", key="reason", width=_FIXED["reason"])
        table.focus()
        self.follow_the_data()

    def say_problem(self, text: str) -> None:
        self.query_one("#excluded-summary", Static).update(Text(text))

    def _path_width(self) -> int:
        return self.query_one(KeyedTable).room_left(sum(_FIXED.values()), len(_FIXED) + 1)

    @work(exclusive=True, group="excluded")
    async def load(self) -> None:
        summary = self.query_one("#excluded-summary", Static)
        audit = await self.fetched("the exclusions", self.app.queries.exclusions())
        if audit is None:
            return
        self.audit = audit
        text = Text(
            f"{plural(audit.n_lines, 'excluded line')} in {plural(len(audit.files), 'file')} · "
            f"{plural(len(audit.left_out), 'file')} left out", style="bold",
        )
        if audit.change is not None:
            style = "bold red" if audit.change > 0 else ""
            text += Text(f" · {audit.change:+,} lines since the snapshot before", style=style)
        text += reason_lines(audit)
        summary.update(text)
        width = self._path_width()
        rows = []
        for f in audit.files:
            for line in f.lines:
                via = "" if line.by_line == line.line else f" (from line {line.by_line})"
                rows.append((
                    f"{line.line}:{file_key(f.source, f.path)}",
                    [Text(shorten_path(printable(f.path), width), no_wrap=True),
                     Text(str(line.line), justify="right"),
                     Text(printable(line.reason + via), no_wrap=True)],
                ))
        for left in audit.left_out:
            rows.append((
                f"0:{file_key('', left.path)}",
                [Text(shorten_path(printable(left.path), width), no_wrap=True), Text("file", style="dim"),
                 Text(printable(left.reason), no_wrap=True)],
            ))
        self.query_one(KeyedTable).sync(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = self.query_one(KeyedTable).cursor_key
        if not key:
            return
        source, path = split_file_key(key.partition(":")[2])
        if source:  # a measured file (a left-out one has no stored coverage to show)
            self.app.open_file(source, path)
