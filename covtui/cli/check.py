"""`covtui check`: the gates (each component's and glob's floors) against the latest snapshot."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options
from covtui.display import printable


@click.command()
@project_options
@click.option("--json", "as_json", is_flag=True, help="Every gate and its figures as JSON (same exit code).")
@pass_ctx
def check(obj: Context, as_json: bool) -> None:
    """Check every gate; exit 1 with one line per failed gate (for CI)."""
    from covtui.errors import CovtuiError
    from covtui.query.components import ComponentState, component_state
    from covtui.store import Store

    config = obj.config

    async def gates(store: Store) -> ComponentState | None:
        if await store.latest_snapshot() is None:
            return None
        return await component_state(store, config)

    state = obj.read(gates)
    if state is None:
        raise CovtuiError(f"{obj.db_path}: no snapshots yet: run `covtui scan` or `covtui ingest`")
    failures = [line for result in state.gates for line in result.failures]
    if as_json:
        import json

        from covtui.present.components import components_json

        data = components_json(state, config.precision)
        print(json.dumps({"passed": not failures, "gates": data["gates"],
                          "components": data["components"]}, indent=2))
        sys.exit(1 if failures else 0)
    for line in failures:
        console.print(Text(printable(f"FAIL {line}"), style="red"))
    if failures:
        sys.exit(1)
    if not state.gates:
        console.print("No gates configured (fail_under or max_uncovered on a component or gate).")
    else:
        console.print(f"All {len(state.gates)} gates passed.")
