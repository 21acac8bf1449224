"""A source file saved while the tests run: their data describes the old code, coverage.py's
report would read the new one. Such a run is void: stored as cancelled with the file named,
never compared, an info alert only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .conftest import Project

#: A test that, when its flag file exists, saves a measured file as an editor would while the
#: suite runs: two lines more at the top (comments: the figures of the new tree equal the old).
EDITING_TEST = '''
import pathlib

FLAG = pathlib.Path({flag!r})


def test_zz_saved_meanwhile():
    if FLAG.exists():
        FLAG.unlink()
        src = pathlib.Path("pkg/calc.py")
        src.write_text("# saved while the tests ran\\n# two lines more\\n" + src.read_text())
'''


def rows(db: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


@pytest.mark.parametrize("affected", [False, True], ids=["full", "affected"])
def test_a_source_saved_while_the_tests_run_is_void_and_alerts_nothing_critical(
    project: Project, tmp_path: Path, affected: bool
) -> None:
    flag = tmp_path / "edit.flag"  # outside the project: not a change covtui sees
    project.write("tests/test_zz_edit.py", EDITING_TEST.format(flag=str(flag)))
    project.covtui("scan", "-q", check=True)
    first = rows(project.db, "SELECT n_statements, n_missing, pc_covered FROM snapshots")[0]

    flag.write_text("")
    if affected:  # the editing test's module changed: the incremental run reruns it alone
        (project.root / "tests/test_zz_edit.py").write_text(
            EDITING_TEST.format(flag=str(flag)) + "\n# touched\n"
        )
    proc = project.covtui("scan", "-q", *(["--affected"] if affected else []))
    assert not flag.exists()  # the save happened, during the run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pkg/calc.py changed while the tests ran" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    second = max(r[0] for r in rows(project.db, "SELECT id FROM snapshots"))
    scope = rows(project.db, "SELECT scope FROM snapshots WHERE id = ?", second)
    assert scope == [("incremental" if affected else "full",)]  # affected: the module alone reran
    assert rows(project.db, "SELECT status FROM source_results WHERE snapshot_id = ?", second) == [
        ("cancelled",)
    ]
    alerts = rows(project.db, "SELECT rule, severity, message FROM alerts WHERE snapshot_id = ?", second)
    assert [(rule, severity) for rule, severity, _ in alerts] == [("scan_failed", "info")]
    assert "pkg/calc.py changed while the tests ran" in alerts[0][2]

    # The tree holds still now: the next scan measures it, equal to the first (comments only).
    again = project.covtui("scan", "-q", *(["--affected"] if affected else []))
    assert again.returncode == 0, again.stdout + again.stderr
    last = rows(project.db, "SELECT n_statements, n_missing, pc_covered, status FROM snapshots "
                            "ORDER BY id DESC LIMIT 1")[0]
    assert last == (*first, "ok")


def test_only_files_whose_bytes_differ_from_the_start_count_as_changed() -> None:
    from covtui.domain.digests import changed_during_run, content_digest

    old, new = content_digest(b"x = 1\n"), content_digest(b"x = 2\n")
    before = {"pkg/a.py": old, "pkg/b.py": old}
    read = {"pkg/b.py": new, "pkg/a.py": old, "pkg/written_by_a_test.py": new}
    assert changed_during_run(before, read) == ["pkg/b.py"]
    assert changed_during_run(before, {"pkg/a.py": old}) == []
