"""A persistent cache of coverage.py's static analysis of Python files.

Parsing every source file is what makes `coverage json` slow. The results of the parse
(statements, exclusions, the multi-line map, `with` jump fixers, possible arcs, no-branch
lines, code regions) depend only on the file's bytes, the exclusion and partial-branch
regexes, and the coverage.py and Python versions, so they are stored in SQLite keyed on
exactly that. `restore_parser()` turns a stored entry back into a `PythonParser` whose own
methods (`translate_lines`, `translate_arcs`, `arcs`, `exit_counts`) then do the reporting
work, so figures are computed by coverage.py's code, not a copy of it. A second table keeps
each file's finished result keyed on the analysis key plus a hash of its measured data, a
third each file's excluded lines per reason (the exclusions census, `readers.exclusions`)
keyed on the analysis key plus the exclusion regexes' names.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import time
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from covtui import coverage_compat as compat
from covtui.coverage_compat import NotPython, PythonParser, source_encoding
from covtui.domain.regions import DefinitionFinder

CACHE_FILENAME = "analysis-v1.sqlite"
#: Static analyses, finished per-file results, per-file exclusion counts.
TABLES = ("analysis", "result", "exclusions")
#: Bumped whenever the stored JSON layout changes.
#: 2: results carry the statement lines (diff coverage); 3: results sealed; 4: results keep
#: missed lines and arcs in the store's encodings.
LAYOUT_VERSION = 4
#: Keep at most this many entries; the least recently written go first.
MAX_ENTRIES = 50_000

#: Branches, a `with` (whose jumps coverage.py fixes up) and a multi-line statement.
_SAMPLE = """\
def f(path, n):
    with open(path) as g:
        if (n >
                1):
            return g.read()
    for i in range(n):
        pass
    return None
"""
_NEVER = "(?!x)x"


def caching_supported() -> bool:
    """Whether a parser restored from a cache entry answers as a freshly parsed one does.

    Checked on a sample when this module is imported: a coverage.py whose parser keeps its
    state in another shape (as before 7.17) turns caching off, and files are analysed by
    coverage.py directly.
    """
    return _RESTORE_WORKS


def check_restore() -> bool:
    """Restore a parser for `_SAMPLE` from its cache entry and compare it with a fresh one."""
    if not compat.parser_restore_supported():
        return False
    try:
        raw = _SAMPLE.encode()
        restored = restore_parser(
            StaticAnalysis.from_json(analyse_source(raw, "s.py", _NEVER, _NEVER, True)), "s.py"
        )
        fresh = PythonParser(text=_SAMPLE, filename="s.py", exclude=_NEVER)
        fresh.parse_source()
        # Measured arcs include the jumps through `with` lines that the fixers rewrite.
        arcs = fresh.arcs() | set(compat.with_jump_fixers(fresh))
        return (
            restored.arcs() == fresh.arcs()
            and restored.exit_counts() == fresh.exit_counts()
            and restored.translate_arcs(arcs) == fresh.translate_arcs(arcs)
            and restored.translate_lines(range(1, 9)) == fresh.translate_lines(range(1, 9))
        )
    except Exception:  # any trouble restoring means: don't
        return False


def settings_key(exclude_regex: str, partial_regex: str) -> str:
    """A hash of everything besides the file's bytes that the analysis depends on."""
    parts = [LAYOUT_VERSION, compat.VERSION, sys.version, exclude_regex, partial_regex]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def content_key(raw: bytes, settings: str) -> str:
    return f"{hashlib.sha256(raw).hexdigest()}:{settings}"


def result_key(analysis_key: str, has_arcs: bool, measured: Iterable[object] | str) -> str:
    """Key for a finished per-file result: the static analysis plus the file's measured data
    (arcs as `coverage_compat.arcs_text()`'s text, or lines).

    `analysis_from_file_reporter()` is a function of exactly these, so a stored result is
    the one coverage.py would compute again.
    """
    if has_arcs:
        text = measured if isinstance(measured, str) else compat.arcs_text(measured)  # type: ignore[arg-type]
        return f"{analysis_key}:{hashlib.sha256(b'arcs:' + text.encode()).hexdigest()}"
    # Sorted lines as 64-bit integers: hashed without a text form (`repr`) of them.
    digest = hashlib.sha256(b"lines:")
    try:
        digest.update(array("q", sorted(measured)).tobytes())  # type: ignore[arg-type]
    except OverflowError:  # a number no source line has: hashed as text
        digest = hashlib.sha256(repr((has_arcs, sorted(measured))).encode())  # type: ignore[arg-type]
    return f"{analysis_key}:{digest.hexdigest()}"


