"""Configuration: `[tool.covtui]` in pyproject.toml or a covtui.toml, typed and validated."""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from covtui.display import has_control, printable
from covtui.dsn import PostgresTarget, database_target
from covtui.errors import CovtuiError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Points at a config file to use instead of the project's own (tests, CI).
CONFIG_ENV = "COVTUI_CONFIG"
#: Names the monitoring database (a path or a postgresql:// URL) over the config's `database`.
DATABASE_ENV = "COVTUI_DATABASE"


class ConfigError(CovtuiError):
    """A config file that cannot be used; the message names the file and the key."""


#: Upper bounds that keep times and dates computable (a year of seconds, a century of days).
YEAR_S = 365 * 86400.0
CENTURY_DAYS = 36500.0


@dataclass(frozen=True)
class Range:
    """The values a numeric setting accepts: finite, and within these bounds.

    `above` is an exclusive lower bound (for "must be positive"), `min`/`max` inclusive ones.
    """

    min: float | None = None
    max: float | None = None
    above: float | None = None

    def problem(self, value: float) -> str | None:
        """Why `value` is refused, or None when it is fine."""
        return None if self.allows(value) else f"should be {self.describe()}, not {_number(value)}"

    def allows(self, value: float) -> bool:
        return (
            (isinstance(value, int) or math.isfinite(value))
            and (self.min is None or value >= self.min)
            and (self.above is None or value > self.above)
            and (self.max is None or value <= self.max)
        )

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"between {_number(self.min, ',')} and {_number(self.max, ',')}"
        low = (f"more than {_number(self.above, ',')}" if self.above is not None
               else f"at least {_number(self.min, ',')}" if self.min is not None else None)
        high = f"at most {_number(self.max, ',')}" if self.max is not None else None
        return " and ".join(filter(None, [low, high])) or "a finite number"


def _number(x: float, grouping: str = "") -> str:
    """12, 0.05, 1e+300, nan: a number as a person would write it."""
    if isinstance(x, int) or (math.isfinite(x) and x.is_integer() and abs(x) < 1e15):
        return f"{int(x):{grouping}}"
    return repr(x)


def ranged(default=MISSING, **limits: float):
    """A numeric field whose allowed values are checked when a config file is read."""
    return field(default=default, metadata={"range": Range(**limits)})


def check_number(key: str, value: float, allowed: Range) -> float:
    """`value` if `allowed`, else a ConfigError naming `key` (a config key or a CLI option)."""
    problem = allowed.problem(value)
    if problem:
        raise ConfigError(f"{key} {problem}")
    return value


def field_range(cls: type, name: str) -> Range:
    """The Range declared on field `name` of config dataclass `cls`."""
    return next(f.metadata["range"] for f in fields(cls) if f.name == name)


@dataclass
class SourceConfig:
    """One thing to measure: a command and, optionally, the report it leaves behind."""

    name: str
    #: Command to run. With no `report`, it runs under coverage.py (default: pytest).
    command: str = "pytest"
    #: A report the command writes (lcov, Cobertura, coverage.json, .coverage); read after it ran.
    report: str | None = None
    #: The report's format; recognised from its content when not given.
    format: str | None = None
    #: JUnit XML with the test outcomes (pytest gets `--junitxml` added automatically).
    junit: str | None = None
    #: Seconds before the whole process group is killed.
    timeout: float = ranged(1800.0, above=0, max=YEAR_S)
    #: Run through the shell instead of splitting the command like a shell would.
    shell: bool = False
    #: Extra environment variables for the command.
    env: dict[str, str] = field(default_factory=dict)
    #: Record which test ran each line (coverage.py contexts) when covtui runs pytest under
    #: coverage.py: `covtui who`, `covtui explain` and flaky lines need it. Not given: on
    #: while the source's last good run measured at most 1,000 files (coverage.py's cost of
    #: switching contexts grows with files × tests: +36 % test time at 212 files, ×7.5 at 2,000).
    contexts: bool | None = None

    @property
    def runs_under_coverage(self) -> bool:
        return self.report is None


