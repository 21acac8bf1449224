"""What a wheel holds: every package of the source tree (an editable install hides a gap)."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_in_the_tree_is_in_the_distribution() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"covtui": ROOT / "covtui", **{
        name: ROOT / folder for name, folder in setuptools.get("package-dir", {}).items()
    }}
    found = set()
    for top, folder in folders.items():
        for init in folder.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(folder).parts
            found.add(".".join((top, *relative)))
    # Package data (the pytest plugin covtui injects into scans) is not a package of its own.
    found -= {"covtui.scan.pytest_plugin"}
    assert sorted(found) == sorted(setuptools["packages"])
