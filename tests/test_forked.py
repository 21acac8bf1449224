"""`covtui scan`'s tests forked from its entry point (covtui.scan.forked) are the process a
new one would be, measure what a plain run measures, and never outlive covtui unrun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import Project, clean_env
from .test_launch import TOTALS, _stored_totals, plain_run

#: What the tests' process is, as its first conftest sees it.
STATE_CONFTEST = """
import atexit, gc, json, os, re, signal, sys

def _fds():
    fds = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            target = re.sub(r"#\\d+", "#", os.readlink(f"/proc/self/fd/{fd}").split(":")[0])
            fds.append([fd, target, os.get_inheritable(fd)])
        except OSError:
            pass  # the listing's own
    return sorted(fds)

def _stream(s):
    return [s.encoding, s.errors, s.line_buffering, s.write_through, s.mode, getattr(s.buffer, "raw", s.buffer).name, type(s.buffer).__name__]

def _signal(n):
    h = signal.getsignal(n)
    return getattr(h, "__name__", str(h))

state = {
        "forked": "covtui.scan.forked" in sys.modules,
        "orig_argv": sys.orig_argv, "argv": sys.argv, "cwd": os.getcwd(), "path": sys.path,
        "env": {k: v for k, v in sorted(os.environ.items()) if k not in ("STATE_OUT",)},
        "session_leader": os.getsid(0) == os.getpid(), "fds": _fds(),
        "stdin": os.readlink("/proc/self/fd/0"),
        "streams": [_stream(sys.__stdin__), _stream(sys.__stdout__), _stream(sys.__stderr__)],
        "gc": gc.get_threshold(), "atexit": atexit._ncallbacks(), "flags": list(sys.flags),
        "signals": [_signal(n) for n in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD, signal.SIGHUP)],
}
with open(os.environ.get("STATE_OUT", "plain-state.json"), "w") as f:
    json.dump(state, f)
"""


def _scan_state(project: Project, name: str, **env: str) -> dict:
    out = project.root / f"{name}.json"
    proc = subprocess.run(
        [sys.executable, "-m", "covtui", "scan"], cwd=project.root,
        env={**clean_env(), "STATE_OUT": str(out), **env},
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_the_forked_tests_are_the_process_a_new_one_would_be(project: Project) -> None:
    project.write("tests/conftest.py", STATE_CONFTEST)
    started = _scan_state(project, "started", COVTUI_FORK_TESTS="0")
    forked = _scan_state(project, "forked")
    assert (started.pop("forked"), forked.pop("forked")) == (False, True)
    for state in (started, forked):
        # Paths of the run's own files are the same each time; the selection's pid is not.
        state["env"].pop("COVTUI_SELECT_WAIT", None)
        state["env"].pop("COVTUI_FORK_TESTS", None)
    assert forked == started
    assert forked["session_leader"] is True and forked["stdin"] == "/dev/null"
    assert [fd for fd, _, inheritable in forked["fds"] if fd > 2 and inheritable] == []
    assert forked["signals"][0] == "default_int_handler" and forked["atexit"] >= 1
    # And what they measured is what a plain `coverage run -m pytest` measures.
    expected = plain_run(project)
    assert _stored_totals(project) == {key: expected["totals"][key] for key in TOTALS}


def test_an_inherited_descriptor_does_not_reach_the_forked_tests(project: Project) -> None:
    # A descriptor covtui inherited (a make jobserver's, a harness's pipe) is closed in a
    # new process by subprocess.Popen; the forked one closes it too.
    project.write("tests/conftest.py", STATE_CONFTEST)
    read, write = os.pipe()
    os.set_inheritable(write, True)
    try:
        out = project.root / "state.json"
        proc = subprocess.run(
            [sys.executable, "-m", "covtui", "scan"], cwd=project.root,
            env={**clean_env(), "STATE_OUT": str(out)}, pass_fds=(write,),
            capture_output=True, text=True, timeout=300,
        )
    finally:
        os.close(write)
        os.close(read)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    state = json.loads(out.read_text())
    assert state["forked"] is True
    assert write not in [fd for fd, _, _ in state["fds"]]


def test_interpreter_options_start_the_tests_as_a_new_process(project: Project) -> None:
    # `python -X dev -m covtui`: a new `python covtui_launch.py` would not be in dev mode.
    project.write("tests/conftest.py", STATE_CONFTEST)
    out = project.root / "state.json"
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-m", "covtui", "scan"], cwd=project.root,
        env={**clean_env(), "STATE_OUT": str(out)}, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    state = json.loads(out.read_text())
    assert state["forked"] is False
    assert state["flags"] == list(json.loads(subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(list(sys.flags)))"],
        env=clean_env(), capture_output=True, text=True, check=True,
    ).stdout))


def test_a_project_measuring_covtui_runs_plainly(project: Project) -> None:
    # covtui's own modules are loaded in the forked tests before coverage.py starts:
    # unmeasured, their module-level lines would be missing from such a project's figures.
    project.write("pyproject.toml", '[tool.coverage.run]\nsource_pkgs = ["covtui.collector"]\n')
    project.write("tests/test_gc.py", """
        from covtui import collector

        def test_thresholds():
            assert collector.BATCH_THRESHOLDS[0] > collector.DEFAULT_THRESHOLDS[0]
    """)
    project.write("tests/conftest.py", """
        import json, sys

        with open("argv.json", "w") as f:
            json.dump([sys.orig_argv, "covtui.scan.forked" in sys.modules], f)
    """)
    project.covtui("scan", check=True)
    argv, forked = json.loads((project.root / "argv.json").read_text())
    assert argv[1:3] == ["-m", "coverage"] and not forked, argv  # started over, plainly
    expected = plain_run(project)
    assert expected["totals"]["covered_lines"] > 0
    assert _stored_totals(project) == {key: expected["totals"][key] for key in TOTALS}


def test_forked_tests_without_a_command_end_with_covtui(tmp_path: Path) -> None:
    # covtui killed between the fork and the command: the child reads the end of its
    # command pipe and exits, having run nothing.
    script = tmp_path / "fork_then_wait.py"
    script.write_text(
        "import sys, time\n"
        "from covtui.scan import forked\n"
        "forked.fork_ahead()\n"
        "print(forked._child.pid if forked._child else 0, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, env=clean_env(),
        stdout=subprocess.PIPE, text=True,
    )
    try:
        child = int(proc.stdout.readline())
        assert child > 0
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(child)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
