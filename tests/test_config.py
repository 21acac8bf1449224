"""Config: defaults, the example from the docs, and one clear line for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from covtui.config import CONFIG_ENV, ConfigError, load_config

EXAMPLE = '''
[tool.covtui]
database = "monitor/cov.db"
critical_files = 3

[[tool.covtui.sources]]
name = "python"
command = "pytest -q"

[[tool.covtui.sources]]
name = "rust"
command = "cargo llvm-cov --lcov --output-path target/lcov.info"
report = "target/lcov.info"
format = "lcov"
junit = "target/nextest/junit.xml"
timeout = 900

[tool.covtui.alerts]
coverage_drop = 1.5
'''


def test_defaults_without_config(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.database_path == tmp_path.resolve() / ".covtui" / "covtui.db"
    assert [s.name for s in config.sources] == ["python"]
    assert config.sources[0].runs_under_coverage
    assert config.alerts.coverage_drop == 0.5
    assert config.alerts.test_failures == 5
    assert config.alerts.test_time_pct == 20.0
    assert [p.end for p in config.phases] == [25, 50, 75, 100]
    assert config.retention_days == 90


def test_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(EXAMPLE)
    config = load_config(tmp_path)
    assert config.database_path == tmp_path.resolve() / "monitor" / "cov.db"
    rust = config.source("rust")
    assert rust.report == "target/lcov.info" and rust.timeout == 900.0
    assert not rust.runs_under_coverage
    assert config.alerts.coverage_drop == 1.5
    assert config.critical_files == 3


def test_covtui_toml_wins_and_env_override(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text(EXAMPLE)
    (tmp_path / "covtui.toml").write_text("critical_files = 7\n")
    assert load_config(tmp_path).critical_files == 7
    other = tmp_path / "other.toml"
    other.write_text("[tool.covtui]\ncritical_files = 9\n")
    monkeypatch.setenv(CONFIG_ENV, str(other))
    assert load_config(tmp_path).critical_files == 9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tool.covtui]\ncritcal_files = 3\n", "unknown key 'tool.covtui.critcal_files'"),
        ("[tool.covtui]\ncritical_files = '3'\n", "'tool.covtui.critical_files' should be an int"),
        ("[tool.covtui.alerts]\ncoverage_drop = true\n", "'tool.covtui.alerts.coverage_drop' should be a number"),
        ("[[tool.covtui.sources]]\ncommand = 'pytest'\n", "'tool.covtui.sources[0].name' is required"),
        ("[[tool.covtui.sources]]\nname = 'a'\nshel = true\n", "unknown key 'tool.covtui.sources[0].shel'"),
        ("[tool.covtui]\nsources = 3\n", "'tool.covtui.sources' should be a list"),
        ("[tool.covtui\n", "not valid TOML"),
        ("[[tool.covtui.sources]]\nname = 'a'\n[[tool.covtui.sources]]\nname = 'a'\n", "unique"),
    ],
)
def test_mistakes_are_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert expected in message
    assert "pyproject.toml" in message
    assert "\n" not in message
