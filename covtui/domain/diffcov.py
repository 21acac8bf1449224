"""Diff coverage: how much of the changed code the tests run, from the changed lines."""

from __future__ import annotations

from collections.abc import Iterable

from covtui.domain.model import ChangedLines, DiffCoverage, DiffFile, FileCoverage


def diff_coverage(changed: ChangedLines, files: Iterable[FileCoverage]) -> DiffCoverage:
    """Coverage of the changed statements of the measured files."""
    result = []
    for f in files:
        if f.path not in changed.lines:
            continue
        touched = changed.lines[f.path]
        statements = f.statements if touched is None else [n for n in f.statements if n in touched]
        if not statements:
            continue
        missing = set(f.missing_lines)
        result.append(DiffFile(f.path, len(statements), tuple(n for n in statements if n in missing)))
    result.sort(key=lambda d: d.path)
    return DiffCoverage(
        changed.base,
        sum(d.n_statements for d in result),
        sum(len(d.missing_lines) for d in result),
        tuple(result),
    )
