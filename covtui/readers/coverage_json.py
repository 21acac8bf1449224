"""Read coverage.py's `coverage json` report (format 2 and 3).

Each file's `summary` becomes its `Numbers` unchanged, so the totals equal the report's.
Format 3 adds "functions" and "classes" regions, which become `FunctionCoverage` entries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from covtui.domain.model import CoverageReport, FileCoverage, FunctionCoverage
from covtui.domain.numbers import Numbers
from covtui.errors import InputError
from covtui.readers import relative_path

MAX_BYTES = 1 << 30  # refuse reports over 1 GiB


class _Bad(Exception):
    """A structural problem; becomes an InputError naming the file."""


def read_coverage_json(path: Path, *, root: Path) -> CoverageReport:
    """Read a `coverage json` report; raise `InputError` for any other JSON."""
    started = time.perf_counter()
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(path, "larger than 1 GiB; refusing to read it")
        with open(path, "rb") as f:
            doc = json.load(f)
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise InputError(path, f"not valid JSON: {str(exc)[:120]}") from None
    try:
        files, has_branches = _convert(doc, root)
    except _Bad as exc:
        raise InputError(path, f"not a coverage.py JSON report: {exc}") from None
    except (ValueError, OSError) as exc:  # a file name relative_path() cannot handle
        raise InputError(path, f"bad file name: {exc}") from None
    return CoverageReport("coverage.json", files, has_branches, time.perf_counter() - started)


def _convert(doc: Any, root: Path) -> tuple[list[FileCoverage], bool]:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("files"), Mapping):
        raise _Bad('no "files" object')
    meta = doc.get("meta")
    if meta is not None and not isinstance(meta, Mapping):
        raise _Bad('"meta" is not an object')
    version = meta.get("format", 1) if meta else 1  # version 1 had no format number
    if version not in (1, 2, 3) or isinstance(version, bool):
        raise _Bad(f"format {str(version)[:20]} is not one covtui reads (2 or 3)")
    has_branches = bool(meta.get("branch_coverage")) if meta else False
    files = []
    for name, entry in doc["files"].items():
        if not isinstance(entry, Mapping):
            raise _Bad(f"entry for {name[:80]!r} is not an object")
        numbers = _numbers(entry.get("summary"), name)
        has_branches = has_branches or "num_branches" in entry["summary"]
        missing_lines = _ints(entry.get("missing_lines", []), name, "missing_lines")
        arcs = []
        for arc in _list(entry.get("missing_branches", []), name, "missing_branches"):
            if not (isinstance(arc, list) and len(arc) == 2 and all(_is_int(v) for v in arc)):
                raise _Bad(
                    f"{name[:80]!r}: missing_branches holds {str(arc)[:40]} (not [from, to])"
                )
            arcs.append((arc[0], arc[1]))
        functions = [
            *_regions(entry.get("functions"), "function", name),
            *_regions(entry.get("classes"), "class", name),
        ]
        functions.sort(key=lambda f: (f.start_line, f.kind != "class", f.name))
        executed = _ints(entry.get("executed_lines", []), name, "executed_lines")
        files.append(
            FileCoverage(
                relative_path(name, root),
                numbers,
                tuple(sorted(missing_lines)),
                tuple(arcs),
                tuple(functions),
                tuple(sorted({*executed, *missing_lines})),
            )
        )
    return files, has_branches


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(value: object, name: str, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(f"{name[:80]!r}: {key} is not a list")
    return value


def _ints(value: object, name: str, key: str) -> list[int]:
    items = _list(value, name, key)
    if not all(_is_int(v) for v in items):
        raise _Bad(f"{name[:80]!r}: {key} holds something other than line numbers")
    return items


def _summary_int(summary: Mapping[str, Any], key: str, name: str, required: bool = True) -> int:
    value = summary.get(key, None if required else 0)
    if not _is_int(value) or value < 0:
        raise _Bad(f"{name[:80]!r}: summary {key} is {str(value)[:40]} (not a count)")
    return value


def _numbers(summary: object, name: str) -> Numbers:
    if not isinstance(summary, Mapping):
        raise _Bad(f"{name[:80]!r} has no summary")
    n_statements = _summary_int(summary, "num_statements", name)
    n_missing = _summary_int(summary, "missing_lines", name)
    return Numbers.of_file(
        n_statements=n_statements,
        n_excluded=_summary_int(summary, "excluded_lines", name, required=False),
        n_missing=n_missing,
        n_branches=_summary_int(summary, "num_branches", name, required=False),
        n_partial_branches=_summary_int(summary, "num_partial_branches", name, required=False),
        n_missing_branches=_summary_int(summary, "missing_branches", name, required=False),
    )


def _regions(regions: object, kind: str, name: str) -> list[FunctionCoverage]:
    """Format 3 "functions"/"classes" maps; "" is the code outside every region: skipped."""
    if regions is None:
        return []
    if not isinstance(regions, Mapping):
        raise _Bad(f"{name[:80]!r}: {kind} regions are not an object")
    result = []
    for region_name, region in regions.items():
        if region_name == "":
            continue
        if not isinstance(region, Mapping):
            raise _Bad(f"{name[:80]!r}: region {region_name[:40]!r} is not an object")
        numbers = _numbers(region.get("summary"), name)
        start = region.get("start_line", 0)
        if not _is_int(start):
            raise _Bad(f"{name[:80]!r}: region {region_name[:40]!r} has a bad start_line")
        lines = [
            *_ints(region.get("executed_lines", []), name, "executed_lines"),
            *_ints(region.get("missing_lines", []), name, "missing_lines"),
            *_ints(region.get("excluded_lines", []), name, "excluded_lines"),
        ]
        end = max([start, *lines])
        result.append(
            FunctionCoverage(region_name, kind, start, end, numbers.n_statements, numbers.n_missing)
        )
    return result
