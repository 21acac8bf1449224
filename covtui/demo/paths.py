"""Where the demo keeps its cache: the database, and the project's sources beside it."""

from __future__ import annotations

import os
from pathlib import Path

from covtui import __version__


def demo_database_path(seed: int = 2025) -> Path:
    """Where the cached demo database lives."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "covtui" / f"demo-{__version__}-{seed}.db"


#: The demo project's name (the seed report's project): the dashboard's header shows it.
PROJECT_NAME = "workspace-qdrant-mcp"


def demo_project_root(db_path: Path) -> Path:
    """The folder the demo's sources live in: beside the database, one per database."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.project") / PROJECT_NAME
