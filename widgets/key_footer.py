"""The footer, keeping whole keys only: at 80 columns the last ones are left out, never cut."""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: Kept while others are left out: help lists every key of the screen.
KEPT_ACTIONS = frozenset({"app.show_help", "show_help"})


class KeyFooter(Footer):
    """Textual's footer lays every key out in one row and docks the command palette's key
    over its right end, so a narrow terminal showed cut keys ("^p paletten", "Qui"). This
    one leaves out whole keys from the end (help last) until the rest fit beside it."""

    async def recompose(self) -> None:
        await super().recompose()
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        for child in self.children:
            child.display = True
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        """Hide keys from the end until the shown ones and the palette key fit the width."""
        palette = [c for c in self.children if c.has_class("-command-palette")]
        items = [c for c in self.children if not c.has_class("-command-palette")]
        room = self.size.width - sum(p.outer_size.width for p in palette)

        def width(child) -> int:
            return child.outer_size.width + child.styles.margin.width

        used = sum(width(c) for c in items)
        for child in reversed(items):
            if used <= room:
                break
            if isinstance(child, FooterKey) and child.action in KEPT_ACTIONS:
                continue
            child.display = False
            used -= width(child)
        if used > room:  # even the kept ones don't fit: cut from the end regardless
            for child in reversed(items):
                if used <= room:
                    break
                if child.display:
                    child.display = False
                    used -= width(child)
