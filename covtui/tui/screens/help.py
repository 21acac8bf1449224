"""The `?` screen: every key, and what the panels mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# covtui

A live view of the monitoring database: every snapshot that `covtui scan`, `ingest`,
`watch` or CI wrote. New snapshots appear within a couple of seconds.

## Keys

| Key | Where | What it does |
|---|---|---|
| `r` | anywhere | rescan: run the configured sources now; output streams into the scan log |
| `c` / `escape` | main screen | cancel the running scan (recorded as a cancelled snapshot) |
| `a` | anywhere | alerts: the whole history |
| `space` / `A` | alerts | acknowledge the selected alert / all shown |
| `enter` | alerts | open the file an alert is about |
| `s` / `u` | alerts | cycle the severity / rule filter |
| `f` | anywhere | files: every file of the latest snapshot |
| typing, `ctrl+s` | files | filter by path or source; cycle the sort (missed, percent, name) |
| `g` | anywhere | what to test: recommendations by priority, with functions, handlers, async |
| `enter` | a file or recommendation | its source, missed lines and partial branches highlighted |
| `n` / `N` | file view | next / previous gap |
| `u`, `enter` | file view | the uncovered functions, except handlers and async functions; go to one |
| `C` | anywhere | components: each one's coverage and gate; `[` / `]` switch the component whose files are listed |
| `x` | anywhere | excluded: every line coverage.py excludes and file left out (omit, generated), and why |
| `t` | anywhere | trend range: auto (the default: the shortest range that holds the history or its recent movement), hour, day, week, 90 days |
| `ctrl+p` | anywhere | command palette (also: theme) |
| `escape` | other screens | back |
| `q` | anywhere | quit |

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


class HelpScreen(ModalScreen):
    """Keys and panels; any of escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close"),
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

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as scroll:
            scroll.border_title = "Help · escape closes"
            yield Markdown(HELP)
