"""The lean start: the command line imports a command's module only when that command runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import clean_env

#: What `covtui --version` must not import: each costs start-up time.
HEAVY = ("asyncio", "coverage", "rich", "sqlite3", "textual", "covtui.store", "covtui.report",
         "covtui.domain", "covtui.cli.render")


def modules_after(*args: str) -> set[str]:
    """The modules imported by the time `covtui ARGS` exits (run in a fresh interpreter)."""
    code = (
        "import sys\n"
        "from covtui.cli import cli\n"
        "try:\n"
        f"    cli({list(args)!r}, prog_name='covtui')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                          text=True, check=True)
    return set(proc.stderr.split())


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


def test_version_imports_nothing_heavy() -> None:
    assert heavy(modules_after("--version")) == []


@pytest.mark.parametrize("command", ["alerts", "prune", "report"])
def test_a_command_loads_only_its_own_module(command: str) -> None:
    loaded = {m for m in modules_after(command, "--help") if m.startswith("covtui.cli.")}
    others = {"covtui.cli.scan", "covtui.cli.watch", "covtui.cli.dashboard", "covtui.cli.demo",
              "covtui.cli.ingest", "covtui.cli.status", "covtui.cli.alerts", "covtui.cli.prune",
              "covtui.cli.report"} - {f"covtui.cli.{command}"}
    assert f"covtui.cli.{command}" in loaded
    assert not loaded & others
