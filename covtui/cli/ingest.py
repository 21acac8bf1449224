"""`covtui ingest`: record a snapshot from existing reports."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from rich.text import Text

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options, run
from covtui.cli.render import notify, print_alerts, print_source_result
from covtui.config import Config, source_name_problem
from covtui.display import printable
from covtui.domain.model import CoverageReport, RunStatus, SnapshotDraft, SourceResult, TestOutcomes
from covtui.errors import CovtuiError, InputError
from covtui.record import record_snapshot
from covtui.store import Store
from covtui.store.folder import make_database_folder


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
    from covtui.readers import detect_format, read_coverage, read_tests

    if source is not None and (problem := source_name_problem(source)):
        raise CovtuiError(f"--source {problem}")
    config = obj.config
    coverage_paths: list[Path] = []
    tests: TestOutcomes | None = None
    # Read everything first: bad input stops here, before the database is touched.
    for path in paths:
        if not path.exists():
            raise InputError(path, "no such file")
        if path.is_dir():
            raise InputError(path, "is a directory")
        kind = fmt or detect_format(path)
        if kind == "junit":
            outcome = read_tests(path)
            tests = outcome if tests is None else tests + outcome
        else:
            coverage_paths.append(path)
            fmt_used = kind
    report: CoverageReport | None = None
    if coverage_paths:
        with contextlib.suppress(OSError):  # opening the database reports it in one line
            make_database_folder(config.database_path)  # before the analysis cache goes in it
        report = read_coverage(
            coverage_paths, fmt, root=config.root, cache_dir=config.database_path.parent / "cache"
        )
    if source:
        name = source
    elif coverage_paths:
        name = _default_source(config, fmt_used)
    else:
        name = _junit_source(config, paths)
    result = SourceResult(name, RunStatus.OK, report, tests)

    async def main():
        from covtui.scan import git_info

        async with await Store.open(obj.db_path) as store:
            draft = SnapshotDraft("ingest", [result], label=label, git=await git_info(config.root))
            return await record_snapshot(store, draft, config)

    snapshot_id, alerts = run(main())
    print_source_result(result, config)
    print_alerts(alerts)
    notify(config, alerts)
    console.print(Text(printable(f"snapshot #{snapshot_id} stored in {obj.db_path}")))


def _junit_source(config: Config, paths: tuple[Path, ...]) -> str:
    """The source test outcomes belong to: the one whose `junit` is this file, or the only one."""
    given = {path.resolve() for path in paths}
    named = [s.name for s in config.sources if s.junit and (config.root / s.junit).resolve() in given]
    if len(named) == 1:
        return named[0]
    if len(config.sources) == 1:
        return config.sources[0].name
    choices = ", ".join(s.name for s in config.sources)
    raise InputError(
        paths[0], f"test outcomes only; say which source they belong to with --source ({choices})"
    )


def _default_source(config: Config, fmt: str) -> str:
    if fmt in ("coverage.py", "coverage.json"):
        return "python"
    for s in config.sources:
        if s.format == fmt or (s.report and s.report.endswith((".info", ".lcov")) and fmt == "lcov"):
            return s.name
    return fmt

