"""`covtui watch`: rescan until interrupted."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options, run
from covtui.config import Config, check_number, field_range
from covtui.display import printable


@click.command()
@project_options
@click.option("--interval", type=float, help="Seconds between scans (default: watch_interval, 300).")
@click.option("--on-change", is_flag=True, help="Also scan when source or test files change.")
@click.option(
    "--settle", type=float,
    help="With --on-change: seconds without another change before scanning (default: watch_settle, 0.5).",
)
@click.option("--source", "sources", multiple=True, help="Scan only this source (repeatable).")
@click.option(
    "--affected", is_flag=True,
    help="Rerun only the tests the changes affect, merged exactly (as scan --affected).",
)
@pass_ctx
def watch(
    obj: Context, interval: float | None, on_change: bool, sources: tuple[str, ...], affected: bool,
    settle: float | None,
) -> None:
    """Rescan continuously until interrupted (SIGINT/SIGTERM end it cleanly)."""
    from covtui.watch import Watcher, timestamped

    config = obj.config
    for name in sources:
        config.source(name)  # an unknown source is an error now, not at the first scan
    if interval is not None:
        check_number("--interval", interval, field_range(Config, "watch_interval"))
    every = config.watch_interval if interval is None else interval
    if settle is not None:
        check_number("--settle", settle, field_range(Config, "watch_settle"))
    watcher = Watcher(
        config, interval_s=every, on_change=on_change, sources=list(sources) or None,
        log=lambda message: console.print(Text(printable(timestamped(message)))),
        affected=affected, settle_s=settle,
    )
    sys.exit(run(watcher.run()))

