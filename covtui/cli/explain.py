"""`covtui explain [FROM [TO]]`: why coverage moved between two snapshots, cause by cause."""

from __future__ import annotations

import functools
import json

import click
from rich.text import Text

from covtui.cli.console import console
from covtui.cli.context import Context, pass_ctx, project_options
from covtui.display import printable
from covtui.domain.explain import Explanation, by_size
from covtui.query.explain import explanation

#: Files and tests listed per cause before "… and N more" (--json lists all).
LISTED = 8


@click.command()
@project_options
@click.argument("from_id", metavar="[FROM", type=int, required=False)
@click.argument("to_id", metavar="[TO]]", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def explain(obj: Context, from_id: int | None, to_id: int | None, as_json: bool) -> None:
    """Why coverage moved from snapshot FROM to TO (default: the latest against the good
    snapshot before it): every changed line given one cause, with the tests named."""
    from covtui.git.lines import file_diffs

    diffs = functools.partial(file_diffs, obj.config.root)

    e = obj.read(lambda store: explanation(
        store, from_id, to_id, diffs, obj.config.alerts.flaky_half_life_days
    ))
    if as_json:
        from covtui.present.serialise import explanation_json

        print(json.dumps(explanation_json(e), indent=2))
        return
    print_explanation(e)


def _delta(n: int) -> str:
    return f"{n:+,}"


def print_explanation(e: Explanation) -> None:
    console.print(Text(
        f"snapshot #{e.from_id} → #{e.to_id}: covered lines {_delta(e.covered_lines_delta)}, "
        f"missed lines {_delta(e.missed_lines_delta)}", style="bold",
    ))
    if not e.causes:
        console.print("  no line changed state")
    for c in e.causes:
        console.print(Text(
            f"  {c.kind}: covered {_delta(c.covered_lines_delta)}, "
            f"missed {_delta(c.missed_lines_delta)}", style="bold",
        ))
        tests = sorted(c.tests)
        for name in tests[:LISTED]:
            console.print(Text(f"    test {printable(name)}"))
        if len(tests) > LISTED:
            console.print(Text(f"    … and {len(tests) - LISTED:,} more tests", style="dim"))
        files = sorted(c.files.values(), key=by_size)
        for f in files[:LISTED]:
            lines = f" lines {_ranges(f.lines)}" if f.lines else ""
            console.print(Text(
                f"    {printable(f.path)}: covered {_delta(f.covered_lines_delta)}, "
                f"missed {_delta(f.missed_lines_delta)}{lines}", style="dim",
            ))
        if len(files) > LISTED:
            console.print(Text(f"    … and {len(files) - LISTED:,} more files", style="dim"))
    if not e.exact:
        console.print(Text(
            "  (some files had no per-test coverage at both ends: their change is counted by "
            "file, not line)", style="dim",
        ))


def _ranges(lines: list[int]) -> str:
    from covtui.domain.codec import encode_lines

    text = encode_lines(lines)
    return text if len(text) <= 60 else text[:57] + "…"
