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


def has_control(text: str) -> bool:
    """Whether `text` holds any control character, a tab included."""
    return "\t" in text or _CONTROL.search(text) is not None
