"""`covtui alerts` and `covtui alerts ack`: list and acknowledge alerts."""

from __future__ import annotations

import json

import click

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options, run
from covtui.cli.render import print_alerts
from covtui.config import Range, check_number
from covtui.errors import CovtuiError
from covtui.present.text import plural
from covtui.query.alerts import acknowledge, alert_list

#: How many alerts `alerts -n` lists at most.
ALERT_LIMIT = Range(min=1, max=1_000_000_000)


@click.group(invoke_without_command=True)
@project_options
@click.option("--all", "show_all", is_flag=True, help="Include acknowledged alerts.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-n", "--limit", default=50, show_default=True, help="How many, newest first.")
@click.pass_context
def alerts(ctx: click.Context, show_all: bool, as_json: bool, limit: int) -> None:
    """List alerts (unacknowledged ones unless --all)."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj

    check_number("--limit", limit, ALERT_LIMIT)

    rows = obj.read(lambda store: alert_list(store, unacknowledged_only=not show_all, limit=limit))
    if as_json:
        from covtui.present.serialise import alert_json

        print(json.dumps([alert_json(a) for a in rows], indent=2))
    else:
        print_alerts(
            rows, title=plural(len(rows), "alert" if show_all else "unacknowledged alert"),
            empty="No alerts.", detail_lines=None,
        )


@alerts.command("ack")
@project_options
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "ack_all", is_flag=True, help="Acknowledge every unacknowledged alert.")
@click.option("--undo", is_flag=True, help="Take the acknowledgement of these alert ids back.")
@pass_ctx
def alerts_ack(obj: Context, ids: tuple[int, ...], ack_all: bool, undo: bool) -> None:
    """Acknowledge alerts by id (or --all); --undo takes it back."""
    if undo and (ack_all or not ids):
        raise CovtuiError("--undo takes alert ids (not --all)")
    if not ids and not ack_all:
        raise CovtuiError("give alert ids or --all")

    changed = run(acknowledge(obj.db_path, None if ack_all else ids, undo=undo))
    console.print(f"{plural(len(changed), 'alert')} {'unacknowledged' if undo else 'acknowledged'}")
