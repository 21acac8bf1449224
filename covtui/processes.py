"""Process groups: signal one, wait for its leader to exit, let go of its pipes.

Shared by the scan's command runner and the alert hook, below both.
"""

from __future__ import annotations

import asyncio
import os
import time


def signal_group(pgid: int, sig: int) -> None:
    """Send `sig` to the process group `pgid`; a group that is gone already is no error."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def exited(process: asyncio.subprocess.Process, within: float) -> None:
    """Wait up to `within` seconds for `process` itself to exit.

    Not `process.wait()`: asyncio's also waits for the pipes to close, which a process that
    left the group (`setsid`) can hold open forever.
    """
    deadline = time.monotonic() + within
    while process.returncode is None and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def reap(process: asyncio.subprocess.Process, within: float) -> None:
    """Wait up to `within` seconds for `process` to exit, then stop reading its pipes."""
    await exited(process, within)
    let_go(process)


def let_go(process: asyncio.subprocess.Process) -> None:
    """Close our ends of the pipes now, so that a transport collected after the loop ended
    does not complain "Event loop is closed" (asyncio has no public way to do this)."""
    process._transport.close()
