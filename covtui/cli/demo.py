"""`covtui demo`: the dashboard on a generated demo database."""

from __future__ import annotations

import click

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, run


@click.command()
@click.option("--rebuild", is_flag=True, help="Build the demo database anew.")
@pass_ctx
def demo(obj: Context, rebuild: bool) -> None:
    """Open the dashboard on a generated 90-day demo database."""
    from covtui.demo import demo_config, demo_scan, ensure_demo_database
    from covtui.tui.app import run_dashboard

    with console.status("Preparing the demo database (the first time takes a minute)…"):
        path = run(ensure_demo_database(rebuild=rebuild))
    run_dashboard(demo_config(path), path, scanner=demo_scan, demo=True)

