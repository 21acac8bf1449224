"""What coverage.py leaves out of a project, read with coverage.py itself: its exclusion
regexes, the lines each one excludes in a file (its parser's `excluded`, what
`Analysis.excluded` holds), and the files its `omit` patterns leave out."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from covtui.coverage_compat import (
    Coverage,
    CoverageException,
    GlobMatcher,
    NotPython,
    PythonParser,
    join_regex,
)
from covtui.domain.exclusions import (
    AuditFile,
    ExclusionCensus,
    LeftOutFile,
    ReasonCount,
    attribute,
    census_counts,
    generated_left_out,
    omitted_left_out,
)
from covtui.errors import InputError
from covtui.readers.analysis_cache import (
    AnalysisCache,
    StaticAnalysis,
    caching_supported,
    content_key,
    decode_source,
    settings_key,
)
from covtui.readers.coverage_data import _CWD_LOCK, _in_directory
from covtui.readers.worker import PendingRead

if TYPE_CHECKING:
    from covtui.config import GeneratedConfig


@dataclass(frozen=True)
class ExclusionSettings:
    """coverage.py's settings for the project at `root` (its own config file search)."""

    #: `[report] exclude_lines` (or the default) plus `exclude_also`, in coverage.py's order.
    regexes: tuple[str, ...]
    #: `[run] omit` and `[report] omit`.
    omit: tuple[str, ...]
    #: `[run] source` entries that are folders of the project.
    source_dirs: tuple[str, ...]
    #: coverage.py's own default regexes (in `regexes` unless `exclude_lines` replaced them).
    defaults: tuple[str, ...] = ()
    #: Those from `[report] exclude_also`.
    also: tuple[str, ...] = ()
    #: The partial-branch regex (part of the analysis cache's key).
    partial: str = ""


def exclusion_settings(root: Path) -> ExclusionSettings:
    """coverage.py's settings, found from `root` as coverage.py finds them (it changes
    directory to do so: call it where that is safe, never beside a UI's threads)."""
    try:
        with _CWD_LOCK, _in_directory(root):
            cov = Coverage(data_file=None, config_file=True, messages=False)
        defaults = Coverage(data_file=None, config_file=False, messages=False).config.exclude_list
    except CoverageException as exc:
        raise InputError(root, f"coverage.py config: {exc}") from None
    config = cov.config
    omit = (*(config.run_omit or ()), *(config.report_omit or ()))
    sources = tuple(s for s in (config.source or ()) if (root / s).is_dir())
    return ExclusionSettings(
        tuple(config.exclude_list), tuple(dict.fromkeys(omit)), sources, tuple(defaults),
        tuple(config.exclude_also or ()),
        join_regex(list(config.partial_list) + list(config.partial_always_list)),
    )


@dataclass(frozen=True)
class FileExclusions:
    """The lines coverage.py excludes in one file, and the lines each regex matches."""

    path: str
    excluded: frozenset[int]
    #: regex index -> the lines whose text it matches (where an exclusion starts)
    matched: dict[int, frozenset[int]]
    #: line number -> its text, for the excluded lines
    text: dict[int, str]


def file_exclusions(
    root: Path, path: str, regexes: tuple[str, ...], cache: Callable[[bytes], StaticAnalysis | None] | None = None,
    raw: bytes | None = None,
) -> FileExclusions | None:
    """Parse `path` (relative to `root`) as coverage.py does, or take coverage.py's parse of
    the same bytes from the analysis cache (`cache`); None when it can't be read or isn't
    Python. `raw`: the file's bytes, already read."""
    full = Path(path) if os.path.isabs(path) else root / path
    try:
        if raw is None:
            raw = full.read_bytes()
        source = decode_source(raw)
        parser = PythonParser(text=source, filename=str(full), exclude=join_regex(list(regexes)))
        cached = cache(raw) if cache is not None else None
        if cached is not None:  # what parse_source() found; lines_matching() needs the map
            parser.excluded = set(cached.excluded)
            parser.multiline_map = dict(cached.multiline_map)
        else:
            parser.parse_source()
    except (OSError, NotPython, SyntaxError, UnicodeDecodeError):
        return None
    lines = source.splitlines()
    excluded = frozenset(parser.excluded)
    matched = {i: frozenset(parser.lines_matching(rx)) for i, rx in enumerate(regexes)}
    text = {n: lines[n - 1] for n in excluded if 0 < n <= len(lines)}
    return FileExclusions(path, excluded, matched, text)


