"""covtui's benchmarks: `python -m benchmarks` runs them all, `python -m benchmarks.NAME` one.

Importing this package first compiles covtui's modules to bytecode, as pip does when it
installs covtui from a wheel. Without it an editable install under PYTHONDONTWRITEBYTECODE=1
(set on this project's machines) compiles every module again in every process it starts,
which coverage.py, installed as a wheel, never does: whole-process figures would compare
unlike installs (a warm `covtui ingest` took 10% longer that way).
"""

import compileall
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
for _package in ("covtui", "widgets"):
    compileall.compile_dir(_ROOT / _package, quiet=1)
