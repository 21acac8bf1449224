"""The base of the screens opened from the main one: `escape` goes back."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen


class SubScreen(Screen):
    """A screen over the main one; subclasses add their own bindings after `escape`."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", tooltip="back to the screen before")]
