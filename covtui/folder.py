"""The covtui folder beside a project (`.covtui/`: the database and the analysis cache):
created on first use, and kept out of git like `.pytest_cache`."""

from __future__ import annotations

import os
from pathlib import Path

GITIGNORE = "# created by covtui\n*\n"


def make_database_folder(db_path: Path) -> None:
    """Create the folder of `db_path` if it is missing, with a `.gitignore` that ignores all of it.

    Only a folder covtui creates gets one: an existing folder the user chose is left as it is.
    """
    folder = Path(db_path).parent
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    # Exclusive create: two first scans racing write it once; a failure costs only the file.
    try:
        fd = os.open(folder / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(GITIGNORE)
