"""The `covtui` command line: the group and its entry point; one module per command."""

from __future__ import annotations

import click

from covtui.cli.alerts import alerts
from covtui.cli.context import Context, project_options
from covtui.cli.dashboard import dashboard
from covtui.cli.demo import demo
from covtui.cli.ingest import ingest
from covtui.cli.prune import prune
from covtui.cli.report import report
from covtui.cli.scan import scan
from covtui.cli.status import status
from covtui.cli.watch import watch


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@project_options
@click.version_option(package_name="covtui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Watch a codebase's test coverage move. With no command, opens the dashboard."""
    ctx.ensure_object(Context)
    if ctx.invoked_subcommand is None:
        ctx.invoke(dashboard)


for command in (dashboard, demo, scan, watch, ingest, status, alerts, prune, report):
    cli.add_command(command)


def main() -> None:
    cli(standalone_mode=True)
