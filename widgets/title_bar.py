"""A screen's title line: its name in bold, then what it shows (counts, filter, sort)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class TitleBar(Static):
    """`show(*facts)` writes "Name · fact · fact"; what does not fit ends in an ellipsis."""

    DEFAULT_CSS = """
    TitleBar {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $primary-muted;
        color: $text;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, title: str, *facts: str | Content, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.facts: tuple[str | Content, ...] = ()
        self.show(*facts)

    def show(self, *facts: str | Content) -> None:
        """The title, then each fact (plain text is shown as it is, never read as markup)."""
        self.facts = facts
        parts: list[Content | tuple[str, str] | str] = [(self.title, "bold")]
        for fact in facts:
            parts += [(" · ", "$text-muted"), fact if isinstance(fact, Content) else Content(fact)]
        self.update(Content.assemble(*parts))
