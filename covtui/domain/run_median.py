"""A run against the median of its recent good runs: the one comparison the test-time alert,
the Last-run panel and the help all mean by "vs median"."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

#: Fewer good runs than this make no median worth comparing with.
MIN_RUNS = 3


@dataclass(frozen=True)
class VersusMedian:
    """`value` against the median of the `n_runs` good runs before it."""

    value: float
    median: float
    n_runs: int

    @property
    def pc_change(self) -> float | None:
        """Percent above (+) or below (-) the median; None when the median is 0."""
        if self.median == 0:
            return None
        return 100.0 * (self.value - self.median) / self.median

    @property
    def change_str(self) -> str:
        """"+113%", "-5%", "+0%": how every screen and message writes the change."""
        pc = self.pc_change
        return "" if pc is None else f"{pc:+.0f}%"


def versus_median(
    value: float | None, recent: Iterable[float | None], window: int
) -> VersusMedian | None:
    """`value` against the median of the newest `window` of `recent` (newest first, the good
    runs before it; unknown values skipped). None without a value or with fewer than
    `MIN_RUNS` runs."""
    if value is None:
        return None
    runs = [v for v in recent if v is not None][: max(1, window)]
    if len(runs) < MIN_RUNS:
        return None
    return VersusMedian(float(value), float(statistics.median(runs)), len(runs))


def median_phrase(n_runs: int) -> str:
    """"the median of the last 10 good runs"."""
    return f"the median of the last {n_runs} good run{'' if n_runs == 1 else 's'}"
