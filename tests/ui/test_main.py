"""The main screen shows what the database holds."""

from __future__ import annotations

import json
import re

from covtui.domain.phases import phase_status
from covtui.widgets.critical_files import CriticalFiles
from covtui.widgets.overall import OverallPanel

from .conftest import loaded, make_app, screen_text


async def test_main_screen_shows_the_latest_snapshot(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        state = app.state
        numbers = state.latest.numbers
        assert f"{numbers.n_executed:,} of {numbers.n_statements:,} lines" in text
        assert f"{numbers.n_files_covered} of {numbers.n_files} files have coverage" in text
        assert f"since #{state.previous.id}" in text
        progress = phase_status(numbers.pc_covered, config.phases)
        # How far through the band, said as that, not as another coverage figure.
        assert f"{progress.pc_progress:.1f}% of the way from 0% to 25%" in text
        assert "progress to" not in text
        assert "python" in text and "rust" in text
        assert "docs" in text and "no data" in text  # configured, never measured
        assert "Top 5 critical files" in text
        assert "src/pkg/utils/migration.py" in text
        assert "● live" in text
        panel = app.screen.query_one(OverallPanel)
        assert panel.has_class("-phase-1")
        assert app.screen.query_one(CriticalFiles).row_count == 5


async def test_first_paint_comes_before_the_data(config, db):
    """The screen is up (showing "loading…") before the first poll answers."""
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.state is None
        assert "loading" in screen_text(app)
        await loaded(pilot)
        assert "loading" not in screen_text(app)


async def test_empty_database_is_no_data(config, tmp_path):
    from covtui.store import Store

    async with await Store.open(config.database_path):
        pass
    app = make_app(config, config.database_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "no data" in text
        assert "no snapshots yet" in text
        assert app.screen.query_one(OverallPanel).has_class("-no-data")
        assert app.screen.query_one(CriticalFiles).border_subtitle == "no data"


async def test_an_empty_critical_list_says_nothing_is_missed(tmp_path):
    """A project whose tests run every line and branch (measured for real): the list is
    empty and says why, rather than showing an empty table."""
    from covtui.config import load_config
    from covtui.scan import run_scan

    from ..conftest import Project

    p = Project(tmp_path / "done")
    p.write("pkg/__init__.py", "")
    p.write("pkg/sign.py", "def sign(x):\n    if x < 0:\n        return -1\n    return 1\n")
    p.write("tests/test_sign.py", (
        "from pkg.sign import sign\n\n\ndef test_sign():\n    assert sign(-2) == -1\n"
        "    assert sign(3) == 1\n"
    ))
    p.write("pyproject.toml", '[tool.coverage.run]\nsource = ["pkg"]\n')
    config = load_config(p.root)
    outcome = await run_scan(config)
    assert outcome.draft.status.value == "ok"
    app = make_app(config, config.database_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert app.state.latest.numbers.pc_covered == 100.0
        critical = app.screen.query_one(CriticalFiles)
        assert critical.row_count == 0
        assert critical.border_subtitle == "none: no line or branch missed"
        assert "none: no line or branch missed" in screen_text(app)


async def test_narrow_terminal_hides_the_trend(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert not app.screen.query_one("#trend").display or not app.screen.query_one("#middle").display
        assert not app.screen.query_one("#last-run").display
        text = screen_text(app)
        assert "Top 5 critical files" in text
        assert "Alerts" in text


async def test_failing_tests_and_a_failed_run_are_said_plainly(project):
    """Real scans: a run with a failing test, then one that stopped at a collection error."""
    import json

    project.write("tests/test_more.py", "def test_fails():\n    assert 1 == 2\n")
    project.covtui("scan", "-q", check=True)
    shown = json.loads(project.covtui("status", "--json", check=True).stdout)
    pc = shown["totals"]["percent_covered_display"]
    config = project.config
    app = make_app(config, config.database_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "python  " in text and "1 failing" in text  # the Sources panel
        rows = text.splitlines()
        said = next(i for i, row in enumerate(rows) if "1 test failed" in row)
        assert "· ok " in rows[said - 1]  # on its own line, under the last run's header

    project.write("tests/test_x.py", "def test_x(:\n")
    assert project.covtui("scan", "-q").returncode == 1
    app = make_app(config, config.database_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        # The reason, however narrow the panel (here cut short with "…").
        assert f"python    {pc}%  failed: pytest: 1 error during coll" in text, text
        body = "\n".join(text.splitlines()[1:])  # the header's path names this test
        assert "· failed" in body and "test failed" not in body and "failing" not in body
        # The total keeps the last measured coverage too.
        assert app.state.latest.numbers.pc_covered_str(config.precision) == pc


# -- one median: the Last-run panel and the test-time alert give the same figure ----------------


def _last_run_text(app) -> str:
    from covtui.widgets.last_run import LastRun

    return str(app.screen.query_one(LastRun).render())


def _time_alert(app, source: str):
    return next(
        a for a in app.state.alerts
        if a.rule == "test_time" and a.source == source and a.created_at == app.state.latest.created_at
    )


async def test_the_panel_and_the_alert_agree_on_the_median(config, db):
    """The fixture's last run: python slow, rust as usual; each source against its own runs."""
    import re

    app = make_app(config, db)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        alert = _time_alert(app, "python")
        figure = re.search(r"[+-]\d+%", alert.message).group()
        assert f"{alert.value:+.0f}%" == figure
        rows = _last_run_text(app).splitlines()
        python = next(row for row in rows if row.startswith("python"))
        assert python.split()[5] == figure, rows  # python, 65.0 s, 45.0 s, then the change
        assert any(row.startswith("rust") for row in rows)


async def test_a_run_of_one_source_compares_with_that_sources_runs(config, db):
    """As the demo's rescan: python alone, slow, after runs of python and rust together. The
    old panel compared it with the totals of both (a few percent); the alert says +100%-ish."""
    import re

    from covtui.domain.model import RunMetrics, SnapshotDraft, SourceResult
    from covtui.record import record_snapshot
    from covtui.store import Store

    from .fixtures import T0, fixture_drafts

    python = fixture_drafts()[-2].sources[0]
    slow = SourceResult(python.name, python.status, python.report, python.tests,
                        RunMetrics(wall_s=95.0, cpu_s=90.0, peak_rss_kb=400_000, exit_code=0))
    async with await Store.open(db, create=False) as store:
        await record_snapshot(store, SnapshotDraft("scan", [slow], created_at=T0 + 30), config)
    app = make_app(config, db)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        alert = _time_alert(app, "python")
        figure = re.search(r"[+-]\d+%", alert.message).group()
        rows = _last_run_text(app).splitlines()
        duration = next(row for row in rows if row.startswith("Duration"))
        assert duration.split()[5] == figure, rows  # Duration, 95.0 s, 45.0 s, then the change
        assert "vs the median of the last 10 good runs" in alert.message


# -- the header: which project, which branch and commit ------------------------------------------


async def test_the_header_names_the_project_and_its_git_state(config, db):
    from covtui.widgets.project_header import ProjectHeader

    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        latest = app.state.latest
        header = str(app.screen.query_one(ProjectHeader).render())
        assert header.startswith(config.root.name)
        assert str(config.root)[-20:] in header
        assert f"main @ {latest.git_commit[:7]} · clean · at snapshot #{latest.id}" in header
        assert screen_text(app).splitlines()[0].strip().startswith(config.root.name)


async def test_the_header_shows_a_markup_branch_as_typed_and_marks_a_dirty_tree(config, db):
    from covtui.domain.model import GitInfo, SnapshotDraft
    from covtui.record import record_snapshot
    from covtui.store import Store

    from .fixtures import T0, fixture_drafts

    draft = fixture_drafts()[-1]
    branch = "[bold]feat[/bold][@click=app.quit]x"
    async with await Store.open(db, create=False) as store:
        await record_snapshot(
            store,
            SnapshotDraft("scan", draft.sources, created_at=T0 + 30,
                          git=GitInfo("0123456789abcdef", branch, True)),
            config,
        )
    app = make_app(config, db)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        first = screen_text(app).splitlines()[0]
        assert f"{branch} @ 0123456 · ● uncommitted changes" in first, first
        assert app.is_running


async def test_the_header_keeps_the_git_state_when_the_path_is_long(tmp_path, db, config):
    """At 80 columns a long path gives way (its end kept), the branch and commit stay."""
    from covtui.widgets.project_header import ProjectHeader

    app = make_app(config, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        header = app.screen.query_one(ProjectHeader)
        header.project_name = "proj"
        header.project_path = tmp_path / ("very-long-directory-name-" * 4) / "project"
        header.refresh()
        await pilot.pause()
        first = screen_text(app).splitlines()[0]
        assert "…" in first and f"#{app.state.latest.id}" in first, first


# -- the top row: panels end on one line ------------------------------------------------------------


async def test_the_top_panels_share_a_bottom_edge_with_one_source(real_config, real_db):
    await _top_panels_share_a_bottom_edge(real_config, real_db)


async def test_the_top_panels_share_a_bottom_edge_with_three_sources(config, db):
    await _top_panels_share_a_bottom_edge(config, db)
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "docs" in text and "Peak memory" in text  # nothing cut off


async def _top_panels_share_a_bottom_edge(config, db):
    for size in [(120, 36), (160, 48), (200, 50)]:
        app = make_app(config, db)
        async with app.run_test(size=size) as pilot:
            await loaded(pilot)
            bottoms = {
                name: app.screen.query_one(f"#{name}").region.bottom
                for name in ("overall", "sources", "last-run")
            }
            assert len(set(bottoms.values())) == 1, (size, bottoms)


async def test_the_phase_progress_fits_its_title_at_80_columns(config, db):
    from covtui.widgets.phase_bars import PhaseBars

    app = make_app(config, db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        bars = app.screen.query_one(PhaseBars)
        title = str(bars.border_title)
        assert "% of the way" in title and len(title) <= bars.outer_size.width - 6
        assert title in screen_text(app)


async def test_one_snapshot_is_one_snapshot(config, tmp_path):
    from covtui.record import record_snapshot
    from covtui.store import Store

    from .fixtures import fixture_drafts

    async with await Store.open(config.database_path) as store:
        await record_snapshot(store, fixture_drafts(1)[0], config)
    app = make_app(config, config.database_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "· 1 snapshot " in text and "1 snapshots" not in text


# -- room at 200 columns ----------------------------------------------------------------------------


async def test_wide_terminals_show_the_run_history_and_keep_bars_short(config, db):
    from covtui.widgets.last_run import LastRun
    from covtui.widgets.phase_bars import MAX_BAR

    app = make_app(config, db)
    async with app.run_test(size=(200, 50)) as pilot:
        await loaded(pilot)
        rows = str(app.screen.query_one(LastRun).render()).splitlines()
        python = next(row for row in rows if row.startswith("python"))
        history = python.split()[-1]
        # The runs before (the fixture's python runs: 28 good ones), then this one.
        n = len(app.state.last_run.times[0].recent) + 1
        assert len(history) == n and set(history) <= set("▁▂▃▄▅▆▇█")
        assert history[-1] == "█"  # the slow last run is the highest bar
        text = screen_text(app)
        assert "█" * (MAX_BAR + 1) not in text
    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        rows = str(app.screen.query_one(LastRun).render()).splitlines()
        assert next(row for row in rows if row.startswith("python")).split()[-1] == "+44%"  # no room


async def test_the_toast_gives_the_panels_figure(config, db):
    """A slow run arrives while the dashboard is open: the toast and the panel say the same."""
    import re

    from covtui.domain.model import RunMetrics, SnapshotDraft, SourceResult
    from covtui.record import record_snapshot
    from covtui.store import Store

    from .conftest import wait_for
    from .fixtures import T0, fixture_drafts

    app = make_app(config, db, clock=lambda: T0 + 90)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        python = fixture_drafts()[-2].sources[0]
        slow = SourceResult(python.name, python.status, python.report, python.tests,
                            RunMetrics(wall_s=95.0, cpu_s=90.0, peak_rss_kb=400_000, exit_code=0))
        async with await Store.open(db, create=False) as store:
            await record_snapshot(store, SnapshotDraft("scan", [slow], created_at=T0 + 30), config)
        await wait_for(pilot, lambda: any("test run took" in n.message for n in app._notifications))
        await wait_for(pilot, lambda: app.state.latest.created_at == T0 + 30)
        await pilot.pause()
        toast = next(n.message for n in app._notifications if "test run took" in n.message)
        figure = re.search(r"[+-]\d+%", toast).group()
        rows = _last_run_text(app).splitlines()
        assert next(row for row in rows if row.startswith("Duration")).split()[5] == figure
        assert "vs the median of the last 10 good runs" in toast


async def test_a_partial_run_is_said_as_such_and_keeps_the_full_figure(project):
    """Real runs through the pytest plugin: the whole suite, then `-k` narrowed to one test."""
    from ..test_pytest_plugin import MORE_TESTS, pytest_run

    project.write("tests/test_more.py", MORE_TESTS)
    assert pytest_run(project, "-q", "--cov=pkg", "--cov-branch", "--covtui").returncode == 0
    config = project.config
    full = json.loads(project.covtui("status", "--json", check=True).stdout)["totals"]
    assert pytest_run(project, "-q", "--cov=pkg", "--covtui", "-k", "test_add").returncode == 0
    app = make_app(config, config.database_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        pc = full["percent_covered_display"]
        assert re.search(rf"python +{re.escape(pc)}%  partial run: 1 test", text), text  # Sources
        body = "\n".join(text.splitlines()[1:])
        # The Overall panel's snapshot line, in full unless the date must be written out.
        assert re.search(r"· pytest · parti(al|…) +│", body)
        assert "· partial run: 1 test" in _last_run_text(app)
        assert "failed" not in body
        assert app.state.latest.numbers.pc_covered_str(config.precision) == pc
