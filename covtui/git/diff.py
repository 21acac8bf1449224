"""The lines changed since a git ref: `git diff` against the merge base with the main
branch (or a ref you name), plus untracked files."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from covtui.domain.model import ChangedLines

MAIN_BRANCHES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")
_MAIN_REFS = tuple(f"refs/remotes/{b}" if b.startswith("origin/") else f"refs/heads/{b}" for b in MAIN_BRANCHES)
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


async def _git(root: Path, *args: str) -> bytes | None:
    try:
        process = await asyncio.create_subprocess_exec(
            "git", *args, cwd=root, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    except (OSError, asyncio.TimeoutError):
        return None
    return out if process.returncode == 0 else None


async def changed_lines(root: Path, base_ref: str | None = None) -> ChangedLines | None:
    """Lines changed in the work tree since `base_ref` (default: merge base with main);
    None when `root` is not in a git work tree or the ref does not exist."""
    if base_ref:
        ref = base_ref
    else:
        # Which of the main branches exist, in one git (outside a work tree: none).
        listed = await _git(root, "for-each-ref", "--format=%(refname)", *_MAIN_REFS)
        if listed is None:
            return None
        present = set(listed.decode(errors="replace").split())
        ref = next((name for name, full in zip(MAIN_BRANCHES, _MAIN_REFS, strict=True) if full in present), None)
        if ref is None:
            return None
    merge_base = await _git(root, "merge-base", "HEAD", f"{ref}^{{commit}}")
    if merge_base is None:
        return None
    base = merge_base.decode().strip()
    diff, untracked = await asyncio.gather(
        _git(root, "diff", "-U0", "--no-color", "--no-ext-diff", "--relative", base, "--"),
        _git(root, "ls-files", "--others", "--exclude-standard", "-z"),
    )
    if diff is None:
        return None
    lines: dict[str, frozenset[int] | None] = {}
    current: str | None = None
    collected: set[int] = set()
    for raw in diff.splitlines():
        if raw.startswith(b"+++ "):
            if current is not None:
                lines[current] = frozenset(collected)
            target = raw[4:]
            current = None if target == b"/dev/null" else os.fsdecode(target[2:] if target.startswith(b"b/") else target)
            collected = set()
        elif current is not None and (match := _HUNK.match(raw)):
            start, count = int(match.group(1)), int(match.group(2) or 1)
            collected.update(range(start, start + count))
    if current is not None:
        lines[current] = frozenset(collected)
    for name in (untracked or b"").split(b"\0"):
        if name:
            lines[os.fsdecode(name)] = None
    return ChangedLines(f"{ref} ({base[:7]})", lines)


