"""The static-analysis cache: hits, invalidation, corruption, and parsing in worker processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from coverage.parser import PythonParser

from covtui.readers import analysis_cache, coverage_data
from covtui.readers.coverage_data import read_with_stats

from .conftest import assert_agrees, coverage, coverage_json, write_files
from .test_agreement import PROJECT, PYPROJECT


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cached")
    write_files(root, PROJECT | {"pyproject.toml": PYPROJECT})
    coverage(root, "run", "run.py")
    return root


@pytest.fixture
def project(measured: Path, tmp_path: Path) -> Path:
    """A fresh copy of the measured project (its data names files in `measured`)."""
    root = tmp_path / "proj"
    shutil.copytree(measured, root)
    return root


def _read(root: Path, cache: Path, isolate: bool = True):
    """Read as covtui does; `isolate=False` in this process, for tests that patch the reader."""
    return read_with_stats([root / ".coverage"], root=root, cache_dir=cache, isolate=isolate)


def test_second_read_parses_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first, stats = _read(project, cache)
    assert (stats.n_parsed, stats.n_cached) == (stats.n_files, 0)
    assert (cache / analysis_cache.CACHE_FILENAME).exists()

    def no_parsing(self: PythonParser) -> None:
        raise AssertionError("parsed although cached")

    monkeypatch.setattr(PythonParser, "parse_source", no_parsing)
    second, stats = _read(project, cache, isolate=False)
    assert (stats.n_parsed, stats.n_cached) == (0, stats.n_files)
    assert second.files == first.files


def test_new_data_same_sources(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests re-run with other inputs: results are recomputed from the cached analysis."""
    cache = tmp_path / "cache"
    _, stats = _read(project, cache)
    _, stats = _read(project, cache)
    assert stats.n_results == stats.n_files
    coverage(project, "run", "run.py", "99")
    monkeypatch.setattr(PythonParser, "parse_source", lambda self: 1 / 0)
    report, stats = _read(project, cache, isolate=False)
    assert stats.n_parsed == 0 and 0 < stats.n_results < stats.n_files
    assert_agrees(report, coverage_json(project), project)


def test_changed_file_is_reanalysed_alone(measured: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _read(measured, cache)
    core = measured / "shop" / "core.py"
    saved = core.read_text()
    try:
        # New unexecuted code: the data is now stale, and both tools must agree on that.
        core.write_text(saved + "\n\ndef added(x):\n    if x:\n        return 1\n    return 2\n")
        report, stats = _read(measured, cache)
        assert (stats.n_parsed, stats.n_cached) == (1, stats.n_files - 1)
        assert_agrees(report, coverage_json(measured), measured)
    finally:
        core.write_text(saved)


def test_exclusion_change_invalidates(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before, _ = _read(project, cache)
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace('"raise NotImplementedError"', '"def parse"'))
    after, stats = _read(project, cache)
    assert stats.n_cached == 0 and stats.n_parsed == stats.n_files
    assert after.numbers.n_excluded != before.numbers.n_excluded
    assert_agrees(after, coverage_json(project), project)


def test_corrupt_cache_is_rebuilt(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / analysis_cache.CACHE_FILENAME).write_bytes(b"\x00garbage" * 500)
    report, stats = _read(project, cache)
    assert stats.cache_rebuilt and stats.n_parsed == stats.n_files
    assert_agrees(report, coverage_json(project), project)
    _, stats = _read(project, cache)
    assert stats.n_cached == stats.n_files and not stats.cache_rebuilt


def test_bad_entry_is_a_miss(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _read(project, cache)
    import sqlite3

    con = sqlite3.connect(cache / analysis_cache.CACHE_FILENAME)
    con.execute("UPDATE analysis SET value = '{\"nope\": 1}'")
    con.execute("UPDATE result SET value = '[1, 2]'")
    con.commit()
    con.close()
    report, stats = _read(project, cache)
    assert stats.n_parsed == stats.n_files
    assert_agrees(report, coverage_json(project), project)


def test_a_result_altered_in_the_cache_is_a_miss_not_a_wrong_answer(
    project: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _read(project, cache)
    import sqlite3

    con = sqlite3.connect(cache / analysis_cache.CACHE_FILENAME)
    # One result's text changed and kept well-formed JSON (a count edited), one cut short.
    (n_results,) = con.execute("SELECT count(*) FROM result").fetchone()
    keys = [k for (k,) in con.execute("SELECT key FROM result ORDER BY key LIMIT 2")]
    con.execute("UPDATE result SET value = replace(value, '[[', '[[1') WHERE key = ?", keys[:1])
    con.execute("UPDATE result SET value = substr(value, 1, 30) WHERE key = ?", keys[1:])
    con.commit()
    con.close()
    report, stats = _read(project, cache)
    assert stats.n_results == n_results - 2
    assert_agrees(report, coverage_json(project), project)


def test_sealed_text_unseals_to_itself_and_nothing_else_does() -> None:
    text = '[[3,0,1,0,0,0],[2],[],[],"1-3"]'
    assert analysis_cache.unseal(analysis_cache.seal(text)) == text
    sealed = analysis_cache.seal(text)
    for bad in (sealed[:-1], sealed.replace("1-3", "1-4"), "zzzzzzzz" + text, "", "é" * 9):
        assert analysis_cache.unseal(bad) is None


def test_line_data_entries_gain_arcs_for_branch_data(project: Path, tmp_path: Path) -> None:
    """An entry stored for statement data lacks arcs; branch data re-analyses the file."""
    cache = tmp_path / "cache"
    lines_root = tmp_path / "lines"
    shutil.copytree(project, lines_root)
    (lines_root / "pyproject.toml").write_text(PYPROJECT.replace("branch = true", "branch = false"))
    coverage(lines_root, "run", "run.py")
    _, stats = _read(lines_root, cache)
    assert stats.n_parsed == stats.n_files
    report, stats = _read(project, cache)
    assert stats.n_parsed == stats.n_files
    assert_agrees(report, coverage_json(project), project)


def test_worker_processes(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coverage_data, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(coverage_data, "POOL_MIN_BYTES", 0)
    report, stats = _read(project, tmp_path / "cache", isolate=False)
    assert stats.used_pool and stats.n_parsed == stats.n_files
    assert_agrees(report, coverage_json(project), project)


def test_no_cache_dir(project: Path) -> None:
    report, stats = read_with_stats([project / ".coverage"], root=project, cache_dir=None)
    assert stats.n_parsed == stats.n_files
    assert_agrees(report, coverage_json(project), project)


def test_another_coverage_version_invalidates(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are keyed on coverage.py's version: another version parses every file again
    (its parser may say otherwise), and the figures are still `coverage json`'s."""
    from covtui import coverage_compat

    cache = tmp_path / "cache"
    _read(project, cache)
    _, stats = _read(project, cache, isolate=False)
    assert stats.n_results == stats.n_files
    monkeypatch.setattr(coverage_compat, "VERSION", f"{coverage_compat.VERSION}.another")
    report, stats = _read(project, cache, isolate=False)
    assert (stats.n_parsed, stats.n_cached, stats.n_results) == (stats.n_files, 0, 0)
    assert_agrees(report, coverage_json(project), project)
