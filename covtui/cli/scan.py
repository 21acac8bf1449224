"""`covtui scan`: run the tests under coverage and record a snapshot."""

from __future__ import annotations

import asyncio
import sys
import time

import click
from rich.text import Text

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options, run
from covtui.cli.render import notify, print_alerts, print_source_result
from covtui.display import printable
from covtui.domain.model import RunStatus, Severity
from covtui.present.text import unimported_notice


@click.command()
@project_options
@click.option("--source", "sources", multiple=True, help="Scan only this source (repeatable).")
@click.option("--fail-on-alert", is_flag=True, help="Exit 1 when a critical alert fires (a CI gate).")
@click.option("-q", "--quiet", is_flag=True, help="Don't stream the command's output.")
@click.option(
    "--affected", is_flag=True,
    help="Rerun only the tests the changes since the last scan affect, merged exactly "
    "(a full run, and why in one line, when that can't be exact).",
)
@pass_ctx
def scan(
    obj: Context, sources: tuple[str, ...], fail_on_alert: bool, quiet: bool, affected: bool
) -> None:
    """Run the tests under coverage and record a snapshot."""
    from covtui.scan import run_scan

    config = obj.config
    started = time.monotonic()
    current = {"source": ""}

    def on_output(source: str, line: str) -> None:
        current["source"] = source
        if not quiet:
            console.print(Text(printable(f"{source} │ "), style="dim") + Text(printable(line)),
                          soft_wrap=True)

    async def main():
        with console.status("Scanning…") as status:

            async def tick():
                while True:
                    status.update(Text(printable(
                        f"Scanning {current['source']} … {time.monotonic() - started:.0f}s"
                    )))
                    await asyncio.sleep(0.5)

            ticker = asyncio.create_task(tick())
            try:
                return await run_scan(
                    config, sources=list(sources) or None, on_output=on_output, affected=affected
                )
            finally:
                ticker.cancel()

    outcome = run(main())
    for note in outcome.notes:
        console.print(Text(printable(note), style="cyan"))
    for result in outcome.draft.sources:
        print_source_result(result, config)
        if result.report is not None and result.report.measures_unimported is False:
            console.print(Text(printable(unimported_notice(result.name)), style="yellow"))
    print_alerts(outcome.alerts, detail_lines=10)
    notify(config, outcome.alerts)
    console.print(Text(printable(
        f"snapshot #{outcome.snapshot_id} stored ({outcome.status.value}) in {obj.db_path}"
    )))
    if outcome.status is not RunStatus.OK:
        sys.exit(1)
    if fail_on_alert and any(a.severity is Severity.CRITICAL for a in outcome.alerts):
        sys.exit(1)
    if fail_on_alert and _gates_fail(obj):
        sys.exit(1)


def _gates_fail(obj: Context) -> bool:
    """Print each failed gate (`covtui check`'s lines); whether any failed."""
    from covtui.domain.gates import floors_of

    if not floors_of(obj.config):
        return False
    from covtui.query.components import component_state

    state = obj.read(lambda store: component_state(store, obj.config))
    failures = [line for result in state.gates for line in result.failures]
    for line in failures:
        console.print(Text(printable(f"FAIL {line}"), style="red"))
    return bool(failures)

