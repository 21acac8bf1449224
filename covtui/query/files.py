"""The project's files as they are on disk now, and the gap analysis that reads them."""

from __future__ import annotations

import asyncio
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

from covtui.domain.gaps import SOURCE_OUTSIDE, FileGaps, analyse_file
from covtui.domain.records import FileDetail

#: `ProjectFile.problem` for a path that resolves outside the project: never opened.
OUTSIDE_PROJECT = "outside the project root"


@dataclass(frozen=True)
class ProjectFile:
    """A measured file read from disk, or why it was not."""

    path: Path | None  # resolved; None when outside the project root
    data: bytes | None
    mtime: float | None
    problem: str | None = None


def project_file(root: Path, path: str) -> Path | None:
    """The file a report's `path` names, resolved (symlinks included), if it is inside `root`.

    A report is data and may name any path; covtui opens only the project's own files, so a
    report saying `../secret.txt` or `/etc/passwd` (or a symlink pointing there) gets None.
    """
    full = Path(path) if Path(path).is_absolute() else root / path
    try:
        resolved = full.resolve()
        return resolved if resolved.is_relative_to(root.resolve()) else None
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a symlink loop
        return None


def read_project_file(root: Path, path: str) -> ProjectFile:
    """The bytes and modification time of the project file a report names."""
    full = project_file(root, path)
    if full is None:
        return ProjectFile(None, None, None, OUTSIDE_PROJECT)
    try:
        data = full.read_bytes()
        mtime = full.stat().st_mtime
    except FileNotFoundError:
        return ProjectFile(full, None, None, "not found on disk")
    except OSError as exc:
        return ProjectFile(full, None, None, f"cannot be read: {exc.strerror}")
    return ProjectFile(full, data, mtime)


def read_source(root: Path, path: str) -> str | None:
    """The text of a measured file, or None when it can't be read (moved, deleted, binary)
    or must not be (outside the project root)."""
    found = read_project_file(root, path)
    if found.path is None or found.data is None:
        return None
    try:
        if found.path.suffix in (".py", ".pyw"):
            # As `tokenize.open` reads it: the PEP 263 coding line honoured, strictly.
            encoding, errors = tokenize.detect_encoding(io.BytesIO(found.data).readline)[0], "strict"
        else:
            encoding, errors = "utf-8", "replace"
        return io.TextIOWrapper(io.BytesIO(found.data), encoding=encoding, errors=errors).read()
    except (SyntaxError, UnicodeDecodeError):
        return None


def analyse_source(root: Path, detail: FileDetail) -> FileGaps:
    """`analyse_file` with the file as it is on disk now, if it is one of the project's."""
    if project_file(root, detail.path) is None:
        return analyse_file(detail, None, missing_note=SOURCE_OUTSIDE)
    return analyse_file(detail, read_source(root, detail.path))


async def file_gaps(root: Path, detail: FileDetail) -> FileGaps:
    """The gap analysis of one file: its source is read and parsed in a thread."""
    return await asyncio.to_thread(analyse_source, root, detail)
