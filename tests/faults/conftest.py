"""Fixtures for the fault tests: real coverage reports, pickled for writer processes."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from covtui.readers import read_coverage

from ..conftest import CALC, Project, clean_env

SUITES = [
    "from pkg.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    "from pkg.calc import add, classify\n\ndef test_it():\n    assert classify(-1) == 'neg'\n",
    "from pkg.calc import classify, unused\n\ndef test_it():\n    classify(0); classify(1); unused()\n",
]


@pytest.fixture(scope="session")
def pickled_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reports of real coverage.py runs of three test suites, for writer processes to store."""
    project = Project(tmp_path_factory.mktemp("faultproj"))
    project.write("pkg/__init__.py", "")
    project.write("pkg/calc.py", CALC)
    project.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n')
    reports = []
    for i, suite in enumerate(SUITES):
        project.write("tests/test_calc.py", suite)
        data = project.root / f".coverage-{i}"
        subprocess.run(
            [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}", "-m",
             "pytest", "-q"],
            cwd=project.root, env=clean_env(), check=True, capture_output=True,
        )
        reports.append(read_coverage([data], root=project.root))
    path = project.root / "reports.pickle"
    path.write_bytes(pickle.dumps(reports))
    return path


def start_writer(
    db: Path | str, reports: Path, count: int, log: Path, trigger: str = "scan", *, stderr=None
) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.writer", str(db), str(reports), str(count), str(log), trigger],
        cwd=root, stdout=subprocess.PIPE, stderr=stderr, text=True,
    )