def seal(text: str) -> str:
    """A finished result as the cache stores it: behind a checksum of its text, so that a
    damaged or altered entry is a miss (`unseal`), never text the caller fails to decode.
    Checking it costs a fraction of parsing the text to check its shape."""
    return f"{zlib.crc32(text.encode()):08x}{text}"


def unseal(value: str) -> str | None:
    """The text `seal()` stored; None if it is not what was stored."""
    text = value[8:]
    try:
        return text if int(value[:8], 16) == zlib.crc32(text.encode()) else None
    except (ValueError, UnicodeEncodeError):
        return None


def decode_source(raw: bytes) -> str:
    """The text coverage.py's `get_python_source()` would produce from these bytes."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\f", b" ")
    text = raw.decode(source_encoding(raw), "replace")
    if text and text[-1] != "\n":
        text += "\n"
    return text


@dataclass(frozen=True)
class Region:
    """A function or class, as coverage.py's `code_regions()` finds it, plus what it misses."""

    kind: str  # "function", "class"
    name: str
    start: int
    is_async: bool
    end_line: int
    lines: frozenset[int]


def _ranges(lines: Iterable[int]) -> list[list[int]]:
    """Compress sorted line numbers into [first, last] runs."""
    runs: list[list[int]] = []
    for n in sorted(lines):
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return runs


def _flat(pairs: Iterable[tuple[int, int]]) -> list[int]:
    return [n for pair in sorted(pairs) for n in pair]


def analyse_source(
    raw: bytes, filename: str, exclude_regex: str, partial_regex: str, with_arcs: bool
) -> str:
    """Parse one file the way `PythonFileReporter` does; the result JSON-encoded for storage.

    Arcs (the costly part) are only worked out `with_arcs`, as coverage.py only does for
    branch data. Raises `NotPython` for a file that doesn't parse.
    """
    parser = PythonParser(text=decode_source(raw), filename=filename, exclude=exclude_regex)
    parser.parse_source()
    finder = DefinitionFinder()
    tree = compat.parser_ast(parser)
    if tree is not None:
        finder.handle_node(tree)  # the same tree `code_regions()` would parse again
    else:
        finder.parse_source(parser.text)
    arcs = parser.arcs() if with_arcs else None
    fixers = [
        [a, b, *(new or (None, None))] for (a, b), new in compat.with_jump_fixers(parser).items()
    ]
    regions = [
        [r.kind, r.name, r.start, is_async, end, _ranges(r.lines)]
        for r, (is_async, end) in zip(finder.regions, finder.extra, strict=True)
    ]
    entry = {
        "statements": sorted(parser.statements),
        "excluded": sorted(parser.excluded),
        "multiline": _flat(parser.multiline_map.items()),
        "fixers": fixers,
        "arcs": _flat(arcs) if arcs is not None else None,
        "no_branch": sorted(parser.lines_matching(partial_regex)),
        "regions": regions,
    }
    return json.dumps(entry, separators=(",", ":"))


@dataclass
class StaticAnalysis:
    """A decoded cache entry."""

    statements: set[int]
    excluded: set[int]
    multiline_map: dict[int, int]
    with_jump_fixers: dict[tuple[int, int], tuple[int, int] | None]
    arcs: set[tuple[int, int]] | None
    no_branch: set[int]
    regions: list[Region]

    @classmethod
    def from_json(cls, text: str) -> StaticAnalysis:
        d = json.loads(text)
        ml, arcs = d["multiline"], d["arcs"]
        regions = [
            Region(kind, name, start, is_async, end,
                   frozenset(n for lo, hi in runs for n in range(lo, hi + 1)))
            for kind, name, start, is_async, end, runs in d["regions"]
        ]
        return cls(
            statements=set(d["statements"]),
            excluded=set(d["excluded"]),
            multiline_map=dict(zip(ml[::2], ml[1::2], strict=True)),
            with_jump_fixers={
                (a, b): (c, e) if c is not None else None for a, b, c, e in d["fixers"]
            },
            arcs=set(zip(arcs[::2], arcs[1::2], strict=True)) if arcs is not None else None,
            no_branch=set(d["no_branch"]),
            regions=regions,
        )


def restore_parser(sa: StaticAnalysis, filename: str) -> PythonParser:
    """A `PythonParser` in the state `parse_source()` + `arcs()` would leave it, without parsing."""
    return compat.restore_parser(
        filename, set(sa.statements), set(sa.excluded), dict(sa.multiline_map),
        dict(sa.with_jump_fixers), set(sa.arcs) if sa.arcs is not None else None,
    )


_RESTORE_WORKS = check_restore()


# --- parsing many files, in worker processes when it pays -----------------------------------

#: (key, absolute filename, bytes) in; (key, JSON entry or None, error or None) out.
Job = tuple[str, str, bytes]
Outcome = tuple[str, str | None, str | None]


