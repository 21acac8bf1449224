"""`covtui excluded`: every line and file left out of the numbers, and why."""

from __future__ import annotations

import json

import click
from rich.table import Table
from rich.text import Text

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options, run
from covtui.display import printable
from covtui.present.text import local_time, plural


@click.command()
@project_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--lines/--no-lines", default=True, help="List each excluded line (default) or only counts.")
@pass_ctx
def excluded(obj: Context, as_json: bool, lines: bool) -> None:
    """List excluded lines (pragma, exclude regexes) and left-out files (omit, generated)."""
    from covtui.domain.exclusions import Audit
    from covtui.query.exclusions import exclusions_audit
    from covtui.store import Store

    config = obj.config

    async def main() -> Audit:
        async with await Store.open(obj.db_path, read_only=True) as store:
            return await exclusions_audit(store, config)

    audit = run(main())
    if as_json:
        print(json.dumps(_as_json(audit), indent=2))
        return
    console.print(Text(f"{plural(audit.n_lines, 'excluded line')} in {plural(len(audit.files), 'file')}; "
                       f"{plural(len(audit.left_out), 'file')} left out", style="bold"))
    counts = Table(title="By reason", title_justify="left")
    counts.add_column("reason")
    counts.add_column("count", justify="right")
    for reason, n in audit.counts().items():
        counts.add_row(Text(printable(reason)), f"{n:,}")
    console.print(counts)
    if audit.history:
        last = audit.history[-1]
        change = audit.change
        console.print(Text(printable(
            f"Excluded lines at snapshot #{last.snapshot_id} ({local_time(last.created_at)}): "
            f"{last.n_excluded:,}" + ("" if change is None else f" ({change:+,} since the snapshot before)")
        )))
    for f in audit.files:
        head = Text(printable(f"{f.path}: {plural(len(f.lines), 'line')}"), style="bold")
        if f.changed_since:
            head += Text(printable(f" (the latest snapshot counted {f.n_stored:,}: changed on disk since)"),
                         style="yellow")
        console.print(head)
        if lines:
            for line in f.lines:
                via = "" if line.by_line == line.line else f" (block at line {line.by_line})"
                console.print(Text(printable(f"  {line.line:>5}  {line.reason}{via}  │ {line.text.strip()}")))
    for left in audit.left_out:
        console.print(Text(printable(f"{left.path}: left out, {left.reason}")))


def _as_json(audit) -> dict:
    return {
        "n_excluded_lines": audit.n_lines,
        "counts": audit.counts(),
        "files": {
            f.path: {
                "n_excluded": len(f.lines),
                "n_excluded_at_snapshot": f.n_stored,
                "lines": [{"line": x.line, "reason": x.reason, "by_line": x.by_line} for x in f.lines],
            }
            for f in audit.files
        },
        "left_out": [{"path": x.path, "reason": x.reason} for x in audit.left_out],
        "history": [
            {"snapshot_id": p.snapshot_id, "created_at": p.created_at, "n_excluded": p.n_excluded}
            for p in audit.history
        ],
    }
