"""Which snapshots are old enough to prune: decided from the history, not the clock alone."""

from __future__ import annotations

from collections.abc import Sequence

DAY = 86400.0


def retention_cutoff(now: float, newest_first: Sequence[float], older_than_days: float) -> float:
    """The time before which snapshots may go, given the two newest snapshots' times.

    Counted back from the newest snapshot (or the clock, when it is earlier). A newest snapshot
    more than the whole retention period after the one before it is an odd timestamp (a clock
    far ahead during one scan): then the count starts from the one before, so that one time
    alone can't make every real snapshot look old. A clock that stays ahead is believed at the
    next scan; a clock behind only ever keeps more.
    """
    reference = now
    if newest_first:
        reference = min(now, newest_first[0])
    odd_jump = len(newest_first) >= 2 and newest_first[0] - newest_first[1] > older_than_days * DAY
    if odd_jump and older_than_days > 0:
        reference = min(reference, newest_first[1])
    return reference - older_than_days * DAY
