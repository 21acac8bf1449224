"""Every use of coverage.py's private API, in one place, with a check that it is still there.

covtui reads coverage.py data fast by driving coverage.py's own reporting internals (see
`readers/coverage_data.py`). Those are not public, so each one is imported here and
`FAST_READER_PROBLEM` says, in one line, why the fast reader can't be used with the installed
coverage.py (None when it can). Then the reader falls back to the public API
(`Coverage.combine()` + `Coverage.json_report()`): the same figures, slower. Names that are
missing get harmless public stand-ins so importing the fast reader never fails.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import coverage
from coverage import Coverage, CoverageData
from coverage.exceptions import ConfigError, CoverageException, NoDataError, NotPython
from coverage.plugin import FileReporter
from coverage.results import display_covered

__all__ = [
    "Analysis", "ConfigError", "Coverage", "CoverageData", "CoverageException",
    "FAST_READER_PROBLEM", "FileReporter", "GlobMatcher", "NoDataError", "NotPython",
    "PythonFileReporter", "PythonParser", "RegionFinder", "analysis_from_file_reporter",
    "display_covered", "join_regex", "prep_patterns", "source_encoding",
]

VERSION: str = coverage.__version__

_problems: list[str] = []


def _missing(name: str, stand_in: Any = None) -> Any:
    _problems.append(f"no {name}")
    return stand_in


try:
    from coverage.results import Analysis, analysis_from_file_reporter
except ImportError:
    Analysis = _missing("coverage.results.Analysis", object)
    analysis_from_file_reporter = _missing("coverage.results.analysis_from_file_reporter")
try:
    from coverage.python import PythonFileReporter
except ImportError:
    PythonFileReporter = _missing("coverage.python.PythonFileReporter", FileReporter)
try:
    from coverage.files import GlobMatcher, prep_patterns
except ImportError:
    GlobMatcher = prep_patterns = _missing("coverage.files.GlobMatcher")
try:
    from coverage.misc import join_regex
except ImportError:
    join_regex = _missing("coverage.misc.join_regex")
try:
    from coverage.parser import PythonParser
except ImportError:
    PythonParser = _missing("coverage.parser.PythonParser")
try:
    from coverage.phystokens import source_encoding
except ImportError:
    source_encoding = _missing("coverage.phystokens.source_encoding")
try:
    from coverage.regions import RegionFinder
except ImportError:
    RegionFinder = _missing("coverage.regions.RegionFinder", object)

# `Coverage` methods the fast reader calls, and the arguments it passes them.
_COVERAGE_METHODS = {
    "_init": (), "_make_aliases": (), "_get_file_reporters": ("morfs",), "_file_mapper": (),
    "_prepare_data_for_reporting": (), "_exclude_regex": ("which",),
    "_analyze": ("morf", "file_reporter"),
}
for _name, _params in _COVERAGE_METHODS.items():
    _method = getattr(Coverage, _name, None)
    if _name == "_file_mapper":
        continue  # set by `_init()` on the instance
    if _method is None:
        _missing(f"Coverage.{_name}")
    elif not set(_params) <= set(inspect.signature(_method).parameters):
        _problems.append(f"Coverage.{_name}() takes no {', '.join(_params)}")
if analysis_from_file_reporter is not None:
    _params = list(inspect.signature(analysis_from_file_reporter).parameters)
    if _params[:4] != ["data", "precision", "file_reporter", "filename"]:
        _problems.append("analysis_from_file_reporter() takes other arguments")
if Analysis is not object and not hasattr(Analysis, "missing_branch_arcs"):
    _missing("Analysis.missing_branch_arcs")

#: Why the fast reader can't run on this coverage.py, in one line; None when it can.
FAST_READER_PROBLEM: str | None = (
    f"coverage {VERSION}: {'; '.join(_problems)}" if _problems else None
)

#: `CoverageData(read_only=True)` (7.17.1+) opens a data file without ever writing to it.
HAS_READ_ONLY = "read_only" in inspect.signature(CoverageData.__init__).parameters

# `PythonParser` attributes a restored parser fills in (see `analysis_cache.restore_parser`).
_PARSER_ATTRS = ("statements", "excluded", "multiline_map", "_with_jump_fixers", "_all_arcs",
                 "_first_line_cache")


def parser_restore_supported() -> bool:
    """Whether a `PythonParser` can be restored from the analysis cache on this coverage.py."""
    if PythonParser is None:
        return False
    parser = PythonParser(text="\n", filename="<check>")
    return all(hasattr(parser, name) for name in _PARSER_ATTRS)


def open_data(path: Path) -> CoverageData:
    """A `CoverageData` for an existing file that coverage.py will never write to.

    Without `read_only`, reading a file can write to it (a schema into an empty database, a
    rolled-back journal): callers hand this function a private copy then (`private_copies`).
    """
    if HAS_READ_ONLY:
        return CoverageData(str(path), read_only=True)
    return CoverageData(str(path))


def arc_texts_of_files(data: CoverageData, names: list[str]) -> dict[str, str] | None:
    """Each of `names`' measured arcs (those `data.arcs(name)` gives) as one canonical text,
    `arcs_text()`'s, made by SQLite: the key of a finished result without a Python object
    per arc. A file with no arcs has "" and a name not measured none; None where coverage.py's
    data internals are not as expected (then build the texts from `data.arcs()`)."""
    file_map = getattr(data, "_file_map", None)
    connect = getattr(data, "_connect", None)
    start = getattr(data, "_start_using", None)
    if not isinstance(file_map, dict) or connect is None or start is None:
        return None
    start()
    contexts = getattr(data, "_query_context_ids", None)
    out: dict[str, str] = {}
    try:
        with connect() as db:
            # The sqlite3 connection itself (`SqliteDb.con`) where it is at hand: a query per
            # file through coverage.py's wrapper costs twice the query.
            con = getattr(db, "con", None)
            if contexts is None:
                contexts = [row[0] for row in _rows(db, con, "SELECT id FROM context")]
            # One query per file and no GROUP BY: the aggregate takes the rows in the ordered
            # subquery's order. Were SQLite ever to take them otherwise, the text would differ
            # from `arcs_text()`'s and only miss the cache: the same text is the same arcs.
            if len(contexts) == 1:
                # One context: the arcs are distinct and come sorted from the table's index.
                query = (
                    "SELECT group_concat(fromno || ',' || tono, ';') FROM (SELECT fromno, tono "
                    "FROM arc WHERE file_id = ? AND context_id = ? ORDER BY fromno, tono)"
                )
            else:  # an arc run by several tests is stored once for each
                query = (
                    "SELECT group_concat(a, ';') FROM (SELECT DISTINCT fromno || ',' || tono "
                    "AS a, fromno, tono FROM arc WHERE file_id = ? AND context_id IN ("
                    + ", ".join("?" * len(contexts)) + ") ORDER BY fromno, tono)"
                )
            params = list(contexts)
            for name in names:
                file_id = file_map.get(name)
                if file_id is None:
                    continue
                if con is not None:
                    row = con.execute(query, [file_id, *params]).fetchone()
                else:
                    row = db.execute_one(query, [file_id, *params])
                out[name] = (row[0] if row else None) or ""
    except (AttributeError, TypeError):
        return None
    return out


def _rows(db: Any, con: Any, query: str) -> list[tuple]:
    if con is not None:
        return con.execute(query).fetchall()
    with db.execute(query) as cursor:
        return list(cursor)


def arcs_text(arcs: Iterable[tuple[int, int]]) -> str:
    """Arcs as `arc_texts_of_files()` writes them: distinct, sorted, "a,b;c,d"."""
    return ";".join(f"{a},{b}" for a, b in sorted(set(arcs)))


def keep_db_open(data: CoverageData) -> contextlib.AbstractContextManager[object]:
    """One database connection for a run of queries (7.17+); before that, one per query."""
    keep = getattr(data, "keep_db_open", None)
    return keep() if keep is not None else contextlib.nullcontext()


def private_copies(paths: list[Path], into: Path, always: bool = False) -> list[Path]:
    """Copies of `paths` (names kept) for a coverage.py that may write to what it reads.

    Not needed with `read_only` (7.17.1+) unless `always`: the public API can't ask for it.
    """
    if HAS_READ_ONLY and not always:
        return paths
    copies = []
    for i, path in enumerate(paths):
        folder = into / str(i)
        folder.mkdir()
        copies.append(Path(shutil.copyfile(path, folder / path.name)))
    return copies


def data_file_classifier() -> Callable[[str], str]:
    """`coverage combine`'s rule for skipping a shard whose data was already combined.

    coverage.py before 7.13.x combined every shard; combining the same data twice changes
    no figure, so without the classifier every shard is combined.
    """
    try:
        from coverage.data import DataFileClassifier
    except ImportError:
        return lambda path: "combine"
    return DataFileClassifier().classify


def coverage_omit(config_file: Path) -> list[str]:
    """The `[run] omit` and `[report] omit` patterns of one coverage.py config file."""
    try:
        from coverage.config import read_coverage_config
    except ImportError:
        cov = Coverage(data_file=None, config_file=str(config_file), messages=False)
        omits = [cov.get_option("run:omit"), cov.get_option("report:omit")]
    else:
        config = read_coverage_config(config_file=str(config_file), warn=lambda msg: None)
        omits = [config.run_omit, config.report_omit]
    return [pattern for patterns in omits for pattern in patterns or []]


# --- the private calls themselves -------------------------------------------------------------


def init_coverage(cov: Coverage) -> None:
    """Read config and set up plugins and the file mapper, as reporting does first."""
    cov._init()


def make_path_mapper(cov: Coverage) -> Callable[[str], str]:
    """The `[paths]` remapping `coverage combine` applies."""
    return cov._make_aliases().map


def use_data_for_reporting(cov: Coverage, data: CoverageData) -> CoverageData:
    """Report on `data`, re-mapped with `[paths]` as `coverage json` does; the data to query."""
    cov._data = data
    cov._prepare_data_for_reporting()
    return cov._data


def file_reporters(cov: Coverage) -> list[tuple[FileReporter, Any]]:
    """(file reporter, morf) for every measured file, before report include/omit."""
    return cov._get_file_reporters(None)


def data_name(cov: Coverage, filename: str) -> str:
    """A reporter's file name as the coverage data names it."""
    return cov._file_mapper(filename)


