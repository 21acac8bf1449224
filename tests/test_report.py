"""`covtui report`: golden Markdown and JSON from a fixed database, forecast, --since, escaping."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from covtui.cli import cli
from covtui.cli.context import Context
from covtui.config import Config, SourceConfig
from covtui.domain.model import (
    CoverageReport,
    GitInfo,
    RunMetrics,
    RunStatus,
    SnapshotDraft,
    SourceResult,
)
from covtui.errors import CovtuiError
from covtui.readers import read_tests
from covtui.record import record_snapshots
from covtui.report import (
    build_report,
    md_code,
    md_escape,
    parse_since,
    render_json,
    render_markdown,
)
from covtui.store import Store

from .test_gaps import SERVICE_PATH, service  # noqa: F401  (the fixture)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("COVTUI_UPDATE_GOLDEN") == "1"

#: 2025-09-21 20:00:00 UTC: every fixture time is counted from here.
T0 = 1758484800.0
HOUR = 3600.0
NOW = T0 + 48 * HOUR + 600

# (hours after T0, which test suite's coverage, run metrics). Run times cannot be reproduced
# by running anything, so they are pinned; every coverage figure comes from coverage.py.
HISTORY = [
    (0, "first", RunMetrics(wall_s=10.0, cpu_s=9.0, peak_rss_kb=51_200, exit_code=0)),
    (6, "first", RunMetrics(wall_s=10.5, cpu_s=9.2, peak_rss_kb=52_000, exit_code=0)),
    (24, "more", RunMetrics(wall_s=11.0, cpu_s=9.9, peak_rss_kb=53_500, exit_code=0)),
    (30, "first", RunMetrics(wall_s=14.0, cpu_s=12.0, peak_rss_kb=60_000, exit_code=0)),
    (48, "more", RunMetrics(wall_s=12.0, cpu_s=10.5, peak_rss_kb=54_000, exit_code=0)),
]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch):
    """Times in the report are local: pin the zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def report_config(root: Path, db: Path) -> Config:
    return Config(
        root=root,
        database=str(db),
        sources=[SourceConfig("python"),
                 SourceConfig("rust", command="cargo llvm-cov --lcov", report="lcov.info")],
    )


def pinned(report: CoverageReport) -> CoverageReport:
    return dataclasses.replace(report, read_s=0.25)


async def build_database(root: Path, reports: dict[str, CoverageReport], config: Config,
                         history=HISTORY) -> Path:
    drafts = []
    for i, (hours, name, metrics) in enumerate(history):
        tests = read_tests(root / f"junit-{name}.xml")
        tests.duration_s = round(metrics.wall_s * 0.6, 2)
        result = SourceResult("python", RunStatus.OK, pinned(reports[name]), tests, metrics)
        git = GitInfo(f"{i:02d}23456789abcdef0123456789abcdef012345", "main", False)
        drafts.append(SnapshotDraft("scan", [result], created_at=T0 + hours * HOUR, git=git))
    async with await Store.open(config.database_path) as store:
        await record_snapshots(store, drafts, config)
    return config.database_path


async def make_report(config: Config, since: str | None = None, now: float = NOW):
    async with await Store.open(config.database_path, create=False) as store:
        return await build_report(store, config, since=since, now=now)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with COVTUI_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture
async def config(service, tmp_path: Path) -> Config:  # noqa: F811
    root, reports = service
    config = report_config(root, tmp_path / "covtui.db")
    await build_database(root, reports, config)
    return config


async def test_markdown_golden(config: Config) -> None:
    check_golden("report.md", render_markdown(await make_report(config)))


async def test_json_golden(config: Config) -> None:
    data = render_json(await make_report(config))
    check_golden("report.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")


async def test_markdown_and_json_say_the_same(config: Config) -> None:
    data = await make_report(config)
    md, js = render_markdown(data), render_json(data)
    assert f"- **Overall coverage**: {js['totals']['percent_covered_display']}%" in md
    assert js["baseline"]["id"] == 1 and "snapshot #1 at 2025-09-21 20:00" in md
    assert js["change"]["previous"]["against"]["id"] == 4
    assert [r["path"] for r in js["recommendations"]] == [SERVICE_PATH, "pkg/helpers.py"]
    for rec in js["recommendations"]:
        for action in rec["actions"]:
            for name in action["names"]:
                assert md_code(name) in md
    assert js["sources"][1] == {"name": "rust", "status": "never measured", "message": "",
                                "summary": None, "baseline": None}
    assert "| rust | no data |" in md
    # Two alerts fired when coverage dropped at snapshot #4 and its run was slow.
    assert js["alerts"]["by_rule"].keys() >= {"coverage_drop", "test_time"}


