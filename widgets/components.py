"""The Components panel: each component's coverage, its gate and what it shares, and the
total without generated files (labelled as such)."""

from __future__ import annotations

from textual import work
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from covtui.display import printable
from covtui.present.components import component_rows, generated_line, sparkline
from covtui.query.components import ComponentState

from .format import change_content
from .panel import panel_css


class ComponentsPanel(Static):
    """One line per component; `selected` (a component's name) is marked."""

    DEFAULT_CSS = panel_css("ComponentsPanel", """
        text-wrap: nowrap;
        text-overflow: ellipsis;""")

    parts: reactive[ComponentState | None] = reactive(None, always_update=True)
    selected: reactive[str | None] = reactive(None)
    #: Each component's coverage at the latest good snapshots, oldest first (the screen's).
    trend: reactive[dict | None] = reactive(None)

    def __init__(self, precision: int = 2, *, live: bool = False, **kwargs) -> None:
        """`live`: load the components itself whenever the app's state changes (on the main
        screen; the Components screen sets `parts` instead)."""
        super().__init__("loading…", **kwargs)
        self.precision = precision
        self.live = live
        self.border_title = "Components"

    def on_mount(self) -> None:
        if self.live:
            self.border_subtitle = "C: open"
            self.watch(self.app, "state", lambda state: state is not None and self.load(), init=True)

    @work(exclusive=True, group="components-panel")
    async def load(self) -> None:
        """Ask the query layer (file headers are read in a thread: the UI never waits)."""
        try:
            self.parts = await self.app.queries.components()
        except Exception as exc:  # noqa: BLE001  (shown; the status line says more)
            self.update(Content.styled(printable(f"cannot load the components: {exc}"), "$text-error"))

    def watch_parts(self) -> None:
        self.show()

    def watch_selected(self) -> None:
        self.show()

    def watch_trend(self) -> None:
        self.show()

    def show(self) -> None:
        parts = self.parts
        if parts is None:
            self.update("loading…")
            return
        rows = component_rows(parts, self.precision)
        width = max((len(printable(r.name)) for r in rows), default=0)
        lines_width = max((len(r.lines) for r in rows), default=0)
        lines: list[Content] = []
        for row in rows:
            mark = "▶ " if row.name == self.selected else "  "
            label = Content.styled(printable(row.name).ljust(width), "bold")
            cover = row.cover.rjust(8)
            parts_: list = [mark, label, "  ", (cover, "$text-muted" if row.cover == "no data" else "")]
            parts_ += ["  ", change_content(row.pc_change, self.precision) if row.pc_change is not None
                       else Content(" " * (self.precision + 5))]
            if self.trend is not None:
                line = sparkline(self.trend.get(row.name, []))
                parts_ += ["  ", (line.ljust(max(map(len, self.trend.values()), default=0)), "$primary")]
            parts_ += ["  ", (f"{row.lines.rjust(lines_width)} lines", "$text-muted")]
            if row.gate == "FAIL":
                parts_ += ["  ", ("gate FAILED", "bold $text-error")]
            elif row.gate == "ok":
                parts_ += ["  ", ("gate ok", "$text-success")]
            if row.note:
                parts_ += ["  ", (printable(row.note), "$text-muted")]
            lines.append(Content.assemble(*parts_))
        for gate in parts.gates:
            if gate.floor.kind == "gates":
                state = ("gate ok", "$text-success") if gate.passed else ("FAILED", "bold $text-error")
                lines.append(Content.assemble("  ", (printable(gate.floor.label), ""), "  ", state))
        if line := generated_line(parts, self.precision):
            lines.append(Content.styled(printable(line), "$text-muted"))
        if not lines:
            lines.append(Content.styled("no components configured", "$text-muted"))
        self.update(Content("\n").join(lines))
