"""`covtui scan`'s tests forked from its entry point, not started as a new Python.

First thing in `covtui scan` (`fork_ahead`), before the config is read, covtui forks the
process that becomes its tests. It imports pytest and coverage.py as covtui's launcher does
(covtui_launch.load) while covtui plans the run, then takes the command covtui sends it
(`send`) and runs it as the launcher would, in-process: no new interpreter starts (about
50 ms of every scan, its `site` included), and its imports overlap covtui's own start.

It must be the process a new one would be. Set up as `subprocess.Popen(start_new_session=True)`
sets up a child (its own session; stdin /dev/null; stdout and stderr one pipe; no other file
open) and as Python sets up a new interpreter (standard streams, the garbage collector's
thresholds, the import path of `python covtui_launch.py` in the new environment, a new
random seed; the exit handlers Python's start registered are kept, as a new one has them).
It forks only when nothing else can differ: no interpreter option, no thread, no tracer,
no environment that Python's start would read differently (only covtui's own variables and
the plugin's PYTHONPATH are added). When the command turns out
to be another one, it `exec`s it: the new process a `Popen` would have started. covtui's own
modules stay loaded in it: covtui's plugin checks, as for pytest's import, that coverage.py
would measure none of them, else the run starts over as plain `coverage run` (a project
that measures covtui). Its exit is Python's own, teardown included (`TestsExit`).

$COVTUI_FORK_TESTS=0: tests start as a new process, as they did before.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import BinaryIO, NoReturn

FORK_ENV = "COVTUI_FORK_TESTS"


class TestsExit(SystemExit):
    """The forked tests' exit: `covtui`'s entry point lets it through to Python's own."""


class Forked:
    """The forked tests, as much of `subprocess.Popen` as a scan uses."""

    def __init__(self, pid: int, stdout: BinaryIO) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stdin = None
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


@dataclass
class _Child:
    pid: int
    command: int  # where it reads its command (a pipe)
    stdout: BinaryIO  # its output
    waited: int  # where it says how long it waited for its command
    forked: float  # time.time() at the fork
    forked_perf: float  # time.perf_counter() then
    sent: bool = False  # its command: from then on, the scan's tests


_child: _Child | None = None


def fork_ahead() -> None:
    """Fork the scan's tests now, where they can be forked (see the module's docstring); in
    the child, this runs them and ends with `TestsExit`."""
    global _child
    fds: list[int] = []
    try:
        if not _can_fork():
            return
        for _ in range(3):
            fds.extend(os.pipe())
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # else the child has a copy of what is buffered
        forked, forked_perf = time.time(), time.perf_counter()
        pid = os.fork()
    except Exception:  # noqa: BLE001 - no fork (no cwd, no descriptors): the scan starts them
        for fd in fds:
            os.close(fd)
        return
    command_r, command_w, out_r, out_w, waited_r, waited_w = fds
    if pid == 0:
        _become_tests(command_r, out_w, waited_w, (command_w, out_r, waited_r))
    for fd in (command_r, out_w, waited_w):
        os.close(fd)
    _child = _Child(pid, command_w, os.fdopen(out_r, "rb"), waited_r, forked, forked_perf)


def take() -> _Child | None:
    """The forked child, waiting for its command (the caller `send`s it or `drop`s it)."""
    global _child
    child, _child = _child, None
    return child


def send(child: _Child, argv: list[str], env: dict[str, str], cwd: str) -> Forked | None:
    """Give `child` its command (`argv` in the full environment `env`, in `cwd`); None if it
    is gone (it was dropped)."""
    message = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
    child.sent = True
    try:
        view = memoryview(message)
        while view:
            view = view[os.write(child.command, view):]
    except OSError:
        child.sent = False
        drop(child)
        return None
    finally:
        if child.command >= 0:
            os.close(child.command)
            child.command = -1
    return Forked(child.pid, child.stdout)


