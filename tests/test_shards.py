"""CI shards: `covtui ingest --run ID --shard K/N` from real coverage.py runs in other folders."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CALC, Project, clean_env

#: Each shard's tests: together they run every function, no one alone does.
SHARD_TESTS = [
    "from pkg.calc import add, classify\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    "    assert classify(5) == 'pos'\n",
    "from pkg.calc import classify\n\ndef test_neg():\n    assert classify(-1) == 'neg'\n",
    "from pkg.calc import classify, unused\n\ndef test_rest():\n"
    "    assert classify(0) == 'zero'\n    assert unused() == 4\n",
]

#: `[paths]`: the shards ran in other checkouts; their files are this project's.
PYPROJECT = """\
[tool.coverage.run]
source = ["pkg"]
branch = true

[tool.coverage.paths]
source = ["pkg/", "*/checkout-*/pkg/"]
"""


def make_checkout(folder: Path) -> Project:
    p = Project(folder)
    p.write("pkg/__init__.py", "")
    p.write("pkg/calc.py", CALC)
    p.write("pkg/more.py", "def twice(x):\n    if x:\n        return 2 * x\n    return 0\n")
    for i, text in enumerate(SHARD_TESTS):
        p.write(f"tests/test_shard{i + 1}.py", text)
    p.write("pyproject.toml", PYPROJECT)
    return p


@pytest.fixture
def shards(tmp_path: Path) -> tuple[Project, list[tuple[Path, Path]]]:
    """The project, and 3 shards' (coverage data, JUnit XML), each run by real coverage.py
    and pytest in a checkout of its own (another folder, as on another CI host)."""
    project = make_checkout(tmp_path / "proj")
    out = []
    for k in range(1, 4):
        checkout = make_checkout(tmp_path / f"host{k}" / f"checkout-{k}")
        proc = subprocess.run(
            [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider",
             f"tests/test_shard{k}.py", "--junitxml=junit.xml"],
            cwd=checkout.root, env=clean_env(), capture_output=True, text=True,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # What the CI job uploads, copied out of its checkout.
        upload = tmp_path / "uploads" / str(k)
        upload.mkdir(parents=True)
        out.append((Path(shutil.copy(checkout.root / ".coverage", upload / ".coverage")),
                    Path(shutil.copy(checkout.root / "junit.xml", upload / "junit.xml"))))
    return project, out


def status_json(project: Project) -> dict:
    return json.loads(project.covtui("status", "--json", check=True).stdout)


def query(project: Project, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows straight from the database (the connection closed after, leaving no WAL behind)."""
    conn = sqlite3.connect(project.db)
    try:
        with conn:
            return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def n_snapshots(project: Project) -> int:
    return query(project, "SELECT count(*) FROM snapshots")[0][0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


KEYS = ["covered_lines", "num_statements", "missing_lines", "num_branches",
        "covered_branches", "missing_branches", "num_partial_branches", "percent_covered"]


def assert_equals_coverage_combine(project: Project, data_files: list[Path]) -> dict:
    """The stored snapshot's figures, total and per file, are what `coverage combine` +
    `coverage json` say of the same data files in the project; returns coverage.py's report."""
    combine_dir = project.root / "combined"
    combine_dir.mkdir()
    copies = [str(shutil.copy(data, combine_dir / f".coverage.shard{k}"))
              for k, data in enumerate(data_files, 1)]
    subprocess.run([sys.executable, "-m", "coverage", "combine", "--keep", *copies],
                   cwd=project.root, env=clean_env(), check=True, capture_output=True)
    expected = project.coverage_json(project.root / ".coverage")
    status = status_json(project)
    assert status["snapshot"]["status"] == "ok"
    assert {k: status["totals"][k] for k in KEYS} == {k: expected["totals"][k] for k in KEYS}
    files = status["files"]["python"]
    assert set(files) == set(expected["files"]) == {"pkg/__init__.py", "pkg/calc.py", "pkg/more.py"}
    for path, data in expected["files"].items():
        assert {k: files[path]["summary"][k] for k in KEYS} == {k: data["summary"][k] for k in KEYS}, path
    return expected


def test_shards_in_any_order_equal_one_coverage_combine(shards) -> None:
    project, uploads = shards
    order = [1, 2, 3]
    random.Random(7).shuffle(order)
    assert order != [1, 2, 3]
    for k in order:
        data, junit = uploads[k - 1]
        proc = project.covtui("ingest", "--run", "4242", "--shard", f"{k}/3", str(data), str(junit),
                              check=True)
    assert "snapshot" not in proc.stdout or "#1" in proc.stdout
    expected = assert_equals_coverage_combine(project, [data for data, _ in uploads])
    status = status_json(project)
    # Every function ran in some shard; more.py in none.
    assert expected["files"]["pkg/calc.py"]["summary"]["percent_covered"] == 100.0
    # JUnit outcomes summed over the shards: one test, one, and one.
    assert status["tests"]["total"] == 3 and status["tests"]["failed"] == 0
    assert status["ci_runs"] == []
    assert n_snapshots(project) == 1


def test_an_incomplete_run_is_shown_and_records_nothing(shards) -> None:
    project, uploads = shards
    project.covtui("ingest", "--run", "r1", "--shard", "3/4", str(uploads[2][0]), check=True)
    proc = project.covtui("ingest", "--run", "r1", "--shard", "1/4", str(uploads[0][0]), check=True)
    assert "incomplete: 2 of 4 shards, waiting for shards 2 and 4 of 4" in proc.stdout
    assert n_snapshots(project) == 0
    status = status_json(project)
    assert status["snapshot"] is None
    (run,) = status["ci_runs"]
    assert (run["run"], run["source"], run["state"]) == ("r1", "python", "incomplete")
    assert (run["arrived"], run["missing"], run["shards"]) == ([1, 3], [2, 4], 4)
    text = project.covtui("status", check=True).stdout
    assert "CI run 'r1' (python): incomplete: 2 of 4 shards" in text


def test_a_shard_sent_twice_is_idempotent_and_other_bytes_are_refused(shards) -> None:
    project, uploads = shards
    project.covtui("ingest", "--run", "r2", "--shard", "1/2", str(uploads[0][0]), check=True)
    before = digest(project.db)
    proc = project.covtui("ingest", "--run", "r2", "--shard", "1/2", str(uploads[0][0]), check=True)
    assert "already stored (same contents): nothing changed" in proc.stdout
    proc = project.covtui("ingest", "--run", "r2", "--shard", "1/2", str(uploads[1][0]))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "shard 1/2 was already stored with other contents" in lines[0]
    proc = project.covtui("ingest", "--run", "r2", "--shard", "2/3", str(uploads[1][0]))
    assert proc.returncode == 2 and "has 2 shards, not 3" in proc.stderr
    assert digest(project.db) == before
    # The run completes; the same shard sent once more afterwards still changes nothing.
    project.covtui("ingest", "--run", "r2", "--shard", "2/2", str(uploads[1][0]), check=True)
    after = digest(project.db)
    proc = project.covtui("ingest", "--run", "r2", "--shard", "2/2", str(uploads[1][0]), check=True)
    assert "nothing changed" in proc.stdout and "complete: 2 of 2 shards, snapshot #1" in proc.stdout
    assert digest(project.db) == after and n_snapshots(project) == 1


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--run", "x y", "--shard", "1/2"], "--run 'x y': a run id is"),
        (["--run", "", "--shard", "1/2"], "--run '': a run id is"),
        (["--run", "a" * 200, "--shard", "1/2"], "a run id is 1 to 128"),
        (["--run", "7", "--shard", "0/2"], "the shard should be 1 to 2"),
        (["--run", "7", "--shard", "3/2"], "the shard should be 1 to 2"),
        (["--run", "7", "--shard", "1/0"], "the number of shards should be 1 to 1000"),
        (["--run", "7", "--shard", "1/5000"], "the number of shards should be 1 to 1000"),
        (["--run", "7", "--shard", "two"], "should be K/N"),
        (["--run", "7", "--shard", "-1/2"], "should be K/N"),
        (["--run", "7"], "--run and --shard go together"),
        (["--shard", "1/2"], "--run and --shard go together"),
    ],
)
def test_bad_run_or_shard_is_one_line(shards, args: list[str], problem: str) -> None:
    project, uploads = shards
    proc = project.covtui("ingest", *args, str(uploads[0][0]))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0], proc.stderr
    assert not project.db.exists()


