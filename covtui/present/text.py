"""One formatter per quantity and one sentence per fact, as plain strings (no markup)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from covtui.display import printable
from covtui.domain.numbers import Numbers, measured, pc_str
from covtui.domain.records import SnapshotRow

#: What an absent value shows as in a table.
NONE = "—"


def plural(n: int, word: str) -> str:
    """"1 alert", "2,345 alerts"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def partial_run(n_tests: int | None, why: str = "") -> str:
    """"partial run: 12 tests (-k add)": a narrowed run, stored but never compared."""
    text = "partial run" + (f": {plural(n_tests, 'test')}" if n_tests is not None else "")
    return text + (f" ({printable(why)})" if why else "")


def exclusions_compared(previous_id: int | None, previous_recorded: bool) -> str:
    """What the exclusion counts' change is against (`covtui excluded` and the `x` screen)."""
    if previous_id is None:
        return "no comparable snapshot before"
    if previous_recorded:
        return f"change since #{previous_id}"
    return f"#{previous_id} did not record them"


def local_time(ts: float, *, seconds: bool = False) -> str:
    """"2026-11-20 10:00" (or "…10:00:05") in the local zone."""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def duration(seconds: float | None, *, spaced: bool = True, clock: bool = True) -> str:
    """"0.42 s", "12.3 s", then (with `clock`) "2m 05s" and "1h 03m"; `spaced=False` writes
    "0.42s"."""
    if seconds is None:
        return NONE
    unit = " s" if spaced else "s"
    if seconds < 10:
        return f"{seconds:.2f}{unit}"
    if seconds < 100 or not clock:
        return f"{seconds:.1f}{unit}"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def memory(kb: float | None, *, decimals: int = 0, gigabytes: bool = True) -> str:
    """A size given in KiB as "12 MB" (or "12.3 MB" with `decimals=1`), past 1,024 MB as
    "1.25 GB" unless `gigabytes` is off."""
    if kb is None:
        return NONE
    mb = kb / 1024
    if mb < 1024 or not gigabytes:
        return f"{mb:.{decimals}f} MB"
    return f"{mb / 1024:.2f} GB"


def phase_progress(pc_progress: float, start: float, end: float) -> str:
    """How far through its band coverage is, worded so it can't pass for a coverage figure."""
    return f"{pc_progress:.1f}% of the way from {start:g}% to {end:g}%"


def lift_text(pc_lift: float, pc_after: float, precision: int = 2) -> str:
    """What covering a recommended file adds: "covering it adds 3.2 points (to 45.1% with those
    above)"."""
    return (f"covering it adds {pc_str(pc_lift, precision)} points "
            f"(to {pc_str(pc_after, precision)}% with those above)")


def coverage_text(n: Numbers | None, precision: int = 2) -> str:
    """"45.1%" (to `precision` places), or "no data" when nothing was measured."""
    n = measured(n)
    return "no data" if n is None else f"{n.pc_covered_str(precision)}%"


def diff_coverage_parts(
    latest: SnapshotRow | None, precision: int = 2, plain: Callable[[str], str] = printable
) -> tuple[str, str, str] | None:
    """The sentence for diff coverage in three parts, label, figure and count:
    ("changed lines since main (3f2a9c1): ", "71.43%", " of 21"), or
    ("changed lines since main: ", "no changed statements", "") when no changed line is a
    statement; None when it was not measured (no git, or no base to compare with)."""
    if latest is None or latest.n_diff_statements is None:
        return None
    label = f"changed lines since {plain(latest.diff_base or 'the base')}: "
    if latest.n_diff_statements == 0:
        return label, "no changed statements", ""
    return label, f"{pc_str(latest.pc_diff, precision)}%", f" of {latest.n_diff_statements:,}"


def unimported_notice(source: str | None = None) -> str:
    """What a coverage.py source without `source` configured cannot see, and the fix."""
    who = f"{source}: " if source else ""
    return (
        f"{who}coverage.py's `source` is not set, so files no test imports are invisible "
        "(not counted at 0%); set it in pyproject.toml: [tool.coverage.run] "
        'source = ["your_package"]'
    )


# -- who ran a line (`covtui who`, the file view's tests panel) --------------------------------

#: A line that ran with no test running (the empty context).
RAN_AT_IMPORT = "ran outside any test (module import, conftest, collection)"
#: A line no test's body ran.
ONLY_OUTSIDE_TESTS = "only at import or in fixtures, never in a test's body"
#: Where the snapshot kept no per-test coverage ("no data", not "no tests").
NO_PER_TEST_DATA = "no per-test data for this snapshot"


def not_run(missed: bool | None) -> str:
    """Why no test is listed for a line that did not run."""
    return f"{'missed' if missed else 'not run (not a statement, or excluded)'}: no test ran it"


def test_phases(phases: tuple[str, ...]) -> str:
    """"" for a test that ran the line in its body only, else "  [setup, run]"."""
    return "" if phases == ("run",) else f"  [{', '.join(phases)}]"


def incremental_run(snapshot: SnapshotRow) -> str:
    """"incremental: 37 of 412 tests": how much of the suite an incremental snapshot ran."""
    ran = f"{snapshot.n_tests_run:,}" if snapshot.n_tests_run is not None else "?"
    if snapshot.tests is None:
        return f"incremental: {ran} tests run"
    return f"incremental: {ran} of {snapshot.tests.n_tests:,} tests"