#: Test files in the usual layouts of Python, JS/TS, Go and Rust projects.
DEFAULT_TEST_FILES = (
    "tests/*", "*/tests/*", "test/*", "*/test/*",
    "test_*.py", "*_test.py", "conftest.py", "*_test.go", "*.test.*", "*.spec.*",
)


@dataclass
class AlertConfig:
    """Thresholds of the alert rules (defaults from the seed report)."""

    #: Points of overall coverage lost against the previous comparable snapshot (critical).
    coverage_drop: float = ranged(0.5, above=0, max=100)
    #: More failing tests than the previous comparable snapshot (critical).
    test_failures: int = ranged(5, min=1)
    #: Test time up this many percent over the median of recent successful runs (warning).
    test_time_pct: float = ranged(20.0, above=0, max=1e6)
    #: How many recent successful runs make that median.
    test_time_window: int = ranged(10, min=1, max=10_000)
    #: Covered lines of a code file that still exist and are now missed: at least this many
    #: raise a warning, one per snapshot listing every such file (0 turns it off).
    file_regression_lines: int = ranged(1, min=0)
    #: Fewer tests than the source's previous good run, by at least this many (warning; 0: off).
    tests_removed: int = ranged(1, min=0)
    #: Measured code files that left the report in one snapshot: at least this many raise a
    #: warning naming each with its last percentage (0 turns it off).
    files_left: int = ranged(1, min=0)
    #: Globs of test files, which file alerts leave out; a glob without "/" matches the file
    #: name, one with "/" the whole path (`*` crosses folders).
    test_files: list[str] = field(default_factory=lambda: list(DEFAULT_TEST_FILES))
    #: More lines excluded from measurement (pragmas, exclude regexes) than the previous
    #: comparable snapshot, by at least this many: a warning (0 turns it off).
    excluded_lines: int = ranged(10, min=0)
    #: Coverage of lines changed since the git base; None turns the rule off.
    diff_coverage_min: float | None = ranged(None, min=0, max=100)
    #: Count flaky lines (covered by chance: see `covtui status`) in the coverage-drop rule.
    count_flaky: bool = False
    #: Days in which a flaky line's score halves; one flip keeps it flaky that long.
    flaky_half_life_days: float = ranged(7.0, above=0, max=CENTURY_DAYS)


@dataclass
class Phase:
    """A milestone band of overall coverage, e.g. "Foundation" from 0 to 25%."""

    name: str
    start: float = ranged(min=0, max=100)
    end: float = ranged(min=0, max=100)


@dataclass
class ComponentConfig:
    """A named part of the project (`[[tool.covtui.components]]`): the files its globs match,
    with coverage.py's `--include` rules, and optional floors that `covtui check` enforces."""

    name: str
    #: Globs as `coverage report --include` takes them (relative ones from the project root).
    paths: list[str]
    #: Fail when its coverage (coverage.py's percent, at `precision`) is below this.
    fail_under: float | None = ranged(None, min=0, max=100)
    #: Fail when more than this many of its lines are uncovered (coverage.py's missing lines).
    max_uncovered: int | None = ranged(None, min=0, max=2**53)
    #: Points its coverage may fall in one snapshot before a critical alert (default: the
    #: project's `alerts.coverage_drop`).
    coverage_drop: float | None = ranged(None, above=0, max=100)
    #: Its own milestone bands (default: the project's `phases`).
    phases: list[Phase] | None = None


@dataclass
class GateConfig:
    """Floors for the files some globs match (`[[tool.covtui.gates]]`), with no component."""

    paths: list[str]
    fail_under: float | None = ranged(None, min=0, max=100)
    max_uncovered: int | None = ranged(None, min=0, max=2**53)
    #: How `covtui check` names it (default: its globs).
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or ", ".join(self.paths)


