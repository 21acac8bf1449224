"""What coverage.py leaves out of a project, read with coverage.py itself: its exclusion
regexes, the lines each one excludes in a file (its parser's `excluded`, what
`Analysis.excluded` holds), and the files its `omit` patterns leave out."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from covtui.coverage_compat import (
    Coverage,
    CoverageException,
    GlobMatcher,
    NotPython,
    PythonParser,
    join_regex,
)
from covtui.domain.exclusions import AuditFile, LeftOutFile, ReasonCount, attribute, reason_counts
from covtui.errors import InputError
from covtui.readers.analysis_cache import decode_source
from covtui.readers.coverage_data import _CWD_LOCK, _in_directory


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


def exclusion_settings(root: Path) -> ExclusionSettings:
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


def file_exclusions(root: Path, path: str, regexes: tuple[str, ...]) -> FileExclusions | None:
    """Parse `path` (relative to `root`) as coverage.py does; None when it can't be read or
    isn't Python."""
    full = Path(path) if os.path.isabs(path) else root / path
    try:
        source = decode_source(full.read_bytes())
        parser = PythonParser(text=source, filename=str(full), exclude=join_regex(list(regexes)))
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
        found = file_exclusions(root, path, settings.regexes)
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
    left = [LeftOutFile(path, f"omit pattern {pattern!r}") for path, pattern in omitted_files(root, settings)]
    return left + [LeftOutFile(path, f"generated ({why})") for path, why in generated]


def count_exclusions(
    root: Path, paths: Iterable[str], generated: Sequence[tuple[str, str]] = ()
) -> tuple[ReasonCount, ...]:
    """Excluded lines and left-out files per reason for the measured `paths`, with the
    project's coverage.py config: what a snapshot records (CPU and disk: call in a thread)."""
    settings = exclusion_settings(root)
    return reason_counts(audit_files(root, settings, paths), left_out_files(root, settings, generated))