async def test_forecast_rising_names_dates(config: Config) -> None:
    data = await make_report(config)
    fc = data.forecast
    assert fc.rising and fc.n_points == len(HISTORY)
    assert fc.milestones and all(m.eta is not None and m.eta > data.latest.created_at for m in fc.milestones)
    assert [m.eta for m in fc.milestones] == sorted(m.eta for m in fc.milestones)
    md = render_markdown(data)
    assert re.search(r"\| \S+ \(\d+%\) \| \d{4}-\d\d-\d\d \(in about \d+ days?\) \|", md)


async def test_forecast_flat_or_falling_is_not_at_the_current_rate(service, tmp_path: Path) -> None:  # noqa: F811
    root, reports = service
    for name, order in (("flat", ["first", "first", "first"]), ("falling", ["more", "more", "first"])):
        config = report_config(root, tmp_path / f"{name}.db")
        metrics = RunMetrics(wall_s=10.0)
        await build_database(root, reports, config, [(i * 12, s, metrics) for i, s in enumerate(order)])
        data = await make_report(config)
        assert data.forecast.pc_per_day is not None and not data.forecast.rising
        assert data.forecast.milestones and all(m.eta is None for m in data.forecast.milestones)
        md = render_markdown(data)
        assert md.count("not at the current rate") == len(data.forecast.milestones)


async def test_forecast_needs_two_snapshots(service, tmp_path: Path) -> None:  # noqa: F811
    root, reports = service
    config = report_config(root, tmp_path / "one.db")
    await build_database(root, reports, config, HISTORY[:1])
    data = await make_report(config)
    assert data.forecast.pc_per_day is None
    assert "Not enough history for a forecast" in render_markdown(data)
    assert "the baseline is the latest snapshot" in render_markdown(data)


def test_since_values() -> None:
    assert parse_since("12").snapshot_id == 12
    assert parse_since("#12").snapshot_id == 12
    assert parse_since("2025-09-22").at == T0 + 4 * HOUR  # local midnight, UTC here
    assert parse_since("2025-09-22T01:00Z").at == T0 + 5 * HOUR
    assert parse_since("2025-09-22T03:00+02:00").at == T0 + 5 * HOUR
    for bad in ("yesterday", "#", "12a", "2025-13-01"):
        with pytest.raises(CovtuiError, match=re.escape(repr(bad))):
            parse_since(bad)


async def test_since_picks_the_baseline(config: Config) -> None:
    assert (await make_report(config, since="#3")).baseline.id == 3
    by_date = await make_report(config, since="2025-09-22T12:00")
    assert by_date.baseline.id == 3  # the first snapshot at or after it
    # Alerts are those since the baseline.
    since_4 = await make_report(config, since="4")
    everything = await make_report(config)
    assert 0 < since_4.alerts.n_alerts < everything.alerts.n_alerts
    assert all(a.snapshot_id >= 4 for a in since_4.alerts.latest)
    # Nothing within the retention window any more: the first snapshot is the baseline.
    later = await make_report(config, now=NOW + 365 * 86400)
    assert later.baseline.id == 1 and later.baseline_reason == "the first snapshot"
    with pytest.raises(CovtuiError, match="no snapshot #99"):
        await make_report(config, since="99")
    with pytest.raises(CovtuiError, match="no snapshot at or after"):
        await make_report(config, since="2030-01-01")


def invoke(config: Config, *args: str):
    context = Context(config.root, config.database_path)
    context._config = config
    return CliRunner().invoke(cli, ["report", *args], obj=context)


# The command runs its own event loop: these tests are synchronous.
def test_command_bad_since_is_one_line_naming_it(config: Config) -> None:
    result = invoke(config, "--since", "last tuesday")
    assert result.exit_code == 2
    assert result.output == (
        "covtui: error: --since 'last tuesday': not a snapshot id (12 or #12) or an ISO date "
        "(2026-11-20 or 2026-11-20T10:00)\n"
    )


