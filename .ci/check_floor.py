"""Check the floor venv: each pin in the constraints file is pyproject.toml's lower bound for
that package, and is the version installed. `python .ci/check_floor.py CONSTRAINTS`"""

from __future__ import annotations

import re
import sys
from importlib.metadata import version
from pathlib import Path

import tomllib


def main(constraints: str) -> int:
    pins = dict(
        re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()  # type: ignore[union-attr]
        for line in Path(constraints).read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    floors = {}
    specs = project["dependencies"] + [s for extra in project.get("optional-dependencies", {}).values() for s in extra]
    for spec in specs:
        if m := re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)", spec):
            floors[m.group(1).lower()] = m.group(2)
    problems = []
    for name, pin in pins.items():
        if floors.get(name.lower()) != pin:
            problems.append(f"{name}: pinned {pin}, pyproject.toml says >={floors.get(name.lower())}")
        if version(name) != pin:
            problems.append(f"{name}: pinned {pin}, installed {version(name)}")
    for problem in problems:
        print(f"floor venv: {problem}", file=sys.stderr)
    if not problems:
        print("floor venv: " + ", ".join(f"{n} {v}" for n, v in pins.items()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
