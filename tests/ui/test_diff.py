"""Diff coverage in the dashboard and in the report: the same numbers, from coverage.py data."""

from __future__ import annotations

import json

from textual.widgets import Static

from covtui.domain.diffcov import diff_coverage
from covtui.domain.model import ChangedLines, RunStatus, SnapshotDraft, SourceResult
from covtui.domain.numbers import pc_str
from covtui.record import record_snapshot
from covtui.report import build_report, render_json, render_markdown
from covtui.store import Store

from .conftest import NOW, loaded, make_app, screen_text
from .fixtures import REAL_DIFF_BASE, T0, real_changed_lines


def expected(real_reports):
    """What diffcov says about the latest report and the constructed changed lines."""
    return diff_coverage(real_changed_lines(), real_reports["latest"].files)


async def test_the_overall_panel_shows_diff_coverage(real_config, real_db, real_reports):
    diff = expected(real_reports)
    assert diff.n_statements > diff.n_missing > 0
    app = make_app(real_config, real_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        latest = app.state.latest
        assert (latest.diff_base, latest.n_diff_statements, latest.n_diff_missing) == (
            REAL_DIFF_BASE, diff.n_statements, diff.n_missing
        )
        line = f"changed lines since {REAL_DIFF_BASE}: {pc_str(diff.pc_covered, 2)}% of {diff.n_statements}"
        assert diff_text(app) == line
        # On screen it wraps inside the panel.
        text = screen_text(app)
        assert f"changed lines since {REAL_DIFF_BASE}:" in text
        assert f"{pc_str(diff.pc_covered, 2)}% of {diff.n_statements} " in text


async def test_report_has_the_same_diff_numbers(real_config, real_db, real_reports):
    diff = expected(real_reports)
    async with await Store.open(real_db, create=False) as store:
        data = await build_report(store, real_config, since=None, now=NOW)
    markdown = render_markdown(data)
    assert "## Diff Coverage" in markdown
    assert (
        f"Changed lines since {REAL_DIFF_BASE}: {pc_str(diff.pc_covered, 2)}% of "
        f"{diff.n_statements} ({diff.n_missing} missed)."
    ) in markdown
    section = json.loads(json.dumps(render_json(data)))["diff_coverage"]
    assert section["base"] == REAL_DIFF_BASE
    assert (section["statements"], section["missing"]) == (diff.n_statements, diff.n_missing)
    assert section["percent_covered"] == diff.pc_covered


def diff_text(app) -> str:
    panel = app.screen.query_one("#overall-diff", Static)
    return str(panel.content) if panel.display else ""


async def _latest_with(db, config, real_reports, changed: ChangedLines | None) -> None:
    """One more snapshot of the same files, with another diff (or none)."""
    async with await Store.open(db, create=False) as store:
        draft = SnapshotDraft(
            "scan",
            [SourceResult("python", RunStatus.OK, real_reports["latest"])],
            created_at=T0 + 30,
            diff=None if changed is None else diff_coverage(changed, real_reports["latest"].files),
        )
        await record_snapshot(store, draft, config)


async def test_no_changed_statements_and_no_git(real_config, real_db, real_reports):
    # Only a blank line changed: nothing to measure.
    await _latest_with(real_db, real_config, real_reports,
                       ChangedLines(REAL_DIFF_BASE, {"app/service.py": frozenset({3})}))
    app = make_app(real_config, real_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert app.state.latest.n_diff_statements == 0
        assert diff_text(app) == f"changed lines since {REAL_DIFF_BASE}: no changed statements"
        assert "no changed statements" in screen_text(app)
    # Not in git: no line at all.
    await _latest_with(real_db, real_config, real_reports, None)
    app = make_app(real_config, real_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert app.state.latest.n_diff_statements is None
        assert diff_text(app) == ""
        assert "changed lines since" not in screen_text(app)
