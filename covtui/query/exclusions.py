"""The exclusions audit: the latest snapshot's files, parsed again by coverage.py in a thread,
the files `omit` and covtui's generated-code rule leave out, and the count over time."""

from __future__ import annotations

import asyncio

from covtui.config import Config
from covtui.domain.exclusions import (
    Audit,
    AuditFile,
    ExcludedPoint,
    LeftOutFile,
    attribute,
)
from covtui.query.components import generated_files
from covtui.readers.exclusions import exclusion_settings, file_exclusions, omitted_files
from covtui.store import Store

#: How many snapshots the count's history goes back.
HISTORY = 50


async def exclusions_audit(store: Store, config: Config) -> Audit:
    files = await store.files()
    stored: dict[str, int] = {}
    sources: dict[str, str] = {}
    for f in files:
        stored[f.path] = stored.get(f.path, 0) + f.numbers.n_excluded
        sources.setdefault(f.path, f.source)
    root = config.root

    def read() -> tuple[list[AuditFile], list[tuple[str, str]]]:
        settings = exclusion_settings(root)
        audited = []
        for path in sorted(stored):
            if not path.endswith((".py", ".pyw")):
                continue
            found = file_exclusions(root, path, settings.regexes)
            if found is None or (not found.excluded and not stored[path]):
                continue
            lines = attribute(
                found.excluded, found.matched, settings.regexes, found.text, settings.defaults
            )
            audited.append(AuditFile(path, tuple(lines), stored[path], sources[path]))
        return audited, omitted_files(root, settings)

    audited, omitted = await asyncio.to_thread(read)
    # Generated files count in coverage.py's total; covtui leaves them out of components.
    generated = await generated_files(config, list(stored)) if config.generated.leave_out else []
    left_out = [LeftOutFile(path, f"omit pattern {pattern!r}") for path, pattern in omitted]
    left_out += [LeftOutFile(g.path, f"generated ({g.why})") for g in generated]
    history = [
        ExcludedPoint(s.id, s.created_at, s.numbers.n_excluded)
        for s in reversed(await store.snapshots(HISTORY))
        if s.status == "ok" and s.numbers is not None and s.numbers.has_data
    ]
    return Audit(tuple(audited), tuple(left_out), tuple(history))
