"""`covtui ingest`: record a snapshot from existing reports."""

from __future__ import annotations

import time
from pathlib import Path

import click

from covtui.cli.context import Context, pass_ctx, project_options, run
from covtui.errors import CovtuiError


@click.command()
@project_options
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", help="Source name to record under (default: python for coverage.py data).")
@click.option("--format", "fmt", type=click.Choice(["coverage.py", "coverage.json", "lcov", "cobertura", "junit"]), help="Override format detection.")
@click.option("--label", default="", help="A note stored with the snapshot.")
@click.option("--run", "run_id", help="A CI run's id: its shards make one snapshot (with --shard).")
@click.option("--shard", help="K/N: these reports are shard K of the run's N (with --run).")
@pass_ctx
def ingest(
    obj: Context, paths: tuple[Path, ...], source: str | None, fmt: str | None, label: str,
    run_id: str | None, shard: str | None,
) -> None:
    """Record a snapshot from existing reports (coverage.py data, coverage.json, lcov,
    Cobertura XML; JUnit XML for test outcomes). With --run and --shard, one shard of a CI
    run: the snapshot is recorded when all the run's shards have arrived."""
    from covtui.readers.worker import (
        COVERAGE_READER,
        end_early,
        looks_like_coverage_data,
        start_early,
    )

    # coverage.py data: its reader's worker starts first, importing coverage.py on the other
    # core while this process reads its config and imports what storing needs.
    if fmt == "coverage.py" or (fmt is None and any(map(looks_like_coverage_data, paths))):
        start_early(COVERAGE_READER)
    try:
        _ingest(obj, paths, source, fmt, label, run_id, shard)
    finally:
        end_early()


def _ingest(
    obj: Context, paths: tuple[Path, ...], source: str | None, fmt: str | None, label: str,
    run_id: str | None, shard: str | None,
) -> None:
    from covtui.config import source_name_problem
    from covtui.ingest import start_reports

    if source is not None and (problem := source_name_problem(source)):
        raise CovtuiError(f"--source {problem}")
    if (run_id is None) != (shard is None):
        raise CovtuiError("--run and --shard go together (--run ID --shard K/N)")
    config = obj.config
    if run_id is not None:
        _ingest_shard(obj, paths, source, fmt, label, run_id, shard)
        return
    # The read runs in a process of its own; meanwhile this process imports what storing
    # needs, opens the store and reads the history, then imports what printing needs. Bad
    # input stops before anything is written.
    result = start_reports(config, paths, source=source, fmt=fmt)
    from covtui.ingest import record_ingest

    snapshot_id, alerts = run(
        record_ingest(config, obj.db_path, result, label=label, meanwhile=_printing_modules)
    )
    from rich.text import Text

    from covtui.cli.console import console
    from covtui.cli.render import notify, print_alerts, print_source_result
    from covtui.display import printable

    print_source_result(result(), config)
    print_alerts(alerts)
    notify(config, alerts)
    console.print(Text(printable(f"snapshot #{snapshot_id} stored in {obj.db_path}")))


def _printing_modules() -> None:
    import rich.text  # noqa: F401

    import covtui.cli.render  # noqa: F401


def _ingest_shard(
    obj: Context, paths: tuple[Path, ...], source: str | None, fmt: str | None, label: str,
    run_id: str, shard: str,
) -> None:
    from rich.text import Text

    from covtui.cli.console import console
    from covtui.cli.render import notify, print_alerts, print_source_result
    from covtui.display import printable
    from covtui.domain.shards import parse_shard, run_id_problem, state_text, timed_out_message
    from covtui.ingest import read_reports, record_shard, shard_inputs

    if problem := run_id_problem(run_id):
        raise CovtuiError(problem)
    try:
        k, n = parse_shard(shard)
    except ValueError as exc:
        raise CovtuiError(str(exc)) from None
    config = obj.config
    # Checked as a plain ingest would read them: bad input stops before the database.
    result = read_reports(config, paths, source=source, fmt=fmt)
    inputs = shard_inputs(paths, fmt)
    outcome = run(record_shard(
        config, obj.db_path, result, inputs, run_id=run_id, shard=k, n_shards=n, label=label
    ))
    for expired, snapshot_id, alerts in outcome.expired or ():
        console.print(Text(printable(
            f"snapshot #{snapshot_id} stored: failed: {timed_out_message(expired, config.ci_shard_timeout)}"
        )))
        print_alerts(alerts)
        notify(config, alerts)
    state = state_text(outcome.run, time.time(), config.ci_shard_timeout)
    if not outcome.stored:
        console.print(Text(printable(f"shard {k}/{n} was already stored (same contents): nothing changed; {state}")))
        return
    if outcome.snapshot_id is None:
        console.print(Text(printable(f"shard {k}/{n} stored; {state}")))
        return
    print_source_result(outcome.result, config)
    print_alerts(outcome.alerts)
    notify(config, outcome.alerts)
    console.print(Text(printable(f"shard {k}/{n} stored; {state}; in {obj.db_path}")))
    if outcome.run.state != "complete":
        raise SystemExit(1)
