"""The widgets' display helpers: changes, times, theme colours and path shortening (durations
and sizes: covtui.present.text)."""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.content import Content

from covtui.coverage_compat import display_covered
from covtui.display import printable
from covtui.domain.model import Severity
from covtui.domain.records import TestCounts

#: Theme variables (which adapt to dark and light themes) per meaning.
GOOD = "text-success"
BAD = "text-error"
WARN = "text-warning"
INFO = "text-primary"

SEVERITY_VARIABLE = {Severity.CRITICAL: BAD, Severity.WARNING: WARN, Severity.INFO: INFO}

#: Phase 1 is the most urgent; the last phase is nearly done.
PHASE_VARIABLES = ("text-error", "text-warning", "text-primary", "text-success")


def phase_variable(number: int) -> str:
    return PHASE_VARIABLES[min(max(number, 1), len(PHASE_VARIABLES)) - 1]


def theme_color(app: App, variable: str, fallback: str = "default") -> str:
    """A theme variable as a colour Rich understands (for `Text` in tables and plots)."""
    value = app.theme_variables.get(variable, "")
    return value if value.startswith("#") and len(value) == 7 else fallback


def theme_style(app: App, variable: str, *, bold: bool = False) -> Style:
    return Style(color=theme_color(app, variable), bold=bold)


def change_parts(delta: float | None, precision: int = 2) -> tuple[str, str]:
    """A change of coverage in points, as text and the theme variable that colours it."""
    if delta is None:
        return "", ""
    shown = display_covered(abs(delta), precision) if abs(delta) < 100 else "100"
    if float(shown) == 0:
        return f"= {0:.{precision}f}", "text-muted"
    if delta > 0:
        return f"▲ +{shown}", GOOD
    return f"▼ −{shown}", BAD


def change_content(delta: float | None, precision: int = 2) -> Content:
    text, variable = change_parts(delta, precision)
    return Content.styled(text, f"${variable}" if variable else "")


def change_text(app: App, delta: float | None, precision: int = 2) -> Text:
    text, variable = change_parts(delta, precision)
    if variable == "text-muted":
        return Text(text, style="dim")
    return Text(text, style=theme_style(app, variable) if variable else "")


def when(ts: float | None, *, reference: float | None = None, seconds: bool = False) -> str:
    """A local time, without the date when it is the same day as `reference`."""
    if ts is None:
        return "—"
    moment = datetime.fromtimestamp(ts)
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    if reference is not None and datetime.fromtimestamp(reference).date() == moment.date():
        return clock
    return f"{moment:%Y-%m-%d} {clock}"


def short_when(ts: float) -> str:
    """Month-day and time: compact enough for a table column."""
    return datetime.fromtimestamp(ts).strftime("%m-%d %H:%M")


def ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def count(n: int) -> str:
    return f"{n:,}"


def failed_tests(tests: TestCounts, *, short: bool = False) -> str:
    """"7 tests failed" (or, short, "7 failing"): failures and errors of one run."""
    n = tests.n_failed + tests.n_errors
    if short:
        return f"{count(n)} failing"
    return f"{count(n)} test{'s' if n != 1 else ''} failed"


def shorten_path(path: str, width: int) -> str:
    """Fit `path` into `width` cells, keeping its end (the file name matters most)."""
    if width <= 0:
        return ""
    if len(path) <= width:
        return path
    if width == 1:
        return "…"
    return "…" + path[-(width - 1):]


def printable_text(text: Text) -> Text:
    """`text` with its control characters shown as escapes, its styles kept (for a `Text`
    built from a tool's ANSI output or a highlighter)."""
    plain = text.plain
    if printable(plain) == plain:
        return text
    pieces = text.divide(
        offset for i, ch in enumerate(plain) for offset in (i, i + 1) if printable(ch) != ch
    )
    result = Text(no_wrap=text.no_wrap, end=text.end, style=text.style)
    for piece in pieces:
        if len(piece.plain) == 1 and printable(piece.plain) != piece.plain:
            shown = Text(printable(piece.plain), style=piece.style)
            for span in piece.spans:
                shown.stylize(span.style, 0, len(shown))
            result.append_text(shown)
        else:
            result.append_text(piece)
    return result