def drop(child: _Child | None = None) -> None:
    """End the forked child (by default the one no scan took) if it has no command: it has
    run nothing of the project's."""
    if child is None:
        child = take()
    if child is None or child.sent or child.pid < 0:
        return
    try:
        os.kill(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(child.pid, 0)
    child.pid = -1
    for fd in (child.command, child.waited):
        if fd >= 0:
            os.close(fd)
    child.command = child.waited = -1
    child.stdout.close()


def _can_fork() -> bool:
    if os.environ.get(FORK_ENV) == "0" or not hasattr(os, "fork"):
        return False
    import threading

    if (
        threading.active_count() > 1
        or sys.gettrace() is not None or sys.getprofile() is not None
        or "COVERAGE_PROCESS_START" in os.environ  # its .pth hook reads it as Python starts
        or sys.flags.safe_path
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        or None in (sys.__stdin__, sys.__stdout__, sys.__stderr__)
        or not _open_fds()
    ):
        return False
    # No interpreter option: `python -m covtui` or covtui's script, its path first.
    orig = getattr(sys, "orig_argv", [])
    if len(orig) < 2:
        return False
    if orig[1] == "-m":
        first = os.getcwd()
    elif orig[1].startswith("-"):
        return False
    else:
        first = os.path.dirname(os.path.realpath(orig[1]))
    return bool(sys.path) and sys.path[0] == first and _parent_path() is not None


def _parent_path() -> list[str] | None:
    """This process's import path after its PYTHONPATH entries (what a new Python adds
    after them: the standard library, site-packages), or None if it is not laid out so."""
    entries = _dedup(os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    if sys.path[1:1 + len(entries)] != entries:
        return None
    return sys.path[1 + len(entries):]


def _dedup(paths) -> list[str]:
    """As `site.removeduppaths` keeps them: the first of each."""
    seen: set[str] = set()
    out = []
    for path in paths:
        key = os.path.normcase(path)
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


# -- in the child ------------------------------------------------------------------------------


def _become_tests(
    command_fd: int, out_fd: int, waited_fd: int, parent_ends: tuple[int, ...]
) -> NoReturn:
    """The forked child: be a new process, load what the launcher loads, wait for the
    command, run it (or exec it); never back into covtui's code."""
    code: object = 1
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        _close_inherited(*parent_ends)
        _fresh_streams()
        _fresh_state()
        from covtui.scan.plan import LAUNCHER, PLUGIN_DIR

        cwd = os.getcwd()
        pythonpath = os.pathsep.join(filter(None, [str(PLUGIN_DIR), os.environ.get("PYTHONPATH", "")]))
        tail = _parent_path() or []
        sys.path[:] = [cwd, *_dedup([os.path.abspath(p) for p in pythonpath.split(os.pathsep) if p] + tail)]
        launcher = None
        try:
            launcher = _load_launcher(str(LAUNCHER))
        except Exception:  # noqa: BLE001 - a new process says why, with the command it runs
            launcher = None
        arrived = time.perf_counter()
        message = _read_all(command_fd)
        os.close(command_fd)
        if not message:
            os._exit(0)  # no command: covtui runs something else, or is gone
        try:
            os.write(waited_fd, repr(time.perf_counter() - arrived).encode())
        except OSError:
            pass
        os.close(waited_fd)
        command = json.loads(message)
        argv, env, where = command["argv"], command["env"], command["cwd"]
        if (
            launcher is None or argv[:2] != [sys.executable, str(LAUNCHER)] or where != cwd
            or not _same_start(env, pythonpath)
        ):
            os.chdir(where)
            os.execve(argv[0], argv, env)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = argv[1:]
        sys.orig_argv = list(argv)
        launcher.launched(frozenset(), argv[2:], dict(env))  # every module loaded is checked
        code = launcher.run(argv[2:])
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # noqa: BLE001 - as Python says an uncaught exception, then exits 1
        sys.excepthook(*sys.exc_info())
        code = 1
    raise TestsExit(code)


def _same_start(env: dict[str, str], pythonpath: str) -> bool:
    """Whether a new Python in `env` would start as this one did: only covtui's variables
    and the PYTHONPATH this process's import path was laid out for differ."""
    here = dict(os.environ)
    for name in set(here) | set(env):
        if name.startswith("COVTUI_"):
            continue
        if name == "PYTHONPATH":
            if env.get(name) != pythonpath:
                return False
        elif here.get(name) != env.get(name):
            return False
    return True


def _close_inherited(*parent_ends: int) -> None:
    """Close what a new process would not have: the parent's ends of the pipes, and every
    descriptor this process inherited from its own parent (inheritable: it survived an
    exec; `subprocess.Popen` closes them). What Python's start opened (a sitecustomize's
    log file) is not inheritable, and stays, as the new process would have its own."""
    for fd in parent_ends:
        os.close(fd)
    for fd in _open_fds():
        if fd > 2:
            try:
                if os.get_inheritable(fd):
                    os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, closed since


def _open_fds() -> list[int]:
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return [int(name) for name in os.listdir(folder)]
        except (OSError, ValueError):
            continue
    return []


def _fresh_streams() -> None:
    """sys.stdin, stdout and stderr as Python makes them for these file descriptors."""
    import io

    unbuffered = bool(sys.__stdout__.write_through)  # -u, PYTHONUNBUFFERED

    def stream(fd: int, write: bool, errors: str, like) -> io.TextIOWrapper:
        buffering = 0 if unbuffered and write else -1
        buf = open(fd, "wb" if write else "rb", buffering=buffering, closefd=False)  # noqa: SIM115 - sys's
        raw = buf.raw if buffering else buf
        raw.name = ("<stdin>", "<stdout>", "<stderr>")[fd]
        line_buffering = not unbuffered and (os.isatty(fd) or fd == 2)
        text = io.TextIOWrapper(buf, like.encoding, errors, "\n", line_buffering, unbuffered)
        text.mode = "w" if write else "r"
        return text

    sys.stdin = sys.__stdin__ = stream(0, False, sys.__stdin__.errors, sys.__stdin__)
    sys.stdout = sys.__stdout__ = stream(1, True, sys.__stdout__.errors, sys.__stdout__)
    sys.stderr = sys.__stderr__ = stream(2, True, "backslashreplace", sys.__stderr__)


def _fresh_state() -> None:
    import gc
    import importlib

    from covtui import collector

    gc.set_threshold(*collector.DEFAULT_THRESHOLDS)
    if "random" in sys.modules:
        sys.modules["random"].seed()
    importlib.invalidate_caches()


def _load_launcher(path: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location("covtui_launch", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["covtui_launch"] = module
    spec.loader.exec_module(module)
    module.load()
    return module


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
