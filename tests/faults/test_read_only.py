"""A database made read-only (immutable, so even root can't write) while the dashboard runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui.scan import run_scan
from covtui.tui.app import CovtuiApp

from ..conftest import Project, clean_env


def chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


async def test_read_only_database_clear_error_then_recovery(project: Project) -> None:
    project.covtui("scan", check=True)
    db = project.db
    subprocess.run([sys.executable, "-m", "coverage", "lcov", "-o", str(project.root / "c.info"),
                    f"--data-file={db.parent / 'run' / 'python' / '.coverage'}"],
                   cwd=project.root, env=clean_env(), check=True, capture_output=True)
    app = CovtuiApp(project.config.__class__(root=project.root, poll_interval=0.2), db, scanner=run_scan)
    async with app.run_test(size=(120, 36)) as pilot:
        while app.state is None:
            await pilot.pause(0.05)
        first = app.state.latest.id
        if not chattr("+i", db):
            pytest.skip("chattr +i is not available here (needs root on ext2/3/4)")
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "covtui", "ingest", "c.info", "--source", "lcov"],
                cwd=project.root, env=clean_env(), capture_output=True, text=True,
            )
            assert proc.returncode == 2
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and "covtui.db" in lines[0] and "Traceback" not in proc.stderr
            await pilot.pause(0.5)
            assert app.state.latest.id == first  # the dashboard still shows what it had
        finally:
            chattr("-i", db)
        project.covtui("ingest", "c.info", "--source", "lcov", check=True)
        deadline = time.monotonic() + 3
        while app.state.latest.id == first and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert app.state.latest.id == first + 1
        assert app.poll_status.error is None


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Event loop" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _database_files(db: Path) -> dict[str, bytes]:
    paths = (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))
    return {p.name: p.read_bytes() for p in paths if p.exists()}


def test_database_in_a_read_only_folder_reads_and_refuses_writes(project: Project) -> None:
    project.covtui("scan", check=True)
    db = project.db
    subprocess.run([sys.executable, "-m", "coverage", "lcov", "-o", str(project.root / "c.info"),
                    f"--data-file={db.parent / 'run' / 'python' / '.coverage'}"],
                   cwd=project.root, env=clean_env(), check=True, capture_output=True)
    before = _database_files(db)
    Path(f"{db}.scan-lock").unlink()  # so that `scan` must create it
    if not chattr("+i", db.parent):
        pytest.skip("chattr +i is not available here (needs root on ext2/3/4)")
    try:
        # Reading needs no write access.
        status = project.covtui("status")
        assert status.returncode == 0 and "Snapshot #1" in status.stdout, status.stderr
        assert project.covtui("status", "--json").returncode == 0
        assert project.covtui("alerts").returncode == 0
        assert "read-only" in _one_line_error(project.covtui("ingest", "c.info", "--source", "lcov"))
        assert "scan-lock" in _one_line_error(project.covtui("scan"))
        assert "read-only" in _one_line_error(project.covtui("alerts", "ack", "--all"))
    finally:
        chattr("-i", db.parent)
    assert _database_files(db) == before


def test_database_that_is_not_a_regular_file_is_refused(project: Project, tmp_path: Path) -> None:
    project.write("c.info", "SF:pkg/calc.py\nDA:1,1\nDA:2,0\nend_of_record\n")
    if Path("/dev/null").exists():
        journal = Path("/dev/null-journal")
        existed = journal.exists()
        for command in (("ingest", "c.info"), ("status",)):
            line = _one_line_error(project.covtui("--db", "/dev/null", *command))
            assert "/dev/null" in line and "not a regular file" in line
        assert journal.exists() == existed
    # `database = ""` names the project folder itself.
    project.write("covtui.toml", 'database = ""\n')
    for command in (("ingest", "c.info"), ("status",), ("scan",)):
        assert "folder" in _one_line_error(project.covtui(*command))
