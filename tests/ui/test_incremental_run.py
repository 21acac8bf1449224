"""The Last-run panel of an incremental snapshot says how much of the suite ran, and does not
time it against runs of the whole suite."""

from __future__ import annotations

from covtui.scan import run_scan

from ..conftest import Project
from ..test_affected import SHAPES, TEST_SHAPES, TEST_WORDS, WORDS
from .conftest import loaded, make_app


async def test_the_last_run_panel_says_incremental_n_of_m_tests(tmp_path) -> None:
    from covtui.widgets.last_run import LastRun

    p = Project(tmp_path / "lib")
    p.write("lib/__init__.py", "")
    p.write("lib/shapes.py", SHAPES)
    p.write("lib/words.py", WORDS)
    p.write("tests/test_shapes.py", TEST_SHAPES)
    p.write("tests/test_words.py", TEST_WORDS)
    config = p.config
    await run_scan(config)
    p.write("lib/words.py", WORDS.replace("total += 1", "total = total + 1"))
    outcome = await run_scan(config, affected=True)
    assert outcome.draft.scope == "incremental"
    app = make_app(config, p.db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = str(app.screen.query_one(LastRun).render())
    assert "incremental: 1 of 4 tests" in text  # count()'s test: the edit is inside it
    duration = next(line for line in text.splitlines() if line.startswith("Duration"))
    assert "%" not in duration  # not compared with the full run's time
