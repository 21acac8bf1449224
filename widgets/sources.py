"""Per-source coverage: one line each, with its change."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from covtui.display import printable
from covtui.domain.numbers import pc_str
from covtui.present.text import partial_run, unimported_notice
from covtui.query.dashboard import DashboardState

from .format import change_content, failed_tests
from .panel import panel_css


class SourcesPanel(Static):
    """Each measured (or configured) source: its coverage, change and last status (or, when
    the latest snapshot did not run it, the snapshot its result is carried from)."""

    DEFAULT_CSS = panel_css("SourcesPanel", """
        text-wrap: nowrap;
        text-overflow: ellipsis;""")

    state: reactive[DashboardState | None] = reactive(None, always_update=True)

    def __init__(self, configured: list[str], precision: int = 2, **kwargs) -> None:
        super().__init__("loading…", **kwargs)
        self.configured = configured
        self.precision = precision
        self.border_title = "Sources"

    def watch_state(self, state: DashboardState | None) -> None:
        if state is None:
            self.update("loading…")
            return
        rows = {row.source: row for row in state.sources}
        names = list(rows) + [name for name in self.configured if name not in rows]
        width = max((len(printable(name)) for name in names), default=0)
        lines: list[Content] = []
        for name in names:
            label = Content.styled(printable(name).ljust(width), "bold")
            row = rows.get(name)
            if row is None:
                lines.append(Content.assemble(label, "  ", ("no data", "$text-muted")))
                continue
            parts: list = [label, "  "]
            pc = row.pc_covered  # a failed run's source shows its last measured coverage
            parts.append(Content(pc_str(pc, self.precision).rjust(7) + ("%" if pc is not None else "")))
            carried = state.latest is not None and row.snapshot_id != state.latest.id
            if carried:  # the latest snapshot did not run it: its last result stands
                parts += ["  ", (f"carried from #{row.snapshot_id}", "$text-muted")]
            elif row.status == "ok" and pc is not None and row.previous_pc is not None:
                parts += ["  ", change_content(pc - row.previous_pc, self.precision)]
            if row.status == "partial":
                n_tests = row.tests.n_tests if row.tests is not None else None
                parts += ["  ", (partial_run(n_tests), "$text-warning")]
            elif row.status != "ok":
                problem = row.status + (f": {row.message}" if row.message and row.message != row.status else "")
                parts += ["  ", (printable(problem), "bold $text-error")]
            elif row.tests is not None and (row.tests.n_failed or row.tests.n_errors):
                parts += ["  ", (failed_tests(row.tests, short=True), "bold $text-error")]
            lines.append(Content.assemble(*parts))
            if row.measures_unimported is False:
                lines.append(Content.styled("  " + unimported_notice(), "$text-warning"))
        if not lines:
            lines.append(Content.styled("no sources measured yet", "$text-muted"))
        self.update(Content("\n").join(lines))
