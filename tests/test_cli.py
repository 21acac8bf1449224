"""The command line: ingest, status, alerts, prune; bad input is one line and changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from covtui.record import record_snapshot

from .conftest import Project, clean_env


def run_coverage(project: Project, data: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}", *args],
        cwd=project.root, env=clean_env(), check=True, capture_output=True,
    )


@pytest.fixture
def data_file(project: Project) -> Path:
    data = project.root / ".coverage"
    run_coverage(project, data, "-m", "pytest", "-q", f"--junitxml={project.root / 'junit.xml'}")
    return data


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def test_ingest_coverage_data_and_junit(project: Project, data_file: Path) -> None:
    proc = project.covtui("ingest", str(data_file), "junit.xml", "--label", "nightly", check=True)
    assert "snapshot #1 stored" in proc.stdout
    expected = project.coverage_json(data_file)["totals"]
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert status["totals"]["percent_covered"] == expected["percent_covered"]
    assert status["totals"]["num_statements"] == expected["num_statements"]
    assert status["sources"]["python"]["status"] == "ok"
    assert status["phase"]["number"] >= 1


def test_ingest_parallel_shards_like_coverage_combine(project: Project) -> None:
    project.write("tests/test_other.py", "from pkg.calc import unused\n\ndef test_u():\n    assert unused() == 4\n")
    run_coverage(project, project.root / ".coverage", "-p", "-m", "pytest", "-q", "tests/test_calc.py")
    run_coverage(project, project.root / ".coverage", "-p", "-m", "pytest", "-q", "tests/test_other.py")
    shards = sorted(project.root.glob(".coverage.*"))
    assert len(shards) == 2
    project.covtui("ingest", *map(str, shards), check=True)
    subprocess.run([sys.executable, "-m", "coverage", "combine", "--keep"], cwd=project.root,
                   env=clean_env(), check=True, capture_output=True)
    expected = project.coverage_json(project.root / ".coverage")["totals"]
    totals = json.loads(project.covtui("status", "--json", check=True).stdout)["totals"]
    assert totals["covered_lines"] == expected["covered_lines"]
    assert totals["covered_branches"] == expected["covered_branches"]
    assert totals["percent_covered"] == expected["percent_covered"]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("broken.info", "SF:a.c\nDA:1,1\nDA:2,x\nend_of_record\n", "broken.info"),
        ("trunc.info", "SF:a.c\nDA:1,1\n", "trunc.info"),
        ("other.xml", "<?xml version='1.0'?><html><body/></html>", "other.xml"),
        ("notes.txt", "just some notes\n", "notes.txt"),
        (".coverage", "SQLite format 3\x00garbage" * 50, ".coverage"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    project: Project, data_file: Path, name: str, content: str, problem: str
) -> None:
    project.covtui("ingest", str(data_file), check=True)
    before = digest(project.db)
    bad = project.root / "bad" / name
    bad.parent.mkdir()
    bad.write_text(content)
    proc = project.covtui("ingest", str(bad))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0] and lines[0].startswith("covtui: error:")
    assert "Traceback" not in proc.stderr
    assert digest(project.db) == before


def test_missing_paths_and_database(project: Project) -> None:
    proc = project.covtui("ingest", "nope.info")
    assert proc.returncode == 2 and "nope.info: no such file" in proc.stderr
    proc = project.covtui("status")
    assert proc.returncode == 2 and "no monitoring database yet" in proc.stderr
    assert not project.db.exists()


def test_a_pipe_is_refused_in_one_line_not_waited_on(project: Project) -> None:
    # A named pipe with no writer: opening it to look at its first bytes would wait forever
    # (before the command line is even parsed: the entry point looks for coverage.py data).
    fifo = project.root / "report.fifo"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "covtui", "ingest", str(fifo)],
        cwd=project.root, env=clean_env(), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"covtui: error: {fifo}: not a regular file (a pipe or a device): save it to a file first"
    ]
    assert not project.db.exists()


def test_unreadable_database_is_one_line(project: Project) -> None:
    project.db.parent.mkdir(parents=True)
    project.db.write_bytes(b"\x00garbage" * 512)
    proc = project.covtui("status")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "covtui.db" in proc.stderr


def test_alerts_ack_and_prune(project: Project) -> None:
    lcov = project.root / "cov.info"
    # Two lcov reports from real coverage.py runs: all tests, then fewer.
    run_coverage(project, project.root / ".coverage", "-m", "pytest", "-q")
    subprocess.run([sys.executable, "-m", "coverage", "lcov", "-o", str(lcov)], cwd=project.root,
                   env=clean_env(), check=True, capture_output=True)
    project.covtui("ingest", str(lcov), "--source", "py-lcov", check=True)
    project.write("tests/test_calc.py", "def test_nothing():\n    pass\n")
    run_coverage(project, project.root / ".coverage", "-m", "pytest", "-q")
    subprocess.run([sys.executable, "-m", "coverage", "lcov", "-o", str(lcov)], cwd=project.root,
                   env=clean_env(), check=True, capture_output=True)
    project.covtui("ingest", str(lcov), "--source", "py-lcov", check=True)
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert {a["rule"] for a in alerts} >= {"coverage_drop", "file_regression"}
    first = alerts[0]["id"]
    assert "1 alert acknowledged" in project.covtui("alerts", "ack", str(first), check=True).stdout
    remaining = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert first not in {a["id"] for a in remaining}
    everything = json.loads(project.covtui("alerts", "--all", "--json", check=True).stdout)
    assert first in {a["id"] for a in everything}
    proc = project.covtui("alerts", "ack", "12345")
    assert proc.returncode == 2 and "no alert with id 12345" in proc.stderr
    project.covtui("alerts", "ack", "--all", check=True)
    assert json.loads(project.covtui("alerts", "--json", check=True).stdout) == []
    # Undone: the alert is unacknowledged again; an unknown id or --all changes nothing.
    undo = project.covtui("alerts", "ack", "--undo", str(first), check=True).stdout
    assert "1 alert unacknowledged" in undo
    assert [a["id"] for a in json.loads(project.covtui("alerts", "--json", check=True).stdout)] == [first]
    proc = project.covtui("alerts", "ack", "--undo", str(first), "12345")
    assert proc.returncode == 2 and "no alert with id 12345" in proc.stderr
    proc = project.covtui("alerts", "ack", "--undo", "--all")
    assert proc.returncode != 0 and "--undo takes alert ids" in proc.stderr
    assert [a["id"] for a in json.loads(project.covtui("alerts", "--json", check=True).stdout)] == [first]
    proc = project.covtui("prune", "--older-than", "0", check=True)
    assert "removed 1 snapshot, 0 acknowledged alerts and 0 finished CI runs" in proc.stdout
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert status["snapshot"]["id"] == 2


def test_markup_in_paths_and_messages_is_shown_literally(project: Project) -> None:
    evil = "[red]x[/].py"
    project.write(f"pkg/{evil}", "def f():\n    return 1\n")
    lcov = project.root / "evil.info"
    lcov.write_text(f"SF:pkg/{evil}\nDA:1,1\nDA:2,0\nend_of_record\nSF:pkg/[@click=app.quit]y.py\nDA:1,0\nend_of_record\n")
    project.covtui("ingest", str(lcov), check=True)
    out = project.covtui("status", check=True).stdout
    assert f"pkg/{evil}" in out
    assert "pkg/[@click=app.quit]y.py" in out


def test_python_dash_m_and_version(project: Project) -> None:
    proc = project.covtui("--version", check=True)
    assert "covtui" in proc.stdout
    proc = project.covtui("--help", check=True)
    for command in ("scan", "ingest", "status", "alerts", "prune", "demo"):
        assert command in proc.stdout


# -- numbers, ids and names are checked at the boundary; nothing stored changes ----------------

def n_snapshots(db: Path) -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]


def assert_one_line(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("covtui: error:"), proc.stderr
    assert all(n in lines[0] for n in needles), lines[0]
    assert "Traceback" not in proc.stderr


@pytest.fixture
def two_snapshots(project: Project, data_file: Path) -> Path:
    """A database with two snapshots, the first a day old (as far as prune can tell)."""
    project.covtui("ingest", str(data_file), check=True)
    with closing(sqlite3.connect(project.db)) as conn, conn:  # closed: the WAL is checkpointed
        conn.execute("UPDATE snapshots SET created_at = created_at - 86400")
    project.covtui("ingest", str(data_file), check=True)
    assert n_snapshots(project.db) == 2
    return project.db


def test_prune_refuses_numbers_out_of_range(project: Project, two_snapshots: Path) -> None:
    before = digest(two_snapshots)
    for days in ("nan", "inf", "-inf", "-1", "1e300"):
        assert_one_line(project.covtui("prune", "--older-than", days), "--older-than")
    assert digest(two_snapshots) == before and n_snapshots(two_snapshots) == 2


def test_watch_refuses_numbers_out_of_range(project: Project) -> None:
    for interval in ("nan", "inf", "0", "-1", "1e300"):
        assert_one_line(project.covtui("watch", "--interval", interval), "--interval")
    for settle in ("nan", "inf", "-0.1", "1e300"):
        assert_one_line(project.covtui("watch", "--on-change", "--settle", settle), "--settle")
    assert not project.db.parent.exists()


def test_config_numbers_out_of_range_change_nothing(
    project: Project, two_snapshots: Path, data_file: Path
) -> None:
    before = digest(two_snapshots)
    for setting in ("retention_days = nan", "retention_days = -1", "precision = 100000",
                    "precision = -3", "poll_interval = 0", "[alerts]\ncoverage_drop = -1",
                    "[[sources]]\nname = 'python'\ntimeout = nan"):
        key = setting.split("\n")[-1].split(" =")[0]
        project.write("covtui.toml", setting + "\n")
        for args in (("ingest", str(data_file)), ("status",), ("prune",)):
            assert_one_line(project.covtui(*args), "covtui.toml", key)
    assert digest(two_snapshots) == before and n_snapshots(two_snapshots) == 2


def test_impossible_ids_and_limits_are_one_line(project: Project, two_snapshots: Path) -> None:
    before = digest(two_snapshots)
    for bad in ("99999999999999999999999", "-99999999999999999999999", "0"):
        assert_one_line(project.covtui("alerts", "ack", "1", "--", bad), f"no alert with id {bad}")
    for limit in ("99999999999999999999999", "-1", "0"):
        assert_one_line(project.covtui("alerts", "-n", limit), "--limit")
    assert_one_line(project.covtui("report", "--since", "#99999999999999999999999"), "--since")
    assert digest(two_snapshots) == before


def test_db_and_project_work_after_the_subcommand(
    project: Project, data_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere" / "m.db"
    project.covtui("ingest", str(data_file), "--db", str(other), check=True)
    assert other.exists() and not project.db.exists()
    for args in (("status", "--db", str(other)), ("--db", str(other), "status")):
        assert "Snapshot #1" in project.covtui(*args, check=True).stdout
    ids = [a["id"] for a in json.loads(project.covtui("alerts", "--json", "--db", str(other),
                                                       check=True).stdout)]
    proc = project.covtui("alerts", "ack", "--all", "--db", str(other), check=True)
    assert f"{len(ids)} alert" in proc.stdout
    assert "# Coverage Progression Report" in project.covtui("report", "--db", str(other),
                                                               check=True).stdout
    # --project after the subcommand: the project's own config and database.
    outside = subprocess.run(
        [sys.executable, "-m", "covtui", "status", "--project", str(project.root), "--db", str(other)],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=True,
    )
    assert "Snapshot #1" in outside.stdout
    project.write("covtui.toml", f"database = {json.dumps(str(other))}\n")
    outside = subprocess.run(
        [sys.executable, "-m", "covtui", "status", "--json", "--project", str(project.root)],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=True,
    )
    assert json.loads(outside.stdout)["snapshot"]["id"] == 1


def test_covtui_folder_is_ignored_by_git(project: Project, data_file: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=project.root, check=True)
    project.covtui("ingest", str(data_file), check=True)
    assert (project.db.parent / ".gitignore").read_text() == "# created by covtui\n*\n"
    subprocess.run([*git, "add", "-A"], cwd=project.root, check=True)
    staged = subprocess.run([*git, "diff", "--cached", "--name-only"], cwd=project.root,
                            check=True, capture_output=True, text=True).stdout.split()
    assert "pyproject.toml" in staged
    assert not [name for name in staged if name.startswith(".covtui")]


def test_existing_database_folder_gets_no_gitignore(project: Project, data_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    project.covtui("--db", str(folder / "m.db"), "ingest", str(data_file), check=True)
    assert not (folder / ".gitignore").exists()


def test_ingest_refuses_control_characters_in_source_names(
    project: Project, two_snapshots: Path, data_file: Path
) -> None:
    before = digest(two_snapshots)
    for name in ("x\x1b[31m", "a\nb", "bell\x07", "", "tab\there"):
        proc = project.covtui("ingest", "--source", name, str(data_file))
        assert_one_line(proc, "--source")
        assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert digest(two_snapshots) == before


def test_no_escape_sequence_reaches_the_terminal(project: Project, data_file: Path, tmp_path: Path) -> None:
    """Names stored by an older covtui, and paths given on the command line, are shown escaped."""
    import asyncio

    from covtui.domain.model import GitInfo, RunStatus, SnapshotDraft, SourceResult
    from covtui.readers import read_coverage, read_tests
    from covtui.store import Store

    evil = "x\x1b[31m[red]\x07"
    config = project.config
    report = read_coverage([data_file], root=project.root)
    tests = read_tests(project.root / "junit.xml")

    async def write() -> None:
        async with await Store.open(project.db) as store:
            for _ in range(2):
                draft = SnapshotDraft("ingest", [SourceResult(evil, RunStatus.OK, report, tests)],
                                      label=evil, git=GitInfo(evil, evil, True))
                await record_snapshot(store, draft, config)

    asyncio.run(write())
    outputs = [project.covtui("status", check=True), project.covtui("alerts", "--all", check=True),
               project.covtui("report", check=True),
               project.covtui("report", "--format", "json", check=True)]
    db = tmp_path / "d\x1b[2J[red]" / "m.db"
    outputs.append(project.covtui("--db", str(db), "ingest", str(data_file), check=True))
    outputs.append(project.covtui("--db", str(db), "report", "-o", str(db.parent / "r\x1b.md"),
                                  check=True))
    for proc in outputs:
        for out in (proc.stdout, proc.stderr):
            assert not set(out) & {"\x1b", "\x07", "\x9b"}, out
    assert "x\\x1b[31m[red]\\x07" in outputs[0].stdout  # visible, literally
    assert "d\\x1b[2J[red]" in outputs[4].stdout

FAILING_AND_SKIPPED = """
    import pytest

    def test_fails():
        assert 1 == 2

    @pytest.mark.skip
    def test_skipped():
        pass
