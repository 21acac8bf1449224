"""Compact text and blob forms of line lists, arcs, functions, test ids and per-test
coverage (as stored)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence

from covtui.domain.contexts import LineTests
from covtui.domain.model import Arc, CoverageReport, FileCoverage, FunctionCoverage
from covtui.domain.numbers import Numbers


def encode_lines(lines: Iterable[int]) -> str:
    """[1, 2, 3, 7] → "1-3,7"."""
    parts: list[str] = []
    start = prev = None
    for n in sorted(lines):
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)


def decode_lines(text: str) -> tuple[int, ...]:
    lines: list[int] = []
    for part in filter(None, text.split(",")):
        if "-" not in part:
            lines.append(int(part))
            continue
        first, _, last = part.partition("-")
        lines.extend(range(int(first), int(last or first) + 1))
    return tuple(lines)


def encode_arcs(arcs: Iterable[Arc]) -> str:
    """[(3, 5), (8, -1)] → "3>5,8>-1"."""
    return ",".join(f"{a}>{b}" for a, b in sorted(arcs))


#: What `encode_arcs()` writes: decoded in one pass (a previous snapshot's files are read
#: back at every snapshot; thousands of arcs).
_ARCS = re.compile(r"-?[0-9]+>-?[0-9]+(?:,-?[0-9]+>-?[0-9]+)*")


def decode_arcs(text: str) -> tuple[Arc, ...]:
    if _ARCS.fullmatch(text):
        numbers = list(map(int, text.replace(">", ",").split(",")))
        return tuple(zip(numbers[::2], numbers[1::2], strict=True))
    arcs = []
    for part in filter(None, text.split(",")):
        a, _, b = part.partition(">")
        arcs.append((int(a), int(b)))
    return tuple(arcs)


def encode_functions(functions: Iterable[FunctionCoverage]) -> str:
    rows = list(functions)  # each a tuple: a JSON array of its six fields
    return json.dumps(rows, separators=(",", ":")) if rows else ""


def decode_functions(text: str) -> tuple[FunctionCoverage, ...]:
    if not text:
        return ()
    return tuple(itertools.starmap(FunctionCoverage, json.loads(text)))


def encode_names(names: Iterable[str]) -> bytes:
    """Test ids as one compressed blob: sorted, one per line (ids share long prefixes)."""
    return zlib.compress("\n".join(sorted(set(names))).encode("utf-8", "surrogatepass"), 6)


def decode_names(blob: bytes) -> frozenset[str]:
    text = zlib.decompress(blob).decode("utf-8", "surrogatepass")
    return frozenset(text.split("\n")) if text else frozenset()


def encode_line_tests(tests: LineTests) -> bytes:
    """A file's line → contexts as one blob: its context table, then each context's lines as
    ranges (a test runs runs of lines), JSON, zlib. Equal data gives equal bytes. Encoded
    once: a file read from a blob, or encoded before, gives that blob."""
    if tests.blob is None:
        tests.blob = _encode_line_tests(tests)
    return tests.blob


def _encode_line_tests(tests: LineTests) -> bytes:
    by_context: list[list[int]] = [[] for _ in tests.contexts]
    for line, indexes in tests.lines.items():
        for i in indexes:
            by_context[i].append(line)
    # The executed lines too: a line can run with no context of its own to show for it.
    doc = [
        list(tests.contexts),
        [encode_lines(lines) for lines in by_context],
        encode_lines(tests.lines),
    ]
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode("ascii"), 6)


def decode_line_tests(blob: bytes, content: str | None = None) -> LineTests:
    """A file's `encode_line_tests()` blob, decoded when its lines are first asked for."""
    return LineTests.encoded(blob, content, _line_tests_parts)


def _line_tests_parts(blob: bytes) -> tuple[tuple[str, ...], dict[int, tuple[int, ...]]]:
    contexts, ranges, executed = json.loads(zlib.decompress(blob))
    lines: dict[int, list[int]] = {n: [] for n in decode_lines(executed)}
    for i, text in enumerate(ranges):
        for line in decode_lines(text):
            lines[line].append(i)
    return tuple(contexts), {n: tuple(v) for n, v in sorted(lines.items())}


def encode_outcomes(outcomes: Mapping[str, str]) -> bytes:
    """Test id → outcome ("passed", "failed", …) as one compressed blob."""
    text = json.dumps(dict(sorted(outcomes.items())), separators=(",", ":"))
    return zlib.compress(text.encode("ascii"), 6)