def test_coverage_json_is_refused_as_a_shard(shards, tmp_path: Path) -> None:
    project, uploads = shards
    out = tmp_path / "c.json"
    subprocess.run([sys.executable, "-m", "coverage", "json", f"--data-file={uploads[0][0]}", "-o", str(out)],
                   cwd=project.root, env=clean_env(), check=True, capture_output=True)
    proc = project.covtui("ingest", "--run", "j", "--shard", "1/2", str(out))
    assert proc.returncode == 2 and "coverage.json cannot be combined" in proc.stderr
    assert n_snapshots(project) == 0 if project.db.exists() else True


def test_shards_sent_at_once_by_many_processes_make_exactly_one_snapshot(shards) -> None:
    project, uploads = shards
    n = 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "covtui", "ingest", "--run", "burst", "--shard", f"{k}/{n}",
             str(uploads[(k - 1) % 3][0]), str(uploads[(k - 1) % 3][1])],
            cwd=project.root, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for k in range(1, n + 1)
    ]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    assert sum("snapshot #1" in out or "complete: 4 of 4" in out for _, out, _ in results) >= 1
    assert n_snapshots(project) == 1
    status = status_json(project)
    assert status["snapshot"]["status"] == "ok" and status["ci_runs"] == []
    assert status["tests"]["total"] == 4  # shard 4 sent shard 1's tests again: 1 + 1 + 1 + 1


