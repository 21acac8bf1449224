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


def covtui_files(db_path: Path, root: Path) -> list[Path]:
    """What covtui itself writes: the database folder, or, when that folder holds the project
    (`--db ../m.db`, `database = "m.db"`), only the database, its journals, cache, runs and
    the per-test data kept for affected rescans."""
    db = Path(db_path)
    folder = db.parent
    if folder != root and folder not in root.parents:
        return [folder]
    beside = [db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal", ".scan-lock")]
    return [db, *beside, folder / "cache", folder / "run", folder / "affected"]
