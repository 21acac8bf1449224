"""The `covtui` command line: dashboard, demo, scan, ingest, status, alerts, prune."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from covtui.config import (
    CENTURY_DAYS,
    Config,
    Range,
    check_number,
    field_range,
    load_config,
    source_name_problem,
)
from covtui.display import printable, unimported_notice
from covtui.domain.critical import critical_files
from covtui.domain.model import (
    MAX_ID,
    CoverageReport,
    RunStatus,
    Severity,
    SnapshotDraft,
    SourceResult,
    TestOutcomes,
)
from covtui.domain.numbers import Numbers, pc_str
from covtui.domain.phases import phase_status
from covtui.domain.records import DashboardState, TestCounts
from covtui.errors import CovtuiError, InputError
from covtui.record import record_snapshot
from covtui.signals import Interrupted, run_stoppable
from covtui.store import Store
from covtui.store.folder import make_database_folder

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
#: How many failing tests `scan` names.
FAILURES_NAMED = 5


def fail(message: str, code: int = 2) -> None:
    err_console.print(Text(f"covtui: error: {printable(message)}"))
    sys.exit(code)


def handles_errors(func: Callable) -> Callable:
    """User mistakes become one line on stderr and a non-zero exit, never a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CovtuiError as exc:
            fail(str(exc), exc.exit_code)
        except sqlite3.Error as exc:
            fail(f"database error: {exc}")
        except Interrupted as exc:
            try:
                err_console.print(f"covtui: {exc}")
            except OSError:
                pass  # the terminal that closed took stderr with it
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err_console.print("covtui: interrupted")
            sys.exit(130)

    return wrapper


def run(coro: Awaitable):
    """Run `coro`; SIGINT, SIGTERM and SIGHUP cancel it cleanly and exit 130, 143 or 129."""
    return run_stoppable(coro)


class Context:
    def __init__(self, project: Path | None = None, db: Path | None = None) -> None:
        self.project = project
        self.db = db
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.project)
            if self.db is not None:
                self._config.database = str(self.db.resolve())
        return self._config

    @property
    def db_path(self) -> Path:
        return self.config.database_path


pass_ctx = click.make_pass_decorator(Context)


