"""The command line on a PostgreSQL database: the same answers as on SQLite, to the last digit;
its password never shown; a read-only role can watch but not acknowledge."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests import postgres

from .conftest import Project, clean_env

PASSWORD = "pw-" + uuid.uuid4().hex[:12]  # (trust auth: the server never asks for it)


@pytest.fixture
def pg_database():
    postgres.require_server()
    name = postgres.create_database()
    yield name
    postgres.drop_database(name)


def run_coverage(project: Project, data: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}", *args],
        cwd=project.root, env=clean_env(), check=True, capture_output=True,
    )


def without_times(value):
    """status --json less what depends on when it ran: snapshot times, and the local time a
    message names (the two backends' ingests may fall either side of a minute)."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if not k.endswith("_at")}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "<time>", value)
    return value


def differences(a, b, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in a.keys() | b.keys() for d in differences(a.get(k), b.get(k), f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def test_ingest_then_status_is_the_same_on_both_backends(project: Project, pg_database: str) -> None:
    """Two ingests of real coverage.py data (the second a drop: alerts) into SQLite and into
    PostgreSQL: `status --json` and `alerts --json` agree to the last digit."""
    first = project.root / ".coverage.first"
    run_coverage(project, first, "-m", "pytest", "-q", f"--junitxml={project.root / 'j1.xml'}")
    project.write("tests/test_calc.py", "from pkg.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    second = project.root / ".coverage.second"
    run_coverage(project, second, "-m", "pytest", "-q", f"--junitxml={project.root / 'j2.xml'}")
    answers = {}
    for db in (str(project.root / "here.db"), postgres.url_of(pg_database)):
        project.covtui("ingest", str(first), str(project.root / "j1.xml"), "--db", db, check=True)
        project.covtui("ingest", str(second), str(project.root / "j2.xml"), "--db", db, check=True)
        status = json.loads(project.covtui("status", "--json", "--db", db, check=True).stdout)
        alerts = json.loads(project.covtui("alerts", "--all", "--json", "--db", db, check=True).stdout)
        answers[db.split(":")[0]] = (without_times(status), without_times(alerts))
    sqlite, pg = answers.values()
    assert sqlite == pg, differences(sqlite, pg)
    assert sqlite[0]["totals"]["percent_covered"] > 0 and sqlite[1], "real numbers and alerts"


def assert_no_password(*procs: subprocess.CompletedProcess[str]) -> None:
    for proc in procs:
        assert PASSWORD not in proc.stdout + proc.stderr, proc.args


def one_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("covtui: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_the_password_is_never_printed(project: Project, pg_database: str) -> None:
    url = postgres.url_of(pg_database, password=PASSWORD)
    keyword_url = postgres.url_of(pg_database) + f"?password={PASSWORD}"
    procs = [
        scan := project.covtui("scan", "--db", url),
        project.covtui("status", "--db", url),
        project.covtui("status", "--json", "--db", keyword_url),
        project.covtui("alerts", "--db", url),
        project.covtui("report", "--db", url),
        project.covtui("prune", "--db", url),
    ]
    assert scan.returncode == 0, scan.stderr
    assert "postgresql://postgres:***@" in scan.stdout
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    # Failing: no such database, nothing listening, not covtui's, a bad URL.
    missing = project.covtui("status", "--db", postgres.url_of("covtui_none_" + uuid.uuid4().hex, password=PASSWORD))
    one_line(missing, "postgresql://postgres:***@", "cannot connect")
    refused = project.covtui("status", "--db", f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/x")
    one_line(refused, "cannot connect")
    theirs = postgres.create_database()
    try:
        postgres.admin("CREATE TABLE theirs (x integer)", database=theirs)
        foreign = project.covtui("scan", "--db", postgres.url_of(theirs, password=PASSWORD))
        one_line(foreign, "a PostgreSQL database, but not covtui's")
    finally:
        postgres.drop_database(theirs)
    bad = project.covtui("status", "--db", f"postgresql://postgres:{PASSWORD}@127.0.0.1/x?nonsense=1")
    one_line(bad, "not a usable PostgreSQL URL")
    env_only = subprocess.run(
        [sys.executable, "-m", "covtui", "status"], cwd=project.root, capture_output=True, text=True,
        env={**clean_env(), "COVTUI_DATABASE": postgres.url_of("covtui_none_x", password=PASSWORD)},
    )
    one_line(env_only, "***")
    assert_no_password(*procs, missing, refused, foreign, bad, env_only)


def test_without_psycopg_a_postgresql_url_is_one_line(project: Project) -> None:
    code = (
        "import sys\nsys.modules['psycopg'] = None  # as if not installed\n"
        "from covtui.cli import main\nsys.argv = ['covtui'] + sys.argv[1:]\nmain()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "status", "--db", f"postgresql://u:{PASSWORD}@h/x"],
        cwd=project.root, env=clean_env(), capture_output=True, text=True,
    )
    assert proc.returncode == 2
    one_line(proc, "pip install 'covtui[postgres]'", "postgresql://u:***@h/x")
    assert_no_password(proc)


@pytest.fixture
def read_only_role(pg_database: str):
    role = f"covtui_ro_{uuid.uuid4().hex[:12]}"
    postgres.admin(f"CREATE ROLE {role} LOGIN")
    yield role
    postgres.drop_database(pg_database)  # (its grants go with it)
    postgres.admin(f"DROP ROLE IF EXISTS {role}")


def test_a_read_only_role_can_watch_but_not_acknowledge(
    project: Project, pg_database: str, read_only_role: str
) -> None:
    owner = postgres.url_of(pg_database)
    data = project.root / ".coverage.full"
    run_coverage(project, data, "-m", "pytest", "-q")
    project.covtui("ingest", str(data), "--db", owner, check=True)
    project.write("tests/test_calc.py", "def test_nothing():\n    pass\n")
    run_coverage(project, data, "-m", "pytest", "-q")
    project.covtui("ingest", str(data), "--db", owner, check=True)  # a drop: an alert
    for statement in (f"GRANT USAGE ON SCHEMA public TO {read_only_role}",
                      f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {read_only_role}"):
        postgres.admin(statement, database=pg_database)
    watcher = postgres.url_of(pg_database, user=read_only_role)
    status = project.covtui("status", "--json", "--db", watcher, check=True)
    assert json.loads(status.stdout) == json.loads(project.covtui("status", "--json", "--db", owner).stdout)
    alerts = json.loads(project.covtui("alerts", "--json", "--db", watcher, check=True).stdout)
    assert alerts and all(a["acknowledged_at"] is None for a in alerts)
    ack = project.covtui("alerts", "ack", "--all", "--db", watcher)
    one_line(ack, "acknowledging alerts needs write access")
    ack_one = project.covtui("alerts", "ack", str(alerts[0]["id"]), "--db", watcher)
    one_line(ack_one, "needs write access")
    again = json.loads(project.covtui("alerts", "--json", "--db", owner, check=True).stdout)
    assert all(a["acknowledged_at"] is None for a in again)
