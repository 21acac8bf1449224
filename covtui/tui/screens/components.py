"""The Components screen: every component's coverage and gate, and one component's files;
`[` / `]` switch the component shown."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from covtui.display import printable
from covtui.domain.phases import phase_status
from covtui.domain.records import FileRow
from covtui.query.components import ComponentState
from covtui.tui.screens.subscreen import SubScreen
from covtui.widgets.components import ComponentsPanel
from covtui.widgets.critical_files import file_key, split_file_key
from covtui.widgets.format import count, shorten_path
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.keyed_table import KeyedTable

_FIXED = {"source": 8, "cover": 8, "missed": 13}
#: Good snapshots in each component's trend line.
TREND_POINTS = 20


class ComponentsScreen(SubScreen):
    BINDINGS = [
        *SubScreen.BINDINGS,
        Binding("right_square_bracket", "step(1)", "Next component", key_display="]"),
        Binding("left_square_bracket", "step(-1)", "Previous", key_display="["),
        Binding("d", "dashboard", "Dashboard of it", tooltip="show the dashboard of this component only (w: the whole project again)"),
    ]

    DEFAULT_CSS = """
    ComponentsScreen {
        ComponentsPanel { max-height: 50%; }
        #component-summary { height: 1; padding: 0 1; color: $text-muted; }
        #component-files { height: 1fr; }
    }
    """

    def __init__(self, selected: str | None = None) -> None:
        super().__init__()
        self.parts: ComponentState | None = None
        self.files: list[FileRow] = []
        #: (default: the one the dashboard shows, if it shows one)
        self.selected = selected

    def compose(self) -> ComposeResult:
        yield ComponentsPanel(self.app.config.precision, id="components-panel")
        yield Static("loading…", id="component-summary")
        yield KeyedTable(id="component-files")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        table.add_column("Source", key="source", width=_FIXED["source"])
        table.add_column("File", key="path", width=self._path_width())
        table.add_column(Text("Cover", justify="right"), key="cover", width=_FIXED["cover"])
        table.add_column(Text("Missed/total", justify="right"), key="missed", width=_FIXED["missed"])
        table.focus()
        if self.selected is None:
            self.selected = self.app.component
        self.follow_the_data()

    def say_problem(self, text: str) -> None:
        self.query_one("#component-summary", Static).update(Text(text))

    def _path_width(self) -> int:
        return self.query_one(KeyedTable).room_left(sum(_FIXED.values()), len(_FIXED) + 1)

    @work(exclusive=True, group="components")
    async def load(self) -> None:
        queries = self.app.queries

        async def everything():
            return (await queries.components(), await queries.files(),
                    await queries.component_trend(TREND_POINTS))

        loaded = await self.fetched("the components", everything())
        if loaded is None:
            return
        self.parts, self.files, self.query_one(ComponentsPanel).trend = loaded
        names = [c.name for c in self.parts.breakdown.components]
        if self.selected not in names:
            self.selected = names[0] if names else None
        self.show()

    def action_step(self, step: int) -> None:
        if self.parts is None or not self.parts.breakdown.components:
            return
        names = [c.name for c in self.parts.breakdown.components]
        at = names.index(self.selected) if self.selected in names else 0  # (a key before the load ended)
        self.selected = names[(at + step) % len(names)]
        self.show()

    def action_dashboard(self) -> None:
        if self.selected is not None:
            self.app.show_component(self.selected)

    def show(self) -> None:
        parts = self.parts
        if parts is None:
            return
        panel = self.query_one(ComponentsPanel)
        panel.parts = parts
        panel.selected = self.selected
        component = parts.breakdown.get(self.selected) if self.selected else None
        summary = self.query_one("#component-summary", Static)
        if component is None:
            summary.update("No components: [[tool.covtui.components]] in the config names them.")
            self.query_one(KeyedTable).sync([])
            return
        paths = set(component.paths)
        rows = [f for f in self.files if f.path in paths]
        rows.sort(key=lambda f: (-f.numbers.n_missed_total, f.path))
        precision = self.app.config.precision
        width = self._path_width()
        self.query_one(KeyedTable).sync([
            (
                file_key(f.source, f.path),
                [
                    Text(printable(f.source), style="dim"),
                    Text(shorten_path(printable(f.path), width), no_wrap=True),
                    Text(f.numbers.pc_covered_str(precision) + "%", justify="right"),
                    Text(f"{count(f.numbers.n_missed_total)}/"
                         f"{count(f.numbers.n_statements + f.numbers.n_branches)}", justify="right"),
                ],
            )
            for f in rows
        ])
        n = component.numbers
        cover = f"{n.pc_covered_str(precision)}%" if n.has_data else "no data"
        if n.has_data:
            phase = phase_status(n.pc_covered, parts.phases.get(component.name, self.app.config.phases))
            cover += f" · Phase {phase.number}: {phase.phase.name}"
        summary.update(Text(printable(
            f"{component.name}: {cover} · {len(rows):,} file{'' if len(rows) == 1 else 's'}, most missed first"
            + (" · generated files left out" if parts.breakdown.generated else "")
            + f" · trend: last {TREND_POINTS} good snapshots · [ ] switch"
        )))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = self.query_one(KeyedTable).cursor_key
        if key:
            self.app.open_file(*split_file_key(key))
