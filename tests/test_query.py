"""The query layer: one recommendations pipeline, and questions asked of a closed database."""

from __future__ import annotations

from pathlib import Path

import pytest

from covtui.config import Config
from covtui.domain.gaps import analyse_file
from covtui.domain.model import RunStatus, SnapshotDraft, SourceResult
from covtui.domain.recommend import IMMEDIATE, SECONDARY, recommendations
from covtui.errors import StoreError
from covtui.query.files import read_source
from covtui.query.queries import Queries
from covtui.query.recommendations import N_SECONDARY, recommend
from covtui.record import record_snapshot
from covtui.store import Store

from .test_gaps import SERVICE_PATH, service  # noqa: F401  (the fixture)


async def stored(root: Path, report, tmp_path: Path) -> Path:
    path = tmp_path / "db.sqlite"
    async with await Store.open(path) as store:
        draft = SnapshotDraft("scan", [SourceResult("python", RunStatus.OK, report)], created_at=1e9)
        await record_snapshot(store, draft, Config(root=root))
    return path


async def test_recommend_is_the_domain_pipeline_over_the_stored_files(service, tmp_path: Path) -> None:  # noqa: F811
    root, reports = service
    config = Config(root=root, critical_files=1)
    async with await Store.open(await stored(root, reports["first"], tmp_path), read_only=True) as store:
        result = await recommend(store, config)
        files = await store.files()
        gaps = {
            f.path: analyse_file(await store.file_detail(f.source, f.path), read_source(root, f.path))
            for f in files
        }
    expected = recommendations(files, lambda row: gaps[row.path], n_immediate=1, limit=1 + N_SECONDARY)
    assert result.items == expected
    assert [(r.priority, r.path) for r in result.items] == [
        (IMMEDIATE, SERVICE_PATH), (SECONDARY, "pkg/helpers.py"),
    ]
    # The report shows each recommended file's gaps: the same analysis, keyed by file.
    assert set(result.gaps) == {(r.source, r.path) for r in result.items}
    assert result.gaps[("python", SERVICE_PATH)] == gaps[SERVICE_PATH]


async def test_questions_need_the_connection_the_poller_opens(service, tmp_path: Path) -> None:  # noqa: F811
    root, reports = service
    queries = Queries(await stored(root, reports["first"], tmp_path), Config(root=root))
    with pytest.raises(StoreError, match="the database is not available: not connected yet"):
        await queries.files()
    await queries.connect()
    try:
        assert {f.path for f in await queries.files()} == {SERVICE_PATH, "pkg/helpers.py", "pkg/__init__.py"}
        recs = await queries.recommendations()
        assert recs[0].path == SERVICE_PATH
        state = await queries.dashboard("week")
        assert state.latest is not None and state.critical_files[0].path == SERVICE_PATH
    finally:
        await queries.close()
    queries.unavailable = "locked"
    with pytest.raises(StoreError, match="not available: locked"):
        await queries.alerts()
