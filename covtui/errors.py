"""Errors that mean the user has something to fix: shown as one line, never a traceback."""


class CovtuiError(Exception):
    """A problem with the user's input, config or files; `str()` is the one-line message."""

    exit_code = 2


class InputError(CovtuiError):
    """A report, data file or config that cannot be read: names the file and the problem."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class WorkerDied(CovtuiError):
    """A worker process (a coverage.py read) ended without answering: killed, out of memory,
    or covtui replaced on disk while it ran (its answer no longer unpickles)."""


class StoreError(CovtuiError):
    """The monitoring database cannot be used (unreadable, newer schema, locked too long)."""


class ReadOnlyAccess(StoreError):
    """The database may be read but not written by this user (a read-only role or file)."""


class ScanBusy(CovtuiError):
    """Another scan holds the database's scan lock."""

    exit_code = 3