def age_run(project: Project, run_id: str, seconds: float) -> None:
    """Make the run's first shard `seconds` older (as if CI had waited that long)."""
    query(project, "UPDATE ci_runs SET started_at = started_at - ? WHERE run_id = ?", (seconds, run_id))


def test_a_run_left_incomplete_past_the_timeout_is_recorded_failed_naming_the_missing_shards(
    shards, tmp_path: Path
) -> None:
    project, uploads = shards
    project.write("pyproject.toml", PYPROJECT + "\n[tool.covtui]\nci_shard_timeout = 600\n")
    project.covtui("ingest", "--run", "slow", "--shard", "2/4", str(uploads[1][0]), check=True)
    project.covtui("ingest", "--run", "slow", "--shard", "3/4", str(uploads[2][0]), check=True)
    age_run(project, "slow", 601)
    # status says so (it only reads) …
    text = project.covtui("status", check=True).stdout
    assert "timed out (10 min) waiting for shards 1 and 4 of 4" in text
    (run,) = status_json(project)["ci_runs"]
    assert run["state"] == "timed_out" and run["missing"] == [1, 4]
    assert n_snapshots(project) == 0
    # … and the next ingest, of anything, records it as a failed snapshot.
    proc = project.covtui("ingest", str(uploads[0][0]), check=True)
    assert "incomplete after 10 min: shards 1 and 4 of 4 never arrived" in proc.stdout
    status = status_json(project)
    assert status["ci_runs"] == [] and n_snapshots(project) == 2
    failed = query(
        project, "SELECT s.status, r.message FROM snapshots s JOIN source_results r "
        "ON r.snapshot_id = s.id WHERE s.label = 'CI run slow'"
    )
    assert query(project, "SELECT count(*) FROM ci_shard_files") == [(0,)]
    assert failed == [("failed", "CI run 'slow': incomplete after 10 min: shards 1 and 4 of 4 never arrived")]
    # A late shard of the failed run is refused; nothing changes.
    before = digest(project.db)
    proc = project.covtui("ingest", "--run", "slow", "--shard", "1/4", str(uploads[0][0]))
    assert proc.returncode == 2 and "CI run 'slow' (python) is already failed" in proc.stderr
    assert digest(project.db) == before


def test_a_failed_run_is_never_compared_as_a_regression(shards) -> None:
    project, uploads = shards
    project.covtui("ingest", str(uploads[0][0]), str(uploads[1][0]), str(uploads[2][0]), check=True)
    project.covtui("ingest", "--run", "r", "--shard", "1/3", str(uploads[0][0]), check=True)
    age_run(project, "r", 7 * 3600)
    project.covtui("ingest", "--run", "r", "--shard", "1/1", str(uploads[0][0]), "--source", "other",
                   check=True)
    alerts = json.loads(project.covtui("alerts", "--all", "--json", check=True).stdout)
    rules = [a["rule"] for a in alerts]
    assert "coverage_drop" not in rules and "scan_failed" in rules
    # #1 python, #2 python's CI run failed, #3 "other": python is carried forward, and says so.
    status = status_json(project)
    assert status["snapshot"]["id"] == 3
    assert status["sources"]["python"]["carried_from"] == 2
    assert status["sources"]["other"]["carried_from"] is None
    assert "(not run in #3: carried forward from #2)" in project.covtui("status", check=True).stdout


