"""How a source is run: its command (under coverage.py, with covtui's pytest plugin), its
environment and the files it leaves. Light on purpose: `covtui`'s entry point plans the
first source's tests before the rest of the scan is imported (covtui.scan.early).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from covtui.config import Config, ConfigError, SourceConfig

#: covtui's pytest plugin: names each test's coverage context and records its outcome.
PLUGIN_DIR = Path(__file__).with_name("pytest_plugin")
PLUGIN_NAME = "covtui_contexts"
#: `coverage run` with pytest imported first (where covtui's plugin is loaded to check it).
LAUNCHER = PLUGIN_DIR / "covtui_launch.py"
OUTCOMES_ENV = "COVTUI_TEST_OUTCOMES"
#: Set for every command a scan runs: covtui's pytest11 plugin then leaves the recording to the
#: scan (covtui.pytest_plugin.SCANNING_ENV, the same string).
SCANNING_ENV = "COVTUI_SCANNING"
#: Per-test contexts are on by default up to this many measured files (benchmarks.contexts).
CONTEXTS_AUTO_MAX_FILES = 1000
#: Runs a command and writes what it cost (covtui.scan.measure).
MEASURE = Path(__file__).with_name("measure.py")
#: The plugin's variables for affected rescans (its SELECT_ENV, SELECT_WAIT_ENV, COLLECTED_ENV):
#: the selection file's path; set, the plugin waits for that file (the value: covtui's pid,
#: whose end ends the wait); the file where it writes the test modules it collected.
SELECT_ENV = "COVTUI_SELECT"
SELECT_WAIT_ENV = "COVTUI_SELECT_WAIT"
COLLECTED_ENV = "COVTUI_COLLECTED"
#: The selection's file in the run's folder.
SELECTION_FILE = "select.json"


@dataclass
class Plan:
    """How one source is run and where its results will be."""

    argv: list[str]
    report_paths: Callable[[], list[Path]]
    junit: Path | None
    is_pytest: bool
    work_dir: Path | None = None  # emptied before the run
    env: dict[str, str] = field(default_factory=dict)  # on top of the source's own
    outcomes: Path | None = None  # each test's outcome, written by covtui's pytest plugin
    collected: Path | None = None  # the test modules collected, written by the plugin


def contexts_on(source: SourceConfig, previous_files: int | None) -> bool:
    """Whether to record per-test contexts: as configured, else while the source is small."""
    if source.contexts is not None:
        return source.contexts
    return previous_files is None or previous_files <= CONTEXTS_AUTO_MAX_FILES


def plan_source(config: Config, source: SourceConfig, previous_files: int | None = None) -> Plan:
    """Turn a source's config into the command to run and the files to read afterwards."""
    if source.shell:
        argv = ["/bin/sh", "-c", source.command]
    else:
        try:
            argv = shlex.split(source.command)
        except ValueError as exc:
            raise ConfigError(f"source {source.name!r}: command: {exc}") from None
    if not argv:
        raise ConfigError(f"source {source.name!r}: empty command")
    junit = (config.root / source.junit) if source.junit else None

    if not source.runs_under_coverage:
        report = config.root / source.report
        return Plan(argv, lambda: [report] if report.is_file() else [], junit, _is_pytest(argv))

    # Run under coverage.py, honouring the project's own coverage config, into a fresh folder.
    work = config.work_dir / "run" / source.name
    data_file = work / ".coverage"
    coverage_run = [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data_file}"]
    is_pytest = _is_pytest(argv)
    if source.shell:
        raise ConfigError(
            f"source {source.name!r}: shell commands can't run under coverage.py; "
            "give 'report' with the file the command writes"
        )
    env: dict[str, str] = {}
    outcomes = collected = None
    if is_pytest:
        module_args = argv[3:] if _is_python(argv[0]) else argv[1:]
        # covtui's pytest11 plugin records the runs people make themselves: not the scan's
        # (and an editable install's copy would be measured as the project's code).
        command = [*coverage_run, "-m", "pytest", "-p", "no:covtui", *module_args]
        if not any(a.startswith("--junitxml") or a.startswith("--junit-xml") for a in module_args):
            junit = work / "junit.xml"
            command.append(f"--junitxml={junit}")
        if contexts_on(source, previous_files):
            outcomes = work / "outcomes.json"
            collected = work / "collected.json"
            command[len(coverage_run) + 2:len(coverage_run) + 2] = ["-p", PLUGIN_NAME]
            command[:3] = [sys.executable, str(LAUNCHER)]  # `python -m coverage`, pytest first
            path = source.env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
            env = {
                "PYTHONPATH": os.pathsep.join(filter(None, [str(PLUGIN_DIR), path])),
                OUTCOMES_ENV: str(outcomes),
                COLLECTED_ENV: str(collected),
            }
    elif len(argv) >= 3 and _is_python(argv[0]) and argv[1] == "-m":
        command = [*coverage_run, "-m", *argv[2:]]
    elif argv[0].endswith(".py"):
        command = [*coverage_run, *argv]
    elif _is_python(argv[0]) and len(argv) >= 2 and argv[1].endswith(".py"):
        command = [*coverage_run, *argv[1:]]
    else:
        raise ConfigError(
            f"source {source.name!r}: can't run {argv[0]!r} under coverage.py (use pytest, "
            "python -m MODULE or a .py script), or give 'report' with the file it writes"
        )

    def data_files() -> list[Path]:
        # Parallel mode and subprocess measurement leave `.coverage.*` shards beside it.
        return sorted(p for p in work.glob(".coverage*") if p.is_file())

    return Plan(command, data_files, junit, is_pytest, work, env, outcomes, collected)


def fresh_folder(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)


def _is_python(program: str) -> bool:
    name = Path(program).name
    return name.startswith("python") and not name.endswith(".py")


def _is_pytest(argv: list[str]) -> bool:
    if Path(argv[0]).name in ("pytest", "py.test"):
        return True
    return len(argv) >= 3 and _is_python(argv[0]) and argv[1] == "-m" and argv[2] == "pytest"


def base_folder(config: Config, source: SourceConfig) -> Path:
    """Where a source's per-test data for affected rescans is kept (covtui.scan.affected)."""
    return config.work_dir / "affected" / source.name


def measured(argv: list[str], measure_out: str) -> list[str]:
    """`argv` run by covtui's measuring wrapper, which writes what it cost to `measure_out`.
    By path, not `-m covtui.scan.measure`: the wrapper needs only the standard library, so
    it starts isolated and without site-packages (-I -S), 50 ms sooner. Its command gets the
    environment as given."""
    return [sys.executable, "-I", "-S", str(MEASURE), measure_out, "--", *argv]


def command_env(source: SourceConfig, plan: Plan) -> dict[str, str]:
    """The variables a source's command runs with, on top of covtui's own environment."""
    return {**source.env, **plan.env, SCANNING_ENV: "1"}


def waiting_env(work: Path) -> dict[str, str]:
    """The environment of a test process started before its selection is known: covtui's
    plugin waits in it, after pytest's start-up, for the selection file (or this process's
    end)."""
    return {SELECT_ENV: str(work / SELECTION_FILE), SELECT_WAIT_ENV: str(os.getpid())}
