"""Run import-linter on the package as it is installed: `widgets/` ships as `covtui.widgets`
(pyproject's package-dir), which an editable install maps but grimp cannot walk, so the
layers are checked on a temporary tree of symlinks shaped like the wheel."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

with tempfile.TemporaryDirectory() as tmp:
    tree = Path(tmp) / "covtui"
    shutil.copytree(ROOT / "covtui", tree, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "widgets", tree / "widgets", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp)
    env = {**os.environ, "PYTHONPATH": tmp}
    sys.exit(subprocess.call([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=tmp, env=env))
