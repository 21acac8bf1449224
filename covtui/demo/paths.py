"""Where the demo keeps its cache: the database, and the project's sources beside it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from covtui import __version__

#: What the history holds changed (2: skipped branches go where the materialised sources
#: jump): a cache of another format is built anew.
FORMAT = 2


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


def meta_path(db_path: Path) -> Path:
    """The cache's metadata: the history it holds (seed, end) and whether it is complete."""
    return Path(db_path).with_suffix(".json")


def read_meta(db_path: Path, seed: int) -> dict | None:
    """The metadata of the cache at `db_path` if it is of this covtui and seed, else None."""
    try:
        meta = json.loads(meta_path(db_path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("version") != __version__ or meta.get("seed") != seed:
        return None
    if meta.get("format") != FORMAT:
        return None
    try:
        float(meta["days"]), float(meta["interval_s"]), float(meta["end"])
    except (KeyError, TypeError, ValueError):
        return None
    return meta