@contextlib.contextmanager
def realpaths_remembered() -> Iterator[None]:
    """coverage.py's `os.path.realpath` remembered while it lasts: it resolves each measured
    file three times in a read (`files.abs_file`: a reporter's name, its data name, its
    relative name), an lstat() per path component each time. coverage.py works on its own
    copy of `os` (`misc.isolate_module`), so only its calls are remembered; and only in a
    process of its own that reads (the reader's worker): files do not move during a read."""
    from coverage import files

    module = getattr(getattr(files, "os", None), "path", None)
    real = getattr(module, "realpath", None)
    if module is None or module is os.path or real is None:
        yield  # not coverage.py's own copy: leave the process's alone
        return
    known: dict = {}

    def remembered(path, *args, **kwargs):
        if args or kwargs or not isinstance(path, str):
            return real(path, *args, **kwargs)
        key = path if os.path.isabs(path) else (path, os.getcwd())
        resolved = known.get(key)
        if resolved is None:
            known[key] = resolved = real(path)
        return resolved

    module.realpath = remembered
    try:
        yield
    finally:
        module.realpath = real


def exclude_regex(cov: Coverage) -> str:
    return cov._exclude_regex("exclude")


def analyze(cov: Coverage, morf: str, reporter: FileReporter) -> Analysis:
    """coverage.py's own analysis of one file (it parses the source)."""
    return cov._analyze(morf, file_reporter=reporter)


