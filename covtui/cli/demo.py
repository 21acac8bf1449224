"""`covtui demo`: the dashboard on a generated demo database."""

from __future__ import annotations

import click

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx


@click.command()
@click.option("--rebuild", is_flag=True, help="Build the demo database anew.")
@pass_ctx
def demo(obj: Context, rebuild: bool) -> None:
    """Open the dashboard on a generated 90-day demo database.

    The first time, the dashboard opens at once and the 90-day history fills in behind it
    (the status line counts the days); later runs bring it up to now the same way.
    """
    from covtui.demo.fill import DemoFill
    from covtui.demo.paths import demo_database_path, read_meta

    seed, days = 2025, 90.0
    path = demo_database_path(seed)
    # A cache of this covtui, to be brought up to now: the dashboard opens on it as it is.
    current = not rebuild and path.exists() and read_meta(path, seed) is not None
    # The fill first: it looks at the cache and starts writing while the dashboard loads.
    fill = DemoFill(path, seed=seed, days=days)
    fill.start(rebuild=rebuild)
    try:
        from covtui.demo.database import demo_config
        from covtui.demo.scanner import demo_scan
        from covtui.tui.app import run_dashboard

        if not current:  # it makes the database afresh: wait until it has
            fill.first = fill.planned(
                lambda: console.status("Another covtui demo is building the demo database; waiting…")
            )
        run_dashboard(demo_config(path), path, scanner=demo_scan, demo=True, fill=fill)
    finally:
        fill.stop()
