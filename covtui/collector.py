"""Python's cyclic garbage collector, tuned for covtui's processes.

A covtui command builds many objects it keeps (imported modules, a report's files), and the
default thresholds (700, 10, 10) make the collector walk all of them again and again; at exit
it walks them once more. Collecting young objects every 200,000 allocations instead, as mypy
does, and freezing what is alive at exit, took a fifth off a warm `covtui ingest` (README,
Performance). Cycles are still collected, so a long-lived process (watch) does not grow.
The dashboard keeps the defaults: its pauses stay short.
"""

from __future__ import annotations

import gc

DEFAULT_THRESHOLDS = gc.get_threshold()
#: Young objects allocated between collections, then how often the older generations go.
BATCH_THRESHOLDS = (200_000, 30, 30)


def for_batch_work() -> None:
    """Collect less often: for a command or a worker process that does one job and ends."""
    gc.set_threshold(*BATCH_THRESHOLDS)


def for_interactive_work() -> None:
    """The default thresholds again: many short collections, none long (a screen is drawn)."""
    gc.set_threshold(*DEFAULT_THRESHOLDS)


def before_exit() -> None:
    """Leave what is alive to the exit itself: no last walk over every object."""
    gc.freeze()
