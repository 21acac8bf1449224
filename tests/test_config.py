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


# Every number is checked where it enters: finite, in range, one line naming the key.
BAD_NUMBERS = [
    ("retention_days", "nan", "retention_days"),
    ("retention_days", "inf", "retention_days"),
    ("retention_days", "-1", "retention_days"),
    ("retention_days", "0", "retention_days"),
    ("retention_days", "1e300", "retention_days"),
    ("precision", "-3", "precision"),
    ("precision", "100000", "precision"),
    ("poll_interval", "0", "poll_interval"),
    ("poll_interval", "nan", "poll_interval"),
    ("poll_interval", "-inf", "poll_interval"),
    ("watch_interval", "nan", "watch_interval"),
    ("watch_interval", "0", "watch_interval"),
    ("watch_interval", "-300", "watch_interval"),
    ("watch_interval", "1e300", "watch_interval"),
    ("watch_settle", "nan", "watch_settle"),
    ("watch_settle", "-0.5", "watch_settle"),
    ("watch_settle", "1e300", "watch_settle"),
    ("critical_files", "-1", "critical_files"),
    ("critical_files", "9223372036854775807", "critical_files"),
    ("[tool.covtui.alerts]\ncoverage_drop", "-1", "alerts.coverage_drop"),
    ("[tool.covtui.alerts]\ncoverage_drop", "nan", "alerts.coverage_drop"),
    ("[tool.covtui.alerts]\ncoverage_drop", "0", "alerts.coverage_drop"),
    ("[tool.covtui.alerts]\ntest_failures", "-1", "alerts.test_failures"),
    ("[tool.covtui.alerts]\ntest_time_pct", "inf", "alerts.test_time_pct"),
    ("[tool.covtui.alerts]\ntest_time_window", "0", "alerts.test_time_window"),
    ("[tool.covtui.alerts]\nfile_regression_lines", "-1", "alerts.file_regression_lines"),
    ("[tool.covtui.alerts]\ndiff_coverage_min", "150", "alerts.diff_coverage_min"),
    ("[tool.covtui.alerts]\ndiff_coverage_min", "nan", "alerts.diff_coverage_min"),
    ("[[tool.covtui.sources]]\nname = 'py'\ntimeout", "-5", "sources[0].timeout"),
    ("[[tool.covtui.sources]]\nname = 'py'\ntimeout", "nan", "sources[0].timeout"),
    ("[[tool.covtui.sources]]\nname = 'py'\ntimeout", "0", "sources[0].timeout"),
    ("[[tool.covtui.phases]]\nname = 'a'\nend = 50.0\nstart", "nan", "phases[0].start"),
]


@pytest.mark.parametrize(("key", "value", "named"), BAD_NUMBERS)
def test_numbers_out_of_range_are_one_line_naming_the_key(
    tmp_path: Path, key: str, value: str, named: str
) -> None:
    table = "" if key.startswith("[") else "[tool.covtui]\n"
    (tmp_path / "pyproject.toml").write_text(f"{table}{key} = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert f"'tool.covtui.{named}'" in message and "pyproject.toml" in message
    assert "\n" not in message
    assert "should be" in message  # and what is allowed


def test_numbers_in_range_are_kept(tmp_path: Path) -> None:
    (tmp_path / "covtui.toml").write_text(
        "retention_days = 0.5\nprecision = 0\npoll_interval = 0.25\nwatch_interval = 60\n"
        "[alerts]\ncoverage_drop = 0.01\ntest_failures = 1\nfile_regression_lines = 0\n"
        "diff_coverage_min = 100\n"
    )
    config = load_config(tmp_path)
    assert (config.retention_days, config.precision, config.poll_interval) == (0.5, 0, 0.25)
    assert config.alerts.file_regression_lines == 0 and config.alerts.diff_coverage_min == 100


@pytest.mark.parametrize("filename", ["covtui.toml", "pyproject.toml"])
@pytest.mark.parametrize("text", ["tool = 5\n", "tool = 'covtui'\n", "[tool]\ncovtui = [1]\n"])
def test_tool_that_is_not_a_table_is_one_line(tmp_path: Path, filename: str, text: str) -> None:
    (tmp_path / filename).write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert filename in message and "'tool" in message and "table" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["x\\u001b[31m", "a\\nb", "", "tab\\there"])
def test_source_names_without_control_characters(tmp_path: Path, name: str) -> None:
    (tmp_path / "covtui.toml").write_text(f'[[sources]]\nname = "{name}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "'sources[0].name'" in str(info.value) and "\n" not in str(info.value)
