"""Many live panes on one PostgreSQL server: `python -m benchmarks.panes [--quick]`.

20 dashboard pollers and 4 writers against one database on one server, twice: once as the
dashboard runs on PostgreSQL (LISTEN/NOTIFY, a change check at each notification, a 30 s
fallback poll), once as the baseline, plain polling of `data_version()` every second.

The panes are headless: each is a process running covtui's real `Poller` and `Queries`
(every change check and full reload a dashboard does), with its messages recorded instead of
drawn; there are no 20 terminals. The writers are processes recording the demo history's next
snapshots (with the alerts they raise) through covtui's store, spread evenly in time.

Measured:
- latency: a writer's commit (the time `record_snapshot` returned) → each pane's full reload
  showing that snapshot (the `DashboardLoaded` message posted): median, p95, max over every
  (snapshot, pane);
- refresh cost per pane: queries per full reload and per idle change check, milliseconds per
  full reload (the poller's own `load_s`), queries per second per pane; CPU per full reload,
  the pane process's own (`time.process_time()` around the reload) and the server's (its
  pane backends' CPU while writing over the number of reloads, change checks included): what
  20 reloads at once ask of the 2 cores that run the panes, the server and the writers here;
- server CPU: user + system time of the server backends serving the panes (their query
  connections and, with LISTEN, their listening ones) and the writers, from /proc/PID/stat of
  each backend (pids from pg_stat_activity); pg_stat_statements is not preloaded on this
  server, so it cannot be used. The postmaster's background processes are left out.

The database (a fresh `covtui_bench_…` one, seeded with 7 days of the demo history through
`covtui migrate`) is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ADMIN_URL = os.environ.get("COVTUI_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SEED_DAYS = 7
END = 1_758_000_000.0
MODES = ("listen", "poll")


def _url(database: str, application_name: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}",
                       f"application_name={application_name}", ""))


def _admin(sql: str, params: tuple = ()) -> list:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# -- a pane: the real poller, headless ---------------------------------------------------------


class _Handle:
    def __init__(self, handle: asyncio.TimerHandle) -> None:
        self.handle = handle

    def stop(self) -> None:
        self.handle.cancel()


class HeadlessTarget:
    """What the poller posts to and schedules on, instead of a Textual screen."""

    def __init__(self, on_message) -> None:
        self.on_message = on_message
        self.tasks: set[asyncio.Task] = set()

    def set_timer(self, delay: float, callback, name: str = "") -> _Handle:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            task = loop.create_task(callback())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        return _Handle(loop.call_later(delay, fire))

    def post_message(self, message) -> bool:
        self.on_message(message)
        return True


async def run_pane(url: str, mode: str, seconds: float, out: Path) -> None:
    from covtui.config import Config
    from covtui.dsn import PostgresTarget
    from covtui.query.queries import Queries
    from covtui.store import postgres
    from covtui.tui import poller as poller_module
    from covtui.tui.messages import DashboardLoaded, PollFailed, PollSucceeded

    n_queries = 0
    for name in ("fetchall", "execute", "executemany", "insert"):
        method = getattr(postgres.PostgresConnection, name)

        def counted(method):
            async def wrapper(self, *args, **kwargs):
                nonlocal n_queries
                n_queries += 1
                return await method(self, *args, **kwargs)
            return wrapper

        setattr(postgres.PostgresConnection, name, counted(method))
    if mode == "poll":
        async def no_feed(target):
            return None

        poller_module.open_change_feed = no_feed

    records: list[list] = []
    last_count = 0
    # The pane process's own CPU for its last full reload (the client's share of a reload).
    reload_cpu = [0.0]
    dashboard = Queries.dashboard

    async def measured_dashboard(self, *args, **kwargs):
        started = time.process_time()
        try:
            return await dashboard(self, *args, **kwargs)
        finally:
            reload_cpu[0] = time.process_time() - started

    Queries.dashboard = measured_dashboard

    def on_message(message) -> None:
        nonlocal last_count
        now = time.time()
        spent, last_count = n_queries - last_count, n_queries
        if isinstance(message, DashboardLoaded):
            latest = message.state.latest.id if message.state.latest else None
            records.append(["load", now, latest, spent, message.status.load_s, reload_cpu[0]])
        elif isinstance(message, PollSucceeded):
            records.append(["check", now, None, spent, None])
        elif isinstance(message, PollFailed):
            records.append(["failed", now, None, spent, message.status.error])

    target = PostgresTarget.parse(url)
    config = Config(root=out.parent, database=url, poll_interval=1.0, bell=False)
    poller = poller_module.Poller(HeadlessTarget(on_message), Queries(target, config))
    poller.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    await poller.stop()
    out.write_text(json.dumps({"records": records, "n_queries": n_queries}))


# -- a writer ------------------------------------------------------------------------------------


async def run_writer(url: str, index: int, n_writers: int, every: float, seconds: float,
                     start_at: float, out: Path) -> None:
    from covtui.config import Config
    from covtui.demo import DemoHistory
    from covtui.dsn import PostgresTarget
    from covtui.record import record_snapshot
    from covtui.store import Store

    history = DemoHistory(days=SEED_DAYS, end=END)
    drafts = itertools.islice(history.drafts(), history.n + index, None, n_writers)
    config = Config(root=out.parent, database=url, bell=False)
    commits: list[list] = []
    async with await Store.open(PostgresTarget.parse(url), create=False) as store:
        await asyncio.sleep(max(0.0, start_at - time.time()) + index * every / n_writers)
        deadline = start_at + seconds
        next_at = time.time()
        while time.time() < deadline:
            draft = dataclasses.replace(next(drafts), created_at=time.time())
            snapshot_id, _ = await record_snapshot(store, draft, config)
            commits.append([snapshot_id, time.time()])
            next_at += every
            await asyncio.sleep(max(0.0, next_at - time.time()))
        out.write_text(json.dumps(commits))
        # Connected until the conductor has read this backend's CPU time.
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 120)


# -- the conductor ---------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_by_role(backends: dict[int, str], before: dict, after: dict) -> dict[str, float]:
    """CPU seconds each kind of backend spent between the two readings."""
    cpu: dict[str, float] = {}
    for pid, name in backends.items():
        if after.get(pid) is None:
            continue
        role = ("writers" if name == "bench-writer" else
                "pane listeners" if name == "covtui-listen" else
                "pane queries" if name.startswith("bench-pane") else None)
        if role:
            cpu[role] = cpu.get(role, 0.0) + after[pid] - (before.get(pid) or 0.0)
    return cpu


def _backends(database: str) -> dict[int, str]:
    return dict(_admin(
        "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s", (database,)
    ))


def _child(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.panes", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@dataclasses.dataclass
class ModeResult:
    mode: str
    latencies: list[float]
    noticed: list[float]
    missed: int
    load_queries: list[int]
    check_queries: list[int]
    load_ms: list[float]
    queries_per_s_per_pane: float
    cpu: dict[str, float]  # role → CPU seconds over the measured window
    window_s: float
    n_snapshots: int
    failures: int
    idle_queries_per_s_per_pane: float
    idle_cpu: dict[str, float]
    idle_s: float
    load_cpu_ms: list[float]  # the pane process's CPU per full reload


def run_mode(database: str, mode: str, args, workdir: Path) -> ModeResult:
    folder = workdir / mode
    folder.mkdir()
    pane_seconds = args.idle + args.seconds + 600  # (stopped by the conductor before then)
    panes = [
        _child("--pane", mode, "--url", _url(database, f"bench-pane-{mode}"),
               "--seconds", str(pane_seconds), "--out", str(folder / f"pane{k}.json"))
        for k in range(args.panes)
    ]
    children = list(panes)
    try:
        # Every pane connected, listening (LISTEN mode) and past its first load.
        deadline = time.time() + 120
        expected = args.panes * (2 if mode == "listen" else 1)
        while sum(1 for n in _backends(database).values() if n.startswith(("bench-pane", "covtui-listen"))) < expected:
            if time.time() > deadline:
                raise SystemExit(f"{mode}: the panes did not all connect in 120 s")
            time.sleep(0.2)
        time.sleep(5)
        # Idle: nothing written; what the panes cost the server just by watching.
        backends = _backends(database)
        idle_before = {pid: _cpu_seconds(pid) for pid in backends}
        idle_from = time.time()
        time.sleep(args.idle)
        idle_s = time.time() - idle_from
        idle_cpu = _cpu_by_role(backends, idle_before, {pid: _cpu_seconds(pid) for pid in backends})
        idle_window = (idle_from, idle_from + idle_s)
        # Writing.
        cpu_before = {pid: _cpu_seconds(pid) for pid in backends}
        start_at = time.time() + 2
        writers = [
            _child("--writer", str(k), "--writers", str(args.writers), "--every", str(args.every),
                   "--seconds", str(args.seconds), "--start-at", str(start_at),
                   "--url", _url(database, "bench-writer"), "--out", str(folder / f"writer{k}.json"))
            for k in range(args.writers)
        ]
        children += writers
        deadline = time.time() + 60
        while sum(1 for n in _backends(database).values() if n == "bench-writer") < args.writers:
            if time.time() > deadline:
                raise SystemExit(f"{mode}: the writers did not all connect in 60 s")
            time.sleep(0.1)
        backends.update(_backends(database))
        for k in range(args.writers):
            path = folder / f"writer{k}.json"
            while not path.exists():
                if writers[k].poll() is not None:
                    raise SystemExit(f"a writer failed: {writers[k].stderr.read()[-2000:]}")
                time.sleep(0.1)
        time.sleep(10)  # the last commits' reloads
        window_s = time.time() - start_at
        cpu_after = {pid: _cpu_seconds(pid) for pid in backends}
        for c in children:
            c.send_signal(signal.SIGTERM)
        for c in children:
            if c.wait(timeout=60) != 0:
                raise SystemExit(f"a pane or writer failed: {c.stderr.read()[-2000:]}")
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.wait()
    cpu = _cpu_by_role(backends, cpu_before, cpu_after)

    commits = [c for k in range(args.writers) for c in json.loads((folder / f"writer{k}.json").read_text())]
    latencies, noticed, missed = [], [], 0
    load_queries, check_queries, load_ms, load_cpu_ms = [], [], [], []
    total_queries, idle_queries, failures = 0, 0, 0
    for k in range(args.panes):
        data = json.loads((folder / f"pane{k}.json").read_text())
        total_queries += sum(r[3] for r in data["records"] if start_at <= r[1] <= start_at + window_s)
        idle_queries += sum(r[3] for r in data["records"] if idle_window[0] <= r[1] <= idle_window[1])
        loads = [r for r in data["records"] if r[0] == "load"]
        failures += sum(1 for r in data["records"] if r[0] == "failed")
        for r in data["records"]:
            if r[1] < start_at:
                continue
            if r[0] == "load":
                load_queries.append(r[3])
                load_ms.append(r[4] * 1000)
                load_cpu_ms.append(r[5] * 1000)
            elif r[0] == "check":
                check_queries.append(r[3])
        for snapshot_id, committed_at in commits:
            seen = next((r for r in loads if r[2] is not None and r[2] >= snapshot_id and r[1] >= committed_at), None)
            if seen is None:
                missed += 1
            else:
                latencies.append(seen[1] - committed_at)
                # When the reload that showed it began: the wait for a notification or a poll.
                noticed.append(max(0.0, seen[1] - seen[4] - committed_at))
    return ModeResult(
        mode, latencies, noticed, missed, load_queries, check_queries, load_ms,
        total_queries / window_s / args.panes, cpu, window_s, len(commits), failures,
        idle_queries / idle_s / args.panes, idle_cpu, idle_s, load_cpu_ms,
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _pane_cpu(cpu: dict[str, float]) -> float:
    return cpu.get("pane queries", 0.0) + cpu.get("pane listeners", 0.0)


def report(results: list[ModeResult], args) -> None:
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average at the end: {' '.join(load)} ({os.cpu_count()} CPUs)")
    print(f"\n{args.panes} panes, {args.writers} writers, one snapshot every "
          f"{args.every / args.writers:.2f} s in all; per mode {args.idle:.0f} s idle, then "
          f"{args.seconds:.0f} s of writes\n")
    names = {"listen": "LISTEN/NOTIFY (30 s fallback poll)", "poll": "baseline: poll every 1 s"}
    rows = [
        ("snapshots written", lambda r: f"{r.n_snapshots}"),
        ("latency commit → pane reloaded, median", lambda r: f"{_pct(r.latencies, 0.5) * 1000:.0f} ms"),
        ("latency, p95", lambda r: f"{_pct(r.latencies, 0.95) * 1000:.0f} ms"),
        ("latency, max", lambda r: f"{max(r.latencies, default=float('nan')) * 1000:.0f} ms"),
        ("commit → reload started, median / p95", lambda r: f"{_pct(r.noticed, 0.5) * 1000:.0f} / {_pct(r.noticed, 0.95) * 1000:.0f} ms"),
        ("(snapshot, pane) pairs never shown", lambda r: f"{r.missed}"),
        ("full reloads per pane", lambda r: f"{len(r.load_ms) / args.panes:.1f}"),
        ("queries per full reload (median)", lambda r: f"{statistics.median(r.load_queries):.0f}" if r.load_queries else "-"),
        ("ms per full reload (median / p95)", lambda r: f"{_pct(r.load_ms, 0.5):.0f} / {_pct(r.load_ms, 0.95):.0f}"),
        ("CPU ms per full reload: pane process (median)", lambda r: f"{_pct(r.load_cpu_ms, 0.5):.1f}"),
        ("CPU ms per full reload: server (+ checks)", lambda r: f"{_pane_cpu(r.cpu) * 1000 / max(1, len(r.load_ms)):.1f}"),
        ("idle change checks per pane", lambda r: f"{len(r.check_queries) / args.panes:.1f}"),
        ("queries per idle check", lambda r: f"{statistics.median(r.check_queries):.0f}" if r.check_queries else "-"),
        ("idle (no writes): queries per second per pane", lambda r: f"{r.idle_queries_per_s_per_pane:.2f}"),
        ("idle: server CPU, pane backends (s per minute)", lambda r: f"{_pane_cpu(r.idle_cpu) * 60 / r.idle_s:.3f}"),
        ("writing: queries per second per pane", lambda r: f"{r.queries_per_s_per_pane:.2f}"),
        ("writing: server CPU, pane backends (s per minute)", lambda r: f"{_pane_cpu(r.cpu) * 60 / r.window_s:.2f}"),
        ("  of which listening connections", lambda r: f"{r.cpu.get('pane listeners', 0) * 60 / r.window_s:.2f}"),
        ("writing: server CPU, writer backends (s per minute)", lambda r: f"{r.cpu.get('writers', 0) * 60 / r.window_s:.2f}"),
        ("failed polls", lambda r: f"{r.failures}"),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'':{width}}  " + "  ".join(f"{names[r.mode]:>36}" for r in results))
    for label, cell in rows:
        print(f"{label:{width}}  " + "  ".join(f"{cell(r):>36}" for r in results))


async def seed(database: str, workdir: Path) -> None:
    from covtui.demo import build_demo_database
    from covtui.store.migrate import migrate, open_endpoint

    path = workdir / "seed.db"
    await build_demo_database(path, days=SEED_DAYS, interval_s=300, end=END)
    source = await open_endpoint(str(path), writable=False)
    dest = await open_endpoint(_url(database, "bench-seed"), writable=True)
    try:
        await migrate(source, dest)
    finally:
        await dest.close()
        await source.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.panes", description=__doc__.splitlines()[0])
    parser.add_argument("--panes", type=int, default=20)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0, help="writing time per mode")
    parser.add_argument("--every", type=float, default=20.0, help="seconds between one writer's snapshots")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds watched with no writes, per mode")
    parser.add_argument("--quick", action="store_true", help="5 panes, 2 writers, 15 s per mode")
    parser.add_argument("--modes", default=",".join(MODES))
    # The children's roles.
    parser.add_argument("--pane", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--writer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pane:
        asyncio.run(run_pane(args.url, args.pane, args.seconds, args.out))
        return 0
    if args.writer is not None:
        asyncio.run(run_writer(args.url, args.writer, args.writers, args.every, args.seconds,
                               args.start_at, args.out))
        return 0
    if args.quick:
        args.panes, args.writers, args.seconds, args.idle = 5, 2, 15.0, 10.0
    database = f"covtui_bench_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{database}"')
    try:
        with tempfile.TemporaryDirectory(prefix="covtui-panes-") as tmp:
            workdir = Path(tmp)
            print(f"seeding {database} with {SEED_DAYS} days of the demo history …", flush=True)
            asyncio.run(seed(database, workdir))
            results = []
            for mode in args.modes.split(","):
                print(f"{mode}: {args.panes} panes, {args.writers} writers, {args.seconds:.0f} s …", flush=True)
                results.append(run_mode(database, mode, args, workdir))
            report(results, args)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
