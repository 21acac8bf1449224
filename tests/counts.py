"""What the fault suite did, counted by the tests themselves (kills survived, inputs fuzzed, …).

Each test process adds to `COUNTS`; the root conftest gathers them from every xdist worker
and prints one summary line at the end of the run (the README's figures come from it).
"""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()


def record(what: str, n: float = 1) -> None:
    COUNTS[what] += n
