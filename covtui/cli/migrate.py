"""`covtui migrate`: copy a whole history to another database (SQLite file or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from covtui.cli.console import console, err_console
from covtui.cli.context import run
from covtui.cli.group import fail
from covtui.config import Range, check_number
from covtui.display import printable
from covtui.dsn import is_postgres
from covtui.present.text import plural
from covtui.store.migrate import CHUNK_ROWS, open_endpoint
from covtui.store.migrate import migrate as copy_history

#: Rows per transaction `--chunk-rows` accepts.
CHUNK_RANGE = Range(min=1, max=1_000_000)


@click.command()
@click.option("--from", "source", required=True, metavar="PATH_OR_URL",
              help="The history to copy: a database file or postgresql://… URL.")
@click.option("--to", "dest", required=True, metavar="PATH_OR_URL",
              help="Where to copy it: a new or empty database, or the one an interrupted migrate left.")
@click.option("--chunk-rows", type=int, default=CHUNK_ROWS, show_default=True,
              help="Rows per transaction.")
def migrate(source: str, dest: str, chunk_rows: int) -> None:
    """Copy a whole history (every snapshot, file, alert and acknowledgement) from one
    database to another, in chunks; run it again to go on after an interruption."""
    check_number("--chunk-rows", chunk_rows, CHUNK_RANGE)

    if _same_file(source, dest):
        fail(f"{dest}: is the source itself")
    live = err_console.is_terminal

    def progress(table: str, n_rows: int) -> None:
        if live:
            err_console.print(Text(f"{table}: {n_rows:,} rows copied".ljust(60)), end="\r")

    async def main():
        source_end = await open_endpoint(source, writable=False)
        try:
            dest_end = await open_endpoint(dest, writable=True)
            try:
                result = await copy_history(source_end, dest_end, chunk_rows=chunk_rows, progress=progress)
                return result, source_end.label, dest_end.label
            finally:
                await dest_end.close()
        finally:
            await source_end.close()

    try:
        result, source_label, dest_label = run(main())
    finally:
        if live:
            err_console.print(" " * 60, end="\r")
    verified = (
        f"verified: the row counts of {plural(len(result.counts), 'table')} "
        f"({result.n_rows:,} rows) and the totals of {plural(result.n_snapshots, 'snapshot')} are equal"
    )
    if result.already:
        console.print(Text(f"{printable(dest_label)} already holds this history; {verified}"))
        return
    copied = sum(result.rows_copied.values())
    resumed = " (went on from an interrupted copy)" if result.resumed else ""
    console.print(Text(
        f"copied {copied:,} rows from {printable(source_label)} to {printable(dest_label)}{resumed}; {verified}"
    ))


def _same_file(source: str, dest: str) -> bool:
    if is_postgres(source) or is_postgres(dest):
        return False
    try:
        return Path(source).samefile(dest)
    except OSError:
        return False
