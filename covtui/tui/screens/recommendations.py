"""The `g` screen: what to test first, file by file, from the critical files and their gaps."""

from __future__ import annotations

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from covtui.display import printable
from covtui.domain.recommend import IMMEDIATE, SECONDARY, Recommendation
from covtui.present.text import lift_text
from covtui.tui.screens.subscreen import SubScreen
from covtui.widgets.critical_files import file_key, split_file_key
from covtui.widgets.format import theme_style
from covtui.widgets.key_footer import KeyFooter
from covtui.widgets.title_bar import TitleBar

TITLES = {
    IMMEDIATE: "Immediate priority: the critical files",
    SECONDARY: "Secondary priority: the next files",
}


def code(name: str) -> str:
    """A function name, as the report writes it (names are data: control characters escaped)."""
    return f"`{printable(name)}`"


def recommendation_prompt(
    rec: Recommendation, precision: int, *, with_source: bool, muted: Style | str = "dim"
) -> Table:
    """One recommendation: its headline, what covering it adds, then one line per action.
    Each is a row beside its marker ("12.", "•"), so a wrapped line keeps its indent."""
    path = printable(rec.path)
    headline = rec.headline(printable, precision)
    table = Table.grid(expand=True)
    table.add_column(width=4, no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    table.add_row(
        f"{rec.rank:>2}.",
        Text.assemble(
            (f"{printable(rec.source)}: ", muted) if with_source else "",
            (path, "bold"),
            headline[len(path):],
        ),
    )
    table.add_row("", Text(lift_text(rec.pc_lift, rec.pc_after, precision), style=muted))
    for action in rec.actions:
        table.add_row(Text("  •"), Text(action.describe(code, printable)))
    return table


class RecommendationsScreen(SubScreen):
    """Recommendations by priority; `enter` opens the file in the file view."""

    BINDINGS = [
        Binding("enter", "open", "Open file", show=False, tooltip="the highlighted file, its gaps highlighted"),
    ]

    DEFAULT_CSS = """
    RecommendationsScreen {
        #recommendations {
            height: 1fr;
            border: none;
            background: $surface;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.recommendations: list[Recommendation] = []
        self.loaded = False
        self._snapshot_id: int | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar("What to test", "working out what to test first…", id="title")
        yield OptionList(id="recommendations", markup=False)
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.watch(self.app, "state", self._state_changed, init=False)
        self.load()

    def _state_changed(self, state) -> None:
        # Heartbeats and acknowledgements change the state too: recompute for new data only.
        latest = getattr(state, "latest", None)
        if latest is not None and latest.id != self._snapshot_id:
            self.load()

    @work(exclusive=True, group="recommendations")
    async def load(self) -> None:
        state = self.app.state
        snapshot_id = state.latest.id if state is not None and state.latest is not None else None
        recs = await self.fetched("the recommendations", self.app.queries.recommendations())
        if recs is None:
            return
        self._snapshot_id = snapshot_id
        self.recommendations = recs
        self.loaded = True
        self.show()

    def show(self) -> None:
        option_list = self.query_one(OptionList)
        precision = self.app.config.precision
        highlighted = option_list.highlighted_option
        wanted_id = highlighted.id if highlighted is not None else None
        with_source = len({r.source for r in self.recommendations}) > 1
        muted = theme_style(self.app, "text-muted")
        options: list[Option | None] = []
        for priority in (IMMEDIATE, SECONDARY):
            recs = [r for r in self.recommendations if r.priority == priority]
            if not recs:
                continue
            options.append(Option(Content.styled(TITLES[priority], "bold $text-accent"), disabled=True))
            for rec in recs:
                options.append(
                    Option(
                        recommendation_prompt(rec, precision, with_source=with_source, muted=muted),
                        id=file_key(rec.source, rec.path),
                    )
                )
        option_list.clear_options()
        option_list.add_options(options)
        ids = [o.id for o in options if o is not None and o.id is not None]
        if ids:
            option_list.highlighted = option_list.get_option_index(
                wanted_id if wanted_id in ids else ids[0]
            )
        title = self.query_one(TitleBar)
        if not self.recommendations:
            title.show("nothing to recommend: every measured line and branch is covered")
            return
        n_immediate = sum(1 for r in self.recommendations if r.priority == IMMEDIATE)
        n_secondary = len(self.recommendations) - n_immediate
        title.show(
            f"{n_immediate:,} immediate", f"{n_secondary:,} secondary",
            "ranked by missed lines and branches, so each lifts the total most",
        )

    def action_open(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is not None and option.id:
            self.app.open_file(*split_file_key(option.id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_file(*split_file_key(event.option.id))
