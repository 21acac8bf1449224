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

    commit = await git("rev-parse", "HEAD")
    if commit is None:
        return GitInfo()
    branch = await git("rev-parse", "--abbrev-ref", "HEAD")
    status = await git("status", "--porcelain", "--untracked-files=no")
    return GitInfo(commit, branch, bool(status) if status is not None else None)
