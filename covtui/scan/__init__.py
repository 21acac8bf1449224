"""Scanning: run each source's tests, read what they report, store one snapshot.

`run` holds the scan (`run_scan`: `covtui scan`, the dashboard's `r` key, `covtui watch`);
`plan` how a source's command is run; `affected` the affected rescans; `runner` the process
group a command runs in; `early` the tests `covtui`'s entry point starts ahead, `forked`
the process it forks for them.
The package itself imports nothing, so that its light modules load without the scan's.
"""

from __future__ import annotations

from typing import Any

#: What `from covtui.scan import …` finds, and in which module.
_EXPORTS = {
    "run_scan": "run", "scan_source": "run", "cancelled_result": "run", "measure_diff": "run",
    "ScanOutcome": "scanner", "plan_source": "plan", "contexts_on": "plan",
    "CONTEXTS_AUTO_MAX_FILES": "plan", "SCANNING_ENV": "plan", "PLUGIN_DIR": "plan",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'covtui.scan' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"covtui.scan.{module}"), name)