@dataclass
class RatchetConfig:
    """How `covtui ratchet` raises floors: to the figure that held, less a margin."""

    #: The figure must have held for this many good snapshots in a row (the latest ones).
    snapshots: int = ranged(3, min=1, max=10_000)
    #: Points below the lowest percentage of those snapshots that a `fail_under` rises to.
    margin: float = ranged(0.5, min=0, max=100)
    #: Lines above the most uncovered lines of those snapshots that a `max_uncovered` falls to.
    margin_lines: int = ranged(0, min=0, max=2**53)


#: File names of generated code (coverage.py globs: without "/", the name anywhere).
DEFAULT_GENERATED_PATHS = (
    "*_pb2.py", "*_pb2_grpc.py", "*_pb2.pyi",
    "*/migrations/[0-9][0-9][0-9][0-9]_*.py",  # Django
    "*/alembic/versions/*.py", "*/migrations/versions/*.py",  # Alembic
)


@dataclass
class GeneratedConfig:
    """Generated code: found by name or by a header, and left out of component totals."""

    #: Leave generated files out of component numbers and gates (they are listed instead).
    leave_out: bool = True
    #: Globs of generated files, added to the defaults (`*_pb2.py`, migrations, …).
    paths: list[str] = field(default_factory=list)
    #: Regexes searched for in a file's first lines (case-insensitive), added to the defaults
    #: ("DO NOT EDIT", "@generated", "Code generated …", "auto-generated", "generated by").
    markers: list[str] = field(default_factory=list)

    @property
    def all_paths(self) -> list[str]:
        return [*DEFAULT_GENERATED_PATHS, *self.paths]


DEFAULT_PHASES = [
    Phase("Foundation", 0.0, 25.0),
    Phase("Core", 25.0, 50.0),
    Phase("Advanced", 50.0, 75.0),
    Phase("Complete", 75.0, 100.0),
]


