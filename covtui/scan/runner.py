"""Runs a test command as an asyncio subprocess in its own process group.

Output is streamed line by line and only its tail is kept, so a command that prints
100 MB costs no memory; on timeout or cancel the whole group is killed, and so are
children the command left behind when it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from covtui.domain.model import RunMetrics
from covtui.processes import exited, let_go, signal_group
from covtui.scan.early import waited as early_waited
from covtui.scan.plan import measured

if TYPE_CHECKING:
    import subprocess

    from covtui.scan.early import Started

TAIL_LINES = 400
MAX_LINE = 4096  # longer lines are cut (a line of 100 MB is still one line)


@dataclass
class CommandResult:
    metrics: RunMetrics
    timed_out: bool = False
    not_found: str | None = None  # the program that could not be started


async def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float,
    on_line: Callable[[str], None] | None = None,
    adopted: Started | None = None,
) -> CommandResult:
    """Run `argv`; cancelling the awaiting task kills the process group and re-raises.
    `adopted`: that command, started already by the entry point (covtui.scan.early)."""
    measure_out: str | None = None  # the measuring wrapper's answer (an adopted run: wait4's)
    if adopted is not None:
        started = adopted.started_perf
    else:
        fd, measure_out = tempfile.mkstemp(prefix="covtui-run-", suffix=".json")
        os.close(fd)
        started = time.perf_counter()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        if adopted is not None:
            process = await _adopt(adopted.process)
        else:
            process = await _start(
                *measured(list(argv), measure_out),
                cwd=cwd,
                env={**os.environ, **(env or {})},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
                limit=MAX_LINE * 4,
            )
        timed_out = False
        try:
            await asyncio.wait_for(_pump(process, tail, on_line), timeout)
        except asyncio.TimeoutError:
            timed_out = True
            await _kill_group(process)
        except BaseException:
            await _kill_group(process)
            raise
        finally:
            # Whatever the command left running in its group goes with it.
            signal_group(process.pid, signal.SIGKILL)
            let_go(process)
        wall = time.perf_counter() - started
        if adopted is not None:
            wall -= early_waited(adopted)  # warm tests: not their wait at the launcher's gate
        metrics = RunMetrics(wall_s=wall, exit_code=process.returncode, output_tail="\n".join(tail))
        cost = _read_measure(measure_out) if measure_out else getattr(process, "cost", None)
        if cost:
            metrics.cpu_s = cost.get("cpu_s")
            metrics.peak_rss_kb = cost.get("peak_rss_kb")
            metrics.exit_code = cost.get("exit_code", metrics.exit_code)
        not_found = None
        if metrics.exit_code == 127 and tail and tail[-1].startswith("covtui: cannot run"):
            not_found = argv[0]
        return CommandResult(metrics, timed_out=timed_out, not_found=not_found)
    finally:
        if measure_out:
            try:
                os.unlink(measure_out)
            except OSError:
                pass


async def _start(*args, **kwargs) -> asyncio.subprocess.Process:
    """`asyncio.create_subprocess_exec`, but a cancel that comes while the process starts
    kills its whole group once it has started. asyncio's own answer to that cancel kills the
    wrapper alone, then waits for the pipes its command still holds: an orphaned test run,
    and a scan that hangs until it ends."""
    starting = asyncio.ensure_future(asyncio.create_subprocess_exec(*args, **kwargs))
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        while not starting.done():
            try:
                await asyncio.wait([starting])
            except asyncio.CancelledError:
                pass  # a second cancel must not stop the kill
        if not starting.cancelled() and starting.exception() is None:
            process = starting.result()
            await _kill_group(process)
            signal_group(process.pid, signal.SIGKILL)
            let_go(process)
        raise


async def _adopt(popen: subprocess.Popen) -> _Adopted:
    """A process started with subprocess.Popen, its output read as asyncio reads it; killed
    with its group if this fails or is cancelled."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE * 4, loop=loop)
    try:
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), popen.stdout
        )
    except BaseException:
        signal_group(popen.pid, signal.SIGKILL)
        popen.wait()
        popen.stdout.close()
        raise
    return _Adopted(popen, reader, transport)


class _Adopted:
    """A process the entry point started (covtui.scan.early), seen as asyncio's own are by
    the code here: `pid`, `returncode`, `stdout` and the pipe's transport. It runs without
    the measuring wrapper: reaped here with wait4(), whose resource usage is the wrapper's
    RUSAGE_CHILDREN (the command and every descendant it waited for), as `cost`."""

    def __init__(self, popen: subprocess.Popen, stdout: asyncio.StreamReader, transport) -> None:
        self.pid = popen.pid
        self.stdout = stdout
        self.cost: dict | None = None
        self._popen = popen
        self._transport = _PipeTransports(transport)

    @property
    def returncode(self) -> int | None:
        if self._popen.returncode is None:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                self._popen.returncode = code
                self.cost = {
                    "cpu_s": usage.ru_utime + usage.ru_stime,
                    "peak_rss_kb": usage.ru_maxrss,  # kilobytes on Linux
                    "exit_code": code,
                }
        return self._popen.returncode


