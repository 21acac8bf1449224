"""A database made read-only (immutable, so even root can't write) while the dashboard runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui.app import CovtuiApp

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
    app = CovtuiApp(project.config.__class__(root=project.root, poll_interval=0.2), db)
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