def _set_context(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        setattr(ctx.ensure_object(Context), param.name, value)


def project_options(command):
    """`--db` and `--project`, taken before the subcommand or after it (the later one wins)."""
    command = click.option(
        "--db", type=click.Path(path_type=Path, dir_okay=False), expose_value=False,
        callback=_set_context, help="Monitoring database (default from config: .covtui/covtui.db).",
    )(command)
    return click.option(
        "--project", type=click.Path(path_type=Path, file_okay=False, exists=True),
        expose_value=False, callback=_set_context,
        help="Project directory (default: the current one).",
    )(command)


#: Days `prune --older-than` accepts (0: keep only the latest snapshot).
OLDER_THAN = Range(min=0, max=CENTURY_DAYS)
#: How many alerts `alerts -n` lists at most.
ALERT_LIMIT = Range(min=1, max=1_000_000_000)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@project_options
@click.version_option(package_name="covtui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Watch a codebase's test coverage move. With no command, opens the dashboard."""
    ctx.ensure_object(Context)
    if ctx.invoked_subcommand is None:
        ctx.invoke(dashboard)


@cli.command()
@project_options
@pass_ctx
@handles_errors
def dashboard(obj: Context) -> None:
    """Open the live dashboard for this project."""
    from covtui.tui.app import run_dashboard

    run_dashboard(obj.config, obj.db_path)


@cli.command()
@click.option("--rebuild", is_flag=True, help="Build the demo database anew.")
@pass_ctx
@handles_errors
def demo(obj: Context, rebuild: bool) -> None:
    """Open the dashboard on a generated 90-day demo database."""
    from covtui.demo import demo_config, ensure_demo_database
    from covtui.tui.app import run_dashboard

    with console.status("Preparing the demo database (the first time takes a minute)…"):
        path = run(ensure_demo_database(rebuild=rebuild))
    run_dashboard(demo_config(path), path, demo=True)


@cli.command()
@project_options
@click.option("--source", "sources", multiple=True, help="Scan only this source (repeatable).")
@click.option("--fail-on-alert", is_flag=True, help="Exit 1 when a critical alert fires (a CI gate).")
@click.option("-q", "--quiet", is_flag=True, help="Don't stream the command's output.")
@pass_ctx
@handles_errors
def scan(obj: Context, sources: tuple[str, ...], fail_on_alert: bool, quiet: bool) -> None:
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
                return await run_scan(config, sources=list(sources) or None, on_output=on_output)
            finally:
                ticker.cancel()

    outcome = run(main())
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


@cli.command()
@project_options
@click.option("--interval", type=float, help="Seconds between scans (default: watch_interval, 300).")
@click.option("--on-change", is_flag=True, help="Also scan when source or test files change.")
@click.option("--source", "sources", multiple=True, help="Scan only this source (repeatable).")
@pass_ctx
@handles_errors
def watch(obj: Context, interval: float | None, on_change: bool, sources: tuple[str, ...]) -> None:
    """Rescan continuously until interrupted (SIGINT/SIGTERM end it cleanly)."""
    from covtui.watch import Watcher, timestamped

    config = obj.config
    for name in sources:
        config.source(name)  # an unknown source is an error now, not at the first scan
    if interval is not None:
        check_number("--interval", interval, field_range(Config, "watch_interval"))
    every = config.watch_interval if interval is None else interval
    watcher = Watcher(
        config, interval_s=every, on_change=on_change, sources=list(sources) or None,
        log=lambda message: console.print(Text(printable(timestamped(message)))),
    )
    sys.exit(run(watcher.run()))


@cli.command()
@project_options
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", help="Source name to record under (default: python for coverage.py data).")
@click.option("--format", "fmt", type=click.Choice(["coverage.py", "coverage.json", "lcov", "cobertura", "junit"]), help="Override format detection.")
@click.option("--label", default="", help="A note stored with the snapshot.")
@pass_ctx
@handles_errors
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


@cli.command()
@project_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handles_errors
def status(obj: Context, as_json: bool) -> None:
    """Show the current coverage, phase, critical files and unacknowledged alerts."""
    config = obj.config

    async def main():
        # What status shows, each read once (no trend, unlike the dashboard's state).
        async with await Store.open(obj.db_path, read_only=True) as store:
            latest = await store.latest_snapshot()
            files = await store.files()
            unacked = await store.alerts(unacknowledged_only=True)
            state = DashboardState(
                latest=latest,
                previous=await store.comparable_before(latest) if latest else None,
                sources=await store.sources(),
                critical_files=critical_files(files, config.critical_files),
                alerts=unacked,
                n_unacknowledged=len(unacked),
                trend={},
            )
            return state, files, unacked

    state, files, unacked = run(main())
    if as_json:
        from covtui.domain.alerts import alert_json

        data = status_json(state, files, config)
        data["alerts"] = [alert_json(a) for a in unacked]
        print(json.dumps(data, indent=2))
        return
    latest = state.latest
    if latest is None:
        console.print("No snapshots yet: run `covtui scan` or `covtui ingest`.")
        return
    numbers = latest.numbers
    when = datetime.fromtimestamp(latest.created_at).strftime("%Y-%m-%d %H:%M:%S")
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
        console.print(
            f"  {phase.label}: progress to {phase.phase.end:g}%: {phase.pc_progress:.1f}%"
        )
    all_tests = total_tests(state.sources)
    if all_tests is not None:
        console.print(Text("Tests: ") + tests_text(all_tests, all_tests.test_s))
    if latest.n_diff_statements is not None:
        console.print(Text(
            f"  changed lines since {printable(latest.diff_base or '')}: "
            + (f"{pc_str(latest.pc_diff, config.precision)}% of {latest.n_diff_statements:,} statements"
               if latest.n_diff_statements else "no changed statements")
        ))
    for row in state.sources:
        text = Text(f"  {printable(row.source)}: ") + Text(
            pc_str(row.pc_covered if row.numbers and row.numbers.has_data else None, config.precision)
            + ("%" if row.numbers and row.numbers.has_data else "")
        )
        if row.status != "ok":
            text += Text(f"  (last scan {row.status}: {printable(row.message)})", style="red")
        if row.tests is not None:
            text += Text("  tests ") + tests_text(row.tests, row.tests.test_s)
        console.print(text)
        if row.measures_unimported is False:
            console.print(Text("    " + printable(unimported_notice()), style="yellow"))
    if state.critical_files:
        table = Table(title=f"Top {len(state.critical_files)} critical files", title_justify="left")
        table.add_column("file")
        table.add_column("cover", justify="right")
        table.add_column("missed", justify="right")
        table.add_column("change", justify="right")
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
    print_alerts(unacked[:20], title=f"{len(unacked)} unacknowledged alerts{shown}")


def status_json(state, files, config: Config) -> dict:
    latest = state.latest

    def summary(numbers: Numbers | None) -> dict | None:
        if numbers is None or not numbers.has_data:
            return None
        return numbers.as_coverage_json(config.precision)

    result: dict = {"snapshot": None, "totals": None, "sources": {}, "files": {}, "alerts": []}
    if latest is not None:
        result["snapshot"] = {
            "id": latest.id,
            "created_at": datetime.fromtimestamp(latest.created_at).astimezone().isoformat(),
            "status": latest.status,
            "trigger": latest.trigger,
            "git_commit": latest.git_commit,
            "git_branch": latest.git_branch,
            "previous_id": state.previous.id if state.previous else None,
        }
        result["diff_coverage"] = (
            None if latest.n_diff_statements is None else {
                "base": latest.diff_base,
                "num_statements": latest.n_diff_statements,
                "missing_lines": latest.n_diff_missing,
                "percent_covered": latest.pc_diff,
            }
        )
        result["totals"] = summary(latest.numbers)
        if latest.numbers is not None and latest.numbers.has_data:
            phase = phase_status(latest.numbers.pc_covered, config.phases)
            result["phase"] = {
                "number": phase.number,
                "name": phase.phase.name,
                "start": phase.phase.start,
                "end": phase.phase.end,
                "percent_progress": phase.pc_progress,
            }
    for row in state.sources:
        result["sources"][row.source] = {
            "status": row.status,
            "message": row.message,
            "snapshot_id": row.snapshot_id,
            "measures_unimported": row.measures_unimported,
            "summary": summary(row.numbers),
            "tests": tests_json(row.tests),
        }
    result["tests"] = tests_json(total_tests(state.sources))
    for f in files:
        result["files"].setdefault(f.source, {})[f.path] = {"summary": summary(f.numbers)}
    result["critical_files"] = [
        {"source": f.source, "path": f.path, "summary": summary(f.numbers),
         "change": f.pc_change} for f in state.critical_files
    ]
    return result


@cli.group(invoke_without_command=True)
@project_options
@click.option("--all", "show_all", is_flag=True, help="Include acknowledged alerts.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-n", "--limit", default=50, show_default=True, help="How many, newest first.")
@click.pass_context
def alerts(ctx: click.Context, show_all: bool, as_json: bool, limit: int) -> None:
    """List alerts (unacknowledged ones unless --all)."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj

    @handles_errors
    def show() -> None:
        check_number("--limit", limit, ALERT_LIMIT)

        async def main():
            async with await Store.open(obj.db_path, read_only=True) as store:
                return await store.alerts(unacknowledged_only=not show_all, limit=limit)

        rows = run(main())
        if as_json:
            from covtui.domain.alerts import alert_json

            print(json.dumps([alert_json(a) for a in rows], indent=2))
        else:
            print_alerts(
                rows, title=f"{len(rows)} {'' if show_all else 'unacknowledged '}alerts",
                empty="No alerts.", detail_lines=None,
            )

    show()


@alerts.command("ack")
@project_options
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "ack_all", is_flag=True, help="Acknowledge every unacknowledged alert.")
@pass_ctx
@handles_errors
def alerts_ack(obj: Context, ids: tuple[int, ...], ack_all: bool) -> None:
    """Acknowledge alerts by id (or --all)."""
    if not ids and not ack_all:
        raise CovtuiError("give alert ids or --all")

    async def main():
        async with await Store.open(obj.db_path, create=False) as store:
            for alert_id in ids:
                if not 0 < alert_id <= MAX_ID:  # more than SQLite can hold: no such row
                    raise CovtuiError(f"{obj.db_path}: no alert with id {alert_id}")
            return await store.acknowledge(None if ack_all else ids)

    n = run(main())
    console.print(f"{n} alert{'s' if n != 1 else ''} acknowledged")


@cli.command()
@project_options
@click.option("--older-than", "days", type=float, help="Days to keep (default: retention_days, 90).")
@pass_ctx
@handles_errors
def prune(obj: Context, days: float | None) -> None:
    """Remove snapshots older than the retention period (never the latest one)."""
    if days is not None:
        check_number("--older-than", days, OLDER_THAN)
    keep = obj.config.retention_days if days is None else days

    async def main():
        async with await Store.open(obj.db_path, create=False) as store:
            return await store.prune(keep)

    result = run(main())
    console.print(
        f"removed {result.n_snapshots} snapshots and {result.n_alerts} acknowledged alerts "
        f"older than {keep:g} days; database {result.bytes_before / 1e6:.1f} MB → {result.bytes_after / 1e6:.1f} MB"
    )


def notify(config: Config, alerts) -> None:
    """Hand new alerts to the `on_alert` hook, if one is configured."""
    if alerts and config.on_alert:
        from covtui.hooks import run_alert_hook

        run(run_alert_hook(config, alerts, lambda m: err_console.print(Text(printable(f"covtui: {m}")))))


def tests_text(tests: TestOutcomes | TestCounts, duration_s: float | None = None) -> Text:
    """"2 passed, 1 failed, 0 errors, 1 skipped[ in 0.3s]", failures in red."""
    bad = "bold red"
    text = Text(f"{tests.n_passed:,} passed, ")
    text += Text(f"{tests.n_failed:,} failed", style=bad if tests.n_failed else "")
    text += Text(", ")
    text += Text(f"{tests.n_errors:,} errors", style=bad if tests.n_errors else "")
    text += Text(f", {tests.n_skipped:,} skipped")
    if duration_s is not None:
        text += Text(f" in {duration_s:.1f}s")
    return text


def tests_json(tests: TestCounts | None) -> dict | None:
    if tests is None:
        return None
    return {
        "total": tests.n_tests,
        "passed": tests.n_passed,
        "failed": tests.n_failed,
        "errors": tests.n_errors,
        "skipped": tests.n_skipped,
        "duration_s": tests.test_s,
    }


def total_tests(rows) -> TestCounts | None:
    """The sum of each source's last run's tests (None when no source has any)."""
    counted = [row.tests for row in rows if row.tests is not None]
    if not counted:
        return None
    durations = [t.test_s for t in counted if t.test_s is not None]
    return TestCounts(
        *(sum(getattr(t, name) for t in counted) for name in ("n_tests", "n_failed", "n_errors", "n_skipped")),
        sum(durations) if durations else None,
    )


def print_source_result(result: SourceResult, config: Config) -> None:
    numbers = result.numbers
    text = Text(f"{printable(result.name)}: ", style="bold")
    if result.status is not RunStatus.OK:
        text += Text(f"{result.status.value}: {printable(result.message)}", style="red")
        console.print(text)
        return
    if numbers is None or not numbers.has_data:
        text += Text("no coverage data")
    else:
        text += Text(
            f"{numbers.pc_covered_str(config.precision)}% "
            f"({numbers.n_executed:,}/{numbers.n_statements:,} lines"
            + (f", {numbers.n_executed_branches:,}/{numbers.n_branches:,} branches" if numbers.n_branches else "")
            + f", {numbers.n_files_covered}/{numbers.n_files} files)"
        )
    tests = result.tests
    if tests is not None:
        text += Text("; tests ") + tests_text(tests)
    run_metrics = result.run
    if run_metrics.wall_s is not None:
        text += Text(f"; {run_metrics.wall_s:.1f}s")
        if run_metrics.peak_rss_kb:
            text += Text(f", peak {run_metrics.peak_rss_kb / 1024:.0f} MB")
    if result.report is not None:
        text += Text(f"; report read in {result.report.read_s:.2f}s")
    console.print(text)
    if tests is not None and (tests.n_failed or tests.n_errors):
        n = tests.n_failed + tests.n_errors
        names = [printable(f.name) for f in tests.failures[:FAILURES_NAMED]]
        more = n - len(names)
        console.print(Text(
            f"{printable(result.name)}: {n:,} test{'s' if n != 1 else ''} failed"
            + (f": {', '.join(names)}" if names else "")
            + (f" and {more:,} more" if names and more > 0 else ""),
            style="bold red",
        ))


def print_alerts(
    rows, title: str = "Alerts", empty: str | None = None, detail_lines: int | None = 0
) -> None:
    """One line per alert, then up to `detail_lines` lines of its detail (None: all)."""
    if not rows:
        if empty:
            console.print(empty)
        return
    console.print(Text(title, style="bold"))
    for a in rows:
        when = datetime.fromtimestamp(a.created_at).strftime("%Y-%m-%d %H:%M")
        mark = " " if a.acknowledged_at else "●"
        line = Text(f"{mark} #{a.id} {when} ") + Text(
            f"{a.severity.value:8}", style=SEVERITY_STYLE.get(a.severity.value, "")
        ) + Text(f" {printable(a.rule)}: ") + Text(printable(a.message))
        console.print(line)
        details = a.detail.splitlines() if detail_lines != 0 else []
        for item in details[:detail_lines]:
            console.print(Text(f"    {printable(item)}", style="dim"))
        if detail_lines is not None and len(details) > detail_lines:
            console.print(
                Text(f"    … {len(details) - detail_lines:,} more: covtui alerts", style="dim")
            )


from covtui.report import report  # noqa: E402  (uses handles_errors above)

cli.add_command(project_options(report))


def main() -> None:
    cli(standalone_mode=True)
