"""What a file is, from its first bytes. Imports nothing of covtui's: `covtui`'s entry point
asks before anything else loads."""

from __future__ import annotations

import os

#: The first bytes of an SQLite database: what a coverage.py data file starts with.
SQLITE_HEADER = b"SQLite format 3\x00"


def looks_like_coverage_data(path: str | os.PathLike[str]) -> bool:
    """Whether `path` starts as an SQLite database does (`readers.detect_format`'s rule).
    Only a regular file is opened: a pipe would wait for a writer, or lose what is read."""
    if not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False
