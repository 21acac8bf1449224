"""Generated files found on disk: a file's first bytes read (only inside the project) and
matched against the generated-code rules (`domain/generated.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from covtui.config import Config
from covtui.domain.generated import GeneratedFile, GeneratedFinder, find_generated

#: Bytes of each file read to look for a "generated" header.
HEAD_BYTES = 2048


def read_head(root: Path, path: str) -> str | None:
    """The start of a project file (`root` resolved already); None outside the project
    (symlinks included) or when it can't be read."""
    try:
        full = (root / path).resolve()
        if not full.is_relative_to(root):
            return None
        with open(full, "rb") as f:
            return f.read(HEAD_BYTES).decode("utf-8", "replace")
    except (OSError, ValueError, RuntimeError):  # unreadable, a NUL byte, a symlink loop
        return None


def find_generated_files(config: Config, paths: Iterable[str]) -> list[GeneratedFile]:
    """The generated files among `paths`, by name or by their header on disk (blocking:
    callers run it in a thread)."""
    finder = GeneratedFinder(config.generated, config.root)
    root = config.root.resolve()
    heads = ((p, None if finder.by_path(p) else read_head(root, p)) for p in sorted(set(paths)))
    return find_generated(finder, heads)
