"""The trend plot: distinct time labels, a y range fitted to the data, milestones inside it,
the legend outside the data, the hour range that shows minutes of history, the automatic range,
alerts marked on the line, calendar ticks over 90 days."""

from __future__ import annotations

from datetime import datetime

import pytest

from covtui.widgets.trend import (
    TrendPlot,
    milestones_within,
    with_milestones,
    x_ticks,
    y_bounds,
    y_ticks,
)

from .conftest import loaded, make_app, wait_for
from .fixtures import T0, add_snapshot

START = datetime(2026, 11, 22, 17, 18).timestamp()  # a Sunday, 17:18 UTC (conftest pins UTC)
HOUR, DAY = 3600.0, 86400.0


@pytest.mark.parametrize("span", [4 * 60, HOUR, DAY, 7 * DAY, 90 * DAY])
@pytest.mark.parametrize("n", [2, 3, 4, 6, 11])
def test_x_labels_are_distinct_and_within_the_span(span, n):
    ticks, labels = x_ticks(START, START + span, n)
    assert len(labels) == len(set(labels)) == len(ticks)
    assert 2 <= len(ticks) <= max(n, 2)
    assert all(START <= t <= START + span for t in ticks)


def test_x_labels_read_as_the_range():
    _, hour = x_ticks(START, START + HOUR, 6)
    _, week = x_ticks(START, START + 7 * DAY, 8)
    _, quarter = x_ticks(START, START + 90 * DAY, 6)
    assert all(len(label) == 5 and label[2] == ":" for label in hour)  # 17:30
    assert week[:2] == ["Mon 23", "Tue 24"]  # weekday and day, at midnight
    assert all(label[:3].isalpha() and label[-2:].isdigit() for label in quarter)  # Dec 22


def test_a_day_of_labels_never_repeats_a_time_of_day():
    # A day and a bit: "17:18" at both ends would repeat; the weekday tells them apart.
    _, labels = x_ticks(START, START + DAY + 600, 6)
    assert len(labels) == len(set(labels))


def test_the_y_range_fits_the_data():
    bottom, top, step = y_bounds([60.0, 63.5, 66.0])
    assert bottom < 60.0 and top > 66.0
    assert top - bottom < 20.0
    ticks = y_ticks(bottom, top, step)
    assert len(ticks) >= 3
    assert ticks[0] == bottom and ticks[-1] == top
    assert all(round(t / step, 6).is_integer() for t in ticks)


@pytest.mark.parametrize("values", [[0.0], [100.0], [62.3], [0.0, 100.0], [99.9, 100.0], [0.0, 0.1]])
def test_the_y_range_stays_within_0_and_100_and_holds_the_data(values):
    bottom, top, _ = y_bounds(values)
    assert 0.0 <= bottom <= min(values) and max(values) <= top <= 100.0
    assert top > bottom


def test_milestones_outside_the_range_are_not_drawn():
    assert milestones_within(57.5, 67.5, [25.0, 50.0, 75.0]) == []
    assert milestones_within(40.0, 80.0, [25.0, 50.0, 75.0]) == [50.0, 75.0]


def test_milestones_get_a_label_where_there_is_room():
    ticks = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    assert with_milestones(ticks, [25.0, 50.0, 75.0], rows=30) == [0.0, 10.0, 20.0, 25.0, 30.0, 40.0, 50.0]
    assert with_milestones(ticks, [25.0, 50.0, 75.0], rows=8) == ticks  # no room: not crowded in


