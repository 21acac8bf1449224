"""What to test first: the critical files and the next ones, each with its gap analysis."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from covtui.config import Config
from covtui.domain.critical import critical_files
from covtui.domain.gaps import FileGaps
from covtui.domain.numbers import Numbers
from covtui.domain.recommend import Recommendation, recommendations
from covtui.domain.records import FileDetail, FileRow
from covtui.query.files import analyse_source
from covtui.store import Store

#: Recommendations after the critical files (the "secondary" ones).
N_SECONDARY = 5


@dataclass(frozen=True)
class Recommendations:
    """The ranked recommendations, and the gap analysis of each file they name."""

    items: list[Recommendation] = field(default_factory=list)
    gaps: dict[tuple[str, str], FileGaps] = field(default_factory=dict)


async def recommend(store: Store, config: Config, files: list[FileRow] | None = None) -> Recommendations:
    """The critical files (`config.critical_files`, "immediate"), then `N_SECONDARY` more.

    `files`: every file now, when the caller has them already. The file details come from
    the database; reading and parsing the sources, the CPU part, runs in a thread.
    """
    files = await store.files() if files is None else files
    n_immediate = config.critical_files
    details: dict[tuple[str, str], tuple[FileRow, FileDetail]] = {}
    for row in critical_files(files, n_immediate + N_SECONDARY):
        detail = await store.file_detail(row.source, row.path)
        if detail is not None:
            details[(row.source, row.path)] = (row, detail)
    candidates = [row for row, _ in details.values()]
    total = sum((f.numbers for f in files), Numbers())
    root = config.root

    def compute() -> Recommendations:
        gaps = {key: analyse_source(root, detail) for key, (_, detail) in details.items()}
        items = recommendations(
            candidates,
            lambda row: gaps[(row.source, row.path)],
            total=total,
            n_immediate=n_immediate,
            limit=len(candidates),
        )
        return Recommendations(items, gaps)

    return await asyncio.to_thread(compute)
