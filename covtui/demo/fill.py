"""The demo's history filled in behind the dashboard, by a child process.

`covtui demo` starts `python -m covtui.demo.fill DB` first thing, then opens the dashboard on
what the cache holds while the child writes the rest (the whole 90 days the first time, a
top-up later). The child looks at the cache (`plan_demo_database`: an empty database when it
starts anew), says so, and writes its progress to stdout, one JSON object a line; it holds the
demo's lock and the database's scan lock while it writes (the demo's `r` waits for it), and exits as soon as its stdin closes: the dashboard quit,
however it ended. Every transaction leaves a prefix of the history, so a fill that is stopped
anywhere is continued by the next one (see `plan_demo_database`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FillProgress:
    """Snapshots written of the fill's `total`; `until`: the time of the fill's last one;
    `text`: what the status line says."""

    done: int
    total: int
    until: float
    text: str
    building: bool  # the history proper (else a top-up to now)


class DemoFill:
    """The child process that fills the demo database at `path`, seen from the dashboard."""

    def __init__(self, path: Path, *, seed: int, days: float) -> None:
        self.path = Path(path)
        self.seed = seed
        self.days = days
        self.log_path = self.path.with_suffix(".fill.log")
        self.proc: subprocess.Popen | None = None
        #: Its first report (`planned`), for the dashboard to start from.
        self.first: FillProgress | None = None

    def start(self, *, rebuild: bool = False) -> None:
        """Start the child; a cache folder that can't be made or written is a StoreError."""
        from covtui.errors import StoreError

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            log = open(self.log_path, "wb")  # noqa: SIM115  (closed below, once the child has it)
        except OSError as exc:
            raise StoreError(
                f"{self.path.parent}: cannot keep the demo's cache there: {exc.strerror}"
                " (set XDG_CACHE_HOME to a writable folder)"
            ) from None
        with log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "covtui.demo.fill", str(self.path),
                 "--seed", str(self.seed), "--days", repr(self.days),
                 *(["--rebuild"] if rebuild else [])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                # Out of the terminal's process group: a Ctrl-C meant for the dashboard is the
                # dashboard's to handle; the child goes when its stdin closes.
                start_new_session=True,
            )

    def planned(self, waiting: Callable[[], contextlib.AbstractContextManager]) -> FillProgress | None:
        """Wait until the child has looked at the cache (the database then exists); its
        first report, or None if it ended first. `waiting()`: a context to wait in while
        another demo's fill holds the cache."""
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip() == b'{"waiting": true}':
                with waiting():
                    return next(self.progress(), None)
            if (report := _parse(line)) is not None:
                return report
        return None

    def progress(self) -> Iterator[FillProgress]:
        """The child's progress reports until it exits (blocking: for a thread)."""
        assert self.proc is not None and self.proc.stdout is not None
        with contextlib.suppress(OSError, ValueError):  # the pipe went with the child
            for line in self.proc.stdout:
                if (report := _parse(line)) is not None:
                    yield report

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()

    def error(self) -> str:
        """The last line the child wrote to its log (why it failed)."""
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def stop(self) -> None:
        """End the child now and reap it (what it committed stays; the rest waits for the
        next fill)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        self.proc.wait()
        # (Its pipes are left to close with the objects: a thread may still be reading stdout,
        # which ends now that the child is gone.)


def _parse(line: bytes) -> FillProgress | None:
    try:
        data = json.loads(line)
        return FillProgress(int(data["done"]), int(data["total"]), float(data["until"]),
                            str(data["text"]), bool(data["building"]))
    except (ValueError, KeyError, TypeError):
        return None


def _exit_when_orphaned() -> None:
    """Exit at once when stdin closes: the dashboard is gone (a transaction in flight is rolled
    back by SQLite, the locks go with the process)."""

    def watch() -> None:
        with contextlib.suppress(OSError):  # (os.read: no buffer lock held at shutdown)
            while os.read(0, 4096):
                pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


@contextlib.contextmanager
def _say_waiting() -> Iterator[None]:
    print(json.dumps({"waiting": True}), flush=True)
    yield


async def _fill(path: Path, seed: int, days: float, rebuild: bool) -> None:
    from covtui.demo.database import demo_lock, fill_demo_database, plan_demo_database
    from covtui.demo.sources import materialise_sources
    from covtui.errors import ScanBusy
    from covtui.scan.lock import ScanLock

    with demo_lock(path, on_wait=_say_waiting):
        lock = ScanLock(path)
        while True:  # a pretend rescan of another demo dashboard ends within seconds
            try:
                lock.acquire()
                break
            except ScanBusy:
                await asyncio.sleep(0.2)
        try:
            plan = await plan_demo_database(path, seed=seed, days=days, rebuild=rebuild)
            history = plan.history
            sources = [False]

            def report(done: int, total: int) -> None:
                index = plan.first + done  # the next one to write
                building = plan.first < history.n
                if building:
                    day = min(index, history.n) * history.interval_s // 86400
                    text = f"building the demo's {history.days:g}-day history: day {day:.0f} of {history.days:g}"
                else:
                    text = f"bringing the demo up to now: {done:,} of {total:,} snapshots"
                print(json.dumps({"done": done, "total": total, "text": text, "building": building,
                                  "until": history.time_of(plan.stop - 1)}), flush=True)
                if done and not sources[0]:  # once the dashboard has its first data
                    sources[0] = True
                    materialise_sources(path, seed=seed)

            report(0, plan.remaining)
            await fill_demo_database(plan, report)
            if not sources[0]:
                materialise_sources(path, seed=seed)
        finally:
            lock.release()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m covtui.demo.fill")
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--days", type=float, default=90.0)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    _exit_when_orphaned()
    started = time.perf_counter()
    asyncio.run(_fill(args.path, args.seed, args.days, args.rebuild))
    print(f"filled in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