async def test_the_plot_draws_only_milestones_in_range_and_its_legend_is_in_the_title(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        plot = app.main_screen.query_one(TrendPlot)
        drawn: list[float] = []
        hline = plot.plt.hline
        plot.plt.hline = lambda y, *args, **kwargs: (drawn.append(y), hline(y, *args, **kwargs))
        plot._cache = None
        text = plot.render().plain
        values = [p.pc_covered for points in app.state.trend.values() for p in points]
        bottom, top, step = plot.y_range
        assert bottom <= min(values) and max(values) <= top and (bottom, top) != (0.0, 100.0)
        assert drawn == [m for m in (25.0, 50.0, 75.0) if bottom <= m <= top]
        assert "overall" not in text  # no legend over the data
        assert "overall" in str(plot.border_title) and "python" in str(plot.border_title)
        assert sum(f"{t:g}%" in text for t in y_ticks(bottom, top, step)) >= 3


async def test_the_hour_range_shows_minutes_of_history(config, db):
    # Ten snapshots in four minutes, after the fixture's week.
    for i in range(10):
        await add_snapshot(db, config, created_at=T0 + 24.0 * (i + 1), fraction_bump=0.1 + 0.05 * i)
    app = make_app(config, db, clock=lambda: T0 + 300)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await pilot.press("t", "t", "t")
        await wait_for(pilot, lambda: app.trend_range == "week" and app.state.trend_range == "week")
        recent = [p for p in app.state.trend["overall"] if p.created_at > T0]
        assert len(recent) < 10  # a week's buckets merge them
        await pilot.press("t", "t", "t")  # 90 days, auto, hour
        await wait_for(pilot, lambda: app.trend_range == "hour")
        await wait_for(pilot, lambda: len([p for p in app.state.trend["overall"] if p.created_at > T0]) == 10)
        assert "Trend · hour" in str(app.main_screen.query_one(TrendPlot).border_title)


# -- the automatic range -----------------------------------------------------------------------


async def _ten_in_four_minutes(db, config) -> None:
    for i in range(10):
        await add_snapshot(db, config, created_at=T0 + 24.0 * (i + 1), fraction_bump=0.1 + 0.05 * i)


async def test_auto_shows_the_hour_when_the_history_is_an_hour_old(config, tmp_path):
    from covtui.record import record_snapshot
    from covtui.store import Store

    from .fixtures import fixture_drafts

    drafts = fixture_drafts(6)
    async with await Store.open(config.database_path) as store:
        for i, draft in enumerate(drafts):
            draft.created_at = T0 - 600 + 100 * i
            await record_snapshot(store, draft, config)
    app = make_app(config, config.database_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        assert app.trend_range == "auto" and app.state.trend_range == "hour"
        assert str(app.main_screen.query_one(TrendPlot).border_title).startswith("Trend · auto: hour")
        assert len(app.state.trend["overall"]) == 6


async def test_auto_zooms_in_on_a_burst_of_movement(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        # Snapshots six hours apart: the hour holds one, the automatic range is longer.
        assert app.state.trend_range != "hour"
    # Ten snapshots in four minutes that move coverage by more than alerts.coverage_drop.
    await _ten_in_four_minutes(db, config)
    app = make_app(config, db, clock=lambda: T0 + 300)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        assert app.state.trend_range == "hour"
        recent = [p.pc_covered for p in app.state.trend["overall"] if p.created_at > T0]
        assert len(recent) == 10 and max(recent) - min(recent) >= config.alerts.coverage_drop


# -- alerts on the line --------------------------------------------------------------------------


async def test_alerts_are_marked_at_their_snapshots(config, db):
    app = make_app(config, db)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        plot = app.main_screen.query_one(TrendPlot)
        latest = app.state.latest
        raised = {a.severity.value for a in app.state.alerts if a.created_at == latest.created_at}
        assert raised  # the fixture's last snapshot raises alerts
        marks = plot.alert_marks()
        assert (latest.created_at, latest.pc_covered, "critical" if "critical" in raised else "warning") in marks
        # Every mark is a snapshot that raised an alert in the range, at its own coverage.
        first = app.state.trend["overall"][0].created_at
        times = {a.created_at for a in app.state.alerts if a.created_at >= first}
        assert {t for t, _, _ in marks} <= times
        plot._cache = None
        assert "◆" in plot.render().plain
        assert "◆ alerts" in str(plot.border_title)


async def test_crowded_alerts_leave_the_line_readable(config, db):
    """90 days of alerts: one mark per two columns, the worst alert there."""
    from dataclasses import replace

    from covtui.query.dashboard import TrendAlert

    app = make_app(config, db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        plot = app.main_screen.query_one(TrendPlot)
        points = app.state.trend["overall"]
        first, last = points[0].created_at, points[-1].created_at
        crowd = [
            TrendAlert(first + (last - first) * i / 999, "critical" if i == 500 else "warning", 1, 20.0)
            for i in range(1000)
        ]
        plot.state = replace(app.state, trend_alerts=crowd)
        marks = plot.alert_marks()
        assert len(marks) <= plot.size.width // 2
        assert any(sev == "critical" for _, _, sev in marks)  # the worst one is never thinned out


def test_alert_marks_keep_the_worst_severity_once_per_snapshot():
    from covtui.query.dashboard import trend_alerts

    marks = trend_alerts([(1.0, "warning", 50.0), (1.0, "critical", 50.0), (2.0, "info", None)])
    assert [(m.created_at, m.severity, m.n_alerts, m.pc_covered) for m in marks] == [
        (1.0, "critical", 2, 50.0), (2.0, "info", 1, None)
    ]


# -- calendar ticks --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [4, 6, 8, 12])
def test_90_days_of_ticks_fall_on_mondays_or_the_first_of_a_month(n):
    ticks, labels = x_ticks(START, START + 90 * DAY, n)
    for t in ticks:
        moment = datetime.fromtimestamp(t)
        assert (moment.hour, moment.minute) == (0, 0)
        assert moment.weekday() == 0 or moment.day == 1, labels
    assert len(set(labels)) == len(labels) >= 2
