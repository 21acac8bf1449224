"""What the per-reason exclusions census adds to a scan: `python -m benchmarks.exclusion_census
[--modules N] [--runs R] [DEST]`.

On benchmarks.synth's project (measured by real coverage.py), times the report read with a
warm analysis cache (what a scan's read costs), the census taking coverage.py's parse from
that cache (what a scan does), and the census parsing every file again; medians, as ratios
to the read measured in the same run. Checks that both censuses count the same.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.synth import make_project, run_coverage
from covtui.readers import read_coverage
from covtui.readers.exclusions import count_exclusions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", type=Path, help="project folder (made when empty)")
    parser.add_argument("--modules", type=int, default=212)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    dest = args.dest or Path(tempfile.mkdtemp()) / "proj"
    if not (dest / ".coverage").exists():
        make_project(dest, args.modules)
        run_coverage(dest)
    cache = dest / "cache"
    paths = sorted(str(p.relative_to(dest)) for p in (dest / "synthpkg").rglob("*.py"))
    read_coverage([dest / ".coverage"], root=dest, cache_dir=cache)  # fills the cache, as a scan does
    reads, parsed_s, cached_s = [], [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        read_coverage([dest / ".coverage"], root=dest, cache_dir=cache)
        reads.append(time.perf_counter() - t)
        t = time.perf_counter()
        parsed = count_exclusions(dest, paths)
        parsed_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        cached = count_exclusions(dest, paths, cache_dir=cache)
        cached_s.append(time.perf_counter() - t)
        assert parsed == cached, "the cached census counted differently"
    m = statistics.median
    print(f"{len(paths)} files, medians of {args.runs}: read (warm cache) {m(reads):.3f} s; "
          f"census from the cache {m(cached_s):.3f} s ({m(cached_s) / m(reads):.2f}x the read); "
          f"census parsing every file {m(parsed_s):.3f} s ({m(parsed_s) / m(reads):.1f}x the read)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
