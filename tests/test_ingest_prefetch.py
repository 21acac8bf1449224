"""`covtui ingest` reads the history while its read runs: used only if nothing committed since."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

import covtui.record
from covtui.ingest import PendingReports, read_reports, record_ingest, start_reports
from covtui.store import Store

from .conftest import clean_env

MORE_TESTS = '''
from pkg.calc import unused


def test_unused():
    assert unused() == 4
'''


@pytest.fixture
def measured(project):
    """Two coverage.py data files of the project: its two tests, and those plus one more."""
    project.write("tests/test_more.py", MORE_TESTS)

    def run(name: str, *tests: str):
        subprocess.run(
            [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={name}",
             "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
            cwd=project.root, env=clean_env(), check=True, capture_output=True,
        )
        return project.root / name

    return run(".coverage.less", "tests/test_calc.py"), run(".coverage.more", "tests")


def _current(db, path: str):
    async def read():
        async with await Store.open(db, read_only=True) as store:
            return (await store.current_files("python"))[path].coverage

    return asyncio.run(read())


def test_a_commit_during_the_read_is_what_the_snapshot_is_compared_with(
    project, measured, new_db, monkeypatch
):
    less, more = measured
    config, db = project.config, new_db()
    asyncio.run(record_ingest(config, db, read_reports(config, [less])))
    prefetched = threading.Event()
    real_prefetch = covtui.record.prefetch

    async def prefetch(*args):
        try:
            return await real_prefetch(*args)
        finally:
            prefetched.set()

    monkeypatch.setattr(covtui.record, "prefetch", prefetch)
    pending = start_reports(config, [less])

    def read_while_another_writer_commits():
        assert prefetched.wait(60)
        # Another ingest commits `more` (every line of calc.py run) after the files were read.
        asyncio.run(record_ingest(config, db, read_reports(config, [more])))
        return pending()

    _, alerts = asyncio.run(
        record_ingest(config, db, PendingReports(read_while_another_writer_commits, "python"))
    )
    # Judged against `more`, not the files read before it committed: calc.py lost lines ...
    assert [a.rule for a in alerts if a.rule == "file_regression"] == ["file_regression"]
    # ... and its state is `less`'s again (a stale comparison would not have written it).
    stored = _current(db, "pkg/calc.py")
    expected = pending().report
    (calc,) = [f for f in expected.files if f.path == "pkg/calc.py"]
    assert stored.missing_lines == calc.missing_lines
    assert stored.numbers == calc.numbers


def test_the_files_read_during_the_read_are_not_read_again(project, measured, new_db, monkeypatch):
    less, more = measured
    config, db = project.config, new_db()
    asyncio.run(record_ingest(config, db, read_reports(config, [less])))
    calls = []
    real = Store.current_files_as_stored  # what current_files() reads through too

    async def current_files_as_stored(self, source):
        calls.append(source)
        return await real(self, source)

    monkeypatch.setattr(Store, "current_files_as_stored", current_files_as_stored)
    _, alerts = asyncio.run(record_ingest(config, db, start_reports(config, [more])))
    assert calls == ["python"]
    assert not [a for a in alerts if a.rule == "file_regression"]
    (calc,) = [f for f in read_reports(config, [more]).report.files if f.path == "pkg/calc.py"]
    assert _current(db, "pkg/calc.py").missing_lines == calc.missing_lines
    assert calc.numbers.n_missing < _current_after_less(config, less).numbers.n_missing


def _current_after_less(config, less):
    (calc,) = [f for f in read_reports(config, [less]).report.files if f.path == "pkg/calc.py"]
    return calc


def test_bad_input_during_the_history_read_changes_nothing(project, measured, new_db):
    less, _ = measured
    config, db = project.config, new_db()
    asyncio.run(record_ingest(config, db, read_reports(config, [less])))
    before = _current(db, "pkg/calc.py")
    garbage = project.write(".coverage.bad", "")
    garbage.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)  # looks like data, is not
    from covtui.errors import InputError

    with pytest.raises(InputError):
        asyncio.run(record_ingest(config, db, start_reports(config, [garbage])))

    async def count():
        async with await Store.open(db, read_only=True) as store:
            return await store.n_snapshots()

    assert asyncio.run(count()) == 1
    assert _current(db, "pkg/calc.py") == before


def test_the_files_the_store_holds_already_are_reused_not_decoded(
    project, measured, new_db, monkeypatch
):
    less, more = measured
    config, db = project.config, new_db()
    asyncio.run(record_ingest(config, db, read_reports(config, [less])))
    before = {f.path: f for f in read_reports(config, [less]).report.files}
    expected = read_reports(config, [more]).report.files
    import covtui.domain.codec as codec
    import covtui.readers.worker as worker

    decoded = []
    real_decode = codec.decode_file_result

    def decode(text, path):
        decoded.append(path)
        return real_decode(text, path)

    monkeypatch.setattr(codec, "decode_file_result", decode)
    # As if the worker were still reading when the history has been read (in a real ingest,
    # most of the time): the known files are handed to the read before its answer is used.
    handed = threading.Event()
    real_reuse, real_result = worker.PendingCoverageRead.reuse, worker.PendingRead.result

    def reuse(self, files):
        real_reuse(self, files)
        handed.set()

    def result(self):
        assert handed.wait(60)
        return real_result(self)

    monkeypatch.setattr(worker.PendingRead, "answered", lambda self: False)
    monkeypatch.setattr(worker.PendingCoverageRead, "reuse", reuse)
    monkeypatch.setattr(worker.PendingRead, "result", result)
    pending = start_reports(config, [more])
    asyncio.run(record_ingest(config, db, pending))
    got = pending().report.files
    assert got == expected
    assert [tuple(f.statements) for f in got] == [tuple(f.statements) for f in expected]
    # Only the files whose result changed were decoded; the rest are the stored ones.
    changed = [f.path for f in expected if before.get(f.path) != f]
    assert changed and len(changed) < len(expected)
    assert decoded == changed
    assert _current(db, "pkg/calc.py").missing_lines == next(
        f for f in expected if f.path == "pkg/calc.py"
    ).missing_lines
