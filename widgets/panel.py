"""The frame every dashboard panel shares: a rounded border with a bold title."""

from __future__ import annotations

FRAME = """
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;"""


def panel_css(selector: str, rules: str = "") -> str:
    """DEFAULT_CSS for a panel that sizes to its content: the frame, one cell of padding
    each side, then `rules` (more declarations or nested rules)."""
    return f"""
    {selector} {{
        height: auto;{FRAME}
        padding: 0 1;{rules}
    }}
    """
