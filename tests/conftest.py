"""Shared fixtures: small real Python projects that covtui scans with the real coverage.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from covtui.config import Config, load_config

CALC = '''
def add(a, b):
    return a + b


def classify(n):
    if n < 0:
        return "neg"
    elif n == 0:
        return "zero"
    return "pos"


def unused():
    x = 1
    for i in range(3):
        x += i
    return x
'''

TESTS = '''
from pkg.calc import add, classify


def test_add():
    assert add(1, 2) == 3


def test_classify():
    assert classify(5) == "pos"
'''


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVTUI_"))}
    env.pop("PYTHONPATH", None)
    return env


class Project:
    """A throwaway project: write files, scan it, and ask coverage.py what it thinks."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    @property
    def config(self) -> Config:
        return load_config(self.root)

    @property
    def db(self) -> Path:
        return self.config.database_path

    def covtui(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "covtui", *args],
            cwd=self.root, env=clean_env(), capture_output=True, text=True, timeout=300,
        )
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def coverage_json(self, data_file: Path) -> dict:
        """What `coverage json` says for a data file, with this project's config."""
        out = self.root / "expected.json"
        subprocess.run(
            [sys.executable, "-m", "coverage", "json", f"--data-file={data_file}", "-o", str(out)],
            cwd=self.root, env=clean_env(), check=True, capture_output=True,
        )
        data = json.loads(out.read_text())
        out.unlink()
        return data


@pytest.fixture(autouse=True)
def no_config_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """A COVTUI_CONFIG in the caller's environment must not reach the tests' projects."""
    monkeypatch.delenv("COVTUI_CONFIG", raising=False)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each store-level test runs on both backends (PostgreSQL: see tests/postgres.py)."""
    if request.param == "postgres":
        from tests.postgres import require_server

        require_server()
    return request.param


@pytest.fixture
def new_db(backend: str, tmp_path: Path):
    """`new_db(name)`: a new, empty database of the test's backend (an SQLite file in the
    test's folder, or a PostgreSQL database of its own, dropped at the end)."""
    from covtui.dsn import PostgresTarget
    from tests import postgres

    created: list[str] = []

    def make(name: str = "db") -> Path | PostgresTarget:
        if backend == "sqlite":
            return tmp_path / f"{name}.sqlite"
        created.append(postgres.create_database())
        return PostgresTarget.parse(postgres.url_of(created[-1]))

    yield make
    for name in created:
        postgres.drop_database(name)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A tiny package with branchy code and two passing tests, measured with source=pkg."""
    p = Project(tmp_path / "proj")
    p.write("pkg/__init__.py", "")
    p.write("pkg/calc.py", CALC)
    p.write("tests/test_calc.py", TESTS)
    p.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n')
    return p


# -- the fault suite's own figures: gathered from every worker, printed at the end -----------

def _counts_dir(config) -> Path:
    return Path(str(config.rootpath)) / ".pytest_cache" / "covtui-counts"


def pytest_collection_modifyitems(items) -> None:
    # SVG snapshots are made with the newest Textual; the floor venv deselects them by marker.
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.snapshot)


def pytest_sessionstart(session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller, not an xdist worker
        import shutil

        shutil.rmtree(_counts_dir(session.config), ignore_errors=True)


def pytest_sessionfinish(session) -> None:
    from tests.counts import COUNTS

    if COUNTS:
        folder = _counts_dir(session.config)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{os.getpid()}.json").write_text(json.dumps(COUNTS))


def pytest_terminal_summary(terminalreporter, config) -> None:
    if hasattr(config, "workerinput"):
        return
    from collections import Counter

    total: Counter[str] = Counter()
    for path in sorted(_counts_dir(config).glob("*.json")):
        total.update(json.loads(path.read_text()))
    if total:
        figures = ", ".join(f"{what}: {value:,.0f}" for what, value in sorted(total.items()))
        terminalreporter.write_line(f"covtui fault suite: {figures}")
