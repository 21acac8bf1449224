"""Reports with impossible numbers: one line, exit 2, nothing stored; never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import Project, clean_env
from .test_kill import everything


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """coverage.py's own `coverage xml` and `coverage json` for the fixture package."""
    from ..conftest import CALC, TESTS

    root = tmp_path_factory.mktemp("reports")
    Project(root).write("pkg/__init__.py", "")
    Project(root).write("pkg/calc.py", CALC)
    Project(root).write("tests/test_calc.py", TESTS)
    for args in (["run", "--branch", "--source=pkg", "-m", "pytest", "-q"], ["xml"], ["json"]):
        subprocess.run([sys.executable, "-m", "coverage", *args], cwd=root, env=clean_env(),
                       check=True, capture_output=True)
    return {"xml": (root / "coverage.xml").read_text(),
            "json": (root / "coverage.json").read_text()}


def edit_condition(xml: str, value: str) -> str:
    edited, n = re.subn(r'condition-coverage="[^"]*"', f'condition-coverage="{value}"', xml, count=1)
    assert n == 1, "coverage.py wrote no branch line"
    return edited


def edit_json(text: str, edit) -> str:
    doc = json.loads(text)
    edit(doc)
    return json.dumps(doc)


def set_statements(doc: dict) -> None:
    next(iter(doc["files"].values()))["summary"]["num_statements"] = 2 * 10**23


CASES = {
    "cobertura-huge-total": ("xml", lambda x: edit_condition(x, "50% (1/99999999999999999999)"),
                             "branches is not a plausible count"),
    "cobertura-more-taken-than-exist": ("xml", lambda x: edit_condition(x, "150% (3/2)"),
                                        "'150% (3/2)' takes more branches than there are"),
    "json-count-2e23": ("json", lambda j: edit_json(j, set_statements),
                        "200000000000000000000000 statements is not a plausible count"),
    "json-format-99": ("json", lambda j: edit_json(j, lambda d: d["meta"].update(format=99)),
                       "format 99 is not one covtui reads"),
}


@pytest.mark.parametrize("case", CASES)
def test_an_impossible_report_is_refused_in_one_line(
    project: Project, reports: dict[str, str], case: str
) -> None:
    kind, edit, problem = CASES[case]
    project.covtui("ingest", "--source", "py", _write(project.root, kind, reports[kind]), check=True)
    before = everything(project.db)
    bad = _write(project.root, kind, edit(reports[kind]), "bad")
    proc = project.covtui("ingest", "--source", "py", bad)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert bad in lines[0] and problem in lines[0], lines[0]
    assert everything(project.db) == before


def _write(root: Path, kind: str, text: str, stem: str = "good") -> str:
    name = f"{stem}.{kind}"
    (root / name).write_text(text)
    return name
