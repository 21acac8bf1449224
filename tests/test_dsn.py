"""Where the database is: a path keeps SQLite, a postgresql:// URL selects PostgreSQL, and a
password in it is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from covtui.config import load_config
from covtui.dsn import PostgresTarget, database_target, mask_passwords


def test_a_path_keeps_sqlite_and_a_url_selects_postgresql(tmp_path: Path) -> None:
    assert database_target(".covtui/covtui.db", tmp_path) == tmp_path / ".covtui/covtui.db"
    for url in ("postgresql://u@h/db", "postgres://u@h/db", "  POSTGRESQL://u@h/db"):
        assert isinstance(database_target(url, tmp_path), PostgresTarget)


@pytest.mark.parametrize(("text", "masked"), [
    ("postgresql://alice:s3cret@db.example/covtui", "postgresql://alice:***@db.example/covtui"),
    ("postgres://alice:p%40ss@h:5432/x?sslmode=require", "postgres://alice:***@h:5432/x?sslmode=require"),
    ("postgresql://h/x?user=alice&password=s3cret&sslmode=verify-full",
     "postgresql://h/x?user=alice&password=***&sslmode=verify-full"),
    ("host=h dbname=x password='it\\'s secret' user=alice", "host=h dbname=x password=*** user=alice"),
    ("host=h password = s3cret", "host=h password = ***"),
    ("postgresql://alice@h/x", "postgresql://alice@h/x"),
])
def test_passwords_are_masked(text: str, masked: str) -> None:
    assert mask_passwords(text) == masked


def test_a_target_never_shows_its_password() -> None:
    target = PostgresTarget.parse("postgresql://alice:hunter22@h/x?password=other-secret")
    for shown in (str(target), repr(target), f"{target}", target.name):
        assert "hunter22" not in shown and "other-secret" not in shown
    assert "hunter22" in target.conninfo  # (what libpq gets)
    assert target.scrub('FATAL: password "hunter22" was refused') == 'FATAL: password "***" was refused'


def test_config_env_and_option_choose_the_database(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "covtui.toml").write_text('database = "postgresql://u@h/from_config"\n')
    assert str(load_config(tmp_path).database_target) == "postgresql://u@h/from_config"
    monkeypatch.setenv("COVTUI_DATABASE", "postgres://u@h/from_env")
    assert str(load_config(tmp_path).database_target) == "postgres://u@h/from_env"
    monkeypatch.setenv("COVTUI_DATABASE", "elsewhere.db")
    assert load_config(tmp_path).database_target == tmp_path / "elsewhere.db"
    monkeypatch.delenv("COVTUI_DATABASE")
    (tmp_path / "covtui.toml").write_text("")
    config = load_config(tmp_path)
    assert config.database_target == tmp_path / ".covtui/covtui.db" == config.database_path
    assert config.work_dir == tmp_path / ".covtui"


@pytest.mark.parametrize("where", ["--db", "config", "env"])
def test_a_url_python_cannot_split_is_one_line_with_its_password_masked(tmp_path: Path, where: str) -> None:
    """`postgresql://alice:s3cret@[::1/x` (an unclosed IPv6 host) was a traceback."""
    import subprocess
    import sys

    from tests.conftest import clean_env

    url = "postgresql://alice:s3cret@[::1/x"
    env = clean_env()
    args = [sys.executable, "-m", "covtui"]
    if where == "--db":
        args += ["--db", url]
    elif where == "config":
        (tmp_path / "covtui.toml").write_text(f'database = "{url}"\n')
    else:
        env["COVTUI_DATABASE"] = url
    proc = subprocess.run([*args, "status"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a usable PostgreSQL URL" in lines[0], proc.stderr
    assert "s3cret" not in proc.stdout + proc.stderr and "alice:***@" in lines[0]
