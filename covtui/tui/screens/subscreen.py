"""The base of the screens opened from the main one: `escape` goes back."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from textual.binding import Binding
from textual.screen import Screen

from covtui.display import printable
from covtui.widgets.title_bar import TitleBar

T = TypeVar("T")


class SubScreen(Screen):
    """A screen over the main one; subclasses add their own bindings after `escape`.

    Screens that show stored data define `load` (a worker) and call `follow_the_data()`.
    """

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", tooltip="back to the screen before")]

    def load(self) -> None:
        """Read what the screen shows (a worker in the screens that show stored data)."""

    def follow_the_data(self) -> None:
        """Load now, and again whenever the dashboard's data changes (another process may
        have written meanwhile)."""
        self.watch(self.app, "state", lambda _: self.load(), init=False)
        self.load()

    async def fetched(self, what: str, query: Awaitable[T]) -> T | None:
        """`query`'s answer, or None when the database could not give it: then the screen
        says "cannot load WHAT: why" and stays usable (the poller's indicator says more)."""
        try:
            return await query
        except Exception as exc:  # noqa: BLE001  (shown, see above)
            self.say_problem(printable(f"cannot load {what}: {exc}"))
            return None

    def say_problem(self, text: str) -> None:
        """Where the screen says it could not load: its title bar, unless it has no title bar."""
        self.query_one(TitleBar).show(text)
