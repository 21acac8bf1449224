"""The `covtui` command (and `python -m covtui`): the command line, with a head start.

`covtui ingest` of coverage.py data starts its reader's worker here, before click and the
command line are imported: the worker imports coverage.py and reads on the other core
while this process starts up (about a tenth of a warm ingest). Nothing else is imported
here, so every other command starts as it would without it.
"""

from __future__ import annotations

import sys

#: The group's options that take a value (`--db PATH`, `--project DIR`), before the command.
_GROUP_OPTIONS = ("--db", "--project")


def main() -> None:
    early = _reads_coverage_data(sys.argv[1:])
    if early:
        from covtui.readers.worker import COVERAGE_READER, start_early

        start_early(COVERAGE_READER)
    try:
        from covtui.cli import main as run_command_line

        run_command_line()
    finally:
        if early:
            from covtui.readers.worker import end_early

            end_early()  # if the command never took it (--help, a usage error)


def _reads_coverage_data(args: list[str]) -> bool:
    """Whether `args` ask `ingest` to read coverage.py data: `--format coverage.py`, or a
    path that starts as an SQLite database does (the rule `covtui ingest` applies again).
    A wrong guess costs a worker that is ended unused; it changes nothing else."""
    rest = iter(args)
    for arg in rest:
        if arg in _GROUP_OPTIONS:
            next(rest, None)
        elif not arg.startswith(_GROUP_OPTIONS):
            break
    else:
        return False
    if arg != "ingest":
        return False
    args = list(rest)
    for i, arg in enumerate(args):
        if arg == "--format" or arg.startswith("--format="):
            fmt = arg.partition("=")[2] or (args[i + 1] if i + 1 < len(args) else "")
            return fmt == "coverage.py"
    from pathlib import Path

    from covtui.readers.worker import looks_like_coverage_data

    return any(looks_like_coverage_data(Path(a)) for a in args if not a.startswith("-"))


if __name__ == "__main__":
    main()
