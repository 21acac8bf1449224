"""How files changed between two commits, line by line: `git diff -M -U0` parsed into hunks,
with renames and moves followed (for `covtui explain`)."""

from __future__ import annotations

import codecs
import os
import re

from covtui.domain.explain import FileDiff, Hunk
from covtui.git.diff import _git

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _path(raw: bytes, prefix: bytes) -> str | None:
    """`a/pkg/x.py` (or git's quoted form) → "pkg/x.py"; /dev/null → None."""
    if raw == b"/dev/null":
        return None
    if raw.startswith(b'"') and raw.endswith(b'"'):
        raw = codecs.escape_decode(raw[1:-1])[0]
    if raw.startswith(prefix):
        raw = raw[len(prefix):]
    return os.fsdecode(raw)


async def file_diffs(root, commit_a: str, commit_b: str) -> dict[str, FileDiff] | None:
    """Path (the new one; the old one for a deleted file) → its change from `commit_a` to
    `commit_b`; None when either is not a commit of the repository at `root`."""
    diff = await _git(
        root, "-c", "core.quotePath=false", "diff", "-M", "-U0", "--no-color", "--no-ext-diff",
        "--relative", commit_a, commit_b, "--",
    )
    return None if diff is None else parse_diff(diff)


def parse_diff(diff: bytes) -> dict[str, FileDiff]:
    out: dict[str, FileDiff] = {}
    old: str | None = None
    new: str | None = None
    hunks: list[Hunk] = []
    started = False

    def flush() -> None:
        if started and (old or new):
            out[new or old] = FileDiff(old, new, tuple(hunks))

    for raw in diff.split(b"\n"):
        if raw.startswith(b"diff --git "):
            flush()
            started, hunks = True, []
            # Until ---/+++ or rename lines say otherwise (a mode change has neither).
            parts = raw[len(b"diff --git "):].split(b" b/", 1)
            old = _path(parts[0], b"a/")
            new = _path(b"b/" + parts[1], b"b/") if len(parts) == 2 else old
        elif raw.startswith(b"rename from "):
            old = _path(raw[len(b"rename from "):], b"")
        elif raw.startswith(b"rename to "):
            new = _path(raw[len(b"rename to "):], b"")
        elif raw.startswith(b"--- "):
            old = _path(raw[4:], b"a/")
        elif raw.startswith(b"+++ "):
            new = _path(raw[4:], b"b/")
        elif match := _HUNK.match(raw):
            a, b, c, d = match.groups()
            hunks.append((int(a), int(b or 1), int(c), int(d or 1)))
    flush()
    return out
