"""Fixture projects measured by the real coverage.py, and a strict comparison with `coverage json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from covtui.domain.model import CoverageReport
from covtui.readers import relative_path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env.pop("PYTHONPATH", None)
    return env


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def coverage(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m coverage ARGS` in `root`; fails the test if it fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "coverage", *args],
        cwd=root, env=_env(), capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def coverage_json(root: Path) -> dict:
    """`coverage json` from `root` (keeping any shard files it combines)."""
    coverage(root, "json", "--keep-combined", "-o", "cov.json")
    data = json.loads((root / "cov.json").read_text())
    (root / "cov.json").unlink()
    return data


def assert_agrees(report: CoverageReport, expected: dict, root: Path) -> None:
    """Every per-file figure, line and branch list, the file set and the totals equal the json's."""
    files = {f.path: f for f in report.files}
    want = {relative_path(k, root): v for k, v in expected["files"].items()}
    assert sorted(files) == sorted(want)
    assert report.has_branches == expected["meta"]["branch_coverage"]
    for path, exp in want.items():
        got = files[path]
        summary = exp["summary"]
        n = got.numbers
        actual = {
            "num_statements": n.n_statements,
            "missing_lines": n.n_missing,
            "excluded_lines": n.n_excluded,
            "covered_lines": n.n_executed,
        }
        wanted = {k: summary[k] for k in actual}
        if report.has_branches:
            actual |= {
                "num_branches": n.n_branches,
                "num_partial_branches": n.n_partial_branches,
                "missing_branches": n.n_missing_branches,
            }
            wanted |= {k: summary[k] for k in actual if k not in wanted}
            assert [list(a) for a in got.missing_arcs] == exp["missing_branches"], path
        assert actual == wanted, path
        assert list(got.missing_lines) == exp["missing_lines"], path
        assert n.n_files == 1
        assert n.n_files_covered == (1 if summary["covered_lines"] else 0)
        # Functions and classes: statement counts as json's per-region summaries.
        for kind, plural in (("function", "functions"), ("class", "classes")):
            regions = {
                (r["start_line"], r["summary"]["num_statements"], r["summary"]["missing_lines"])
                for name, r in exp[plural].items()
                if name
            }
            mine = {
                (f.start_line, f.n_statements, f.n_missing)
                for f in got.functions
                if (f.kind == "class") == (kind == "class")
            }
            assert mine == regions, (path, plural)
    totals = report.numbers.as_coverage_json()
    for key in ("covered_lines", "num_statements", "missing_lines", "excluded_lines"):
        assert totals[key] == expected["totals"][key], key
    if report.has_branches:
        for key in ("num_branches", "num_partial_branches", "covered_branches", "missing_branches"):
            assert totals[key] == expected["totals"][key], key
    assert totals["percent_covered"] == expected["totals"]["percent_covered"]