def decode_outcomes(blob: bytes) -> dict[str, str]:
    return json.loads(zlib.decompress(blob))


#: A file's counts in the order `encode_file_result()` stores them.
FILE_COUNTS = (
    "n_statements", "n_excluded", "n_missing", "n_branches", "n_partial_branches",
    "n_missing_branches",
)


def encode_file_result(f: FileCoverage) -> str:
    """One file's result as text (its path aside): what the analysis cache keeps and what a
    reader's worker process hands back (text crosses a process boundary far faster than
    the objects)."""
    counts = [getattr(f.numbers, name) for name in FILE_COUNTS]
    # Missed lines, arcs and functions as the store keeps them (`KnownResults` compares a
    # read's files with the store's as text); a function is a tuple: a JSON array.
    return json.dumps(
        [counts, encode_lines(f.missing_lines), encode_arcs(f.missing_arcs), f.functions,
         encode_lines(f.statements)],
        separators=(",", ":"),
    )


def decode_file_result(text: str, path: str) -> FileCoverage:
    """`encode_file_result()` undone, for the file at `path`."""
    counts, missing_lines, missing_arcs, functions, statements = json.loads(text)
    numbers = Numbers.of_file(**dict(zip(FILE_COUNTS, counts, strict=True)))
    return FileCoverage(
        path=path,
        numbers=numbers,
        missing_lines=decode_lines(missing_lines),
        missing_arcs=decode_arcs(missing_arcs),
        functions=tuple(itertools.starmap(FunctionCoverage, functions)),
        statements=EncodedLines(statements),
    )


class EncodedLines(Sequence[int]):
    """`decode_lines(text)`, decoded when first used: every file a read brings carries its
    statements (for diff coverage), and only the changed files' are ever looked at."""

    __slots__ = ("_text", "_lines")

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines: tuple[int, ...] | None = None

    def _decoded(self) -> tuple[int, ...]:
        if self._lines is None:
            self._lines = decode_lines(self._text)
        return self._lines

    def __getitem__(self, index):  # type: ignore[override]
        return self._decoded()[index]

    def __len__(self) -> int:
        return len(self._decoded())

    def __iter__(self) -> Iterator[int]:
        return iter(self._decoded())

    def __contains__(self, value: object) -> bool:
        return value in self._decoded()

    def __reduce__(self):
        return (EncodedLines, (self._text,))

    def __repr__(self) -> str:
        return f"EncodedLines({self._text!r})"


class KnownResults:
    """Files already decoded (a source's current files, read from the store) by the text
    `encode_file_result()` gives them up to their statements, made from the texts the store
    keeps (missed lines, arcs, functions: the same encodings): a read's file whose text
    starts so is that file, with its statements, and is not decoded again. Only files the
    text describes exactly are kept (their counts are a file's own, as `Numbers.of_file()`
    makes them)."""

    def __init__(self, files: Iterable[tuple[FileCoverage, tuple[str, str, str]]]) -> None:
        self._by_path: dict[str, tuple[str, FileCoverage]] = {}
        for f, (missing_lines, missing_arcs, functions) in files:
            counts = [getattr(f.numbers, name) for name in FILE_COUNTS]
            if f.numbers != Numbers.of_file(**dict(zip(FILE_COUNTS, counts, strict=True))):
                continue
            head = json.dumps([counts, missing_lines, missing_arcs], separators=(",", ":"))
            prefix = f"{head[:-1]},{functions or '[]'}"
            self._by_path[f.path] = (prefix, f)

    def match(self, path: str, text: str) -> FileCoverage | None:
        """The known file `text` describes at `path`, with its statements; None if none."""
        known = self._by_path.get(path)
        if known is None:
            return None
        prefix, f = known
        n = len(prefix)
        if not (text.startswith(prefix) and text.startswith(',"', n) and text.endswith('"]')):
            return None
        return dataclasses.replace(f, statements=EncodedLines(text[n + 2:-2]))


def with_encoded_files(
    report: CoverageReport, encoded: list[tuple[str, str]] | None, known: KnownResults | None = None
) -> CoverageReport:
    """`report` with its files decoded from `encoded` [(path, text)], the `known` ones
    reused; as it is when None."""
    if encoded is None:
        return report
    files = []
    for path, text in encoded:
        f = known.match(path, text) if known is not None else None
        files.append(f if f is not None else decode_file_result(text, path))
    return dataclasses.replace(report, files=files)
