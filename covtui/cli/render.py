"""How the command line prints results: source results, alerts, test counts; the alert hook."""

from __future__ import annotations

from rich.text import Text

from covtui.cli.console import console, err_console
from covtui.config import Config
from covtui.display import printable
from covtui.domain.model import RunStatus, SourceResult, TestOutcomes
from covtui.domain.records import TestCounts
from covtui.present.text import local_time, memory, plural
from covtui.signals import run_stoppable

SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
#: How many failing tests `scan` names.
FAILURES_NAMED = 5


def notify(config: Config, alerts) -> None:
    """Hand new alerts to the `on_alert` hook, if one is configured."""
    if alerts and config.on_alert:
        from covtui.hooks import run_alert_hook

        run_stoppable(run_alert_hook(config, alerts, lambda m: err_console.print(Text(printable(f"covtui: {m}")))))


def tests_text(tests: TestOutcomes | TestCounts, duration_s: float | None = None) -> Text:
    """"2 passed, 1 failed, 0 errors, 1 skipped[ in 0.3s]", failures in red."""
    bad = "bold red"
    text = Text(f"{tests.n_passed:,} passed, ")
    text += Text(f"{tests.n_failed:,} failed", style=bad if tests.n_failed else "")
    text += Text(", ")
    text += Text(plural(tests.n_errors, "error"), style=bad if tests.n_errors else "")
    text += Text(f", {tests.n_skipped:,} skipped")
    if duration_s is not None:
        text += Text(f" in {duration_s:.1f}s")
    return text


def total_tests(rows) -> TestCounts | None:
    """The sum of each source's last run's tests (None when no source has any)."""
    counted = [row.tests for row in rows if row.tests is not None]
    if not counted:
        return None
    durations = [t.duration_s for t in counted if t.duration_s is not None]
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
            text += Text(f", peak {memory(run_metrics.peak_rss_kb, gigabytes=False)}")
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
        when = local_time(a.created_at)
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