def omitted_files(root: Path, settings: ExclusionSettings) -> list[tuple[str, str]]:
    """Python files under the `source` folders that an `omit` pattern leaves out, with the
    pattern, as (path relative to root, pattern); patterns matched as coverage.py does."""
    if not settings.omit or not settings.source_dirs:
        return []
    matchers = []
    for pattern in settings.omit:
        prepped = [pattern]
        if not pattern.startswith(("*", "?")):
            prepped.append(os.path.join(str(root), pattern))
        matchers.append((pattern, GlobMatcher(prepped, "omit")))
    found: dict[str, str] = {}
    for folder in settings.source_dirs:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
            for name in filenames:
                if not name.endswith(".py"):
                    continue
                full = os.path.join(dirpath, name)
                for pattern, matcher in matchers:
                    if matcher.match(full):
                        found[os.path.relpath(full, root).replace(os.sep, "/")] = pattern
                        break
    return sorted(found.items())


def audit_files(
    root: Path, settings: ExclusionSettings, paths: Iterable[str],
    stored: dict[str, int] | None = None, sources: dict[str, str] | None = None,
    cache: Callable[[bytes], StaticAnalysis | None] | None = None,
) -> list[AuditFile]:
    """Each Python file among `paths` with its excluded lines and their reasons, parsed as
    coverage.py parses it (a file it can't read counts nothing). `stored`: the count the
    latest snapshot kept per path (a file with none now but some then is listed too)."""
    stored = stored or {}
    sources = sources or {}
    audited = []
    for path in sorted(set(paths)):
        if not path.endswith((".py", ".pyw")):
            continue
        found = file_exclusions(root, path, settings.regexes, cache)
        if found is None or (not found.excluded and not stored.get(path)):
            continue
        lines = attribute(
            found.excluded, found.matched, settings.regexes, found.text, settings.defaults, settings.also
        )
        audited.append(AuditFile(path, tuple(lines), stored.get(path), sources.get(path, "")))
    return audited


def left_out_files(
    root: Path, settings: ExclusionSettings, generated: Sequence[tuple[str, str]]
) -> list[LeftOutFile]:
    """The files `omit` leaves out of coverage.py's figures, then the `generated` ones
    (path, why) covtui leaves out of the components'."""
    return omitted_left_out(omitted_files(root, settings)) + generated_left_out(generated)


def _cache_lookup(settings: ExclusionSettings, store: AnalysisCache) -> Callable[[bytes], StaticAnalysis | None]:
    """coverage.py's stored parse of a file's bytes under these settings, if the cache has it."""
    key = settings_key(join_regex(list(settings.regexes)), settings.partial)

    def lookup(raw: bytes) -> StaticAnalysis | None:
        entry = content_key(raw, key)
        text = store.get_many([entry]).get(entry)
        try:
            return StaticAnalysis.from_json(text) if text is not None else None
        except (ValueError, KeyError, TypeError):
            return None

    return lookup


def audit(
    root: Path, stored: dict[str, int], sources: dict[str, str],
    generated: Sequence[tuple[str, str]], cache_dir: Path | None = None,
) -> tuple[list[AuditFile], list[LeftOutFile]]:
    """The exclusions audit's files (each excluded line and why) and left-out files; it
    changes directory: run it in a worker process (`start_audit`)."""
    settings = exclusion_settings(root)
    store = AnalysisCache(cache_dir) if cache_dir is not None and caching_supported() else None
    try:
        lookup = _cache_lookup(settings, store) if store is not None else None
        return (
            audit_files(root, settings, stored, stored, sources, lookup),
            left_out_files(root, settings, generated),
        )
    finally:
        if store is not None:
            store.close()


def count_exclusions(
    root: Path, paths: Iterable[str], generated: Sequence[tuple[str, str]] = (),
    cache_dir: Path | None = None,
) -> tuple[ReasonCount, ...]:
    """Excluded lines and left-out files per reason for the measured `paths`, with the
    project's coverage.py config: what a snapshot records. Files the scan's read parsed
    already come from the analysis cache in `cache_dir` (coverage.py's parse of the same
    bytes), the rest are parsed. It changes directory: run it in a worker process
    (`start_counting_exclusions`)."""
    return census_counts(take_census(root, paths, cache_dir), generated)


