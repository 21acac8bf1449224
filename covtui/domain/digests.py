"""Content digests: how covtui tells whether a file's bytes changed (BLAKE2b, 128 bits)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def changed_during_run(before: Mapping[str, str], read: Mapping[str, str]) -> list[str]:
    """The files whose bytes the report read differ from theirs when the tests started
    (`before`): the run's data describes code the report no longer shows. Files new since
    then are not among them (a test may write and import one: its data is of those bytes)."""
    return sorted(p for p, digest in read.items() if before.get(p, digest) != digest)


def saved_meanwhile(before: Mapping[str, str] | None, read: Mapping[str, str] | None) -> str:
    """What a run whose sources changed under it says ("" when none did, or either side is
    not known): the first file, how many more, and why its figures can't stand."""
    if before is None or read is None:
        return ""
    changed = changed_during_run(before, read)
    if not changed:
        return ""
    more = f" (and {len(changed) - 1:,} more)" if len(changed) > 1 else ""
    return (
        f"{changed[0]}{more} changed while the tests ran: their coverage data is of the code "
        "before it, so its figures are void"
    )
