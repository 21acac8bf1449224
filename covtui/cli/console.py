"""The two consoles the command line prints on (results to stdout, messages to stderr), and
the one shape of table they print."""

from collections.abc import Collection, Iterable

from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def titled_table(title: str, columns: Iterable[str], right: Collection[str] = ()) -> Table:
    """A table titled on the left; the columns named in `right` (figures) right-justified."""
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left")
    return table
