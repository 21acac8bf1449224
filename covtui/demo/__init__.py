"""A realistic demo: a synthetic project's 90-day history in a cached monitoring database,
and a pretend rescan for the dashboard's `r` key."""

from covtui.demo.database import (
    BATCH,
    RETENTION_DAYS,
    build_demo_database,
    demo_config,
    demo_database_path,
    ensure_demo_database,
)
from covtui.demo.project import SEED_CRITICAL
from covtui.demo.scanner import demo_scan
from covtui.demo.timeline import DemoHistory

__all__ = [
    "BATCH",
    "RETENTION_DAYS",
    "SEED_CRITICAL",
    "DemoHistory",
    "build_demo_database",
    "demo_config",
    "demo_database_path",
    "demo_scan",
    "ensure_demo_database",
]
