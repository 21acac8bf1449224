"""The dashboard's load for one component against the whole project's, on the demo database:
`python -m benchmarks.component_dashboard DEMO_DB [--runs R]` (build one with
`python -m covtui.tui.screenshots --db DEMO_DB --only components`). Medians per trend range."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from covtui.demo import demo_config
from covtui.query.queries import Queries
from covtui.tui.screenshots import _with_components


async def measure(db: Path, runs: int, component: str) -> None:
    config = demo_config(db)
    _with_components(config)
    queries = Queries(db, config)
    await queries.connect()
    try:
        for trend_range in ("auto", "day", "week", "90 days"):
            medians = []
            for chosen in (None, component):
                times = []
                for _ in range(runs):
                    t = time.perf_counter()
                    await queries.dashboard(trend_range, chosen)
                    times.append(time.perf_counter() - t)
                medians.append(statistics.median(times))
            print(f"{trend_range:8} whole project {medians[0]:.3f} s, component {component!r} "
                  f"{medians[1]:.3f} s ({medians[1] / medians[0]:.1f}x)")
    finally:
        await queries.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--component", default="server")
    args = parser.parse_args(argv)
    asyncio.run(measure(args.db, args.runs, args.component))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
