"""The `g` screen: what to test first, file by file, from the critical files and their gaps."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from covtui.display import printable
from covtui.domain.recommend import IMMEDIATE, SECONDARY, Recommendation
from covtui.present.text import lift_text
from covtui.tui.screens.subscreen import SubScreen
from covtui.widgets.critical_files import file_key, split_file_key

TITLES = {
    IMMEDIATE: "Immediate priority: the critical files",
    SECONDARY: "Secondary priority: the next files",
}


def code(name: str) -> str:
    """A function name, as the report writes it (names are data: control characters escaped)."""
    return f"`{printable(name)}`"


def recommendation_prompt(rec: Recommendation, precision: int, *, with_source: bool) -> Content:
    """One recommendation: its headline, what covering it adds, then one line per action."""
    path = printable(rec.path)
    headline = rec.headline(printable, precision)
    shown = Content.assemble(
        f"{rec.rank:>2}. ",
        (f"{printable(rec.source)}: ", "$text-muted") if with_source else "",
        (path, "bold"),
        headline[len(path):],
    )
    lines = [
        shown,
        Content.styled("    " + lift_text(rec.pc_lift, rec.pc_after, precision), "$text-muted"),
    ]
    lines += [Content.assemble("    • ", action.describe(code, printable)) for action in rec.actions]
    return Content("\n").join(lines)


class RecommendationsScreen(SubScreen):
    """Recommendations by priority; `enter` opens the file in the file view."""

    DEFAULT_CSS = """
    RecommendationsScreen {
        #recommendations-summary {
            height: auto;
            padding: 0 1;
            background: $panel;
            color: $text-muted;
        }
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
        yield Static("working out what to test first…", id="recommendations-summary")
        yield OptionList(id="recommendations", markup=False)
        yield Footer(compact=True)

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
        summary = self.query_one("#recommendations-summary", Static)
        state = self.app.state
        snapshot_id = state.latest.id if state is not None and state.latest is not None else None
        try:
            recs = await self.app.queries.recommendations()
        except Exception as exc:  # noqa: BLE001  (shown; the poller's indicator says more)
            summary.update(Content(printable(f"cannot work out the recommendations: {exc}")))
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
        options: list[Option | None] = []
        for priority in (IMMEDIATE, SECONDARY):
            recs = [r for r in self.recommendations if r.priority == priority]
            if not recs:
                continue
            options.append(Option(Content.styled(TITLES[priority], "bold $text-accent"), disabled=True))
            for rec in recs:
                options.append(
                    Option(
                        recommendation_prompt(rec, precision, with_source=with_source),
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
        summary = self.query_one("#recommendations-summary", Static)
        if not self.recommendations:
            summary.update("Nothing to recommend: every measured line and branch is covered.")
            return
        n_immediate = sum(1 for r in self.recommendations if r.priority == IMMEDIATE)
        n_secondary = len(self.recommendations) - n_immediate
        summary.update(
            f"{n_immediate} immediate · {n_secondary} secondary · ranked by missed lines and "
            "branches, so each lifts the total most · enter: open the file"
        )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_file(*split_file_key(event.option.id))