class _PipeTransports:
    """The part of asyncio's subprocess transport `let_go` and `_output_pipe` use."""

    def __init__(self, stdout) -> None:
        self._stdout = stdout

    def get_pipe_transport(self, fd: int):
        return self._stdout if fd == 1 else None

    def close(self) -> None:
        self._stdout.close()


async def _exit_of(process) -> None:
    """Until `process` has exited and been reaped: woken by its pidfd where Linux has one
    (the scan goes on within a millisecond of the tests' end), else polled every 10 ms."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is None:
        while process.returncode is None:
            await asyncio.sleep(0.01)
        return
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    loop.add_reader(pidfd, ended.set)
    try:
        while process.returncode is None:
            if ended.is_set():
                await asyncio.sleep(0.001)  # exited: asyncio's child watcher reaps it now
            else:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(ended.wait(), 0.5)
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


async def _pump(process: asyncio.subprocess.Process, tail: deque[str], on_line) -> None:
    """Stream output until the command exits; then drain briefly and kill what is left, since
    a child it left behind may hold the pipe open forever."""
    reading = asyncio.create_task(_read_lines(process.stdout, tail, on_line))
    try:
        # Not `process.wait()`: asyncio's also waits for the pipe to close.
        await _exit_of(process)
        try:
            await asyncio.wait_for(asyncio.shield(reading), 1.0)
        except asyncio.TimeoutError:
            signal_group(process.pid, signal.SIGKILL)
            try:
                await asyncio.wait_for(asyncio.shield(reading), 1.0)
            except asyncio.TimeoutError:
                # A daemon that left the group (setsid) still holds the pipe: stop reading it.
                # Reading every process's fds in /proc is slow work: not on the event loop.
                holders = await asyncio.to_thread(_describe_pipe_holders, _output_pipe(process))
                note = (
                    f"covtui: {holders} left the command's process group and still holds its "
                    "output: covtui stopped reading it and left it running"
                )
                tail.append(note)
                if on_line is not None:
                    on_line(note)
    finally:
        reading.cancel()


async def _read_lines(reader: asyncio.StreamReader, tail: deque[str], on_line) -> None:
    while True:
        try:
            raw = await reader.readline()
        except ValueError:
            # A line longer than the buffer: keep its start, drop the rest of it.
            raw = await reader.read(MAX_LINE)
            while True:
                chunk = await reader.read(MAX_LINE * 4)
                if not chunk or b"\n" in chunk:
                    break
        if not raw:
            return
        line = raw[:MAX_LINE].decode("utf-8", errors="replace").rstrip("\r\n")
        tail.append(line)
        if on_line is not None:
            on_line(line)


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the group, then SIGKILL what is still there a few seconds later."""
    signal_group(process.pid, signal.SIGTERM)
    try:
        await exited(process, 3.0)
    except asyncio.CancelledError:
        pass  # a second cancel must not stop the kill
    signal_group(process.pid, signal.SIGKILL)
    try:
        await exited(process, 3.0)
    except asyncio.CancelledError:
        pass


def _output_pipe(process: asyncio.subprocess.Process) -> str | None:
    """The command's output pipe as /proc names it (`pipe:[inode]`), if it can be told."""
    try:
        pipe = process._transport.get_pipe_transport(1).get_extra_info("pipe")
        return f"pipe:[{os.fstat(pipe.fileno()).st_ino}]"
    except (AttributeError, OSError, ValueError):
        return None


def _describe_pipe_holders(target: str | None) -> str:
    return _describe(_pipe_holders(target))


def _pipe_holders(target: str | None) -> list[int]:
    """Other processes holding the pipe `target` (from /proc; empty where there is none)."""
    if target is None:
        return []
    holders = []
    for fds in Path("/proc").glob("[0-9]*/fd"):
        pid = int(fds.parent.name)
        try:
            if pid != os.getpid() and any(os.readlink(fd) == target for fd in fds.iterdir()):
                holders.append(pid)
        except OSError:
            continue  # gone meanwhile, or not ours to look at
    return sorted(holders)


def _describe(pids: list[int]) -> str:
    def one(pid: int) -> str:
        try:
            return f"{pid} ({Path(f'/proc/{pid}/comm').read_text().strip()})"
        except OSError:
            return str(pid)

    if not pids:
        return "a process"
    return ("pid " if len(pids) == 1 else "pids ") + ", ".join(one(pid) for pid in pids)


def _read_measure(path: str) -> dict | None:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
