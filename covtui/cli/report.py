"""`covtui report`: write the coverage progression report."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from covtui.cli.context import project_options
from covtui.display import printable
from covtui.errors import CovtuiError
from covtui.report import (
    ReportData,
    build_report,
    output_target,
    parse_since,
    render_json_text,
    render_markdown,
    write_atomic,
)
from covtui.store import Store


@click.command("report")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="Markdown or JSON.")
@click.option("--since", metavar="SNAPSHOT|DATE",
              help="Baseline: a snapshot id (12 or #12) or an ISO date/time (default: the oldest "
                   "snapshot within the retention window).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file (atomically) instead of standard output.")
@click.pass_obj
def report(obj, fmt: str, since: str | None, output: Path | None) -> None:
    """Write the coverage progression report: baseline, changes, phases, critical files,
    performance, alerts, recommendations and a forecast."""
    if since is not None:
        parse_since(since)  # a bad value fails before the database is opened
    target = None if output is None else output_target(output, obj.db_path)

    async def main() -> ReportData:
        async with await Store.open(obj.db_path, read_only=True) as store:
            return await build_report(store, obj.config, since=since)

    data = asyncio.run(main())
    text = render_json_text(data) if fmt == "json" else render_markdown(data)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise CovtuiError(f"{output}: cannot write the report: {exc.strerror or exc}") from None
    click.echo(printable(f"report written to {output}"), err=True)


#: `--db` and `--project` come after the command's own options in its help.
report = project_options(report)
