"""Flaky lines: found by repeated real scans of a test whose branch depends on a random value,
and left out of the coverage-drop rule."""

from __future__ import annotations

import json
import random

from covtui.domain.flaky import Score

from .conftest import Project

COIN = '''
import os
import random


def toss():
    rng = random.Random(int(os.environ["COIN_SEED"]))
    if rng.random() < 0.5:
        a = 1
        b = a + 1
        c = b + 1
        d = c + 1
        e = d + 1
        f = e + 1
        g = f + 1
        h = g + 1
        i = h + 1
        return i
    return 0
'''
HEADS_LINES = list(range(9, 19))  # the ten lines run when the coin falls "heads"

TOSS_TEST = '''
from pkg.coin import toss


def test_toss():
    assert toss() in (0, 9)
'''


def _seed(heads: bool) -> int:
    """A seed on which the coin falls as asked (the same generator the test runs)."""
    return next(s for s in range(100) if (random.Random(s).random() < 0.5) == heads)


def _scan(project: Project, heads: bool) -> None:
    config = (project.root / "pyproject.toml").read_text().split("[[tool.covtui.sources]]")[0]
    project.write("pyproject.toml", config + (
        f'[[tool.covtui.sources]]\nname = "python"\nenv = {{ COIN_SEED = "{_seed(heads)}" }}\n'
    ))
    project.covtui("scan", check=True)


def _alerts(project: Project, snapshot: int) -> list[dict]:
    alerts = json.loads(project.covtui("alerts", "--all", "--json", check=True).stdout)
    return [a for a in alerts if a["snapshot_id"] == snapshot]


def _status(project: Project) -> dict:
    return json.loads(project.covtui("status", "--json", check=True).stdout)


def test_a_random_branch_is_flaky_and_stays_out_of_the_drop_alert(project: Project) -> None:
    project.write("pkg/coin.py", COIN)
    project.write("tests/test_coin.py", TOSS_TEST)
    project.write("pyproject.toml", (project.root / "pyproject.toml").read_text()
                  + "[tool.covtui.alerts]\ncoverage_drop = 0.5\n")
    _scan(project, heads=True)  # 1
    assert _status(project)["flaky_lines"] == 0
    before = _status(project)["totals"]["percent_covered"]
    _scan(project, heads=False)  # 2: ten lines lost, one gained, by chance
    after = _status(project)
    assert before - after["totals"]["percent_covered"] >= 0.5  # coverage did fall
    assert after["flaky_lines"] == 11  # the ten heads lines and the tails return
    assert not [a for a in _alerts(project, 2) if a["rule"] == "coverage_drop"]
    e = json.loads(project.covtui("explain", "--json", check=True).stdout)
    (flaky,) = [c for c in e["causes"] if c["kind"] == "flaky"]
    assert flaky["files"][0]["lines"] == [*HEADS_LINES, 19]
    assert flaky["tests"] == ["tests/test_coin.py::test_toss"]

    _scan(project, heads=True)  # 3
    # 4: the coin again, and a real loss with it: classify's test is deleted.
    project.write("tests/test_calc.py", "from pkg.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    _scan(project, heads=False)
    (drop,) = [a for a in _alerts(project, 4) if a["rule"] == "coverage_drop"]
    assert "points from 10 flaky lines not counted); largest cause: tests_removed, 3 covered " \
        "lines: tests/test_calc.py::test_classify" in drop["message"]
    fell = float(drop["message"].split("fell ")[1].split(" points")[0])
    points = float(drop["message"].split("(")[-1].split(" points from")[0])
    assert abs(fell - points - drop["value"]) < 0.01
    # Counted, the same loss is the flaky lines' (less the tails line they gained).
    project.write("pyproject.toml", (project.root / "pyproject.toml").read_text().replace(
        "coverage_drop = 0.5\n", "coverage_drop = 0.5\ncount_flaky = true\n"))
    _scan(project, heads=True)  # 5
    _scan(project, heads=False)  # 6
    (drop,) = [a for a in _alerts(project, 6) if a["rule"] == "coverage_drop"]
    assert "not counted" not in drop["message"]
    assert drop["message"].endswith("largest cause: flaky, 9 covered lines: tests/test_coin.py::test_toss")


def test_a_flip_decays() -> None:
    s = Score(1.0, 0.0)
    assert s.is_flaky(6.9 * 86400, 7.0) and not s.is_flaky(7.1 * 86400, 7.0)
    assert Score(2.0, 0.0).is_flaky(13.9 * 86400, 7.0)