@dataclass
class Config:
    """Everything covtui reads from `[tool.covtui]`; every key is optional."""

    #: The monitored project's directory (where the config was found).
    root: Path = field(default_factory=Path.cwd)
    #: The monitoring database: a file relative to the project root (SQLite), or a
    #: `postgresql://` URL (PostgreSQL, with `pip install covtui[postgres]`).
    database: str = ".covtui/covtui.db"
    sources: list[SourceConfig] = field(default_factory=lambda: [SourceConfig("python")])
    alerts: AlertConfig = field(default_factory=AlertConfig)
    phases: list[Phase] = field(default_factory=lambda: list(DEFAULT_PHASES))
    #: How many critical files to show ("top 5").
    critical_files: int = ranged(5, min=1, max=1000)
    #: Days of snapshots to keep; the latest snapshot and unacknowledged alerts are always kept.
    retention_days: float = ranged(90.0, above=0, max=CENTURY_DAYS)
    #: Digits after the decimal point in percentages.
    precision: int = ranged(2, min=0, max=10)
    #: Seconds between the dashboard's change checks.
    poll_interval: float = ranged(1.0, min=0.05, max=3600)
    #: Ring the terminal bell when a new alert arrives.
    bell: bool = True
    #: A command that receives each new alert as JSON on stdin.
    on_alert: str | None = None
    #: Seconds between scans in `covtui watch`.
    watch_interval: float = ranged(300.0, min=1, max=YEAR_S)
    #: `covtui watch --on-change`: seconds without another change before it scans (an editor's
    #: save and a formatter run on save land together; a checkout's burst of files is one scan).
    watch_settle: float = ranged(0.5, min=0, max=3600)
    #: Every this many incremental rescans (`scan --affected`, `r`), a full scan instead, to
    #: check that the incremental figures still equal a full run's (also once a day).
    full_scan_every: int = ranged(20, min=1, max=100000)
    #: Seconds a CI run (`covtui ingest --run ID --shard K/N`) may wait for its shards; past
    #: that it is recorded as failed, naming the shards that never came.
    ci_shard_timeout: float = ranged(6 * 3600.0, min=60, max=YEAR_S)
    #: Git ref that diff coverage compares with (default: the merge base with the main branch).
    diff_base: str | None = None
    #: Named parts of the project, each with its own numbers and floors.
    components: list[ComponentConfig] = field(default_factory=list)
    #: Take components from CODEOWNERS too (one per owner: the files the owner owns).
    codeowners: bool = False
    #: Record a snapshot after every pytest run that measured coverage (covtui's pytest
    #: plugin; `pytest --covtui` turns it on for one run).
    record_pytest: bool = False
    #: Floors for globs that are not components.
    gates: list[GateConfig] = field(default_factory=list)
    ratchet: RatchetConfig = field(default_factory=RatchetConfig)
    generated: GeneratedConfig = field(default_factory=GeneratedConfig)
    #: The file this config was read from (None: defaults) and the table inside it
    #: ("tool.covtui", or "" for a covtui.toml's top level): where `covtui ratchet` writes.
    file: Path | None = None
    table: str = "tool.covtui"
    #: CODEOWNERS' text and path, read when `codeowners = true`.
    codeowners_text: str | None = None
    codeowners_file: Path | None = None

    @property
    def database_target(self) -> Path | PostgresTarget:
        """The database file (SQLite) or the PostgreSQL database the config names."""
        return database_target(self.database, self.root)

    @property
    def database_path(self) -> Path:
        """The SQLite database file (for code that only works on one)."""
        target = self.database_target
        if isinstance(target, PostgresTarget):
            raise ConfigError(f"{target}: this needs an SQLite database file, not PostgreSQL")
        return target

    @property
    def work_dir(self) -> Path:
        """Where covtui keeps its local files (scan lock, analysis cache, run folders): beside
        an SQLite database, or the project's `.covtui/` for a PostgreSQL one."""
        target = self.database_target
        if isinstance(target, PostgresTarget):
            return (self.root / ".covtui").resolve()
        return target.parent

    @property
    def lock_base(self) -> Path:
        """What the scan lock file is named after: the SQLite file, or `.covtui/postgres` (one
        scan at a time per checkout; other hosts' scans into the same server go on beside it)."""
        target = self.database_target
        return self.work_dir / "postgres" if isinstance(target, PostgresTarget) else target

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"no source named {name!r} (configured: {known})")


def load_config(project: Path | None = None) -> Config:
    """Read the config for the project at `project` (default: the current directory)."""
    try:
        root = (project or Path.cwd()).resolve()
    except FileNotFoundError:
        raise ConfigError(
            "the current directory no longer exists (deleted or moved): cd into the project again"
        ) from None
    override = os.environ.get(CONFIG_ENV)
    candidates = [Path(override)] if override else [root / "covtui.toml", root / "pyproject.toml"]
    for path in candidates:
        if not path.is_file():
            if override:
                raise ConfigError(f"{path}: config file not found (from ${CONFIG_ENV})")
            continue
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        tool = document.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: 'tool' should be a table, not {_describe(tool)}")
        if path.name == "pyproject.toml" and not override:
            table = tool.get("covtui")
            if table is None:
                continue
            prefix = "tool.covtui"
        else:
            table = tool.get("covtui", document)
            prefix = "tool.covtui" if table is not document else ""
        config = config_from_table(
            table, root=root, where=f"{path}", prefix=prefix, file=path.resolve()
        )
        if config.codeowners:
            config.codeowners_file, config.codeowners_text = _read_codeowners(root, f"{path}")
        return _database_from_env(config)
    return _database_from_env(Config(root=root))


def _database_from_env(config: Config) -> Config:
    if value := os.environ.get(DATABASE_ENV, "").strip():
        config.database = value
    return config