def parser_ast(parser: PythonParser) -> Any:
    """The AST `parse_source()` built, or None if this coverage.py doesn't keep it."""
    return getattr(parser, "_ast_root", None)


def with_jump_fixers(parser: PythonParser) -> dict:
    """The `with` jump fixers `arcs()` worked out."""
    return dict(parser._with_jump_fixers)


def restore_parser(
    filename: str,
    statements: set[int],
    excluded: set[int],
    multiline_map: dict[int, int],
    with_jump_fixers: dict,
    arcs: set[tuple[int, int]] | None,
) -> PythonParser:
    """A `PythonParser` in the state `parse_source()` + `arcs()` would leave it, without parsing."""
    parser = PythonParser(text="\n", filename=filename)
    parser.statements = statements
    parser.excluded = excluded
    parser.multiline_map = multiline_map
    parser._with_jump_fixers = with_jump_fixers
    parser._all_arcs = arcs
    parser._first_line_cache = {}
    return parser


class ReporterWithParser(PythonFileReporter):
    """A `PythonFileReporter` that uses a parser it is given instead of parsing the file."""

    def __init__(
        self,
        morf: str,
        cov: Coverage,
        make_parser: Callable[[str], PythonParser],
        no_branch: set[int],
    ) -> None:
        super().__init__(morf, cov)
        self._parser = make_parser(self.filename)
        self._no_branch = no_branch

    def no_branch_lines(self) -> set[int]:
        return set(self._no_branch)
