"""`covtui ingest`: record a snapshot from existing reports."""

from __future__ import annotations

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
@pass_ctx
def ingest(obj: Context, paths: tuple[Path, ...], source: str | None, fmt: str | None, label: str) -> None:
    """Record a snapshot from existing reports (coverage.py data, coverage.json, lcov,
    Cobertura XML; JUnit XML for test outcomes)."""
    from covtui.config import source_name_problem
    from covtui.ingest import start_reports

    if source is not None and (problem := source_name_problem(source)):
        raise CovtuiError(f"--source {problem}")
    config = obj.config
    # Read everything first: bad input stops here, before the database is touched. The read
    # runs in a process of its own; what storing and printing need is imported meanwhile.
    result = start_reports(config, paths, source=source, fmt=fmt)
    from rich.text import Text

    from covtui.cli.console import console
    from covtui.cli.render import notify, print_alerts, print_source_result
    from covtui.display import printable
    from covtui.ingest import record_ingest, store_modules

    store_modules()
    import covtui.coverage_compat  # noqa: F401  (the percentages printed use coverage.py's rule)

    result = result()
    snapshot_id, alerts = run(record_ingest(config, obj.db_path, result, label=label))
    print_source_result(result, config)
    print_alerts(alerts)
    notify(config, alerts)
    console.print(Text(printable(f"snapshot #{snapshot_id} stored in {obj.db_path}")))
