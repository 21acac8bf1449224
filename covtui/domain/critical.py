"""Critical files: where the most coverage is missing, so testing them lifts the total most."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from covtui.domain.records import FileRow


def critical_files(files: Iterable[FileRow], limit: int = 5) -> list[FileRow]:
    """The top `limit` files by missed statements + missed branches; ties go to bigger files."""
    candidates = [f for f in files if f.numbers.n_missed_total > 0]
    candidates.sort(
        key=lambda f: (
            -f.numbers.n_missed_total,
            -(f.numbers.n_statements + f.numbers.n_branches),
            f.path,
        )
    )
    return candidates[:limit]
