"""The `?` screen: the keys of the screen it was opened on, read from their bindings (so it
cannot list a key that does nothing there), then what the panels mean."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Markdown

INTRO = """\
## About

covtui is a live view of the monitoring database: every snapshot that `covtui scan`, `ingest`,
`watch` or CI wrote. New snapshots appear within a couple of seconds. `escape` goes back one
screen, on every screen; the command palette (`ctrl+p`) has every command, and the theme.
"""

#: Names for the screens in help's headings.
SCREEN_NAMES = {
    "MainScreen": "the main screen",
    "AlertsScreen": "Alerts",
    "AlertDetailScreen": "an alert",
    "FilesScreen": "Files",
    "FileViewScreen": "the file view",
    "RecommendationsScreen": "What to test",
    "ComponentsScreen": "Components",
    "ExcludedScreen": "Excluded",
}

#: Keys whose names are not what is typed.
KEY_NAMES = {
    "question_mark": "?", "slash": "/", "f1": "F1", "pagedown": "page down", "pageup": "page up",
    "left_square_bracket": "[", "right_square_bracket": "]",
}

PANELS = """\
## Panels

- **Overall coverage**: 100 × (executed statements + executed branches) / (statements +
  branches), as coverage.py computes it, with its change since the previous snapshot over the
  same sources. Its colour is the phase it is in. "Changed lines since main (3f2a9c1)" is diff
  coverage: the statements changed since the merge base with the main branch that the tests ran
  (shown when the project is in git).
- **Phases**: the milestone bands (`phases` in the config); the current one is marked ▶.
- **Sources**: each configured source's latest result, and "no data" for one never measured.
- **Critical files**: where the most lines and branches are missed, so tests there lift the
  total most.
- **Alerts**: newest first; ● marks the unacknowledged ones.
- **Last test run**: the newest run against the median of the last good runs before it
  (as many as `alerts.test_time_window`; each source's time against its own runs: the same
  "+N%" its test-time alert gives).
- **Status line**: green when the database answers; red **STALE** when it cannot be read
  (missing, locked, replaced, newer schema). It recovers by itself. A running `covtui watch`
  shows as alive with its next scan; one that stopped beating, or whose process is gone, is
  flagged.
- **What to test** (`g`): the critical files first ("immediate"), then the next ones
  ("secondary"); for each, the functions with the most uncovered lines, the except handlers and
  async functions no test reaches, and what covering the file adds to the total.
"""


def _own_bindings(node: DOMNode) -> Iterable[Binding]:
    """The bindings covtui's own classes declare on `node`, base classes first."""
    for cls in reversed(type(node).__mro__):
        if cls.__module__.startswith("covtui") and "BINDINGS" in cls.__dict__:
            yield from Binding.make_bindings(cls.__dict__["BINDINGS"])


def _rows(bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """(keys, what they do): one row per thing done, in declaration order; a later binding of
    the same key and meaning replaces an earlier one."""
    seen: dict[tuple[str, str], Binding] = {}
    for binding in bindings:
        what = binding.tooltip or binding.description
        if what:
            seen.pop((binding.key, what), None)
            seen[binding.key, what] = binding
    by_what: dict[str, list[Binding]] = {}
    for (_, what), binding in seen.items():
        by_what.setdefault(what, []).append(binding)
    return [
        (" / ".join(f"`{KEY_NAMES.get(b.key, b.key)}`" for b in group), what)
        for what, group in by_what.items()
    ]


def _table(rows: list[tuple[str, str]]) -> str:
    """One line per row (a Markdown table takes two)."""
    return "\n".join(f"- {keys}: {what}" for keys, what in rows)


def screen_help(screen: Screen) -> str:
    """Help for `screen`: its keys and its widgets' (from their bindings), then the app's keys
    that work there, said as they are (in a filter box, letters type)."""
    app = screen.app
    name = SCREEN_NAMES.get(type(screen).__name__, type(screen).__name__)
    own = list(_own_bindings(screen))
    screen_keys = {b.key for b in own}
    for widget in screen.query("*"):
        # A widget's keys that say what they do, unless the screen's own binding says it.
        own += [b for b in _own_bindings(widget) if b.tooltip and b.key not in screen_keys]
    parts = [f"## Keys on {name}", _table(_rows(own))]
    own_keys = {b.key for b in own}
    everywhere = [b for b in _own_bindings(app) if b.key not in own_keys]
    palette = Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "", tooltip="command palette: every command, and the theme")
    heading = "## Keys everywhere"
    if screen.query(Input):
        heading += " (while the filter box has the cursor, letters type into it: `tab` leaves it)"
    parts += [heading, _table(_rows([*everywhere, palette])), INTRO]
    if name == "the main screen":
        parts.append(PANELS)
    return "\n\n".join(parts)


class HelpScreen(ModalScreen):
    """The keys of `screen` (the one help was opened on) and what the panels mean; any of
    escape, q, ? or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help {
            width: 90%;
            max-width: 100;
            height: 90%;
            border: round $primary;
            border-title-style: bold;
            background: $surface;
            padding: 0 1;
        }
    }
    """

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen
        self.text = screen_help(screen)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as scroll:
            name = SCREEN_NAMES.get(type(self.for_screen).__name__, "")
            scroll.border_title = f"Help · {name} · escape closes"
            yield Markdown(self.text)