"""


def test_failing_tests_are_said_plainly_and_status_shows_the_last_run(project: Project) -> None:
    import re

    project.write("tests/test_more.py", FAILING_AND_SKIPPED)
    proc = project.covtui("scan", check=True)  # failing tests are a measurement, not a failure
    summary = re.search(r"(\d+) failed, (\d+) passed, (\d+) skipped in", proc.stdout)
    n_failed, n_passed, n_skipped = (int(n) for n in summary.groups())  # pytest's own count
    assert "python: 1 test failed: tests.test_more::test_fails" in proc.stdout

    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    tests = status["sources"]["python"]["tests"]
    assert (tests["passed"], tests["failed"], tests["errors"], tests["skipped"]) == (
        n_passed, n_failed, 0, n_skipped
    )
    assert tests["total"] == n_passed + n_failed + n_skipped
    assert tests["duration_s"] > 0
    assert status["tests"] == tests  # one source: the total is that source's run

    out = " ".join(project.covtui("status", check=True).stdout.split())
    counts = f"{n_passed} passed, {n_failed} failed, 0 errors, {n_skipped} skipped"
    assert f"Tests: {counts}" in out
    assert re.search(rf"python: [\d.]+% tests {counts} in [\d.]+s", out), out


def test_ingest_junit_alone_attaches_to_its_source(project: Project, data_file: Path) -> None:
    project.covtui("ingest", str(data_file), check=True)
    before = json.loads(project.covtui("status", "--json", check=True).stdout)
    proc = project.covtui("ingest", "junit.xml", check=True)
    assert "python:" in proc.stdout
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert list(status["sources"]) == ["python"]  # no source "junit" that never has data
    assert status["sources"]["python"]["tests"]["passed"] == 2
    assert status["sources"]["python"]["summary"] == before["sources"]["python"]["summary"]
    assert status["totals"] == before["totals"]
    assert "no data" not in project.covtui("status", check=True).stdout


def test_ingest_junit_follows_the_source_that_names_it(project: Project, data_file: Path) -> None:
    project.write("covtui.toml", """
        [[sources]]
        name = "python"
        command = "pytest -q"

        [[sources]]
        name = "unit"
        command = "pytest -q"
        report = "unit.info"
        junit = "junit.xml"
    """)
    project.covtui("ingest", "junit.xml", check=True)
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert list(status["sources"]) == ["unit"]


def test_ingest_junit_of_no_known_source_is_refused(project: Project, data_file: Path) -> None:
    project.write("covtui.toml", """
        [[sources]]
        name = "python"
        command = "pytest -q"

        [[sources]]
        name = "rust"
        command = "cargo llvm-cov"
        report = "lcov.info"
    """)
    project.covtui("ingest", str(data_file), check=True)
    before = digest(project.db)
    proc = project.covtui("ingest", "junit.xml")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "covtui: error: junit.xml: test outcomes only; say which source they belong to with "
        "--source (python, rust)"
    ]
    assert digest(project.db) == before


def test_counts_of_one_are_singular() -> None:
    from covtui.cli.render import tests_text
    from covtui.domain.records import TestCounts

    assert tests_text(TestCounts(5, 1, 1, 0, None)).plain == "3 passed, 1 failed, 1 error, 0 skipped"
    assert tests_text(TestCounts(5, 0, 2, 0, None)).plain == "3 passed, 0 failed, 2 errors, 0 skipped"


def test_status_says_how_far_through_the_phase_in_words(project) -> None:
    # "progress to 75%: 62.6%" read like a coverage figure; the phase's progress is a share of
    # the band, said as such.
    import re

    project.covtui("scan", check=True)
    out = project.covtui("status", check=True).stdout
    assert "progress to" not in out
    assert re.search(r": \d+\.\d% of the way from \d+% to \d+%", out)


@pytest.mark.parametrize("command", [["scan"], ["status"]])
def test_a_deleted_working_directory_is_one_line(tmp_path: Path, command: list[str]) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run(
        ["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone),
         sys.executable, "-m", "covtui", *command],
        env=clean_env(), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "current directory" in lines[0], proc.stderr
