"""`covtui watch`: rescan on an interval and, optionally, when source or test files change.

The watcher beats into the database so the dashboard can tell it is alive and when it scans
next. It never overlaps another scan (the scan lock), and SIGINT/SIGTERM/SIGHUP end it cleanly
(exit 0: stopping is how a watcher ends): a scan in flight is cancelled and recorded as cancelled
(one already storing its snapshot finishes that first, and says what it stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import socket
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import watchfiles

from covtui.config import Config
from covtui.errors import ScanBusy, StoreError
from covtui.folder import covtui_files as _covtui_files
from covtui.hooks import run_alert_hook
from covtui.present.text import coverage_text
from covtui.scan import early as early_tests
from covtui.scan import run_scan
from covtui.signals import STOP_SIGNALS
from covtui.store import Store

HEARTBEAT_S = 5.0
WATCHED_SUFFIXES = (
    ".py", ".pyi", ".rs", ".c", ".h", ".cc", ".cpp", ".hpp", ".js", ".ts", ".jsx", ".tsx",
    ".go", ".toml", ".cfg", ".ini",
)
IGNORED_PARTS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox",
                 ".nox", ".venv", "venv", "node_modules", "target", "build", "dist", "htmlcov"}


class Watcher:
    def __init__(
        self,
        config: Config,
        *,
        interval_s: float,
        on_change: bool,
        sources: list[str] | None = None,
        log: Callable[[str], None] = print,
        affected: bool = False,
        settle_s: float | None = None,
    ) -> None:
        self.config = config
        #: Seconds without another change before an --on-change scan (config: watch_settle).
        self.settle_s = config.watch_settle if settle_s is None else settle_s
        #: Rescan only the tests the changes affect where that is exact (`scan --affected`).
        self.affected = affected
        self.interval_s = interval_s
        self.on_change = on_change
        self.sources = sources
        self.log = log
        self.name = f"watch@{socket.gethostname()}:{os.getpid()}"
        self.stop = asyncio.Event()
        self.changed = asyncio.Event()
        self.next_scan_at = time.time()
        self.state = "starting"
        self._state_changed = asyncio.Event()
        self._scan_task: asyncio.Task | None = None
        self._ignore = ChangeFilter(config)

    def request_stop(self) -> None:
        if not self.stop.is_set():
            self.log("stopping…")
        self.stop.set()
        if self._scan_task is not None:
            self._scan_task.cancel()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.request_stop)
        store = await Store.open(self.config.database_target)
        # Each scan finds its tests started up to the project's code (covtui.scan.early).
        warming = asyncio.ensure_future(asyncio.to_thread(early_tests.prestart, self.config))
        started_at = time.time()
        helpers = [asyncio.create_task(self._beat(store, started_at))]
        if self.on_change:
            helpers.append(asyncio.create_task(self._watch_files()))
        self.log(
            f"watching {self.config.root}: a scan every {self.interval_s:g}s"
            + (f", and when files change ({self.settle_s:g}s after the last)" if self.on_change else "")
        )
        try:
            while not self.stop.is_set():
                await self._wait_for_trigger()
                if self.stop.is_set():
                    break
                self.next_scan_at = time.time() + self.interval_s
                await self._scan_once()
                self.next_scan_at = time.time() + self.interval_s
        finally:
            for task in helpers:
                task.cancel()
            for task in helpers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(StoreError, Exception):
                await store.end_beat(self.name)
            await store.close()
            await asyncio.wait([warming])
            await asyncio.to_thread(early_tests.discard_warm)
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
        self.log("stopped")
        return 0

    async def _wait_for_trigger(self) -> None:
        self._set_state("idle")
        while not self.stop.is_set():
            delay = self.next_scan_at - time.time()
            if delay <= 0:
                return
            waits = [asyncio.create_task(self.stop.wait()), asyncio.create_task(self.changed.wait())]
            done, pending = await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            if self.changed.is_set() and not self.stop.is_set():
                # Debounce: scan once the tree has been quiet for a moment.
                while True:
                    self.changed.clear()
                    try:
                        await asyncio.wait_for(self.changed.wait(), self.settle_s)
                    except asyncio.TimeoutError:
                        break
                self.changed.clear()
                self.log("files changed: scanning")
                return

    async def _scan_once(self) -> None:
        self._set_state("scanning")
        self._scan_task = asyncio.create_task(
            run_scan(
                self.config, sources=self.sources, trigger="watch", affected=self.affected,
                keep_warm=True,
            )
        )
        try:
            outcome = await self._scan_task
        except ScanBusy as exc:
            self.log(f"skipped: {exc}")
            return
        except asyncio.CancelledError:
            self.log("scan cancelled (recorded as cancelled)")
            return
        except Exception as exc:  # a watcher survives a bad scan and tries again later
            self.log(f"scan failed: {exc}")
            return
        finally:
            self._scan_task = None
        for note in outcome.notes:
            self.log(note)
        latest = outcome.draft
        parts = []
        for result in latest.sources:
            shown = coverage_text(result.numbers, self.config.precision)
            parts.append(f"{result.name} {shown}"
                         + ("" if result.status.value == "ok" else f" ({result.status.value})"))
        self.log(
            f"snapshot #{outcome.snapshot_id} {outcome.status.value}: {', '.join(parts)}"
            + (f"; {len(outcome.alerts)} alert(s)" if outcome.alerts else "")
        )
        for alert in outcome.alerts:
            self.log(f"  {alert.severity.value}: {alert.message}")
        await run_alert_hook(self.config, outcome.alerts, self.log)

    async def _beat(self, store: Store, started_at: float) -> None:
        while True:
            try:
                await store.beat(
                    self.name, started_at=started_at, next_scan_at=self.next_scan_at,
                    state=self.state,
                )
            except StoreError as exc:
                self.log(f"heartbeat: {exc}")
            # Beat again after a while, or at once when the state changes.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._state_changed.wait(), HEARTBEAT_S)
            self._state_changed.clear()

    def _set_state(self, state: str) -> None:
        self.state = state
        self._state_changed.set()

    async def _watch_files(self) -> None:
        async for changes in watchfiles.awatch(
            self.config.root, watch_filter=self._ignore.wanted, debounce=800,
            stop_event=self.stop, recursive=True,
        ):
            paths = [Path(p) for _, p in changes]
            if await self._ignore.any_unignored(paths):
                self.changed.set()


class ChangeFilter:
    """Which file changes matter: code and config, minus coverage omits, .gitignore, outputs."""

    def __init__(self, config: Config) -> None:
        self.root = config.root
        self.omit = _coverage_omit(config.root)
        outputs = covtui_files(config)
        for source in config.sources:
            for path in (source.report, source.junit):
                if path:
                    outputs.append((config.root / path).resolve())
        self.outputs = outputs

    def wanted(self, change: watchfiles.Change, path: str) -> bool:
        p = Path(path)
        if not p.name.endswith(WATCHED_SUFFIXES) or p.name.startswith(".coverage"):
            return False
        try:
            rel = p.relative_to(self.root)
        except ValueError:
            return False
        if IGNORED_PARTS.intersection(rel.parts):
            return False
        if any(p == out or out in p.parents for out in self.outputs):
            return False
        return not any(
            fnmatch.fnmatch(str(rel), pattern) or fnmatch.fnmatch(path, pattern) for pattern in self.omit
        )

    async def any_unignored(self, paths: Iterable[Path]) -> bool:
        """True unless git says every path is ignored (no git: nothing is ignored)."""
        paths = list(paths)
        try:
            process = await asyncio.create_subprocess_exec(
                "git", "check-ignore", "--stdin", "-z", cwd=self.root,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await process.communicate(b"\0".join(os.fsencode(p) for p in paths))
        except OSError:
            return True
        if process.returncode not in (0, 1):  # 128: not a git repository
            return True
        ignored = {Path(os.fsdecode(p)) for p in out.split(b"\0") if p}
        return any(p not in ignored for p in paths)


def covtui_files(config: Config) -> list[Path]:
    """What covtui itself writes (folder.covtui_files; for a PostgreSQL database, the local
    files in the project's `.covtui/`)."""
    return _covtui_files(config.lock_base, config.root)


def _coverage_omit(root: Path) -> list[str]:
    """The project's coverage.py `omit` patterns (run and report), as coverage reads them."""
    from covtui.coverage_compat import coverage_omit

    for name in (".coveragerc", "setup.cfg", "tox.ini", "pyproject.toml"):
        path = root / name
        if path.is_file():
            try:
                return coverage_omit(path)
            except Exception:  # a broken coverage config is the scan's error to report
                return []
    return []


def timestamped(message: str) -> str:
    return f"{datetime.now():%H:%M:%S} {message}"
