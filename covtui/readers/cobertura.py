"""Read Cobertura XML (coverage.py `coverage xml`, gcovr, tarpaulin, Jest/istanbul, coverlet, …).

Counts come from each `<line hits= condition-coverage="50% (1/2)">`, never from the rounded
rates. A file listed in several `<class>` elements is merged. The XML is streamed with
defusedxml, which refuses entity declarations and external references.

Missing arcs come from coverage.py's `missing-branches` attribute; it writes every exit
as "exit", which becomes destination -1.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET

from covtui.domain.model import CoverageReport, FileCoverage
from covtui.domain.numbers import Numbers
from covtui.errors import InputError
from covtui.readers import relative_path
from covtui.readers.lcov import function_coverage
from covtui.readers.xml_input import tag as element_tag
from covtui.readers.xml_input import xml_errors

_CONDITIONS = re.compile(r"\(\s*(\d+)\s*/\s*(\d+)\s*\)")


@dataclass
class _Method:
    name: str
    lines: dict[int, int] = field(default_factory=dict)
    hits: int | None = None  # the method's own `hits` attribute (istanbul)


@dataclass
class _FileData:
    lines: dict[int, int] = field(default_factory=dict)
    conditions: dict[int, tuple[int, int]] = field(default_factory=dict)  # line -> (taken, total)
    missing_dests: dict[int, set[int]] = field(default_factory=dict)  # coverage.py missing-branches
    methods: list[_Method] = field(default_factory=list)


def read_cobertura(path: Path, *, root: Path) -> CoverageReport:
    """Read a Cobertura XML report; raise `InputError` for anything else or anything unsafe."""
    started = time.perf_counter()
    merged = _read_files(path, root)
    result = [_file_coverage(rel, data) for rel, data in merged.items()]
    has_branches = any(fc.numbers.n_branches for fc in result)
    return CoverageReport("cobertura", result, has_branches, time.perf_counter() - started)


def read_cobertura_shards(paths: Sequence[Path], *, root: Path) -> CoverageReport:
    """Several reports of one code base (a CI run's shards) merged per file and line: hits
    summed (a line is covered when any shard ran it); a branch line's missed destinations are
    those every shard missed, where each report names them (coverage.py's `missing-branches`),
    otherwise the most branches any one shard took (a lower bound: which ones is not said)."""
    started = time.perf_counter()
    merged: dict[str, _FileData] = {}
    for path in paths:
        for rel, data in _read_files(path, root).items():
            if rel in merged:
                _merge_shard(merged[rel], data)
            else:
                merged[rel] = data
    result = [_file_coverage(rel, data) for rel, data in merged.items()]
    has_branches = any(fc.numbers.n_branches for fc in result)
    return CoverageReport("cobertura", result, has_branches, time.perf_counter() - started)


def _read_files(path: Path, root: Path) -> dict[str, _FileData]:
    """Each file of one report, its `<class>` elements merged."""
    try:
        with xml_errors(path):
            files, sources = _parse(path)
    except ValueError as exc:
        raise InputError(path, str(exc)) from None

    merged: dict[str, _FileData] = {}
    for filename, data in files:
        try:
            rel = relative_path(_resolve(filename, sources, root), root)
        except (ValueError, OSError) as exc:  # e.g. a NUL byte in the path
            raise InputError(path, f"bad filename {filename[:80]!r}: {exc}") from None
        if rel in merged:
            _merge(merged[rel], data)
        else:
            merged[rel] = data
    return merged


def _count(value: str | None, what: str, line: int | None = None) -> int:
    """An integer attribute; `what` names it, e.g. "<line> hits"."""
    where = f" (line {line})" if line is not None else ""
    if value is None:
        tag, _, name = what.partition(" ")
        raise ValueError(f"{tag} without {name}{where}")
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)  # some tools write "1.0"
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{what} is not a number: {value[:40]!r}{where}")
    return int(number)


def _parse(path: Path) -> tuple[list[tuple[str, _FileData]], list[str]]:
    """Stream the XML: class-level <line>s count; method-level ones only shape functions."""
    files: list[tuple[str, _FileData]] = []
    sources: list[str] = []
    stack: list[str] = []
    current: _FileData | None = None
    method: _Method | None = None
    seen_packages = False
    for event, elem in DET.iterparse(str(path), events=("start", "end")):
        tag = element_tag(elem)
        if event == "start":
            if not stack and tag != "coverage":
                raise ValueError(f"not Cobertura XML: the root element is <{tag}>")
            stack.append(tag)
            if tag == "packages":
                seen_packages = True
            elif tag == "class":
                filename = elem.get("filename") or elem.get("name")
                if not filename:
                    raise ValueError("<class> without a filename")
                current = _FileData()
                files.append((filename, current))
            elif tag == "method" and current is not None:
                hits = elem.get("hits")
                method = _Method(
                    elem.get("name") or "?", hits=_count(hits, "<method> hits") if hits else None
                )
                current.methods.append(method)
            continue
        stack.pop()
        if tag == "line" and current is not None and len(stack) >= 2 and stack[-1] == "lines":
            number = _count(elem.get("number"), "<line> number")
            hits = max(0, _count(elem.get("hits"), "<line> hits", number))
            if stack[-2] == "method" and method is not None:
                method.lines[number] = method.lines.get(number, 0) + hits
            elif stack[-2] == "class":
                _add_line(current, elem, number, hits)
        elif tag == "source" and elem.text and elem.text.strip():
            sources.append(elem.text.strip())
        elif tag == "method":
            method = None
        elif tag == "class":
            current = None
            elem.clear()  # keep memory flat on big reports
        elif tag == "package":
            elem.clear()
    if not seen_packages:
        raise ValueError("not Cobertura XML: no <packages> element")
    return files, sources


def _add_line(data: _FileData, elem: Element, number: int, hits: int) -> None:
    data.lines[number] = data.lines.get(number, 0) + hits
    if (elem.get("branch") or "").lower() != "true":
        return
    match = _CONDITIONS.search(elem.get("condition-coverage") or "")
    if not match:
        return
    taken, total = int(match[1]), int(match[2])
    if total <= 0:
        return
    if taken > total:
        raise ValueError(
            f"<line> condition-coverage {elem.get('condition-coverage', '')[:40]!r} takes more"
            f" branches than there are (line {number})"
        )
    _add_conditions(data, number, taken, total)
    missing = elem.get("missing-branches")
    if missing:
        # coverage.py names exits "exit" without their code object: any negative means exit.
        dests = data.missing_dests.setdefault(number, set())
        for dest in missing.split(","):
            dest = dest.strip()
            if dest == "exit":
                dests.add(-1)
            elif dest.isdigit():
                dests.add(int(dest))


def _add_conditions(data: _FileData, number: int, taken: int, total: int) -> None:
    # The same line in two classes: per-condition detail is lost, so keep the best of each.
    old_taken, old_total = data.conditions.get(number, (0, 0))
    total = max(total, old_total)
    data.conditions[number] = (min(max(taken, old_taken), total), total)


def _merge(into: _FileData, other: _FileData) -> None:
    for number, hits in other.lines.items():
        into.lines[number] = into.lines.get(number, 0) + hits
    for number, (taken, total) in other.conditions.items():
        _add_conditions(into, number, taken, total)
    for number, dests in other.missing_dests.items():
        into.missing_dests.setdefault(number, set()).update(dests)
    into.methods.extend(other.methods)


def _merge_shard(into: _FileData, other: _FileData) -> None:
    """`other`, the same file in another shard, merged into `into`."""
    for number, hits in other.lines.items():
        into.lines[number] = into.lines.get(number, 0) + hits
    for number, (taken, total) in other.conditions.items():
        if number not in into.conditions:
            into.conditions[number] = (taken, total)
            if number in other.missing_dests:
                into.missing_dests[number] = set(other.missing_dests[number])
            continue
        mine = _named_missing(into, number)
        theirs = _named_missing(other, number)
        if mine is not None and theirs is not None and into.conditions[number][1] == total:
            missing = mine & theirs
            into.conditions[number] = (total - len(missing), total)
            into.missing_dests[number] = missing
        else:
            _add_conditions(into, number, taken, total)
            into.missing_dests.pop(number, None)
    into.methods.extend(other.methods)


def _named_missing(data: _FileData, number: int) -> set[int] | None:
    """The line's missed branch destinations when the report names every one of them."""
    taken, total = data.conditions[number]
    missing = data.missing_dests.get(number, set())
    return missing if len(missing) == total - taken else None


def _resolve(filename: str, sources: list[str], root: Path) -> str:
    """The path `filename` names: absolute, under one of the <source> dirs, or under root."""
    if os.path.isabs(filename):
        return filename
    bases = [Path(s) if os.path.isabs(s) else root / s for s in sources]
    for base in bases:
        candidate = base / filename
        if candidate.exists():
            return str(candidate)
    if (root / filename).exists():
        return filename
    # Nothing on disk (a report from elsewhere): trust the first source directory.
    return str(bases[0] / filename) if bases else filename


def _file_coverage(rel: str, data: _FileData) -> FileCoverage:
    missing_lines = tuple(sorted(n for n, hits in data.lines.items() if hits == 0))
    n_branches = n_missing_branches = n_partial = 0
    for number, (taken, total) in data.conditions.items():
        n_branches += total
        n_missing_branches += total - taken
        # coverage.py's "partial": missed branches from lines that did run.
        if data.lines.get(number, 0) > 0:
            n_partial += total - taken
    missing_arcs = tuple(
        (number, dest)
        for number in sorted(data.missing_dests)
        for dest in sorted(data.missing_dests[number], key=lambda d: (d < 0, d))
    )
    methods: dict[tuple[str, int], tuple[int | None, bool]] = {}
    for m in data.methods:
        start = min(m.lines, default=0)
        # One line (istanbul: the declaration) runs to the next function; gcovr lists them all.
        end = max(m.lines) if len(m.lines) > 1 else None
        hit = (m.hits > 0) if m.hits is not None else any(m.lines.values())
        old_end, old_hit = methods.get((m.name, start), (None, False))
        methods[(m.name, start)] = (end if end is not None else old_end, hit or old_hit)
    functions = function_coverage(
        [(name, start, end, "function") for (name, start), (end, _) in methods.items()], data.lines
    )
    numbers = Numbers.of_file(
        n_statements=len(data.lines),
        n_missing=len(missing_lines),
        n_branches=n_branches,
        n_partial_branches=n_partial,
        n_missing_branches=n_missing_branches,
        n_functions=len(methods),
        n_missing_functions=sum(1 for _, hit in methods.values() if not hit),
    )
    return FileCoverage(
        rel, numbers, missing_lines, missing_arcs, functions, tuple(sorted(data.lines))
    )
