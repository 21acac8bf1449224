"""The collector's tuning: one-shot commands and workers collect less often, the dashboard
keeps Python's defaults."""

from __future__ import annotations

import gc

import pytest

import covtui.cli as cli_module
from covtui import collector
from covtui.tui import app as app_module


@pytest.fixture(autouse=True)
def restore_gc():
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_a_command_runs_with_the_batch_thresholds_and_exits_frozen(monkeypatch):
    seen = []
    monkeypatch.setattr(cli_module, "cli", lambda **_: seen.append(gc.get_threshold()))
    gc.set_threshold(*collector.DEFAULT_THRESHOLDS)
    cli_module.main()
    assert seen == [collector.BATCH_THRESHOLDS]
    assert gc.get_freeze_count() > 0


def test_the_dashboard_runs_with_the_default_thresholds(monkeypatch, tmp_path):
    seen = []

    class FakeApp:
        def __init__(self, *args, **kwargs):
            self.stop_signal = None

        def run(self):
            seen.append(gc.get_threshold())

    monkeypatch.setattr(app_module, "CovtuiApp", FakeApp)
    collector.for_batch_work()
    app_module.run_dashboard(None, tmp_path / "db", scanner=None)
    assert seen == [collector.DEFAULT_THRESHOLDS]
    assert collector.DEFAULT_THRESHOLDS != collector.BATCH_THRESHOLDS
