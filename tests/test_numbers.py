"""covtui's copy of coverage.py's percentage display rule says what coverage.py's says."""

from __future__ import annotations

import subprocess
import sys

import pytest
from coverage.results import display_covered as coverage_display_covered
from hypothesis import given
from hypothesis import strategies as st

from covtui.domain.numbers import display_covered

from .conftest import clean_env

EDGES = [0.0, 1e-300, 0.001, 0.004999, 0.005, 0.0099, 0.01, 0.5, 49.995, 50.0, 99.98, 99.985,
         99.989, 99.99, 99.994, 99.995, 99.999, 99.99999999, 100.0]


@pytest.mark.parametrize("precision", range(7))
@pytest.mark.parametrize("pc", EDGES)
def test_the_edges_display_as_coverage_py_displays_them(pc: float, precision: int) -> None:
    assert display_covered(pc, precision) == coverage_display_covered(pc, precision)


@given(st.floats(min_value=0, max_value=100), st.integers(min_value=0, max_value=8))
def test_any_percentage_displays_as_coverage_py_displays_it(pc: float, precision: int) -> None:
    assert display_covered(pc, precision) == coverage_display_covered(pc, precision)


def test_a_negative_precision_is_refused() -> None:
    with pytest.raises(ValueError):
        display_covered(50.0, -1)


def test_printing_a_percentage_does_not_import_coverage_py() -> None:
    code = (
        "import sys\n"
        "from covtui.domain.numbers import pc_str\n"
        "print(pc_str(99.999), pc_str(0.001, 1), 'coverage' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["99.99", "0.1", "False"]