def test_command_writes_atomically(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    out.write_text("old")
    result = invoke(config, "--format", "json", "-o", str(out), "--since", "#2")
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["baseline"]["id"] == 2
    assert [p.name for p in out.parent.iterdir()] == ["report.json"]  # no temp file left
    missing = invoke(config, "-o", str(tmp_path / "nowhere" / "r.md"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    md = invoke(config)
    assert md.exit_code == 0 and md.output.startswith("# Coverage Progression Report\n")


def test_md_escape() -> None:
    assert md_escape("[red]x[/].py") == r"\[red\]x\[/\].py"
    assert md_escape("a|b_*c*_`d`<e>#&") == r"a\|b\_\*c\*\_\`d\`\<e\>\#\&"
    assert md_escape("two\nlines") == "two lines"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x") == "`` `x ``"


async def test_hostile_paths_and_messages_stay_inert(service, tmp_path: Path) -> None:  # noqa: F811
    root, reports = service
    hostile = "pkg/[red]x[/]_*a|b*`<img>`#1.py"
    renamed = {
        name: dataclasses.replace(
            r, files=[dataclasses.replace(f, path=hostile) if f.path == SERVICE_PATH else f for f in r.files]
        )
        for name, r in reports.items()
    }
    config = report_config(root, tmp_path / "hostile.db")
    await build_database(root, renamed, config)
    data = await make_report(config)
    md = render_markdown(data)
    escaped = md_escape(hostile)
    assert escaped == r"pkg/\[red\]x\[/\]\_\*a\|b\*\`\<img\>\`\#1.py"
    assert hostile not in md
    row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    # The table row keeps its six cells: the path's pipe is escaped.
    assert len(re.findall(r"(?<!\\)\|", row)) == 7
    assert escaped in row
    # The file is gone from disk under that name: noted, not crashed on.
    assert "source not available" in md
    assert render_json(data)["critical_files"][0]["path"] == hostile


async def test_a_clock_gone_back_orders_by_number(service, tmp_path: Path) -> None:  # noqa: F811
    """Issue 10.3: the clock 10 days back for the latest scan. The report still treats it as the
    latest, keeps its alerts ("since the baseline" by number) and says why its time is odd."""
    root, reports = service
    config = report_config(root, tmp_path / "back.db")
    metrics = RunMetrics(wall_s=10.0)
    history = [(0, "first", metrics), (24, "more", metrics), (48 - 240, "first", metrics)]
    await build_database(root, reports, config, history)
    data = await make_report(config, now=T0 + (48 - 240) * HOUR + 60)
    assert (data.latest.id, data.baseline.id) == (3, 1)
    assert 3 in {a.snapshot_id for a in data.alerts.latest}
    assert "coverage_drop" in data.alerts.by_rule
    md, js = render_markdown(data), render_json(data)
    assert "- **Note**: snapshot #3 is stamped before #1 (the clock went back)" in md
    assert js["baseline"]["note"] == data.clock_note


# -- `-o` never replaces the database, another SQLite file or anything but a regular file -------

def test_output_refuses_the_database_and_other_sqlite_files(config: Config, tmp_path: Path) -> None:
    db = config.database_path
    before = db.read_bytes()
    other = tmp_path / "other.sqlite"
    import sqlite3

    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    other_bytes = other.read_bytes()
    link = tmp_path / "link-to-db.md"
    link.symlink_to(db)
    hardlink = tmp_path / "hard.md"
    os.link(db, hardlink)
    for target, problem in [(db, "the monitoring database"), (link, "the monitoring database"),
                            (hardlink, "the monitoring database"), (other, "an SQLite database"),
                            (Path(f"{db}-wal"), "the monitoring database")]:
        result = invoke(config, "-o", str(target))
        assert result.exit_code == 2, result.output
        lines = result.output.splitlines()
        assert len(lines) == 1 and str(target) in lines[0] and problem in lines[0], lines
    assert db.read_bytes() == before and other.read_bytes() == other_bytes
    assert link.is_symlink() and not Path(f"{db}-wal").exists()
    # Still a database covtui can read.
    assert invoke(config).exit_code == 0


def test_output_refuses_what_is_not_a_regular_file(config: Config, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link-to-pipe"
    link.symlink_to(fifo)
    for target in (fifo, link):
        result = invoke(config, "-o", str(target))
        assert result.exit_code == 2
        assert result.output == f"covtui: error: {target}: not a regular file (a FIFO): not replaced\n"
    assert fifo.is_fifo() and link.is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file


def test_output_writes_through_a_symlink(config: Config, tmp_path: Path) -> None:
    real = tmp_path / "reports" / "latest.md"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "report.md"
    link.symlink_to(real)
    result = invoke(config, "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_text().startswith("# Coverage Progression Report")


def test_output_file_modes(config: Config, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        new = tmp_path / "new.md"
        assert invoke(config, "-o", str(new)).exit_code == 0
        assert new.stat().st_mode & 0o777 == 0o644  # the umask's mode, like any new file
        os.umask(0o077)
        kept = tmp_path / "kept.md"
        kept.write_text("old")
        kept.chmod(0o664)
        assert invoke(config, "-o", str(kept)).exit_code == 0
        assert kept.stat().st_mode & 0o777 == 0o664  # a replaced file keeps its mode
    finally:
        os.umask(old)
