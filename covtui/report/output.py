"""Where `covtui report -o` may write, and writing there atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from covtui.errors import CovtuiError
from covtui.sniff import SQLITE_HEADER

_KINDS = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def output_target(path: Path, db_path: Path | object) -> Path:
    """The file `-o path` replaces: a symlink's target (the link stays), but never the monitoring
    database or its companions, another SQLite database, or anything but a regular file.
    (`db_path` not a Path: a PostgreSQL database, with no file to protect.)"""
    try:
        target = path.resolve()
        db = db_path.resolve() if isinstance(db_path, Path) else Path("/nonexistent/covtui.db")
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise CovtuiError(f"{path}: cannot resolve the path: {exc}") from None
    companions = {Path(f"{db}{suffix}") for suffix in ("", "-wal", "-shm", "-journal", ".scan-lock")}
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise CovtuiError(f"{path}: cannot write the report: {exc.strerror}") from None
    if target in companions or (st is not None and db.exists() and os.path.samefile(target, db)):
        raise CovtuiError(f"{path}: the monitoring database: not replaced")
    if st is None:
        return target
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS.items() if test(st.st_mode)), "not a plain file")
        raise CovtuiError(f"{path}: not a regular file ({kind}): not replaced")
    try:
        with open(target, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise CovtuiError(f"{path}: cannot write the report: {exc.strerror}") from None
    if head == SQLITE_HEADER:
        raise CovtuiError(f"{path}: an SQLite database: not replaced")
    return target


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader sees the old file or the new one, never half of one.

    A replaced file keeps its mode; a new one gets the usual mode (0666 less the umask).
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CovtuiError(f"{path}: the folder {directory} does not exist")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
