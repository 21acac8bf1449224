"""The one median every "vs median" means: the newest good runs, a window, at least three."""

from __future__ import annotations

from covtui.domain.run_median import MIN_RUNS, median_phrase, versus_median


def test_the_median_is_of_the_newest_runs_in_the_window():
    # Newest first: the window keeps 10, 10, 30; the old 100s are out of it.
    v = versus_median(20.0, [10.0, 10.0, 30.0, 100.0, 100.0], window=3)
    assert (v.median, v.n_runs) == (10.0, 3)
    assert v.pc_change == 100.0 and v.change_str == "+100%"


def test_too_few_runs_or_no_value_is_no_comparison():
    assert versus_median(20.0, [10.0] * (MIN_RUNS - 1), window=10) is None
    assert versus_median(None, [10.0] * 5, window=10) is None
    # Unknown values are skipped, not counted.
    assert versus_median(20.0, [None, 10.0, None, 10.0], window=10) is None


def test_a_zero_median_has_no_percentage():
    v = versus_median(3.0, [0.0, 0.0, 0.0], window=10)
    assert v.pc_change is None and v.change_str == ""


def test_the_phrase_counts_the_runs():
    assert median_phrase(10) == "the median of the last 10 good runs"
    assert median_phrase(1) == "the median of the last 1 good run"
