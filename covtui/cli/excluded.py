"""`covtui excluded`: every line and file left out of the numbers, and why."""

from __future__ import annotations

import json

import click
from rich.table import Table
from rich.text import Text

from covtui.cli.console import console, titled_table
from covtui.cli.context import Context, pass_ctx, project_options
from covtui.display import printable
from covtui.present.text import exclusions_compared, local_time, plural


@click.command()
@project_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--lines/--no-lines", default=True, help="List each excluded line (default) or only counts.")
@pass_ctx
def excluded(obj: Context, as_json: bool, lines: bool) -> None:
    """List excluded lines (pragma, exclude regexes) and left-out files (omit, generated)."""
    from covtui.query.exclusions import exclusions_audit

    config = obj.config

    audit = obj.read(lambda store: exclusions_audit(store, config))
    if as_json:
        print(json.dumps(_as_json(audit), indent=2))
        return
    console.print(Text(f"{plural(audit.n_lines, 'excluded line')} in {plural(len(audit.files), 'file')}; "
                       f"{plural(len(audit.left_out), 'file')} left out", style="bold"))
    console.print(_reasons_table(audit))
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


def _change(n: int | None, unit: str) -> str:
    return "" if n is None else f"{n:+,} {unit}{'' if abs(n) == 1 else 's'}"


def _reasons_table(audit) -> Table:
    """Lines and files per reason as the latest snapshot recorded them, with the change
    since the comparable snapshot before; the counts on disk now where it recorded none."""
    last = audit.history[-1] if audit.history else None
    if audit.reasons is None:
        where = f"not recorded at snapshot #{last.snapshot_id}" if last else "no snapshot yet"
        table = titled_table(f"By reason (on disk now; {where})", ["reason", "count"], {"count"})
        for reason, n in audit.counts().items():
            table.add_row(Text(printable(reason)), f"{n:,}")
        return table
    against = exclusions_compared(audit.previous_id, audit.previous_recorded)
    figures = ["lines", "files", "change"]
    table = titled_table(
        f"By reason at snapshot #{last.snapshot_id} ({against})", ["reason", *figures], figures
    )
    for c in audit.reasons:
        if not audit.previous_recorded:
            change = "not recorded" if audit.previous_id is not None else ""
        else:
            change = ", ".join(x for x in (_change(c.lines_change, "line"), _change(c.files_change, "file"))
                               if x and not x.startswith("+0 "))
        lines = "" if c.now.n_lines is None else f"{c.now.n_lines:,}"
        style = "bold red" if (c.lines_change or 0) > 0 or (c.now.n_lines is None and (c.files_change or 0) > 0) else ""
        table.add_row(Text(printable(c.now.reason)), lines, f"{c.now.n_files:,}", Text(change or "=", style=style))
    return table


def _reason_json(counts) -> list[dict] | str:
    if counts is None:
        return "not recorded"
    return [{"reason": r.reason, "n_lines": r.n_lines, "n_files": r.n_files} for r in counts]


def _as_json(audit) -> dict:
    last = audit.history[-1] if audit.history else None
    by_reason = {
        "snapshot_id": last.snapshot_id if last else None,
        "previous_snapshot_id": audit.previous_id,
        "reasons": "not recorded" if audit.reasons is None else [
            {
                "reason": c.now.reason,
                "n_lines": c.now.n_lines,
                "n_files": c.now.n_files,
                "lines_change": c.lines_change if audit.previous_recorded else None,
                "files_change": c.files_change if audit.previous_recorded else None,
            }
            for c in audit.reasons
        ],
        "previous": "recorded" if audit.previous_recorded else (
            "not recorded" if audit.previous_id is not None else None),
    }
    return {
        "n_excluded_lines": audit.n_lines,
        "counts": audit.counts(),
        "by_reason": by_reason,
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
            {"snapshot_id": p.snapshot_id, "created_at": p.created_at, "n_excluded": p.n_excluded,
             "reasons": _reason_json(p.reasons)}
            for p in audit.history
        ],
    }