#: Where GitHub and GitLab look for CODEOWNERS, in their order.
CODEOWNERS_PLACES = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


def _read_codeowners(root: Path, where: str) -> tuple[Path, str]:
    for place in CODEOWNERS_PLACES:
        path = root / place
        if path.is_file():
            try:
                return path, path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: cannot be read: {exc}") from None
    raise ConfigError(
        f"{where}: codeowners = true, but there is no CODEOWNERS file "
        f"(looked for {', '.join(CODEOWNERS_PLACES)})"
    )


def config_from_table(
    table: dict, *, root: Path, where: str = "config", prefix: str = "", file: Path | None = None
) -> Config:
    """Build a Config from a parsed TOML table, naming the key of any mistake."""
    config = _build(
        Config, table, where, prefix,
        extra={"root": root, "file": file, "table": prefix,
               "codeowners_text": None, "codeowners_file": None},
    )
    names = [s.name for s in config.sources]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: {_key(prefix, 'sources')}: source names must be unique")
    if not config.sources:
        raise ConfigError(f"{where}: {_key(prefix, 'sources')}: at least one source is needed")
    for i, source in enumerate(config.sources):
        if problem := source_name_problem(source.name):
            raise ConfigError(f"{where}: {_key(prefix, f'sources[{i}].name')!r} {problem}")
        if source.report is None and source.format is not None:
            raise ConfigError(
                f"{where}: source {source.name!r}: 'format' needs 'report' (the file to read)"
            )
    for phase in config.phases:
        if not 0 <= phase.start < phase.end <= 100:
            raise ConfigError(f"{where}: phase {phase.name!r}: need 0 <= start < end <= 100")
    _check_components(config, where, prefix)
    return config


#: The name of the files in no component.
OTHER = "other"


def _check_components(config: Config, where: str, prefix: str) -> None:
    """Component names unique, shown safely and not "other"; every glob one coverage.py takes."""
    seen: set[str] = set()
    for i, component in enumerate(config.components):
        key = _key(prefix, f"components[{i}]")
        if problem := source_name_problem(component.name):
            raise ConfigError(f"{where}: {key + '.name'!r} {problem}")
        if component.name == OTHER:
            raise ConfigError(f"{where}: {key + '.name'!r}: {OTHER!r} names the files in no component")
        if component.name in seen:
            raise ConfigError(f"{where}: {key + '.name'!r}: component {component.name!r} is named twice")
        seen.add(component.name)
        _check_globs(component.paths, where, f"{key}.paths")
        for phase in component.phases or ():
            if not 0 <= phase.start < phase.end <= 100:
                raise ConfigError(f"{where}: {key!r}: phase {phase.name!r}: need 0 <= start < end <= 100")
        if component.phases == []:
            raise ConfigError(f"{where}: {key + '.phases'!r} should name at least one phase")
    for i, gate in enumerate(config.gates):
        key = _key(prefix, f"gates[{i}]")
        _check_globs(gate.paths, where, f"{key}.paths")
        if gate.fail_under is None and gate.max_uncovered is None:
            raise ConfigError(f"{where}: {key!r} needs 'fail_under' or 'max_uncovered'")
        if gate.name is not None and (problem := source_name_problem(gate.name)):
            raise ConfigError(f"{where}: {key + '.name'!r} {problem}")
    _check_globs(config.generated.paths, where, _key(prefix, "generated.paths"), empty_ok=True)
    for i, marker in enumerate(config.generated.markers):
        try:
            re.compile(marker)
        except re.error as exc:
            key = _key(prefix, f"generated.markers[{i}]")
            raise ConfigError(f"{where}: {key!r} is not a valid regex: {exc}") from None


