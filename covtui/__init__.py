"""covtui: a live terminal dashboard for test coverage, with its history in SQLite."""

__version__ = "0.1.0"