def take_census(
    root: Path, paths: Iterable[str], cache_dir: Path | None = None, *,
    sources: Mapping[str, bytes] | None = None, generated: GeneratedConfig | None = None,
) -> ExclusionCensus:
    """Each of `paths`' excluded lines per reason (as `audit_files` finds them) and the files
    `omit` leaves out, with the project's coverage.py config. A file whose bytes were counted
    under the same settings before is served from the analysis cache's `exclusions` table
    (then from its parse in the `analysis` table, then parsed). `sources`: bytes read
    already, by path (files inside the project only); the rest are read here. With
    `generated`, the generated files among `paths` too, as `heads.find_generated_files`
    finds them. It changes directory: run it in a worker process."""
    settings = exclusion_settings(root)
    sources = sources or {}
    store = AnalysisCache(cache_dir) if cache_dir is not None and caching_supported() else None
    paths = set(paths)
    try:
        lines = _reason_lines(root, settings, paths, store, sources)
    finally:
        if store is not None:
            store.close()
    found = None
    if generated is not None:
        from covtui.domain.generated import GeneratedFinder, find_generated
        from covtui.readers.heads import HEAD_BYTES, read_head

        finder = GeneratedFinder(generated, root)
        resolved = root.resolve()
        heads = (
            (p, sources[p][:HEAD_BYTES].decode("utf-8", "replace") if p in sources
             else read_head(resolved, p))
            for p in sorted(paths)
        )
        found = tuple((g.path, g.why) for g in find_generated(finder, heads))
    return ExclusionCensus(lines, tuple(omitted_files(root, settings)), frozenset(paths), found)


def _reason_lines(
    root: Path, settings: ExclusionSettings, paths: set[str], store: AnalysisCache | None,
    sources: Mapping[str, bytes],
) -> dict[str, dict[str, int]]:
    raws: dict[str, bytes] = {}
    for path in sorted(paths):
        if path.endswith((".py", ".pyw")) and path in sources:
            raws[path] = sources[path]
        elif path.endswith((".py", ".pyw")):
            # A file it can't read counts nothing, as `file_exclusions` says.
            with contextlib.suppress(OSError):
                raws[path] = (Path(path) if os.path.isabs(path) else root / path).read_bytes()
    keys: dict[str, str] = {}
    found: dict[str, str] = {}
    if store is not None:
        analysis = settings_key(join_regex(list(settings.regexes)), settings.partial)
        names = hashlib.sha256(
            json.dumps([settings.regexes, settings.defaults, settings.also]).encode()
        ).hexdigest()[:32]
        keys = {path: f"{content_key(raw, analysis)}:{names}" for path, raw in raws.items()}
        found = store.get_many(sorted(set(keys.values())), "exclusions")
    lookup = _cache_lookup(settings, store) if store is not None else None
    out: dict[str, dict[str, int]] = {}
    new: dict[str, str] = {}
    for path, raw in raws.items():
        key = keys.get(path)
        counts: dict[str, int] | None = None
        if key is not None and key in found:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                counts = {str(k): int(v) for k, v in json.loads(found[key]).items()}
        if counts is None:
            exclusions = file_exclusions(root, path, settings.regexes, lookup, raw)
            counts = {} if exclusions is None else dict(Counter(
                line.reason for line in attribute(
                    exclusions.excluded, exclusions.matched, settings.regexes, exclusions.text,
                    settings.defaults, settings.also,
                )
            ))
            if key is not None:
                new[key] = json.dumps(counts, separators=(",", ":"))
        if counts:
            out[path] = counts
    if store is not None and new:
        store.put_many({}, exclusions=new)
    return out


def _in_worker(function: str, environ: dict[str, str], path: list[str], *args) -> tuple:
    """The worker's side: ("ok", what `function` returns) or ("error", path, problem)."""
    os.environ.clear()
    os.environ.update(environ)
    sys.path[:] = path
    try:
        return ("ok", globals()[function](*args))
    except InputError as exc:
        return ("error", exc.path, exc.problem)


def _start(function: str, *args) -> Callable[[], object]:
    pending = PendingRead(
        "covtui.readers.exclusions:_in_worker", function, dict(os.environ), list(sys.path), *args,
        preload="covtui.readers.exclusions",
    )

    def result():
        kind, *rest = pending.result()
        if kind == "error":
            raise InputError(*rest)
        return rest[0]

    return result


def start_counting_exclusions(
    root: Path, paths: Iterable[str], generated: Sequence[tuple[str, str]] = (),
    cache_dir: Path | None = None,
) -> Callable[[], tuple[ReasonCount, ...]]:
    """`count_exclusions` begun in a worker process (coverage.py changes directory as it
    reads its config; never beside the dashboard's threads); the function returned waits
    for the counts (blocking: call it in a thread) and raises InputError as the count would."""
    return _start(
        "count_exclusions", Path(os.path.abspath(root)), sorted(set(paths)), list(generated), cache_dir
    )


def start_audit(
    root: Path, stored: dict[str, int], sources: dict[str, str],
    generated: Sequence[tuple[str, str]], cache_dir: Path | None = None,
) -> Callable[[], tuple[list[AuditFile], list[LeftOutFile]]]:
    """`audit` begun in a worker process, as `start_counting_exclusions`."""
    return _start("audit", Path(os.path.abspath(root)), stored, sources, list(generated), cache_dir)
