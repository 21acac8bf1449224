"""The covtui folder beside a project (`.covtui/`: the database and the analysis cache):
created on first use, and kept out of git like `.pytest_cache`; and the project's own files,
as covtui walks them (hidden folders, caches, build outputs and virtualenvs left out)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
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


#: Folders that hold no project source: caches, build outputs, installed packages.
SKIP_DIRS = {"__pycache__", "node_modules", "build", "dist", "site-packages", "venv", "target", "htmlcov"}
SKIP_SUFFIXES = (".pyc", ".pyo", ".swp")


def project_files(root: Path, skip: Iterable[Path] = ()) -> Iterator[tuple[str, str]]:
    """(path, key relative to the root with "/") of every file of the project: hidden
    folders and files, caches, build outputs, `*.egg-info`, virtualenvs and `skip` left out."""
    skipped = {os.path.realpath(p) for p in skip}
    root_text = str(root)
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and d not in SKIP_DIRS and not d.endswith(".egg-info")
            and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
            and os.path.realpath(os.path.join(folder, d)) not in skipped
        )
        for name in names:
            if name.startswith(".") or name.endswith(SKIP_SUFFIXES):
                continue
            full = os.path.join(folder, name)
            if skipped and os.path.realpath(full) in skipped:
                continue
            yield full, os.path.relpath(full, root_text).replace(os.sep, "/")


def python_sources(root: Path, skip: Iterable[Path] = ()) -> Iterator[tuple[str, bytes]]:
    """(key, bytes) of each Python file of the project (`project_files`); unreadable ones left out."""
    for full, key in project_files(root, skip):
        if key.endswith(".py"):
            try:
                with open(full, "rb") as f:
                    yield key, f.read()
            except OSError:
                continue
