"""`covtui who FILE:LINE`: the tests that ran a line in the latest per-test coverage."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.text import Text

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options
from covtui.config import Range, check_number
from covtui.display import printable
from covtui.errors import CovtuiError
from covtui.present.serialise import line_answer_json
from covtui.present.text import ONLY_OUTSIDE_TESTS, RAN_AT_IMPORT, not_run, plural, test_phases
from covtui.query.tests import who as who_ran

#: Line numbers a file can have (coverage.py stores them as SQLite integers).
LINE = Range(min=1, max=2**31 - 1)


@click.command()
@project_options
@click.argument("where", metavar="FILE:LINE")
@click.option("--source", default=None, help="The source that measured FILE (when several did).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def who(obj: Context, where: str, source: str | None, as_json: bool) -> None:
    """The tests that ran FILE's LINE in the latest snapshot with per-test coverage."""
    path, line = parse_location(where, obj.config.root)

    answer = obj.read(lambda store: who_ran(store, path, line, source))
    if as_json:
        print(json.dumps(line_answer_json(answer), indent=2))
        return
    where_text = f"{answer.path}:{answer.line} (source {answer.source}, snapshot #{answer.snapshot_id})"
    console.print(Text(printable(where_text), style="bold"))
    if not answer.ran:
        console.print(Text(f"  {not_run(answer.missed)}"))
        return
    if answer.at_import:
        console.print(Text(f"  {RAN_AT_IMPORT}"))
    for test in answer.tests:
        console.print(Text(f"  {printable(test.name)}{test_phases(test.phases)}"))
    summary = f"  {plural(answer.n_tests, 'test')}"
    if answer.only_outside_tests:
        summary += f"; {ONLY_OUTSIDE_TESTS}"
    console.print(Text(summary, style="dim"))


def parse_location(where: str, root: Path) -> tuple[str, int]:
    """"pkg/calc.py:12" → the stored path (relative to the project root) and the line."""
    path, sep, number = where.rpartition(":")
    if not sep or not path:
        raise CovtuiError(f"{printable(where)!r}: give FILE:LINE, e.g. pkg/calc.py:12")
    try:
        line = int(number)
    except ValueError:
        raise CovtuiError(
            f"{printable(where)!r}: LINE should be a whole number, not {printable(number)!r}"
        ) from None
    check_number(f"{printable(where)!r}: LINE", line, LINE)
    full = Path(os.path.abspath(path))
    try:
        return full.relative_to(root.resolve()).as_posix(), line
    except ValueError:
        return path, line  # outside the project: stored as given
