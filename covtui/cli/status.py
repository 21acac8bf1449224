"""`covtui status`: the current coverage, phase, critical files and alerts."""

from __future__ import annotations

import json
import time

import click
from rich.text import Text

from covtui.cli.console import console, titled_table
from covtui.cli.context import Context, pass_ctx, project_options
from covtui.cli.render import print_alerts, tests_text, total_tests
from covtui.display import printable
from covtui.domain.phases import phase_status
from covtui.domain.shards import is_overdue, state_text
from covtui.present.components import component_rows, components_json, generated_line
from covtui.present.components import shown as has_components
from covtui.present.text import (
    coverage_text,
    diff_coverage_parts,
    local_time,
    partial_run,
    phase_progress,
    plural,
    unimported_notice,
)
from covtui.query.components import ComponentState, component_state
from covtui.query.status import Status, current_status
from covtui.store import Store


@click.command()
@project_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def status(obj: Context, as_json: bool) -> None:
    """Show the current coverage, phase, critical files and unacknowledged alerts."""
    config = obj.config

    async def status_and_parts(store: Store) -> tuple[Status, ComponentState | None]:
        found = await current_status(store, config)
        parts = await component_state(store, config) if found.latest is not None else None
        return found, parts

    state, parts = obj.read(status_and_parts)
    unacked = state.alerts
    if as_json:
        from covtui.present.serialise import status_json

        data = status_json(state, state.files, unacked, total_tests(state.sources), config)
        if parts is not None and has_components(parts):
            data |= components_json(parts, config.precision)
        print(json.dumps(data, indent=2))
        return
    latest = state.latest
    for ci_run in state.ci_runs:
        overdue = is_overdue(ci_run, time.time(), config.ci_shard_timeout)
        console.print(Text(printable(state_text(ci_run, time.time(), config.ci_shard_timeout)),
                           style="red" if overdue else "yellow"))
    if latest is None:
        console.print("No snapshots yet: run `covtui scan` or `covtui ingest`.")
        return
    numbers = latest.numbers
    when = local_time(latest.created_at, seconds=True)
    console.print(Text(printable(f"Snapshot #{latest.id} at {when} ({latest.status}, {latest.trigger})"), style="bold"))
    if numbers is None or not numbers.has_data:
        console.print("Overall: no data")
    else:
        line = Text("Overall: ") + Text(f"{numbers.pc_covered_str(config.precision)}%", style="bold")
        if state.previous is not None and state.previous.pc_covered is not None:
            change = numbers.pc_covered - state.previous.pc_covered
            line += Text(f"  ({change:+.{config.precision}f} since #{state.previous.id})")
        console.print(line)
        console.print(
            f"  lines {numbers.n_executed:,} of {numbers.n_statements:,} covered"
            + (f", branches {numbers.n_executed_branches:,} of {numbers.n_branches:,}" if numbers.n_branches else "")
            + f"; files with coverage {numbers.n_files_covered:,} of {numbers.n_files:,}"
        )
        phase = phase_status(numbers.pc_covered, config.phases)
        console.print(Text(
            f"  {phase.label}: "
            + phase_progress(phase.pc_progress, phase.phase.start, phase.phase.end)
        ))
    all_tests = total_tests(state.sources)
    if all_tests is not None:
        console.print(Text("Tests: ") + tests_text(all_tests, all_tests.duration_s))
    if state.n_flaky_lines is not None:
        n = state.n_flaky_lines
        counted = "counted" if config.alerts.count_flaky else "not counted"
        console.print(f"  flaky lines: {n:,} (covered by chance; {counted} in coverage drops)"
                      if n else "  flaky lines: none")
    if diff := diff_coverage_parts(latest, config.precision):
        console.print(Text("  " + "".join(diff) + (" statements" if latest.n_diff_statements else "")))
    for row in state.sources:
        text = Text(f"  {printable(row.source)}: ") + Text(coverage_text(row.numbers, config.precision))
        if row.status == "partial":
            n_tests = row.tests.n_tests if row.tests is not None else None
            text += Text(f"  ({partial_run(n_tests, row.message)}; not compared)", style="yellow")
        elif row.status != "ok":
            text += Text(f"  (last scan {row.status}: {printable(row.message)})", style="red")
        if row.snapshot_id != latest.id:
            text += Text(f"  (not run in #{latest.id}: carried forward from #{row.snapshot_id})", style="dim")
        if row.tests is not None:
            text += Text("  tests ") + tests_text(row.tests, row.tests.duration_s)
        console.print(text)
        if row.measures_unimported is False:
            console.print(Text("    " + printable(unimported_notice()), style="yellow"))
    if parts is not None and has_components(parts):
        _print_components(parts, config)
    if state.critical_files:
        figures = ["cover", "missed", "change"]
        table = titled_table(
            f"Top {len(state.critical_files)} critical files", ["file", *figures], figures
        )
        for f in state.critical_files:
            n = f.numbers
            change = f.pc_change
            table.add_row(
                Text(printable(f.path)),
                f"{n.pc_covered_str(config.precision)}%",
                f"{n.n_missed_total:,}/{n.n_statements + n.n_branches:,}",
                "new" if change is None else f"{change:+.{config.precision}f}",
            )
        console.print(table)
    shown = "" if len(unacked) <= 20 else " (the newest 20; `covtui alerts` lists them all)"
    print_alerts(unacked[:20], title=f"{plural(len(unacked), 'unacknowledged alert')}{shown}")



def _print_components(parts: ComponentState, config) -> None:
    precision = config.precision
    rows = component_rows(parts, precision, config.phases)
    if rows:
        has_change = parts.previous_snapshot_id is not None
        since = f" (change since #{parts.previous_snapshot_id})" if has_change else ""
        columns = ["component", "cover", "change", "phase", "lines", "files", "gate"]
        table = titled_table(
            f"Components{since}",
            [c for c in columns if has_change or c != "change"],
            right={"cover", "change", "lines", "files"},
        )
        for row in rows:
            change = "" if row.pc_change is None else f"{row.pc_change:+.{precision}f}"
            cells = [Text(printable(row.name)), row.cover, change, row.phase.split(": ", 1)[-1],
                     row.lines, f"{row.n_files:,}",
                     Text(row.gate, style="bold red" if row.gate == "FAIL" else "green")]
            if not has_change:
                del cells[2]
            table.add_row(*cells)
        console.print(table)
        for row in rows:
            if row.note:
                console.print(Text(printable(f"  {row.name}: {row.note}"), style="dim"))
    if line := generated_line(parts, precision):
        console.print(Text(printable(line)))
    failed = [line for g in parts.gates for line in g.failures]
    if parts.gates:
        console.print(Text(
            f"Gates: {len(parts.gates) - sum(not g.passed for g in parts.gates)} of {len(parts.gates)} pass",
            style="red" if failed else "",
        ))
    for line in failed:
        console.print(Text(printable(f"  FAIL {line}"), style="red"))
