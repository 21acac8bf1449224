"""Readers: one module per input format, each turning a file into a `CoverageReport`.

`read_coverage()` recognises the format from the content unless told, and raises
`InputError` (one line naming the file and the problem) for anything it cannot read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from covtui.domain.model import CoverageReport, FileCoverage, TestOutcomes
from covtui.errors import InputError

if TYPE_CHECKING:
    from covtui.config import GeneratedConfig
    from covtui.readers.worker import PendingCoverageRead

FORMATS = ("coverage.py", "coverage.json", "lcov", "cobertura", "junit")


def detect_format(path: Path) -> str:
    """Name the format of `path` from its first bytes (not its name)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    if head.startswith(b"SQLite format 3\x00"):
        return "coverage.py"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "coverage.json"
    if text.startswith(b"<"):
        if b"<coverage" in head:
            return "cobertura"
        if b"<testsuite" in head or b"<testsuites" in head:
            return "junit"
        raise InputError(path, "XML that is neither Cobertura coverage nor JUnit test results")
    first = text.split(b"\n", 1)[0].strip()
    if first.startswith((b"TN:", b"SF:")):
        return "lcov"
    if not head:
        raise InputError(path, "empty file")
    raise InputError(path, "not a coverage report covtui knows (coverage.py, coverage.json, lcov, Cobertura, JUnit)")


def read_coverage(
    paths: Sequence[Path],
    fmt: str | None = None,
    *,
    root: Path,
    cache_dir: Path | None = None,
    leave_out: Sequence[Path] = (),
    census: bool = False,
    generated: GeneratedConfig | None = None,
    reuse: tuple[frozenset[str], str] | None = None,
) -> CoverageReport:
    """Read one coverage report, or several coverage.py data files combined.

    `root` is the project directory: paths inside it are stored relative to it.
    `cache_dir` holds the static-analysis cache for coverage.py data (None: no cache).
    Files under a `leave_out` folder are not reported, as if never measured.
    `census`, `generated` and `reuse`: as `start_reading()`'s.
    """
    return start_reading(
        paths, fmt, root=root, cache_dir=cache_dir, leave_out=leave_out, census=census,
        generated=generated, reuse=reuse,
    )()


def start_reading(
    paths: Sequence[Path],
    fmt: str | None = None,
    *,
    root: Path,
    cache_dir: Path | None = None,
    leave_out: Sequence[Path] = (),
    merge: bool = False,
    census: bool = False,
    generated: GeneratedConfig | None = None,
    reuse: tuple[frozenset[str], str] | None = None,
) -> Callable[[], CoverageReport]:
    """`read_coverage()` begun: coverage.py data starts reading in its worker process now, so
    the caller can get on with its own start-up; the function returned waits for the report.

    `merge`: several lcov or Cobertura files (a CI run's shards) are merged into one report.
    `census`: coverage.py data's read counts what its exclusions leave out of the report's
    files too, in its worker (the report's `exclusions`, which a snapshot records), and with
    `generated` which of them those rules call generated (from the bytes the read hashed).
    `reuse`: coverage.py data only: (the data names whose lines, arcs or contexts may differ
    from the last read's, where that read's results were kept): every other file whose
    source is unchanged is taken from there (an affected rescan's merged data).
    """
    if not paths:
        raise InputError("(no files)", "nothing to read")
    formats = {p: fmt or detect_format(p) for p in paths}
    kinds = set(formats.values())
    if len(kinds) > 1:
        raise InputError(paths[0], f"mixed formats in one source: {', '.join(sorted(kinds))}")
    (kind,) = kinds
    if kind == "junit":
        raise InputError(paths[0], "JUnit XML holds test results, not coverage")
    if kind == "coverage.py":
        from covtui.readers.worker import start_coverage_read

        pending = start_coverage_read(
            [Path(os.path.abspath(p)) for p in paths], root=Path(os.path.abspath(root)),
            cache_dir=cache_dir, leave_out=leave_out, census=census, generated=generated,
            reuse=reuse,
        )
        return _PendingCoverage(paths[0], pending)
    if len(paths) > 1 and merge and kind in ("lcov", "cobertura"):
        return lambda: _read_merged(paths, kind, root)
    if len(paths) > 1:
        raise InputError(paths[1], f"only coverage.py data files can be combined; {kind} is one file")
    return lambda: _read_one(paths[0], kind, root)


def _read_one(path: Path, kind: str, root: Path) -> CoverageReport:
    if kind == "coverage.json":
        from covtui.readers.coverage_json import read_coverage_json

        return _checked(path, read_coverage_json(path, root=root))
    if kind == "lcov":
        from covtui.readers.lcov import read_lcov

        return _checked(path, read_lcov(path, root=root))
    if kind == "cobertura":
        from covtui.readers.cobertura import read_cobertura

        return _checked(path, read_cobertura(path, root=root))
    raise InputError(path, f"unknown format {kind!r} (known: {', '.join(FORMATS)})")


def _read_merged(paths: Sequence[Path], kind: str, root: Path) -> CoverageReport:
    if kind == "lcov":
        from covtui.readers.lcov import read_lcov_shards

        return _checked(paths[0], read_lcov_shards(paths, root=root))
    from covtui.readers.cobertura import read_cobertura_shards

    return _checked(paths[0], read_cobertura_shards(paths, root=root))


def _checked(path: Path, report: CoverageReport) -> CoverageReport:
    """Refuse counts no real project has (they would overflow the store), naming the file."""
    bad = report.numbers.out_of_range()
    if bad is None:
        return report
    where = "in total"
    for f in report.files:
        if (in_file := f.numbers.out_of_range()) is not None:
            where, bad = repr(f.path[:80]), in_file
            break
    name, value = bad
    shown = str(value)[:40] if value.bit_length() < 10_000 else "a number of 3,000+ digits"
    what = name.removeprefix("n_").replace("_", " ")
    raise InputError(path, f"{where}: {shown} {what} is not a plausible count")


def read_tests(path: Path) -> TestOutcomes:
    """Read JUnit XML test outcomes."""
    from covtui.readers.junit import read_junit

    return read_junit(path)


def relative_path(path: str, root: Path) -> str:
    """`path` relative to `root` with "/" separators when it is inside it; unchanged otherwise."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


class _PendingCoverage:
    """A coverage.py read under way: calling it waits for the report; `reuse()` hands it
    files known already (see `PendingCoverageRead.reuse`)."""

    def __init__(self, first: Path, pending: PendingCoverageRead) -> None:
        self._first, self._pending = first, pending

    def reuse(self, files: Iterable[tuple[FileCoverage, tuple[str, str, str]]]) -> None:
        self._pending.reuse(files)

    def __call__(self) -> CoverageReport:
        return _checked(self._first, self._pending.result()[0])
