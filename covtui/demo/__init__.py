"""A realistic demo: a synthetic project's 90-day history in a cached monitoring database,
and a pretend rescan for the dashboard's `r` key.

Names are imported on first use: `covtui demo` starts the history's fill process before it
pays for the store's and the simulation's imports.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "BATCH": "database",
    "RETENTION_DAYS": "database",
    "DemoPlan": "database",
    "build_demo_database": "database",
    "demo_config": "database",
    "demo_lock": "database",
    "ensure_demo_database": "database",
    "fill_demo_database": "database",
    "plan_demo_database": "database",
    "demo_database_path": "paths",
    "demo_project_root": "paths",
    "SEED_CRITICAL": "project",
    "demo_scan": "scanner",
    "materialise_sources": "sources",
    "DemoHistory": "timeline",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"covtui.demo.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
