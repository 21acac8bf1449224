"""The command line: ingest, status, alerts, prune; bad input is one line and changes nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Project, clean_env


def run_coverage(project: Project, data: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}", *args],
        cwd=project.root, env=clean_env(), check=True, capture_output=True,
    )


@pytest.fixture
def data_file(project: Project) -> Path:
    data = project.root / ".coverage"
    run_coverage(project, data, "-m", "pytest", "-q", f"--junitxml={project.root / 'junit.xml'}")
    return data


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def test_ingest_coverage_data_and_junit(project: Project, data_file: Path) -> None:
    proc = project.covtui("ingest", str(data_file), "junit.xml", "--label", "nightly", check=True)
    assert "snapshot #1 stored" in proc.stdout
    expected = project.coverage_json(data_file)["totals"]
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert status["totals"]["percent_covered"] == expected["percent_covered"]
    assert status["totals"]["num_statements"] == expected["num_statements"]
    assert status["sources"]["python"]["status"] == "ok"
    assert status["phase"]["number"] >= 1


def test_ingest_parallel_shards_like_coverage_combine(project: Project) -> None:
    project.write("tests/test_other.py", "from pkg.calc import unused\n\ndef test_u():\n    assert unused() == 4\n")
    run_coverage(project, project.root / ".coverage", "-p", "-m", "pytest", "-q", "tests/test_calc.py")
    run_coverage(project, project.root / ".coverage", "-p", "-m", "pytest", "-q", "tests/test_other.py")
    shards = sorted(project.root.glob(".coverage.*"))
    assert len(shards) == 2
    project.covtui("ingest", *map(str, shards), check=True)
    subprocess.run([sys.executable, "-m", "coverage", "combine", "--keep"], cwd=project.root,
                   env=clean_env(), check=True, capture_output=True)
    expected = project.coverage_json(project.root / ".coverage")["totals"]
    totals = json.loads(project.covtui("status", "--json", check=True).stdout)["totals"]
    assert totals["covered_lines"] == expected["covered_lines"]
    assert totals["covered_branches"] == expected["covered_branches"]
    assert totals["percent_covered"] == expected["percent_covered"]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("broken.info", "SF:a.c\nDA:1,1\nDA:2,x\nend_of_record\n", "broken.info"),
        ("trunc.info", "SF:a.c\nDA:1,1\n", "trunc.info"),
        ("other.xml", "<?xml version='1.0'?><html><body/></html>", "other.xml"),
        ("notes.txt", "just some notes\n", "notes.txt"),
        (".coverage", "SQLite format 3\x00garbage" * 50, ".coverage"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    project: Project, data_file: Path, name: str, content: str, problem: str
) -> None:
    project.covtui("ingest", str(data_file), check=True)
    before = digest(project.db)
    bad = project.root / "bad" / name
    bad.parent.mkdir()
    bad.write_text(content)
    proc = project.covtui("ingest", str(bad))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0] and lines[0].startswith("covtui: error:")
    assert "Traceback" not in proc.stderr
    assert digest(project.db) == before


def test_missing_paths_and_database(project: Project) -> None:
    proc = project.covtui("ingest", "nope.info")
    assert proc.returncode == 2 and "nope.info: no such file" in proc.stderr
    proc = project.covtui("status")
    assert proc.returncode == 2 and "no monitoring database yet" in proc.stderr
    assert not project.db.exists()


def test_unreadable_database_is_one_line(project: Project) -> None:
    project.db.parent.mkdir(parents=True)
    project.db.write_bytes(b"\x00garbage" * 512)
    proc = project.covtui("status")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "covtui.db" in proc.stderr


def test_alerts_ack_and_prune(project: Project) -> None:
    lcov = project.root / "cov.info"
    # Two lcov reports from real coverage.py runs: all tests, then fewer.
    run_coverage(project, project.root / ".coverage", "-m", "pytest", "-q")
    subprocess.run([sys.executable, "-m", "coverage", "lcov", "-o", str(lcov)], cwd=project.root,
                   env=clean_env(), check=True, capture_output=True)
    project.covtui("ingest", str(lcov), "--source", "py-lcov", check=True)
    project.write("tests/test_calc.py", "def test_nothing():\n    pass\n")
    run_coverage(project, project.root / ".coverage", "-m", "pytest", "-q")
    subprocess.run([sys.executable, "-m", "coverage", "lcov", "-o", str(lcov)], cwd=project.root,
                   env=clean_env(), check=True, capture_output=True)
    project.covtui("ingest", str(lcov), "--source", "py-lcov", check=True)
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert {a["rule"] for a in alerts} >= {"coverage_drop", "file_regression"}
    first = alerts[0]["id"]
    assert "1 alert acknowledged" in project.covtui("alerts", "ack", str(first), check=True).stdout
    remaining = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert first not in {a["id"] for a in remaining}
    everything = json.loads(project.covtui("alerts", "--all", "--json", check=True).stdout)
    assert first in {a["id"] for a in everything}
    proc = project.covtui("alerts", "ack", "12345")
    assert proc.returncode == 2 and "no alert with id 12345" in proc.stderr
    project.covtui("alerts", "ack", "--all", check=True)
    assert json.loads(project.covtui("alerts", "--json", check=True).stdout) == []
    proc = project.covtui("prune", "--older-than", "0", check=True)
    assert "removed 1 snapshots" in proc.stdout
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert status["snapshot"]["id"] == 2


def test_markup_in_paths_and_messages_is_shown_literally(project: Project) -> None:
    evil = "[red]x[/].py"
    project.write(f"pkg/{evil}", "def f():\n    return 1\n")
    lcov = project.root / "evil.info"
    lcov.write_text(f"SF:pkg/{evil}\nDA:1,1\nDA:2,0\nend_of_record\nSF:pkg/[@click=app.quit]y.py\nDA:1,0\nend_of_record\n")
    project.covtui("ingest", str(lcov), check=True)
    out = project.covtui("status", check=True).stdout
    assert f"pkg/{evil}" in out
    assert "pkg/[@click=app.quit]y.py" in out


def test_python_dash_m_and_version(project: Project) -> None:
    proc = project.covtui("--version", check=True)
    assert "covtui" in proc.stdout
    proc = project.covtui("--help", check=True)
    for command in ("scan", "ingest", "status", "alerts", "prune", "demo"):
        assert command in proc.stdout