def test_the_timeout_is_validated(shards) -> None:
    project, uploads = shards
    project.write("pyproject.toml", PYPROJECT + "\n[tool.covtui]\nci_shard_timeout = nan\n")
    proc = project.covtui("ingest", "--run", "x", "--shard", "1/2", str(uploads[0][0]))
    assert proc.returncode == 2 and "ci_shard_timeout" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_shards_in_another_coverage_format_are_refused(shards, tmp_path: Path) -> None:
    project, uploads = shards
    project.covtui("ingest", "--run", "f", "--shard", "1/2", str(uploads[0][0]), check=True)
    before = digest(project.db)
    info = tmp_path / "shard2.info"
    info.write_text("SF:pkg/calc.py\nDA:2,1\nDA:3,0\nend_of_record\n")
    proc = project.covtui("ingest", "--run", "f", "--shard", "2/2", str(info), "--source", "python")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "shards in different coverage formats (coverage.py, lcov)" in lines[0]
    assert digest(project.db) == before


def test_shards_that_cannot_be_combined_make_a_failed_snapshot_saying_why(shards, tmp_path: Path) -> None:
    """Each shard reads well alone; line data and branch data do not combine (coverage.py's rule)."""
    project, uploads = shards
    checkout = make_checkout(tmp_path / "host9" / "checkout-9")
    checkout.write("pyproject.toml", PYPROJECT.replace("branch = true", "branch = false"))
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_shard2.py"],
        cwd=checkout.root, env=clean_env(), check=True, capture_output=True,
    )
    project.covtui("ingest", "--run", "mix", "--shard", "1/2", str(uploads[0][0]), check=True)
    proc = project.covtui("ingest", "--run", "mix", "--shard", "2/2", str(checkout.root / ".coverage"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "its 2 shards cannot be combined" in proc.stdout
    status = status_json(project)
    assert status["snapshot"]["status"] == "failed" and status["ci_runs"] == []
    assert "Can't combine" in status["sources"]["python"]["message"]
    assert query(project, "SELECT state FROM ci_runs WHERE run_id = 'mix'") == [("failed",)]


def test_shards_sent_at_once_to_postgresql_make_exactly_one_snapshot(shards) -> None:
    """The same burst against a PostgreSQL database: the run's row lock serialises the shards."""
    from tests import postgres

    postgres.require_server()
    project, uploads = shards
    name = postgres.create_database()
    try:
        url = postgres.url_of(name)
        # The schema first (three first opens of an empty database at once: see the report).
        project.covtui("--db", url, "ingest", "--run", "other", "--shard", "1/2", str(uploads[0][0]),
                       check=True)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "covtui", "--db", url, "ingest", "--run", "pg", "--shard",
                 f"{k}/3", str(uploads[k - 1][0]), str(uploads[k - 1][1])],
                cwd=project.root, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True,
            )
            for k in (1, 2, 3)
        ]
        results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
        assert all(code == 0 for code, _, _ in results), results
        assert postgres.admin("SELECT count(*) FROM snapshots", database=name) == [(1,)]
        assert postgres.admin("SELECT state FROM ci_runs WHERE run_id = 'pg'", database=name) == [("complete",)]
        status = json.loads(project.covtui("--db", url, "status", "--json", check=True).stdout)
        assert status["snapshot"]["status"] == "ok" and status["tests"]["total"] == 3
    finally:
        postgres.drop_database(name)


def test_a_run_of_one_shard_is_remapped_as_coverage_combine_would(shards) -> None:
    """`--shard 1/1`: one data file from another checkout still goes through `[paths]`, as
    `coverage combine` takes even one file; read as it is, its files are outside the project."""
    project, uploads = shards
    data, junit = uploads[1]
    project.covtui("ingest", "--run", "solo", "--shard", "1/1", str(data), str(junit), check=True)
    expected = assert_equals_coverage_combine(project, [data])
    # test_neg ran classify's negative branch only.
    assert 0 < expected["files"]["pkg/calc.py"]["summary"]["percent_covered"] < 100
