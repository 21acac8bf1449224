"""Read lcov tracefiles (geninfo/lcov 1.x and 2.x, c8, istanbul, grcov, cargo-llvm-cov, …).

Records for the same source file (one per test name is common) are merged by summing
hit counts per line, per branch and per function, as `lcov -a` does. Totals are computed
from the detail records (DA, BRDA, FN/FNDA, FNL/FNA), never from the LF/LH-style summaries.

The file is streamed: only the record being read is held in dicts; a finished record is
packed (about 5 bytes a line), so memory follows the largest record rather than the file.

lcov branches have no destination lines, so `missing_arcs` is always empty here.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path

from covtui.domain.model import CoverageReport, FileCoverage, FunctionCoverage
from covtui.domain.numbers import Numbers
from covtui.errors import InputError
from covtui.readers import relative_path

MAX_BYTES = 1 << 30  # refuse tracefiles over 1 GiB

_SUMMARY_TAGS = frozenset({"LF", "LH", "BRF", "BRH", "FNF", "FNH"})
MAX_LINE = 2**32 - 1  # packed line numbers are unsigned 32-bit
_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")


@dataclass(slots=True)
class _Function:
    start: int  # 0 when only its hit count is known (FNDA without FN)
    end: int | None  # FNL / lcov 2 FN end line, when given
    hits: int = 0


@dataclass
class _FileData:
    """One source file while a record of it is read."""

    lines: dict[int, int] = field(default_factory=dict)
    # (line, block, branch) -> times taken; -1 means "-": the block never ran.
    branches: dict[tuple[int, str, str], int] = field(default_factory=dict)
    functions: dict[str, _Function] = field(default_factory=dict)


@dataclass
class _Packed:
    """One source file between its records, compact.

    Counts only ever grow by non-negative amounts and are finally compared with zero, so a
    0/1 flag per line, branch and function merges exactly as the full count would
    (a branch's "-" and 0 both stay "not taken" until some record takes it).
    """

    lines: array  # sorted line numbers
    hit: bytes  # 1 where the line ran, parallel to `lines`
    branches: str  # "line,block,branch" keys joined by "\n" (a value never holds a newline)
    taken: bytes  # 1 where the branch was taken, parallel to `branches`
    functions: dict[str, _Function]  # hits kept as 0/1


def _pack(data: _FileData) -> _Packed:
    numbered = sorted(data.lines)
    lines = data.lines
    for fn in data.functions.values():
        fn.hits = 1 if fn.hits > 0 else 0
    return _Packed(
        array("I", numbered),
        bytes(1 if lines[n] > 0 else 0 for n in numbered),
        "\n".join(f"{ln},{block},{branch}" for ln, block, branch in data.branches),
        bytes(1 if t > 0 else 0 for t in data.branches.values()),
        data.functions,
    )


def _unpack(packed: _Packed) -> _FileData:
    branches: dict[tuple[int, str, str], int] = {}
    if packed.taken:
        for key, taken in zip(packed.branches.split("\n"), packed.taken, strict=True):
            ln, block, branch = key.split(",", 2)
            branches[(int(ln), block, branch)] = taken
    return _FileData(dict(zip(packed.lines, packed.hit, strict=True)), branches, packed.functions)


def read_lcov(path: Path, *, root: Path) -> CoverageReport:
    """Read an lcov tracefile; raise `InputError` ("line N: problem") for anything malformed."""
    return read_lcov_shards([path], root=root)


def read_lcov_shards(paths: Sequence[Path], *, root: Path) -> CoverageReport:
    """Several tracefiles (a CI run's shards) read as one, merged as `lcov -a` merges them:
    hit counts summed per line, branch and function, so a line is covered when any shard ran
    it and a branch taken when any shard took it."""
    started = time.perf_counter()
    path = paths[0]
    try:
        for path in paths:
            if path.stat().st_size > MAX_BYTES:
                raise InputError(path, "larger than 1 GiB; refusing to read it")
        with contextlib.ExitStack() as stack:
            streams = [stack.enter_context(open(p, encoding="utf-8", errors="replace")) for p in paths]
            files = _parse(itertools.chain.from_iterable(streams), paths[0])
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    result = []
    ints: dict[int, int] = {}  # one int object per line number, shared by every file
    for sf in list(files):
        data = files.pop(sf)
        try:
            rel = relative_path(sf, root)
        except (ValueError, OSError) as exc:  # e.g. a NUL byte in the path
            raise InputError(path, f"bad source file path {sf[:80]!r}: {exc}") from None
        result.append(_file_coverage(rel, data, ints))
    has_branches = any(fc.numbers.n_branches for fc in result)
    return CoverageReport("lcov", result, has_branches, time.perf_counter() - started)


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} is not an integer: {value[:40]!r}") from None


def _line_no(value: str) -> int:
    n = _int(value, "line number")
    if n < 0:
        raise ValueError(f"negative line number {n}")
    if n > MAX_LINE:
        raise ValueError(f"line number {value[:40]} is out of range")
    return n


def _parse(lines: Iterable[str], path: Path) -> dict[str, _Packed]:
    """Each source file's merged records, in order of first appearance."""
    files: dict[str, _Packed | None] = {}
    current: _FileData | None = None
    current_sf = ""
    # lcov 2.2+ FNL/FNA: per-record function index -> (start, end) and alias hit counts.
    fnl: dict[str, tuple[int, int | None]] = {}
    fna: dict[str, dict[str, int]] = {}
    n = 0
    try:
        for n, raw in enumerate(lines, 1):  # noqa: B007 - `n` is reported on errors
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line == "end_of_record":
                if current is None:
                    raise ValueError("end_of_record outside a record")
                if fnl or fna:
                    _merge_fnl(current, fnl, fna)
                    fnl, fna = {}, {}
                files[current_sf] = _pack(current)
                current = None
                continue
            tag, sep, value = line.partition(":")
            if not sep or not tag.isalpha() or not tag.isupper():
                raise ValueError(f"not an lcov record: {line[:60]!r}")
            if tag == "SF":
                if current is not None:
                    raise ValueError(f"SF before the end_of_record of {current_sf[:80]!r}")
                if not value:
                    raise ValueError("SF with no file name")
                current_sf = value
                packed = files.setdefault(value, None)  # keeps the first appearance's place
                current = _FileData() if packed is None else _unpack(packed)
                continue
            if tag in ("TN", "VER"):
                continue
            if current is None:
                if tag in ("DA", "BRDA", "FN", "FNDA", "FNL", "FNA") or tag in _SUMMARY_TAGS:
                    raise ValueError(f"{tag} before any SF")
                continue  # an unknown tag outside a record: ignore, like lcov
            if tag == "DA":
                parts = value.split(",", 2)
                if len(parts) < 2:
                    raise ValueError("DA needs a line number and a count")
                lineno = _line_no(parts[0])
                hits = max(0, _int(parts[1], "execution count"))  # gcov bugs give negatives
                current.lines[lineno] = current.lines.get(lineno, 0) + hits
            elif tag == "BRDA":
                parts = value.split(",", 2)
                if len(parts) < 3 or "," not in parts[2]:
                    raise ValueError("BRDA needs line,block,branch,taken")
                branch, taken_s = parts[2].rsplit(",", 1)  # lcov 2 branch may be an expression
                key = (_line_no(parts[0]), parts[1], branch)
                taken = -1 if taken_s == "-" else max(0, _int(taken_s, "branch count"))
                old = current.branches.get(key, -1)
                current.branches[key] = taken if old < 0 else old + max(taken, 0)
            elif tag == "FN":
                # lcov 1.x: FN:start,name; lcov 2.x: FN:start,end,name (names may hold commas).
                parts = value.split(",", 2)
                if len(parts) < 2 or not parts[-1]:
                    raise ValueError("FN needs a line number and a name")
                start = _line_no(parts[0])
                end: int | None = None
                if len(parts) == 3 and parts[1].isdigit():
                    end, name = int(parts[1]), parts[2]
                else:
                    name = value.split(",", 1)[1]
                fn = current.functions.get(name)
                if fn is None:
                    current.functions[name] = _Function(start, end)
                elif fn.start == 0:
                    fn.start, fn.end = start, end
            elif tag == "FNDA":
                count_s, comma, name = value.partition(",")
                if not comma or not name:
                    raise ValueError("FNDA needs a count and a name")
                count = max(0, _int(count_s, "function count"))
                fn = current.functions.get(name)
                if fn is None:
                    current.functions[name] = fn = _Function(0, None)
                fn.hits += count
            elif tag == "FNL":
                parts = value.split(",")
                if len(parts) not in (2, 3):
                    raise ValueError("FNL needs index,start[,end]")
                _int(parts[0], "function index")
                fnl[parts[0]] = (
                    _line_no(parts[1]),
                    _line_no(parts[2]) if len(parts) == 3 else None,
                )
            elif tag == "FNA":
                parts = value.split(",", 2)
                if len(parts) < 3 or not parts[2]:
                    raise ValueError("FNA needs index,count,name")
                _int(parts[0], "function index")
                aliases = fna.setdefault(parts[0], {})
                aliases[parts[2]] = aliases.get(parts[2], 0) + max(
                    0, _int(parts[1], "function count")
                )
            elif tag in _SUMMARY_TAGS:
                _int(value, tag)  # checked, but totals come from the detail records
            # Other tags (MCDC, LN, future ones) are ignored.
    except ValueError as exc:
        raise InputError(path, f"line {n}: {exc}") from None
    if current is not None:
        raise InputError(
            path, f"line {n}: truncated: the record for {current_sf[:80]!r} has no end_of_record"
        )
    if n == 0:
        raise InputError(path, "empty file")
    return files  # type: ignore[return-value]  # every record ended, so none is None


def _merge_fnl(
    data: _FileData, fnl: dict[str, tuple[int, int | None]], fna: dict[str, dict[str, int]]
) -> None:
    """Fold one record's FNL/FNA functions in: aliases of one index count as one function."""
    for index in fnl.keys() | fna.keys():
        start, end = fnl.get(index, (0, None))
        aliases = fna.get(index, {})
        # The smallest alias names the function, so records list aliases in any order.
        name = min(aliases) if aliases else f"@{start}"
        fn = data.functions.get(name)
        if fn is None:
            data.functions[name] = fn = _Function(start, end)
        elif fn.start == 0:
            fn.start, fn.end = start, end
        fn.hits += sum(aliases.values())


def function_coverage(
    functions: list[tuple[str, int, int | None, str]], lines: dict[int, int]
) -> tuple[FunctionCoverage, ...]:
    """FunctionCoverage for (name, start, end or None, kind) given a file's line hit counts.

    A function without an end line runs to the line before the next function's start,
    or to the file's last counted line. Functions with start 0 (location unknown) get no lines.
    """
    numbered = sorted(lines)
    return _spans(functions, numbered, [0 if lines[ln] == 0 else 1 for ln in numbered])


def _spans(
    functions: list[tuple[str, int, int | None, str]], numbered: Sequence[int], hit: Sequence[int]
) -> tuple[FunctionCoverage, ...]:
    """`function_coverage` over sorted line numbers and their 0/1 "ran" flags."""
    last = numbered[-1] if numbered else 0
    starts = sorted({start for _, start, _, _ in functions if start > 0})
    result = []
    for name, start, end, kind in functions:
        if start <= 0:
            result.append(FunctionCoverage(name, kind, 0, 0, 0, 0))
            continue
        if end is None or end < start:
            i = bisect_right(starts, start)
            end = starts[i] - 1 if i < len(starts) else max(last, start)
        lo, hi = bisect_left(numbered, start), bisect_right(numbered, end)
        missing = hi - lo - sum(hit[lo:hi])
        result.append(FunctionCoverage(name, kind, start, end, hi - lo, missing))
    result.sort(key=lambda f: (f.start_line, f.name))
    return tuple(result)


def _file_coverage(rel: str, data: _Packed, ints: dict[int, int]) -> FileCoverage:
    lines, hit = data.lines, data.hit
    missing_lines = tuple(ints.setdefault(ln, ln) for ln in compress(lines, hit.translate(_FLIP)))
    missing_branches = 0
    partial = 0
    if data.taken:
        for key in compress(data.branches.split("\n"), data.taken.translate(_FLIP)):
            missing_branches += 1
            # coverage.py's "partial": missed branches from lines that did run.
            lineno = int(key.split(",", 1)[0])
            i = bisect_left(lines, lineno)
            if i < len(lines) and lines[i] == lineno and hit[i]:
                partial += 1
    n_missing_functions = sum(1 for fn in data.functions.values() if fn.hits == 0)
    numbers = Numbers.of_file(
        n_statements=len(lines),
        n_missing=len(missing_lines),
        n_branches=len(data.taken),
        n_partial_branches=partial,
        n_missing_branches=missing_branches,
        n_functions=len(data.functions),
        n_missing_functions=n_missing_functions,
    )
    functions = _spans(
        [(name, fn.start, fn.end, "function") for name, fn in data.functions.items()], lines, hit
    )
    return FileCoverage(rel, numbers, missing_lines, (), functions, lines)
