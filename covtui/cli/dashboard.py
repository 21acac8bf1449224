"""`covtui dashboard`: the live dashboard."""

from __future__ import annotations

import click

from covtui.cli.context import Context, pass_ctx, project_options


@click.command()
@project_options
@pass_ctx
def dashboard(obj: Context) -> None:
    """Open the live dashboard for this project."""
    from covtui.scan import run_scan
    from covtui.tui.app import run_dashboard

    run_dashboard(obj.config, obj.db_path, scanner=run_scan)

