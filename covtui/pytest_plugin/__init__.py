"""covtui's pytest plugin (entry point `pytest11`): a snapshot after each pytest run that
measured coverage, with pytest-cov (`--cov`) or under `coverage run -m pytest`.

Off unless `pytest --covtui` or `[tool.covtui] record_pytest = true`. Disabled, it costs an
option and a substring test of the config file: nothing of covtui is imported. Enabled, it
counts outcomes and, once coverage.py has saved its data, hands everything to a child process
(`python -m covtui.pytest_plugin.record`) that reads the data and records the snapshot through
covtui's ingest path. A child keeps covtui's imports, event loop and threads out of the test
process, and works at interpreter exit too, where `coverage run` saves its data (after
`pytest.main` returns) and where new thread pools are refused. Whatever happens, pytest's exit
code is its own; a failure to record is one warning line.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

#: Set by `covtui scan` for the commands it runs: that run is recorded by the scan itself.
#: (The same string as covtui.scan.SCANNING_ENV, not imported from there: far too heavy here.)
SCANNING_ENV = "COVTUI_SCANNING"
#: The config file covtui reads instead of the project's (covtui.config.CONFIG_ENV).
CONFIG_ENV = "COVTUI_CONFIG"
#: Seconds the recording child may take before it is killed (and the run not recorded).
RECORD_TIMEOUT_S = 300.0
#: pytest's exit codes for a run that ran its tests (some may have failed).
_COMPLETED = (0, 1)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("covtui")
    group.addoption(
        "--covtui", action="store_true", default=False,
        help="record a covtui snapshot of this run's coverage (pytest-cov or coverage run)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or os.environ.get(SCANNING_ENV):
        return  # an xdist worker (its controller records), or a run `covtui scan` records
    asked = bool(config.getoption("covtui", False))
    root = Path(config.rootpath)
    if not asked and not _config_mentions_record(root):
        return
    recorder = Recorder(config, asked=asked)
    if not asked:
        try:
            from covtui.config import load_config

            if not load_config(root).record_pytest:
                return
        except Exception as exc:  # said once, at the end of the run, instead of recording
            recorder.problem = f"covtui: this run was not recorded: {exc}"
    config.pluginmanager.register(recorder, "covtui-recorder")


def _config_mentions_record(root: Path) -> bool:
    """Whether the config file covtui would read might turn recording on (cheap: no TOML parse;
    the config itself is read only when it does)."""
    override = os.environ.get(CONFIG_ENV)
    for path in [Path(override)] if override else [root / "covtui.toml", root / "pyproject.toml"]:
        try:
            if "record_pytest" in path.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


def narrowing(
    args: list[str],
    invocation_args: tuple[str, ...] | list[str],
    *,
    root: Path,
    invocation_dir: Path,
    testpaths: list[Path],
) -> list[str]:
    """What narrowed this run to part of the suite (empty: the whole suite was asked for).

    `args` are pytest's resolved file/node arguments (`config.args`), `invocation_args` the
    command line as typed; the suite is `testpaths` (globs already expanded), or `root`.
    Options from the project's own addopts define the suite, so only the command line counts.
    """
    why: list[str] = []
    options = _narrowing_options(list(invocation_args))
    suite = [p.resolve() for p in testpaths] or [root.resolve()]
    paths: list[Path] = []
    for arg in args:
        path_part, sep, _ = str(arg).partition("::")
        if sep:
            why.append(_shown(arg, invocation_dir))
            continue
        paths.append((invocation_dir / path_part).resolve())
    # Narrower: some part of the suite is in none of the paths (paths beyond it add to it).
    if paths and any(not any(_within(s, p) for p in paths) for s in suite):
        why += [_shown(str(p), invocation_dir) for p in paths]
    return why + options


def _narrowing_options(invocation_args: list[str]) -> list[str]:
    """The options on the command line that select part of the collected tests."""
    import argparse

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("-k", dest="keyword")
    parser.add_argument("-m", dest="markexpr")
    parser.add_argument("--lf", "--last-failed", dest="lf", action="store_true")
    parser.add_argument("--sw", "--stepwise", dest="stepwise", action="store_true")
    parser.add_argument("--deselect", action="append", default=[])
    parser.add_argument("--ignore", "--ignore-glob", dest="ignore", action="append", default=[])
    try:
        ns, _ = parser.parse_known_args(invocation_args)
    except SystemExit:  # a malformed option: pytest itself has said so
        return []
    why = []
    if ns.keyword:
        why.append(f"-k {ns.keyword}")
    if ns.markexpr:
        why.append(f"-m {ns.markexpr}")
    if ns.lf:
        why.append("--lf")
    if ns.stepwise:
        why.append("--sw")
    why += [f"--deselect {d}" for d in ns.deselect]
    why += [f"--ignore {d}" for d in ns.ignore]
    return why


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _shown(arg: str, base: Path) -> str:
    try:
        return Path(arg).relative_to(base).as_posix() if Path(arg).is_absolute() else arg
    except ValueError:
        return arg


class Recorder:
    """Counts the run's outcomes and records the snapshot once coverage.py has saved."""

    def __init__(self, config: pytest.Config, *, asked: bool) -> None:
        self.config = config
        self.asked = asked  # --covtui given: say why nothing is recorded, too
        self.started = time.time()
        self.outcomes: dict[str, str] = {}
        self.failures: dict[str, str] = {}
        self.exitstatus: int | None = None
        self.stopped_early = False
        self.done = False
        self.problem: str | None = None  # covtui's config could not be read
        self._coverage = None  # the running `coverage run` measurement, when that is the mode
        self.digests: dict[str, str] | None = None  # the project's Python files as the run began

    # -- what happened ---------------------------------------------------------------------

    def pytest_sessionstart(self) -> None:
        self.started = time.time()
        # The sources as the tests start: a file saved while they run leaves data of the code
        # before it, which the read would measure against the code after (not recorded then).
        # Two small modules of covtui's (the walk and the digest), the standard library's only.
        from covtui.domain.digests import content_digest
        from covtui.folder import python_sources

        root = Path(self.config.rootpath)
        self.digests = {key: content_digest(data) for key, data in python_sources(root)}
        if not self._pytest_cov():
            coverage = sys.modules.get("coverage")  # not imported: nothing measures this run
            cov = coverage.Coverage.current() if coverage is not None else None
            if cov is not None:
                import atexit

                self._coverage = cov
                # `coverage run` saves its data after pytest.main returns, before exit.
                atexit.register(self._record_at_exit)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            if self.outcomes.get(nodeid) != "failed":
                self.outcomes[nodeid] = outcome
            crash = getattr(report.longrepr, "reprcrash", None)
            message = getattr(crash, "message", None) or str(report.longrepr or "")
            self.failures.setdefault(nodeid, message.splitlines()[0] if message else "")
        elif report.skipped:
            self.outcomes.setdefault(nodeid, "skipped")
        elif report.when == "call":
            self.outcomes.setdefault(nodeid, "passed")

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.outcomes[report.nodeid or "<collection>"] = "error"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.exitstatus = int(exitstatus)
        self.stopped_early = bool(session.shouldstop or session.shouldfail)

    # -- recording -------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter) -> None:
        # pytest-cov stopped, combined and saved its data at the end of the test loop.
        if self._coverage is None:
            self._record_now(terminalreporter.write_line)

    def pytest_unconfigure(self) -> None:
        if self._coverage is None and not self.done:  # no terminal summary (-p no:terminal)
            self._record_now(lambda line: print(line, file=sys.stderr))

    def _record_at_exit(self) -> None:
        self._record_now(lambda line: print(line, file=sys.stderr))

    def _record_now(self, say) -> None:
        if self.done:
            return
        self.done = True
        try:
            line = self._record()
        except Exception as exc:  # never the user's test run's problem
            line = f"covtui: this run was not recorded: {type(exc).__name__}: {exc}"
        if line:
            try:
                say(line)
            except Exception:
                pass

    def _record(self) -> str | None:
        if self.problem:
            return self.problem
        if self.exitstatus not in _COMPLETED:
            return (f"covtui: not recorded: pytest exited with {self.exitstatus}, the run did "
                    "not complete" if self.asked and self.exitstatus is not None else None)
        data_file = self._data_file()
        if data_file is None:
            return ("covtui: not recorded: this run measured no coverage (use pytest-cov's "
                    "--cov, or coverage run -m pytest)" if self.asked else None)
        why = self._narrowing()
        spec = {
            "root": str(self.config.rootpath),
            "data_file": str(data_file),
            "scope": "partial" if why else "full",
            "why": ", ".join(why),
            "exit_code": self.exitstatus,
            "wall_s": time.time() - self.started,
            "outcomes": self.outcomes,
            "failures": self.failures,
            "digests": self.digests,
        }
        return _run_recorder(spec, Path(self.config.rootpath))

    def _pytest_cov(self):
        plugin = self.config.pluginmanager.getplugin("_cov")
        return getattr(plugin, "cov_controller", None)

    def _data_file(self) -> Path | None:
        """The data file coverage.py wrote for this run (None: nothing measured it)."""
        if self._coverage is not None:
            cov = self._coverage
        else:
            controller = self._pytest_cov()
            cov = getattr(controller, "cov", None)
            if cov is None:
                return None
        name = cov.get_data().data_filename()
        path = Path(name) if name else None
        return path if path is not None and path.is_file() else None

    def _narrowing(self) -> list[str]:
        config = self.config
        root = Path(config.rootpath)
        testpaths = [
            p for pattern in config.getini("testpaths") for p in sorted(root.glob(pattern))
        ]
        why = narrowing(
            [str(a) for a in config.args], config.invocation_params.args, root=root,
            invocation_dir=Path(config.invocation_params.dir), testpaths=testpaths,
        )
        if self.stopped_early:
            why.append("stopped early")
        return why


def _run_recorder(spec: dict, root: Path) -> str:
    """Run the recording child; its one line (what it stored, or why not)."""
    import json
    import subprocess

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COVERAGE_PROCESS_START", "COV_CORE_"))}  # not measured itself
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "covtui.pytest_plugin.record"],
            input=json.dumps(spec), capture_output=True, text=True, cwd=root, env=env,
            timeout=RECORD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:  # subprocess.run killed it
        return f"covtui: this run was not recorded: recording took over {RECORD_TIMEOUT_S:.0f} s"
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    if proc.returncode != 0:
        problem = lines[-1] if lines else f"exit {proc.returncode}"
        return f"covtui: this run was not recorded: {problem.removeprefix('covtui: ')}"
    return lines[-1] if lines else "covtui: recorded"
