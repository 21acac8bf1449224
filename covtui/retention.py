"""Which snapshots are old enough to prune: decided from the history, not the clock alone."""

from __future__ import annotations

from collections.abc import Sequence

DAY = 86400.0


def retention_cutoff(now: float, newest_first: Sequence[float], older_than_days: float) -> float:
    """The time before which snapshots may go, given the two newest snapshots' times.

    Counted back from the second-newest snapshot (or the clock, when it is earlier): a clock
    far ahead during one scan stamps one snapshot with an odd time, and that one time alone
    must not make every real snapshot look old. A clock that stays ahead is believed at the
    next scan; a clock behind only ever keeps more.
    """
    reference = now
    if len(newest_first) >= 2:
        reference = min(now, newest_first[1])
    return reference - older_than_days * DAY
