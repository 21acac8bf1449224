"""`covtui dashboard`: the live dashboard."""

from __future__ import annotations

import click

from covtui.cli.context import Context, pass_ctx, project_options


@click.command()
@project_options
@pass_ctx
def dashboard(obj: Context) -> None:
    """Open the live dashboard for this project."""
    import functools
    import threading

    from covtui.scan import early, run_scan
    from covtui.tui.app import run_dashboard

    # `r` finds its tests started up to the project's code (and after each scan, the next).
    threading.Thread(target=early.prestart, args=(obj.config,), daemon=True).start()
    try:
        run_dashboard(obj.config, obj.db_path, scanner=functools.partial(run_scan, keep_warm=True))
    finally:
        early.discard_warm()

