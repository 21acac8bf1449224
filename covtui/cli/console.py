"""The two consoles the command line prints on: results to stdout, messages to stderr."""

from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
