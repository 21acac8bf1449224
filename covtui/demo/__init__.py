"""A realistic demo: a synthetic project's 90-day history in a cached monitoring database,
and a pretend rescan for the dashboard's `r` key."""

from covtui.demo.database import (
    BATCH,
    RETENTION_DAYS,
    DemoPlan,
    build_demo_database,
    demo_config,
    demo_database_path,
    demo_lock,
    ensure_demo_database,
    fill_demo_database,
    plan_demo_database,
)
from covtui.demo.project import SEED_CRITICAL
from covtui.demo.scanner import demo_scan
from covtui.demo.sources import demo_project_root, materialise_sources
from covtui.demo.timeline import DemoHistory

__all__ = [
    "BATCH",
    "RETENTION_DAYS",
    "SEED_CRITICAL",
    "DemoHistory",
    "DemoPlan",
    "build_demo_database",
    "demo_config",
    "demo_database_path",
    "demo_lock",
    "demo_project_root",
    "demo_scan",
    "ensure_demo_database",
    "fill_demo_database",
    "materialise_sources",
    "plan_demo_database",
]
