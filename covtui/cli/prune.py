"""`covtui prune`: remove snapshots older than the retention period."""

from __future__ import annotations

import click

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options, run
from covtui.config import CENTURY_DAYS, Range, check_number
from covtui.present.text import plural
from covtui.store import Store

#: Days `prune --older-than` accepts (0: keep only the latest snapshot).
OLDER_THAN = Range(min=0, max=CENTURY_DAYS)


@click.command()
@project_options
@click.option("--older-than", "days", type=float, help="Days to keep (default: retention_days, 90).")
@pass_ctx
def prune(obj: Context, days: float | None) -> None:
    """Remove snapshots older than the retention period (never the latest one)."""
    if days is not None:
        check_number("--older-than", days, OLDER_THAN)
    keep = obj.config.retention_days if days is None else days

    async def main():
        async with await Store.open(obj.db_path, create=False) as store:
            return await store.prune(keep)

    result = run(main())
    console.print(
        f"removed {plural(result.n_snapshots, 'snapshot')}, {plural(result.n_alerts, 'acknowledged alert')} "
        f"and {plural(result.n_ci_runs, 'finished CI run')} older than {keep:g} days; database {result.bytes_before / 1e6:.1f} MB → {result.bytes_after / 1e6:.1f} MB"
    )

