"""git, asked by the services: the commit a snapshot was taken at (`git_info`), the lines
changed since a ref (`diff`) and how files moved between two commits (`lines`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from covtui.domain.model import GitInfo


async def git_info(root: Path) -> GitInfo:
    """Commit, branch and dirty flag when `root` is in a git work tree; empty otherwise."""

    async def git(*args: str) -> str | None:
        try:
            process = await asyncio.create_subprocess_exec(
                "git", *args, cwd=root,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                stdin=asyncio.subprocess.DEVNULL,
            )
            out, _ = await asyncio.wait_for(process.communicate(), 10)
        except (OSError, asyncio.TimeoutError):
            return None
        return out.decode(errors="replace").strip() if process.returncode == 0 else None

    # One git for both (each git started costs a scan a few milliseconds of CPU).
    head = await git("rev-parse", "HEAD", "--abbrev-ref", "HEAD")
    if head is None:
        return GitInfo()
    commit, _, branch = head.partition("\n")
    status = await git("status", "--porcelain", "--untracked-files=no")
    return GitInfo(commit, branch or None, bool(status) if status is not None else None)
