"""One scan at a time per database: an flock the kernel drops when its holder dies."""

from __future__ import annotations

import fcntl
import os
import time
from datetime import datetime
from pathlib import Path

from covtui.errors import ScanBusy, StoreError
from covtui.folder import make_database_folder


class ScanLock:
    """Held while a scan runs. A scan killed with SIGKILL leaves the file but not the lock."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(f"{db_path}.scan-lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            make_database_folder(self.path)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the scan lock: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").split()
            os.close(fd)
            raise ScanBusy(f"{self.path}: another scan is running{_describe(holder)}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {time.time():.0f}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ScanLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _describe(holder: list[str]) -> str:
    try:
        pid, since = int(holder[0]), float(holder[1])
    except (IndexError, ValueError):
        return ""
    return f" (pid {pid}, since {datetime.fromtimestamp(since):%Y-%m-%d %H:%M:%S})"
