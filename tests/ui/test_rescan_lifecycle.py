"""A real rescan from the dashboard (real pytest under coverage.py): cancel and quit mid-run."""

from __future__ import annotations

import tempfile
from pathlib import Path

from covtui.scan import run_scan
from covtui.store import Store
from covtui.tui.app import CovtuiApp

from ..conftest import Project
from .conftest import loaded, wait_for

SLOW_TEST = """
    import os, time

    def test_slow():
        open({marker!r}, "w").write(str(os.getpid()))
        time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def slow_project(project: Project, marker: Path) -> None:
    """A first good snapshot (so the cancel's alert is news), then a test that hangs."""
    project.covtui("scan", check=True)
    project.write("tests/test_slow.py", SLOW_TEST.format(marker=str(marker)))


async def latest_and_alerts(project: Project):
    async with await Store.open(project.db, create=False) as store:
        return await store.latest_snapshot(), await store.alerts()


async def test_c_records_a_cancel_as_info_without_the_bell(project: Project, tmp_path, monkeypatch):
    marker = tmp_path / "pytest.pid"
    slow_project(project, marker)
    config = project.config
    config.bell = True
    app = CovtuiApp(config, project.db, scanner=run_scan)
    rings = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, marker.exists, timeout=60)
        await pilot.press("c")
        await wait_for(pilot, lambda: any(
            "scan cancelled" in str(n.message) and "info alert" in str(n.title)
            for n in app._notifications
        ), timeout=15)
        await pilot.pause(0.3)
    assert rings == []
    assert not alive(int(marker.read_text()))
    latest, alerts = await latest_and_alerts(project)
    assert latest.status == "cancelled"
    assert (alerts[0].rule, alerts[0].severity.value) == ("scan_failed", "info")


async def test_q_during_a_rescan_ends_the_command_and_records_the_cancel(
    project: Project, tmp_path, monkeypatch
):
    marker = tmp_path / "pytest.pid"
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where the runner's files go
    slow_project(project, marker)
    app = CovtuiApp(project.config, project.db, scanner=run_scan)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, marker.exists, timeout=60)
        await pilot.press("q")
        await wait_for(pilot, lambda: app._exit, timeout=15)
    pid = int(marker.read_text())
    assert not alive(pid), "the test command outlived the dashboard"
    latest, _ = await latest_and_alerts(project)
    assert latest.status == "cancelled"
    # multiprocessing's own folder (the read server's socket, when this test process started
    # it) goes when the process exits; nothing of the scan's may be left.
    assert [p.name for p in temp.iterdir() if not p.name.startswith("pymp-")] == []
