"""`covtui ratchet`: raise each floor to what held for the last N snapshots, less a margin."""

from __future__ import annotations

import click
from rich.text import Text

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options
from covtui.display import printable


@click.command()
@project_options
@click.option("--dry-run", is_flag=True, help="Show the new floors; write nothing.")
@pass_ctx
def ratchet(obj: Context, dry_run: bool) -> None:
    """Raise floors that held for [tool.covtui.ratchet] snapshots; never lower one."""
    from covtui.config import write_floors
    from covtui.query.components import ratchet_plan

    config = obj.config

    plan = obj.read(lambda store: ratchet_plan(store, config))
    for note in plan.notes:
        console.print(Text(printable(f"unchanged: {note}"), style="dim"))
    if not plan.raises:
        console.print("No floor to raise.")
        return
    for change in plan.raises:
        console.print(Text(printable(("would raise " if dry_run else "raised ") + change.describe())))
    if dry_run:
        return
    path = write_floors(
        config, [(c.floor.kind, c.floor.index, c.key, c.new) for c in plan.raises]
    )
    console.print(Text(printable(f"{len(plan.raises)} floors written to {path}")))
