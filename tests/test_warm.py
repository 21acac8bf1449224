"""A covtui that stays open (the dashboard, `covtui watch`) starts the next scan's tests as
far as they go without the project (covtui.scan.early.prestart): the scan takes them only if
they are exactly its command, in the same environment, with the same installed packages."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui.scan import early, run_scan
from covtui.scan.lock import ScanLock

from .conftest import Project, clean_env
from .test_launch import plain_run

#: Says which process ran the tests, and whether the launcher's gate variable reached them.
CONFTEST = """
import json, os

with open("tests_process.json", "w") as f:
    json.dump({"pid": os.getpid(), "gate": os.environ.get("COVTUI_LAUNCH_GATE")}, f)
"""


@pytest.fixture(autouse=True)
def no_warm_tests_left():
    yield
    early.discard_warm()


def _warm_process() -> subprocess.Popen:
    assert early._warm is not None
    return early._warm.started.process


def _tests_process(project: Project) -> dict:
    return json.loads((project.root / "tests_process.json").read_text())


async def test_a_scan_takes_the_warm_tests_and_leaves_the_next_ones_warm(project: Project) -> None:
    project.write("tests/conftest.py", CONFTEST)
    config = project.config
    await asyncio.to_thread(early.prestart, config)
    warm = _warm_process()
    await asyncio.sleep(1.0)
    assert warm.poll() is None  # waiting at the launcher's gate
    assert not (project.root / "tests_process.json").exists()  # nothing of the project's ran
    lock = ScanLock(config.lock_base)
    lock.acquire()  # and no lock held: another covtui may scan meanwhile
    lock.release()

    outcome = await run_scan(config, keep_warm=True)
    assert _tests_process(project) == {"pid": warm.pid, "gate": None}
    assert warm.poll() is not None
    numbers = outcome.draft.sources[0].report.numbers
    expected = plain_run(project)["totals"]  # what coverage.py says of a run without covtui
    assert (numbers.n_statements, numbers.n_missing, numbers.n_branches, numbers.n_missing_branches) == (
        expected["num_statements"], expected["missing_lines"], expected["num_branches"],
        expected["missing_branches"],
    )
    following = _warm_process()
    assert following.pid != warm.pid and following.poll() is None
    early.discard_warm()
    assert following.poll() is not None


async def test_warm_tests_of_another_environment_are_ended_not_taken(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write("tests/conftest.py", CONFTEST)
    config = project.config
    await asyncio.to_thread(early.prestart, config)
    warm = _warm_process()
    monkeypatch.setenv("COVTUI_SOMETHING_NEW", "1")
    outcome = await run_scan(config)
    assert outcome.draft.sources[0].status.value == "ok"
    assert warm.poll() is not None  # ended
    assert _tests_process(project)["pid"] != warm.pid


async def test_warm_tests_are_not_taken_once_a_package_is_installed(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project.write("tests/conftest.py", CONFTEST)
    config = project.config
    await asyncio.to_thread(early.prestart, config)
    warm = _warm_process()
    site = tmp_path / "site"
    (site / "newly_installed-1.0.dist-info").mkdir(parents=True)
    (site / "newly_installed-1.0.dist-info" / "METADATA").write_text("Name: newly_installed\n")
    monkeypatch.syspath_prepend(str(site))
    await run_scan(config)
    assert warm.poll() is not None
    assert _tests_process(project)["pid"] != warm.pid


def test_warm_tests_end_with_the_covtui_that_started_them(project: Project) -> None:
    project.write("tests/conftest.py", CONFTEST)
    script = (
        "import time\n"
        "from covtui.config import load_config\n"
        "from covtui.scan import early\n"
        "early.prestart(load_config(None))\n"
        "print(early._warm.started.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], cwd=project.root, env=clean_env(),
        stdout=subprocess.PIPE, text=True,
    )
    warm_pid = int(owner.stdout.readline())
    owner.send_signal(signal.SIGKILL)  # no clean-up of its own
    owner.wait()
    owner.stdout.close()
    deadline = time.monotonic() + 10
    while _running(warm_pid):
        assert time.monotonic() < deadline, "the warm tests outlived the covtui that started them"
        time.sleep(0.05)
    assert not (project.root / "tests_process.json").exists()  # and ran nothing on their own


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_launcher_gate_is_only_for_the_launcher(project: Project) -> None:
    # A source whose command is not run by covtui's launcher is never started warm.
    project.write(
        "pyproject.toml",
        '[tool.coverage.run]\nsource = ["pkg"]\n\n[tool.covtui]\n'
        'sources = [{ name = "python", command = "pytest", contexts = false }]\n',
    )
    early.prestart(project.config)
    assert early._warm is None
    assert os.environ.get(early.GATE_ENV) is None


async def test_a_warm_run_is_timed_from_its_start_less_its_wait_at_the_gate(
    project: Project,
) -> None:
    # A start-up of at least 1 s (a sitecustomize that sleeps), then 5 s at the gate: the run's
    # time counts the first, as a cold run's would, and not the second.
    project.write("slow/sitecustomize.py", "import time\ntime.sleep(1.0)\n")
    project.write(
        "pyproject.toml",
        '[tool.coverage.run]\nsource = ["pkg"]\n\n[tool.covtui]\n'
        'sources = [{ name = "python", command = "pytest", env = '
        '{ PYTHONPATH = "slow", PYTEST_DISABLE_PLUGIN_AUTOLOAD = "1" } }]\n',
    )
    config = project.config
    await asyncio.to_thread(early.prestart, config)
    warm = _warm_process()
    await asyncio.sleep(5.0)
    outcome = await run_scan(config)
    assert warm.poll() is not None  # it ran the scan
    wall_s = outcome.draft.sources[0].run.wall_s
    assert 1.0 <= wall_s < 4.0, wall_s


def test_a_stray_gate_variable_does_not_hold_a_scans_tests(project: Project) -> None:
    env = {**clean_env(), early.GATE_ENV: "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "covtui", "scan"], cwd=project.root, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "snapshot #1 stored (ok)" in proc.stdout