def _check_globs(globs: list[str], where: str, key: str, *, empty_ok: bool = False) -> None:
    if not globs and not empty_ok:
        raise ConfigError(f"{where}: {key!r} should name at least one glob")
    if not globs:
        return  # coverage.py is not imported for nothing: a scan starts its tests sooner
    from covtui.coverage_compat import ConfigError as CoverageConfigError
    from covtui.coverage_compat import GlobMatcher

    for i, glob in enumerate(globs):
        if not glob or has_control(glob):
            raise ConfigError(f"{where}: {f'{key}[{i}]'!r} should be a glob, not '{printable(glob)}'")
        try:
            GlobMatcher([glob])
        except CoverageConfigError as exc:
            raise ConfigError(f"{where}: {f'{key}[{i}]'!r}: {exc}") from None


def source_name_problem(name: str) -> str | None:
    """Why `name` cannot name a source (names are stored and shown in terminals), or None."""
    if not name:
        return "should not be empty"
    if has_control(name):
        return f"should have no control characters, not '{printable(name)}'"
    return None


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _build(cls: type, table: object, where: str, prefix: str, extra: dict | None = None):
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {prefix or 'config'!r} should be a table, not {_describe(table)}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if f.name not in (extra or {})}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {_key(prefix, unknown[0])!r} (known: {', '.join(known)})"
        )
    values = dict(extra or {})
    for name, f in known.items():
        if name in table:
            key = _key(prefix, name)
            values[name] = value = _convert(hints[name], table[name], where, key)
            if "range" in f.metadata and value is not None:
                check_number(f"{where}: {key!r}", value, f.metadata["range"])
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(f"{where}: {_key(prefix, name)!r} is required")
    return cls(**values)


def _convert(hint, value, where: str, key: str):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, where, key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {key!r} should be a list, not {_describe(value)}")
        return [_convert(args[0], item, where, f"{key}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where}: {key!r} should be a table of strings")
        return dict(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key!r} should be a number, not {_describe(value)}")
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {key!r} should be a finite number, not {value!r}")
        return float(value)
    if hint in (int, bool, str):
        if type(value) is not hint:
            raise ConfigError(
                f"{where}: {key!r} should be {'an' if hint is int else 'a'} "
                f"{hint.__name__}, not {_describe(value)}"
            )
        return value
    if hint is Path:
        return Path(value)
    return _build(hint, value, where, key)


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


def write_floors(config: Config, changes: list[tuple[str, int, str, float | int]]) -> Path:
    """Write new floors — (list, index, key, value): `("components", 0, "fail_under", 82.5)` —
    into the file `config` was read from, keeping every other byte (formatting, comments).

    The file is rewritten atomically (a temporary file beside it, renamed over it), and only
    if it still says what `config` was read from: a key must hold a number already.
    """
    import tempfile

    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = config.file
    if path is None:
        raise ConfigError("no config file to write floors into (covtui is using its defaults)")
    try:
        # Bytes decoded as they are ("\r\n" kept): the rest of the file must not change.
        document = tomlkit.parse(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, TOMLKitError) as exc:
        raise ConfigError(f"{path}: cannot be read back: {exc}") from None
    for kind, index, key, value in changes:
        try:
            entry = document
            for part in filter(None, config.table.split(".")):
                entry = entry[part]
            entry = entry[kind][index]
            old = entry.value.item(key) if key in entry else None  # (Table.item: tomlkit 0.13+)
        except (KeyError, IndexError, TypeError, AttributeError):
            old = None
        if old is None or isinstance(old.unwrap(), bool) or not isinstance(old.unwrap(), (int, float)):
            raise ConfigError(f"{path}: {_key(config.table, f'{kind}[{index}].{key}')!r} changed since it was read")
        new = tomlkit.item(value)
        new.trivia.indent, new.trivia.comment_ws = old.trivia.indent, old.trivia.comment_ws
        new.trivia.comment, new.trivia.trail = old.trivia.comment, old.trivia.trail
        entry[key] = new
    out = tomlkit.dumps(document)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(out)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
