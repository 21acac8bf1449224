"""Compact text and blob forms of line lists, arcs, functions and test ids (as stored)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable

from covtui.domain.model import Arc, FunctionCoverage


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
        first, _, last = part.partition("-")
        lines.extend(range(int(first), int(last or first) + 1))
    return tuple(lines)


def encode_arcs(arcs: Iterable[Arc]) -> str:
    """[(3, 5), (8, -1)] → "3>5,8>-1"."""
    return ",".join(f"{a}>{b}" for a, b in sorted(arcs))


def decode_arcs(text: str) -> tuple[Arc, ...]:
    arcs = []
    for part in filter(None, text.split(",")):
        a, _, b = part.partition(">")
        arcs.append((int(a), int(b)))
    return tuple(arcs)


def encode_functions(functions: Iterable[FunctionCoverage]) -> str:
    rows = [
        [f.name, f.kind, f.start_line, f.end_line, f.n_statements, f.n_missing] for f in functions
    ]
    return json.dumps(rows, separators=(",", ":")) if rows else ""


def decode_functions(text: str) -> tuple[FunctionCoverage, ...]:
    if not text:
        return ()
    return tuple(FunctionCoverage(*row) for row in json.loads(text))


def encode_names(names: Iterable[str]) -> bytes:
    """Test ids as one compressed blob: sorted, one per line (ids share long prefixes)."""
    return zlib.compress("\n".join(sorted(set(names))).encode("utf-8", "surrogatepass"), 6)


def decode_names(blob: bytes) -> frozenset[str]:
    text = zlib.decompress(blob).decode("utf-8", "surrogatepass")
    return frozenset(text.split("\n")) if text else frozenset()
