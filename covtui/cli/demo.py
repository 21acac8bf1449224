"""`covtui demo`: the dashboard on a generated demo database."""

from __future__ import annotations

import click

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, run


@click.command()
@click.option("--rebuild", is_flag=True, help="Build the demo database anew.")
@pass_ctx
def demo(obj: Context, rebuild: bool) -> None:
    """Open the dashboard on a generated 90-day demo database.

    The first time, the dashboard opens at once and the 90-day history fills in behind it
    (the status line counts the days); later runs top it up to now the same way.
    """
    from covtui.demo import (
        RETENTION_DAYS,
        demo_config,
        demo_database_path,
        demo_lock,
        demo_scan,
        plan_demo_database,
    )
    from covtui.demo.fill import DemoFill
    from covtui.demo.sources import sources_ready

    seed = 2025
    path = demo_database_path(seed)
    path.parent.mkdir(parents=True, exist_ok=True)

    def waiting():
        return console.status("Another covtui demo is building the demo database; waiting for it…")

    with demo_lock(path, on_wait=waiting):
        plan = run(plan_demo_database(path, seed=seed, days=RETENTION_DAYS, rebuild=rebuild))
    fill = None
    if plan.remaining or not plan.complete or not sources_ready(path, seed=seed):
        # Started before the dashboard's imports: its first snapshots are ready sooner.
        fill = DemoFill(path, seed=seed, days=RETENTION_DAYS)
        fill.start()
    from covtui.tui.app import run_dashboard

    try:
        run_dashboard(demo_config(path), path, scanner=demo_scan, demo=True, fill=fill)
    finally:
        if fill is not None:
            fill.stop()