def analyse_jobs(
    jobs: Sequence[Job], exclude_regex: str, partial_regex: str, with_arcs: bool
) -> list[Outcome]:
    """Analyse a batch of files; a file that fails carries its error message instead."""
    out: list[Outcome] = []
    for key, filename, raw in jobs:
        try:
            entry = analyse_source(raw, filename, exclude_regex, partial_regex, with_arcs)
            out.append((key, entry, None))
        except NotPython as exc:
            out.append((key, None, f"NotPython:{exc}"))
        except Exception as exc:  # reported per file, as coverage.py would
            out.append((key, None, f"Error:{exc}"))
    return out


# --- storage ----------------------------------------------------------------------------------


class AnalysisCache:
    """Cache entries in `cache_dir/analysis-v1.sqlite`; any trouble with it means a miss, not an error.

    A file that isn't a usable database is deleted and recreated. When the cache can't be
    opened at all, every lookup misses and writes are dropped.
    """

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / CACHE_FILENAME if cache_dir is not None else None
        self.rebuilt = False
        self._con: sqlite3.Connection | None = None
        if self.path is not None:
            self._con = self._open()

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        con.execute(
            "CREATE TABLE IF NOT EXISTS analysis"
            " (key TEXT PRIMARY KEY, value TEXT NOT NULL, written_at REAL NOT NULL)"
        )
        # Finished per-file results, keyed on the analysis key plus a hash of the file's data.
        con.execute(
            "CREATE TABLE IF NOT EXISTS result"
            " (key TEXT PRIMARY KEY, value TEXT NOT NULL, written_at REAL NOT NULL)"
        )
        # Each file's excluded lines per reason (the exclusions census), keyed on the
        # analysis key plus the exclusion regexes' names.
        con.execute(
            "CREATE TABLE IF NOT EXISTS exclusions"
            " (key TEXT PRIMARY KEY, value TEXT NOT NULL, written_at REAL NOT NULL)"
        )
        for table in TABLES:
            con.execute(f"SELECT key, value FROM {table} LIMIT 1").fetchall()
        # A write-ahead log synced at checkpoints, as the store's: a read that stores one new
        # entry doesn't wait for the disk (a cache lost with the machine is only rebuilt).
        with contextlib.suppress(sqlite3.OperationalError):  # busy: next time
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        return con

    def _open(self) -> sqlite3.Connection | None:
        try:
            return self._connect()
        except (sqlite3.DatabaseError, OSError):
            pass
        # Corrupt or not a database: start again.
        self.rebuilt = True
        with contextlib.suppress(OSError):
            assert self.path is not None
            self.path.unlink()
        try:
            return self._connect()
        except (sqlite3.DatabaseError, OSError):
            return None

    def get_many(self, keys: Sequence[str], table: str = "analysis") -> dict[str, str]:
        assert table in TABLES
        if self._con is None or not keys:
            return {}
        found: dict[str, str] = {}
        try:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._con.execute(
                    f"SELECT key, value FROM {table} WHERE key IN ({marks})", chunk
                )
                found.update(rows)
        except sqlite3.DatabaseError:
            self._discard()
            return {}
        return found

    def put_many(
        self,
        entries: dict[str, str],
        results: dict[str, str] | None = None,
        exclusions: dict[str, str] | None = None,
    ) -> None:
        """Store entries in one transaction (dropped silently if the cache is busy or broken)."""
        if self._con is None or not (entries or results or exclusions):
            return
        now = time.time()
        try:
            self._con.execute("BEGIN IMMEDIATE")
            for table, rows in zip(TABLES, (entries, results or {}, exclusions or {}), strict=True):
                if not rows:
                    continue
                self._con.executemany(
                    f"INSERT OR REPLACE INTO {table} (key, value, written_at) VALUES (?, ?, ?)",
                    [(k, v, now) for k, v in rows.items()],
                )
                (count,) = self._con.execute(f"SELECT count(*) FROM {table}").fetchone()
                if count > MAX_ENTRIES:
                    self._con.execute(
                        f"DELETE FROM {table} WHERE key IN"
                        f" (SELECT key FROM {table} ORDER BY written_at LIMIT ?)",
                        (count - MAX_ENTRIES,),
                    )
            self._con.execute("COMMIT")
        except sqlite3.OperationalError:
            with contextlib.suppress(sqlite3.Error):
                self._con.execute("ROLLBACK")
        except sqlite3.DatabaseError:
            self._discard()

    def _discard(self) -> None:
        """The file went bad while in use: drop it so the next read rebuilds it."""
        self.close()
        self.rebuilt = True
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def close(self) -> None:
        if self._con is not None:
            with contextlib.suppress(sqlite3.Error):
                self._con.close()
            self._con = None
