"""CI shards: the rules for a run of N shards that becomes one snapshot once all have arrived."""

from __future__ import annotations

import re

from covtui.display import printable
from covtui.domain.records import COMPLETE, FAILED, PENDING, CiRun

__all__ = ["COMPLETE", "FAILED", "PENDING", "CiRun"]

#: More shards than this in one run is a typo, not a CI matrix.
MAX_SHARDS = 1000
#: A run id: what CI names a run (`github.run_id`, with `-attempt`, a pipeline id, …).
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+#-]{0,127}")


def run_id_problem(run_id: str) -> str | None:
    """Why `run_id` cannot name a CI run, or None."""
    if RUN_ID.fullmatch(run_id):
        return None
    shown = printable(run_id[:60])
    return (f"--run {shown!r}: a run id is 1 to 128 letters, digits and . _ : / @ + # - "
            "(starting with a letter or digit)")


def parse_shard(text: str) -> tuple[int, int]:
    """`"K/N"` → (K, N) with 1 ≤ K ≤ N ≤ MAX_SHARDS; ValueError saying why not."""
    k_text, sep, n_text = text.partition("/")
    shown = printable(text[:40])
    if not sep or not k_text.isdigit() or not n_text.isdigit() or len(text) > 20:
        raise ValueError(f"--shard {shown!r}: should be K/N, e.g. 2/4 (shard 2 of 4)")
    k, n = int(k_text), int(n_text)
    if not 1 <= n <= MAX_SHARDS:
        raise ValueError(f"--shard {shown!r}: the number of shards should be 1 to {MAX_SHARDS}")
    if not 1 <= k <= n:
        raise ValueError(f"--shard {shown!r}: the shard should be 1 to {n}")
    return k, n


def shard_conflict(run: CiRun | None, k: int, n: int, digest: str) -> str | None:
    """Why shard `k` of `n` (inputs `digest`) cannot join `run`, or None when it can (or it is
    already there, byte for byte: see `is_repeat`)."""
    if run is None:
        return None
    name = f"CI run {printable(run.run_id)!r} ({printable(run.source)})"
    if run.n_shards != n:
        return f"{name} has {run.n_shards} shards, not {n}: refusing shard {k}/{n}"
    known = run.shards.get(k)
    if known is not None and known != digest:
        return (f"{name}: shard {k}/{n} was already stored with other contents; "
                "refusing to replace it (start a new run id to send it again)")
    if known is None and run.state != PENDING:
        return f"{name} is already {run.state}: refusing shard {k}/{n}"
    return None


def is_repeat(run: CiRun | None, k: int, digest: str) -> bool:
    """Shard `k` with these very inputs is already stored: sending it again changes nothing."""
    return run is not None and run.shards.get(k) == digest


def is_overdue(run: CiRun, now: float, timeout_s: float) -> bool:
    """A pending run whose first shard arrived more than `timeout_s` ago."""
    return run.state == PENDING and now - run.started_at > timeout_s


def missing_text(run: CiRun) -> str:
    """"shards 2 and 4 of 4" / "shard 3 of 4": the shards that have not arrived."""
    missing = run.missing
    if len(missing) == 1:
        return f"shard {missing[0]} of {run.n_shards}"
    shown = [str(k) for k in missing[:20]] + (["…"] if len(missing) > 20 else [])
    listed = ", ".join(shown[:-1]) + " and " + shown[-1]
    return f"shards {listed} of {run.n_shards}"


def timed_out_message(run: CiRun, timeout_s: float) -> str:
    """What a run that never completed is recorded with: the shards that never came."""
    return (f"CI run {printable(run.run_id)!r}: incomplete after {_hours(timeout_s)}: "
            f"{missing_text(run)} never arrived")


def state_text(run: CiRun, now: float, timeout_s: float) -> str:
    """One sentence: where a CI run stands ("incomplete: 3 of 4 shards, waiting for shard 2")."""
    name = f"CI run {printable(run.run_id)!r} ({printable(run.source)})"
    if run.state == COMPLETE:
        return f"{name}: complete: {run.n_shards} of {run.n_shards} shards, snapshot #{run.snapshot_id}"
    if run.state == FAILED:
        return f"{name}: failed: {printable(run.message)}"
    arrived = f"incomplete: {len(run.shards)} of {run.n_shards} shards"
    if is_overdue(run, now, timeout_s):
        return (f"{name}: {arrived}; timed out ({_hours(timeout_s)}) waiting for "
                f"{missing_text(run)}: recorded as failed by the next ingest or scan")
    return f"{name}: {arrived}, waiting for {missing_text(run)}"


def short_state_text(run: CiRun, now: float, timeout_s: float) -> str:
    """`state_text` of a pending run for one line among others: "CI run 7 (python): incomplete:
    3 of 4 shards"."""
    name = f"CI run {printable(run.run_id)} ({printable(run.source)})"
    if is_overdue(run, now, timeout_s):
        return f"{name}: timed out waiting for {missing_text(run)}"
    return f"{name}: incomplete: {len(run.shards)} of {run.n_shards} shards"


def _hours(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
