"""Read coverage.py data files (`.coverage`, parallel shards) into a `CoverageReport`.

Figures are coverage.py's own: its config reading, path aliases, omit/include filtering
and `analysis_from_file_reporter()`, as `coverage json` run from the project root does.
Only the static analysis of each source file is served from `analysis_cache`, which is
what makes a warm read fast; a file whose source and measured data are both unchanged
reuses its finished result outright. On a coverage.py whose private API this fast path
can't use (`coverage_compat.FAST_READER_PROBLEM`), the public `json_report()` gives the
same figures, slower.

coverage.py resolves config files, relative paths and `relative_filename()` against the
current directory (some of it in module globals), and plugins may need the project on
`sys.path`. So a read runs in a worker process of its own, which changes directory
freely: the caller's (the dashboard's) directory and `sys.path` are never touched.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from covtui import coverage_compat as compat
from covtui.coverage_compat import (
    Analysis,
    Coverage,
    CoverageData,
    CoverageException,
    FileReporter,
    GlobMatcher,
    NoDataError,
    NotPython,
    PythonFileReporter,
    analysis_from_file_reporter,
    join_regex,
    prep_patterns,
)
from covtui.domain.codec import (
    decode_file_result,
    decode_line_tests,
    encode_file_result,
    with_encoded_files,
)
from covtui.domain.contexts import LineTests, has_tests
from covtui.domain.digests import content_digest
from covtui.domain.model import CoverageReport, FileCoverage, FunctionCoverage
from covtui.domain.numbers import Numbers
from covtui.errors import InputError
from covtui.readers import analysis_cache as ac
from covtui.readers import relative_path
from covtui.readers.worker import ReadStats, start_coverage_read, worker_context

if TYPE_CHECKING:
    from covtui.config import GeneratedConfig

#: Parse in worker processes only when at least this many files (and bytes) miss the cache.
POOL_MIN_FILES = 24
POOL_MIN_BYTES = 256 * 1024
POOL_WORKERS = 2

_CWD_LOCK = threading.RLock()


def read_coverage_data(
    paths: list[Path], *, root: Path, cache_dir: Path | None
) -> CoverageReport:
    """Read and combine coverage.py data files as `coverage json` run in `root` would see them."""
    return read_with_stats(paths, root=root, cache_dir=cache_dir)[0]


def read_with_stats(
    paths: list[Path],
    *,
    root: Path,
    cache_dir: Path | None,
    isolate: bool = True,
    leave_out: Sequence[Path] = (),
) -> tuple[CoverageReport, ReadStats]:
    """`read_coverage_data()`, also saying what came from the cache (for tests and benchmarks).

    `isolate=False` reads in this process, changing its directory while it does: only for
    tests that patch the reader's internals. Files under a `leave_out` folder are not
    reported, as if never measured (the scan's own pytest plugin).
    """
    paths, root = _absolute(paths, root)
    if not isolate:
        return _read_here(paths, root, cache_dir, leave_out)
    return start_coverage_read(paths, root=root, cache_dir=cache_dir, leave_out=leave_out).result()


def _absolute(paths: list[Path], root: Path) -> tuple[list[Path], Path]:
    if not paths:
        raise InputError("(no files)", "nothing to read")
    return [Path(os.path.abspath(p)) for p in paths], Path(os.path.abspath(root))


def _read_in_worker(
    paths: list[Path],
    root: Path,
    cache_dir: Path | None,
    environ: dict[str, str],
    path: list[str],
    leave_out: Sequence[Path] = (),
    census: bool = False,
    generated: GeneratedConfig | None = None,
    reuse: tuple[frozenset[str], str] | None = None,
) -> tuple:
    """The worker's side: ("ok", report, encoded, stats) or ("error", path, problem). The
    report's files travel as text in `encoded` when it is not None (see `read_encoded`);
    `census`: the report carries its files' exclusion census too (None if coverage.py's
    config can't say), with the generated files among them by the `generated` rules. Both
    work from the bytes the read hashed (read once)."""
    # The caller's environment and import path now, not as when the forkserver started.
    os.environ.clear()
    os.environ.update(environ)
    sys.path[:] = path
    sources: dict[str, bytes] = {}
    with compat.realpaths_remembered():  # this process only reads
        try:
            report, encoded, stats = read_encoded(
                paths, root, cache_dir, leave_out, sources, reuse=reuse
            )
        except InputError as exc:
            return ("error", exc.path, exc.problem)
        if census:
            from covtui.readers.exclusions import take_census

            names = [p for p, _ in encoded] if encoded is not None else [f.path for f in report.files]
            with contextlib.suppress(InputError):
                report = dataclasses.replace(report, exclusions=take_census(
                    root, names, cache_dir, sources=sources, generated=generated
                ))
    return ("ok", report, encoded, stats)


def _read_here(
    paths: list[Path], root: Path, cache_dir: Path | None, leave_out: Sequence[Path] = ()
) -> tuple[CoverageReport, ReadStats]:
    """Check each data file, then read them by the fast path or the public API."""
    report, encoded, stats = read_encoded(paths, root, cache_dir, leave_out)
    return with_encoded_files(report, encoded), stats


def read_encoded(
    paths: list[Path], root: Path, cache_dir: Path | None, leave_out: Sequence[Path] = (),
    sources: dict[str, bytes] | None = None, reuse: tuple[frozenset[str], str] | None = None,
) -> tuple[CoverageReport, list[tuple[str, str]] | None, ReadStats]:
    """`_read_here()` with the fast path's files left as text: (report without its files,
    [(path, `encode_file_result()` text)], stats); the public API's report keeps its files
    (encoded None). A finished result from the cache is handed on as it is stored. The
    fast path fills `sources` with the bytes it read of each Python file inside `root`
    (really inside: coverage.py's file names are resolved), by report path.
    `reuse`: (the data names whose data may differ from the last read's, the file where that
    read's results are kept): every other file whose source is unchanged is taken from there
    (`kept_results`), not analysed and queried again."""
    for path in paths:
        _check_data_file(path)
    if compat.FAST_READER_PROBLEM is not None:
        return (
            _read_public(paths, root, leave_out),
            None,
            ReadStats(public_api=compat.FAST_READER_PROBLEM),
        )
    if compat.HAS_READ_ONLY:
        return _read_fast(paths, root, cache_dir, leave_out, sources, reuse)
    with tempfile.TemporaryDirectory(prefix="covtui-data-") as tmp:
        copies = compat.private_copies(paths, Path(tmp))
        try:
            return _read_fast(copies, root, cache_dir, leave_out, sources, reuse)
        except InputError as exc:
            original = dict(zip(map(str, copies), map(str, paths), strict=True))
            raise InputError(original.get(exc.path, exc.path), exc.problem) from None


def _check_data_file(path: Path) -> None:
    """Refuse what coverage.py can't read without a traceback: not a file, not its schema,
    file names that are NULL or not UTF-8 text, line numbers that are not integers."""
    if not path.is_file():
        raise InputError(path, "no such file" if not path.exists() else "not a file")
    if not os.access(path, os.R_OK):
        raise InputError(path, "permission denied")
    # immutable=1: read without locks or journals, never writing anything beside the file.
    uri = f"{path.as_uri()}?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
        con.text_factory = bytes
        try:
            con.execute("SELECT version FROM coverage_schema").fetchone()
            for table, column in (("file", "path"), ("context", "context")):
                rows = con.execute(f"SELECT id, typeof({column}), {column} FROM {table}")
                for row_id, kind, value in rows:
                    if kind != b"text":
                        raise InputError(
                            path, f"{table}.{column} of row {row_id} is {kind.decode()}, not text"
                        )
                    try:
                        value.decode("utf-8")
                    except UnicodeDecodeError:
                        raise InputError(
                            path, f"{table}.{column} of row {row_id} is not UTF-8 text"
                        ) from None
            # Each table in one pass (the arc table is most of the file).
            for table, columns, want in (
                ("arc", ("fromno", "tono"), "integer"), ("line_bits", ("numbits",), "blob")
            ):
                kinds = ", ".join(f"typeof({c})" for c in columns)
                odd = " OR ".join(f"typeof({c}) != '{want}'" for c in columns)
                row = con.execute(f"SELECT {kinds} FROM {table} WHERE {odd} LIMIT 1").fetchone()
                if row is not None:
                    column, kind = next(
                        (c, k) for c, k in zip(columns, row, strict=True) if k != want.encode()
                    )
                    raise InputError(path, f"{table}.{column} holds {kind.decode()}, not {want}")
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(path, f"isn't a coverage data file: {exc}") from None


def _read_public(paths: list[Path], root: Path, leave_out: Sequence[Path] = ()) -> CoverageReport:
    """`coverage combine` + `coverage json` through the public API, on private copies."""
    from covtui.readers.coverage_json import read_coverage_json

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="covtui-data-") as tmp:
        copies = compat.private_copies(paths, Path(tmp), always=True)
        out = Path(tmp) / "coverage.json"
        data_file = copies[0] if len(copies) == 1 else Path(tmp) / ".coverage"
        try:
            with _CWD_LOCK, _in_directory(root):
                cov = Coverage(data_file=str(data_file), config_file=True, messages=False)
            plugins = bool(cov.get_option("run:plugins"))
            with _CWD_LOCK, _in_directory(root, add_to_path=plugins):
                if len(copies) > 1:
                    cov.combine([str(p) for p in copies], strict=True, keep=True)
                cov.load()
                omit = cov.get_option("report:omit") or []
                cov.json_report(outfile=str(out), omit=[*omit, *_globs(leave_out)] or None)
        except NoDataError:
            raise InputError(paths[0], "no data to report") from None
        except CoverageException as exc:
            raise InputError(paths[0], _problem(exc, paths[0])) from None
        report = read_coverage_json(out, root=root)
    return dataclasses.replace(
        report,
        format="coverage.py",
        read_s=time.perf_counter() - started,
        measures_unimported=bool(cov.get_option("run:source") or cov.get_option("run:source_pkgs")),
    )


@contextlib.contextmanager
def _in_directory(root: Path, add_to_path: bool = False) -> Iterator[None]:
    """chdir to `root` for coverage.py's cwd-relative logic; callers hold `_CWD_LOCK`."""
    old = os.getcwd()
    os.chdir(root)
    if add_to_path:
        # As `coverage json` does when plugins are configured: they may import project code.
        sys.path.append("")
    try:
        yield
    finally:
        if add_to_path and sys.path and sys.path[-1] == "":
            sys.path.pop()
        os.chdir(old)


def _problem(exc: BaseException, path: Path) -> str:
    """coverage.py's message without the quoted data file name (InputError adds the path)."""
    msg = str(exc)
    for form in (repr(str(path)), f"'{path}'", str(path)):
        msg = msg.replace(f"Data file {form} ", "").replace(f"data file {form}", "data file")
        msg = msg.replace(f"Couldn't use data file {form}: ", "")
    return msg.strip() or type(exc).__name__


def _load_data(paths: list[Path], cov: Coverage) -> CoverageData:
    """One file as `coverage json` reads it; several combined as `coverage combine` does."""

    def open_one(path: Path) -> CoverageData:
        data = compat.open_data(path)
        try:
            data.read()
            data.measured_files()  # forces the schema check
        except CoverageException as exc:
            data.close()
            raise InputError(path, _problem(exc, path)) from None
        return data

    if len(paths) == 1:
        return open_one(paths[0])
    combined = CoverageData(no_disk=True)
    map_path = functools.cache(compat.make_path_mapper(cov))
    classify = compat.data_file_classifier()
    for path in sorted(paths):
        if classify(str(path)) == "skip":
            continue  # the same data twice, as `coverage combine` skips it
        shard = open_one(path)
        try:
            combined.update(shard, map_path=map_path)
        except CoverageException as exc:
            raise InputError(path, _problem(exc, path)) from None
        finally:
            shard.close()
    return combined


@dataclass
class _Item:
    """One measured file to report."""

    reporter: FileReporter
    morf: str
    data_name: str  # the file's name in the coverage data
    json_name: str  # its key in `coverage json`
    abs_path: str
    raw: bytes | None = None
    key: str | None = None
    result_key: str | None = None
    #: (result text, line-tests blob) of the last read, when neither the file nor its data
    #: changed since (`Reuse`).
    reused: tuple[str, bytes | None] | None = None


def _globs(folders: Sequence[Path]) -> list[str]:
    """coverage.py omit patterns for every file under `folders`."""
    return [os.path.join(os.path.abspath(f), "*") for f in folders]


def _reporters_to_report(
    cov: Coverage, data: CoverageData, leave_out: Sequence[Path] = ()
) -> list[_Item]:
    """The files `get_analysis_to_report()` would analyse, in its order (needs cwd = root)."""
    fr_morfs = compat.file_reporters(cov)
    config = cov.config
    if config.report_include:
        matcher = GlobMatcher(prep_patterns(config.report_include), "report_include")
        fr_morfs = [(fr, m) for (fr, m) in fr_morfs if matcher.match(fr.filename)]
    if config.report_omit:
        matcher = GlobMatcher(prep_patterns(config.report_omit), "report_omit")
        fr_morfs = [(fr, m) for (fr, m) in fr_morfs if not matcher.match(fr.filename)]
    if leave_out:
        matcher = GlobMatcher(prep_patterns(_globs(leave_out)), "leave_out")
        fr_morfs = [(fr, m) for (fr, m) in fr_morfs if not matcher.match(fr.filename)]
    if not fr_morfs:
        raise NoDataError("No data to report.")
    fr_morfs.sort()
    return [
        _Item(fr, str(morf), compat.data_name(cov, fr.filename), fr.relative_filename(),
              os.path.abspath(fr.filename))
        for fr, morf in fr_morfs
    ]


def _parse_missing(
    jobs: list[ac.Job], exclude: str, partial: str, with_arcs: bool, stats: ReadStats
) -> list[ac.Outcome]:
    """Analyse files not in the cache, on two cores when there are enough of them."""
    total = sum(len(raw) for _, _, raw in jobs)
    if len(jobs) < POOL_MIN_FILES or total < POOL_MIN_BYTES or POOL_WORKERS < 2:
        return ac.analyse_jobs(jobs, exclude, partial, with_arcs)
    # Largest first, dealt round-robin into a few batches per worker to keep both busy.
    ordered = sorted(jobs, key=lambda j: -len(j[2]))
    n_batches = POOL_WORKERS * 4
    batches = [ordered[i::n_batches] for i in range(n_batches)]
    ctx = worker_context()
    try:
        with concurrent.futures.ProcessPoolExecutor(POOL_WORKERS, mp_context=ctx) as pool:
            futures = [
                pool.submit(ac.analyse_jobs, batch, exclude, partial, with_arcs)
                for batch in batches
                if batch
            ]
            stats.used_pool = True
            return [outcome for f in futures for outcome in f.result()]
    except (OSError, concurrent.futures.process.BrokenProcessPool):
        stats.used_pool = False
        return ac.analyse_jobs(jobs, exclude, partial, with_arcs)


def _functions(analysis: Analysis, regions: list[ac.Region]) -> tuple[FunctionCoverage, ...]:
    out = []
    for r in sorted(regions, key=lambda r: (r.start, r.kind)):
        kind = "async function" if r.is_async else r.kind
        out.append(
            FunctionCoverage(
                name=r.name,
                kind=kind,
                start_line=r.start,
                end_line=r.end_line,
                n_statements=len(analysis.statements & r.lines),
                n_missing=len(analysis.missing & r.lines),
            )
        )
    return tuple(out)


def _plugin_regions(reporter: FileReporter) -> list[ac.Region]:
    regions = []
    for r in reporter.code_regions():
        if r.kind in ("function", "class"):
            lines = frozenset(r.lines)
            end = max(lines, default=r.start)
            regions.append(ac.Region(r.kind, r.name, r.start, False, end, lines))
    return regions


def _file_coverage(
    item: _Item, analysis: Analysis, regions: list[ac.Region], root: Path
) -> FileCoverage:
    n = analysis.numbers
    numbers = Numbers.of_file(
        n_statements=n.n_statements,
        n_excluded=n.n_excluded,
        n_missing=n.n_missing,
        n_branches=n.n_branches,
        n_partial_branches=n.n_partial_branches,
        n_missing_branches=n.n_missing_branches,
    )
    missing_arcs: tuple[tuple[int, int], ...] = ()
    if analysis.has_arcs:
        missing_arcs = tuple(
            (src, dst) for src, dsts in analysis.missing_branch_arcs().items() for dst in dsts
        )
    return FileCoverage(
        path=relative_path(item.json_name, root),
        numbers=numbers,
        missing_lines=tuple(sorted(analysis.missing)),
        missing_arcs=missing_arcs,
        functions=_functions(analysis, regions),
        statements=tuple(sorted(analysis.statements)),
    )


def _read_fast(
    paths: list[Path], root: Path, cache_dir: Path | None, leave_out: Sequence[Path] = (),
    sources: dict[str, bytes] | None = None, reuse: tuple[frozenset[str], str] | None = None,
) -> tuple[CoverageReport, list[tuple[str, str]], ReadStats]:
    """Read through coverage.py's reporting internals, with the analysis cache."""
    started = time.perf_counter()
    stats = ReadStats()
    with _CWD_LOCK:
        cov, data, items, to_close = _setup(paths, root, leave_out)
        try:
            has_branches = data.has_arcs()
            with compat.keep_db_open(data):
                kept = _kept_for(cov, reuse)
                encoded = _analyse_all(cov, data, items, paths, root, cache_dir, stats, kept)
                line_tests = _line_tests(data, items, encoded, root)
            if sources is not None:
                inside = os.path.realpath(root)
                sources.update(
                    (relative_path(i.json_name, root), i.raw) for i in items
                    if i.raw is not None and Path(i.abs_path).is_relative_to(inside)
                )
        finally:
            for d in to_close:
                d.close()
    report = CoverageReport(
        format="coverage.py",
        files=[],  # in `encoded`
        has_branches=has_branches,
        read_s=time.perf_counter() - started,
        # Without `source`, coverage.py only knows files some test imported.
        measures_unimported=bool(cov.get_option("run:source") or cov.get_option("run:source_pkgs")),
        line_tests=line_tests,
        source_keys={relative_path(i.json_name, root): i.key for i in items if i.key is not None},
        source_digests={
            relative_path(i.json_name, root): content_digest(i.raw) for i in items if i.raw is not None
        },
    )
    return report, encoded, stats


def _kept_for(cov: Coverage, reuse: tuple[frozenset[str], str] | None):
    """(untouched data names' test: a function, the last read's results by path) to reuse, or
    None: nothing to reuse, or `[paths]` remapping (the data's names are not the merge's)."""
    if reuse is None or cov.config.paths:
        return None
    touched, results = reuse
    kept = kept_results(Path(results))
    if not kept:
        return None
    return touched, kept


def kept_results(path: Path) -> dict[str, tuple[str, str, bytes | None]]:
    """A read's results kept by `keep_results`: path → (source key, result text, line-tests
    blob or None); {} when there are none or they can't be read. A blob is taken only
    when its digest checks (it is stored as it is, decoded only if asked for)."""
    import base64

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        kept = {}
        for p, (key, text, blob, digest) in doc["files"].items():
            data = base64.b64decode(blob) if blob is not None else None
            if data is not None and hashlib.blake2b(data, digest_size=16).hexdigest() != digest:
                data = None  # read again from the data
            kept[p] = (key, text, data)
        return kept
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _line_tests(
    data: CoverageData, items: list[_Item], encoded: list[tuple[str, str]], root: Path
) -> dict[str, LineTests] | None:
    """Each reported file's executed lines with the contexts coverage.py's
    `contexts_by_lineno()` gives for them; None when the data has no per-test contexts."""
    if not has_tests(data.measured_contexts()):
        return None
    by_path = {relative_path(i.json_name, root): i for i in items}
    out: dict[str, LineTests] = {}
    for path, text in encoded:
        f = decode_file_result(text, path)
        item = by_path.get(f.path)
        if item is None:
            continue
        if item.reused is not None and item.reused[1] is not None:
            raw = item.raw or b""
            content = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
            out[f.path] = decode_line_tests(item.reused[1], content)
            continue
        missing = set(f.missing_lines)
        executed = [n for n in f.statements if n not in missing]
        raw = item.raw
        if raw is None:
            with contextlib.suppress(OSError), open(item.abs_path, "rb") as src:
                raw = src.read()
        # git's blob id of the source: `git diff` can compare two measured versions by it.
        content = (
            hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest() if raw is not None else None
        )
        out[f.path] = LineTests.of(data.contexts_by_lineno(item.data_name), executed, content)
    return out


def _setup(
    paths: list[Path], root: Path, leave_out: Sequence[Path] = ()
) -> tuple[Coverage, CoverageData, list[_Item], list[CoverageData]]:
    """Config, data and the list of files to report, with cwd = root."""
    to_close: list[CoverageData] = []
    try:
        with _in_directory(root):
            cov = Coverage(data_file=None, config_file=True, messages=False)
        with _in_directory(root, add_to_path=bool(cov.get_option("run:plugins"))):
            compat.init_coverage(cov)  # loads the plugins
            loaded = _load_data(paths, cov)
            to_close.append(loaded)
            data = compat.use_data_for_reporting(cov, loaded)
            if data is not loaded:
                to_close.append(data)
            data.set_query_contexts(cov.config.report_contexts)
            with compat.keep_db_open(data):  # one connection, not one per query
                items = _reporters_to_report(cov, data, leave_out)
        return cov, data, items, to_close
    except NoDataError:
        for d in to_close:
            d.close()
        raise InputError(paths[0], "no data to report") from None
    except CoverageException as exc:  # bad config, plugin trouble
        for d in to_close:
            d.close()
        raise InputError(paths[0], _problem(exc, paths[0])) from None


def _analyse_all(
    cov: Coverage,
    data: CoverageData,
    items: list[_Item],
    paths: list[Path],
    root: Path,
    cache_dir: Path | None,
    stats: ReadStats,
    kept: tuple[frozenset[str], dict] | None = None,
) -> list[tuple[str, str]]:
    """Analyse every file: cached ones from the cache, the rest parsed and then cached.
    Each file's result as (path, `encode_file_result()` text), in coverage.py's order.
    `kept`: the last read's results, taken for files whose source and data are unchanged."""
    config = cov.config
    has_arcs = data.has_arcs()
    exclude = compat.exclude_regex(cov)
    partial = join_regex(config.partial_list + config.partial_always_list)
    settings = ac.settings_key(exclude, partial)
    stats.n_files = len(items)

    cacheable = ac.caching_supported()
    for item in items:
        if cacheable and type(item.reporter) is PythonFileReporter:
            try:
                if os.path.isfile(item.abs_path):
                    with open(item.abs_path, "rb") as f:
                        item.raw = f.read()
                    item.key = ac.content_key(item.raw, settings)
            except OSError:
                item.raw = None  # coverage.py reports it below, as it would

    if kept is not None:
        touched, last = kept
        for item in items:
            previous = last.get(relative_path(item.json_name, root))
            if (
                item.key is not None and previous is not None and previous[0] == item.key
                and item.data_name not in touched
            ):
                item.reused = (previous[1], previous[2])
    cache = ac.AnalysisCache(cache_dir)
    done: dict[str, str] = {}  # result key -> result served from the cache (as stored)
    try:
        keyed = [i for i in items if i.key is not None and i.reused is None]
        arcs = (
            compat.arc_texts_of_files(data, [i.data_name for i in keyed])
            if has_arcs and cache_dir is not None else None
        )
        for i in keyed if cache_dir is not None else []:
            assert i.key is not None
            measured: Iterable[object] | str | None
            if arcs is not None:
                measured = arcs.get(i.data_name)
            else:
                measured = data.arcs(i.data_name) if has_arcs else data.lines(i.data_name)
            i.result_key = ac.result_key(i.key, has_arcs, measured or [])
        result_keys = [i.result_key for i in keyed if i.result_key is not None]
        for rkey, value in cache.get_many(result_keys, "result").items():
            if (text := ac.unseal(value)) is not None:
                done[rkey] = text
        keyed = [i for i in keyed if i.result_key not in done]
        stored = cache.get_many(sorted({i.key for i in keyed if i.key}))
        entries: dict[str, ac.StaticAnalysis] = {}
        for key, text in stored.items():
            try:
                sa = ac.StaticAnalysis.from_json(text)
            except (ValueError, KeyError, TypeError):
                continue
            if sa.arcs is None and has_arcs:
                continue  # stored from line-only data: arcs still to work out
            entries[key] = sa
        missing: dict[str, ac.Job] = {}
        for i in keyed:
            if i.key not in entries and i.key not in missing:
                assert i.key is not None and i.raw is not None
                missing[i.key] = (i.key, i.abs_path, i.raw)
        errors: dict[str, str] = {}
        new_entries: dict[str, str] = {}
        if missing:
            for key, text, error in _parse_missing(
                list(missing.values()), exclude, partial, has_arcs, stats
            ):
                if text is not None:
                    new_entries[key] = text
                    entries[key] = ac.StaticAnalysis.from_json(text)
                else:
                    errors[key] = error or "Error:"
        files, results = _report_files(
            cov, data, items, entries, new_entries, errors, done, paths, root, stats
        )
        cache.put_many(new_entries, {key: ac.seal(text) for key, text in results.items()})
        stats.cache_rebuilt = cache.rebuilt
    finally:
        cache.close()
    return files


def _report_files(
    cov: Coverage,
    data: CoverageData,
    items: list[_Item],
    entries: dict[str, ac.StaticAnalysis],
    new_entries: dict[str, str],
    errors: dict[str, str],
    done: dict[str, str],
    paths: list[Path],
    root: Path,
    stats: ReadStats,
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Each file's result (path, text), in coverage.py's order and with its error handling."""
    config = cov.config
    files: list[tuple[str, str]] = []
    results: dict[str, str] = {}
    for item in items:
        if item.reused is not None:
            stats.n_reused += 1
            files.append((relative_path(item.json_name, root), item.reused[0]))
            continue
        if item.result_key in done:
            stats.n_cached += 1
            stats.n_results += 1
            files.append((relative_path(item.json_name, root), done[item.result_key]))
            continue
        try:
            if item.key is not None and item.key in entries:
                sa = entries[item.key]
                reporter = compat.ReporterWithParser(
                    item.morf, cov, functools.partial(ac.restore_parser, sa), sa.no_branch
                )
                analysis = analysis_from_file_reporter(
                    data, config.precision, reporter, item.data_name
                )
                regions = sa.regions
                if item.key in new_entries:
                    stats.n_parsed += 1
                else:
                    stats.n_cached += 1
            elif item.key is not None and item.key in errors:
                kind, _, message = errors[item.key].partition(":")
                stats.n_parsed += 1
                if kind == "NotPython":
                    raise NotPython(message)
                raise CoverageException(message)
            else:
                stats.n_uncached += 1
                with _in_directory(root, add_to_path=bool(config.plugins)):
                    analysis = compat.analyze(cov, item.morf, item.reporter)
                    regions = _plugin_regions(item.reporter)
        except NotPython as exc:
            # As get_analysis_to_report(): only .py-ish files are errors, and only if not ignored.
            should_be_python = getattr(item.reporter, "should_be_python", lambda: False)
            if should_be_python() and not config.ignore_errors:
                raise InputError(paths[0], str(exc)) from None
            continue
        except Exception as exc:
            if config.ignore_errors:
                continue
            raise InputError(paths[0], f"{exc} (set [report] ignore_errors to skip it)") from None
        result = _file_coverage(item, analysis, regions, root)
        text = encode_file_result(result)
        if item.result_key is not None:
            results[item.result_key] = text
        files.append((result.path, text))
    return files, results
