"""The pytest plugin's recording child: read the run's coverage data and store the snapshot.

`python -m covtui.pytest_plugin.record` with the run (JSON, from `Recorder`) on stdin; prints
one line, what it stored or why not (exit 1 then). Recorded through covtui's ingest path, as
`covtui ingest` would, with the run's own outcomes, trigger "pytest" and its scope.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from covtui.domain.model import (
    RunMetrics,
    RunStatus,
    SourceResult,
    TestFailure,
    TestOutcomes,
)
from covtui.errors import CovtuiError

_BAD = ("failed", "error")


def source_result(read: SourceResult, run: dict) -> tuple[SourceResult, int | None]:
    """The coverage read from the data file, with the run's outcomes and scope; and how many
    tests a partial run ran (None: the whole suite)."""
    outcomes: dict[str, str] = {str(k): str(v) for k, v in run["outcomes"].items()}
    values = list(outcomes.values())
    failures = run.get("failures", {})
    tests = TestOutcomes(
        n_tests=len(values),
        n_failed=values.count("failed"),
        n_errors=values.count("error"),
        n_skipped=values.count("skipped"),
        duration_s=float(run["wall_s"]),
        failures=[TestFailure(nodeid, str(failures.get(nodeid, ""))) for nodeid, outcome
                  in outcomes.items() if outcome in _BAD],
        ids=sorted(outcomes),
    )
    partial = run["scope"] == "partial"
    result = SourceResult(
        read.name,
        RunStatus.PARTIAL if partial else RunStatus.OK,
        read.report,
        tests,
        RunMetrics(wall_s=float(run["wall_s"]), exit_code=run.get("exit_code")),
        message=run.get("why", "") if partial else "",
        # Per-test outcomes only where they are compared: a full run.
        outcomes=None if partial else outcomes,
    )
    return result, len(values) if partial else None


def record(run: dict) -> str:
    """Store the run; the line that says what was stored."""
    from covtui.config import load_config
    from covtui.domain.digests import saved_meanwhile
    from covtui.ingest import read_reports, record_ingest
    from covtui.present.text import partial_run, plural
    from covtui.signals import run_stoppable

    config = load_config(Path(run["root"]))
    read = read_reports(config, [Path(run["data_file"])], fmt="coverage.py")
    if read.report is not None:
        saved = saved_meanwhile(run.get("digests"), read.report.source_digests)
        if saved:  # not the figures of any tree: nothing is stored
            return f"covtui: not recorded: {saved}; run the tests again"
    result, n_tests_run = source_result(read, run)
    # Here a partial run could be merged exactly with the previous per-test coverage, as the
    # affected rescans merge, and stored 'incremental' (its outcomes are in run["outcomes"]).
    snapshot_id, alerts = run_stoppable(record_ingest(
        config, config.database_target, result, trigger="pytest", scope=run["scope"],
        n_tests_run=n_tests_run,
    ))
    if alerts and config.on_alert:
        from covtui.hooks import run_alert_hook

        run_stoppable(run_alert_hook(config, alerts, lambda m: print(f"covtui: {m}", file=sys.stderr)))
    numbers = result.numbers
    covered = (f", {numbers.pc_covered_str(config.precision)}% covered"
               if numbers is not None and numbers.has_data else "")
    line = f"covtui: snapshot #{snapshot_id} recorded{covered}"
    if n_tests_run is not None:
        line += f"; {partial_run(n_tests_run, result.message)}, not compared"
    if alerts:
        line += f"; {plural(len(alerts), 'new alert')} (covtui alerts)"
    return line


def main() -> int:
    try:
        run = json.loads(sys.stdin.read())
        print(record(run))
    except CovtuiError as exc:
        print(f"covtui: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # one line: the test run must not end in covtui's traceback
        sqlite3 = sys.modules.get("sqlite3")
        kind = "database error" if sqlite3 and isinstance(exc, sqlite3.Error) else type(exc).__name__
        print(f"covtui: {kind}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
