"""The `covtui` command line: the group and its entry point. Each command lives in a module of
its own, imported only when that command runs, so `covtui --version` starts at once."""

from __future__ import annotations

import click

from covtui import __version__, collector
from covtui.cli.context import Context, project_options
from covtui.cli.group import CommandGroup

#: Every command, by name: the module and attribute that define it.
COMMANDS = {
    name: f"covtui.cli.{name}:{name}"
    for name in (
        "alerts", "check", "dashboard", "demo", "excluded", "ingest", "prune", "ratchet", "report",
        "scan", "status", "watch", "who", "explain", "migrate",
    )
}


@click.group(
    cls=CommandGroup, lazy_commands=COMMANDS, invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@project_options
@click.version_option(__version__)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Watch a codebase's test coverage move. With no command, opens the dashboard."""
    ctx.ensure_object(Context)
    if ctx.invoked_subcommand is None:
        ctx.invoke(cli.get_command(ctx, "dashboard"))


def main() -> None:
    collector.for_batch_work()
    try:
        cli(standalone_mode=True)
    finally:
        collector.before_exit()
