"""Making data safe to show: control characters become visible escapes.

Rich and Textual treat `Text` as literal (no markup), but a terminal still obeys an escape
sequence inside a file name or test name. `printable()` shows those as `\\x1b` and the like.
"""

from __future__ import annotations

import re

# C0 controls except tab, DEL and C1 controls; newlines too: one record is one line.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with every control character shown as an escape (a tab stays a tab)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def unimported_notice(source: str | None = None) -> str:
    """What a coverage.py source without `source` configured cannot see, and the fix."""
    who = f"{source}: " if source else ""
    return (
        f"{who}coverage.py's `source` is not set, so files no test imports are invisible "
        "(not counted at 0%); set it in pyproject.toml: [tool.coverage.run] "
        'source = ["your_package"]'
    )


def has_control(text: str) -> bool:
    """Whether `text` holds any control character, a tab included."""
    return "\t" in text or _CONTROL.search(text) is not None
