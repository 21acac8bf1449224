"""Whether a pytest run measured the suite, and if not, why, in one line from its own output."""

from __future__ import annotations

import re
from pathlib import Path

#: pytest's exit codes (`pytest.ExitCode`): only 0 and 1 mean the whole suite ran.
PYTEST_OK, PYTEST_TESTS_FAILED, PYTEST_INTERRUPTED = 0, 1, 2
PYTEST_INTERNAL_ERROR, PYTEST_USAGE_ERROR, PYTEST_NO_TESTS = 3, 4, 5

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_COLLECTION_ERRORS = re.compile(r"Interrupted: (\d+) errors? during collection")
_ERROR_COLLECTING = re.compile(r"^_+ ERROR collecting (.+?) _+$")
_SUMMARY_ERROR = re.compile(r"^ERROR (\S+)(?: - .*)?$")  # "ERROR path" (no "::": not a test)
_BANNER = re.compile(r"^!{3,} (.+?) !{3,}$")
_CONFTEST = re.compile(r"^ImportError while loading conftest '(.+)'\.$")
_DESELECTED = re.compile(r"(\d+) deselected")
_NAMES_SHOWN = 3


def pytest_failure(exit_code: int | None, output: str, root: Path | None = None) -> str | None:
    """None when pytest ran the suite (exit 0, or 1: some tests failed); otherwise why it did not,
    e.g. "pytest: 1 error during collection: tests/test_x.py" or "pytest collected no tests"."""
    if exit_code in (PYTEST_OK, PYTEST_TESTS_FAILED):
        return None
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    collection = _collection_errors(lines)
    if collection:
        return collection
    if exit_code == PYTEST_NO_TESTS:
        deselected = _last_match(_DESELECTED, lines)
        return "pytest collected no tests" + (
            f" ({deselected.group(1)} deselected)" if deselected else ""
        )
    if exit_code == PYTEST_INTERNAL_ERROR:
        internal = [line.removeprefix("INTERNALERROR>").strip() for line in lines
                    if line.startswith("INTERNALERROR>")]
        detail = next((line for line in reversed(internal) if line), "")
        return "pytest: internal error" + (f": {detail}" if detail else " (exit 3)")
    if exit_code == PYTEST_USAGE_ERROR:
        conftest = _last_match(_CONFTEST, lines)
        if conftest:
            error = next((line.removeprefix("E").strip() for line in reversed(lines)
                          if line.startswith("E ")), "")
            where = _relative(conftest.group(1), root)
            return f"pytest could not load {where}" + (f": {error}" if error else "")
        usage = next((line for line in reversed(lines) if re.match(r"^\S+: error: ", line)
                      or (line.startswith("ERROR: ") and not line.startswith("ERROR: usage:"))),
                     "")
        detail = usage.split("error: ", 1)[1] if "error: " in usage else usage.removeprefix("ERROR: ")
        return "pytest: usage error" + (f": {detail}" if detail else " (exit 4)")
    if exit_code == PYTEST_INTERRUPTED:
        banner = _last_match(_BANNER, lines)
        return "pytest was interrupted" + (f": {banner.group(1)}" if banner else "")
    return f"pytest exited with {exit_code}"


def _collection_errors(lines: list[str]) -> str | None:
    """"pytest: 2 errors during collection: a.py, b.py" when collection failed."""
    paths: list[str] = []
    for line in lines:
        found = _ERROR_COLLECTING.match(line) or _SUMMARY_ERROR.match(line)
        if found and "::" not in found.group(1) and found.group(1) not in paths:
            paths.append(found.group(1))
    counted = _last_match(_COLLECTION_ERRORS, lines)
    if counted is None and not paths:
        return None
    n = int(counted.group(1)) if counted else len(paths)
    text = f"pytest: {n} error{'s' if n != 1 else ''} during collection"
    if paths:
        shown = ", ".join(paths[:_NAMES_SHOWN])
        more = len(paths) - _NAMES_SHOWN
        text += f": {shown}" + (f" and {more} more" if more > 0 else "")
    return text


def _relative(path: str, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return path


def _last_match(pattern: re.Pattern, lines: list[str]) -> re.Match | None:
    for line in reversed(lines):
        found = pattern.search(line)
        if found:
            return found
    return None
