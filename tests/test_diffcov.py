"""Diff coverage on a real temporary git repository."""

from __future__ import annotations

import json
import subprocess

from .conftest import Project


def git(project: Project, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=project.root, check=True, capture_output=True, text=True,
    ).stdout


def test_changed_lines_since_main_and_untracked_files(project: Project) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    git(project, "checkout", "-qb", "feature")
    # A committed change on the branch, partly tested, and a new file outside version control.
    calc = project.root / "pkg" / "calc.py"
    calc.write_text(calc.read_text() + "\n\ndef sign(n):\n    if n > 0:\n        return 1\n    return -1\n")
    git(project, "commit", "-qam", "sign")
    project.write("pkg/extra.py", "def triple(x):\n    return 3 * x\n")
    project.write("tests/test_sign.py", "from pkg.calc import sign\n\ndef test_sign():\n    assert sign(5) == 1\n")
    project.write("covtui.toml", "[alerts]\ndiff_coverage_min = 90\n")
    proc = project.covtui("scan")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    diff = status["diff_coverage"]
    assert diff["base"].startswith("main (")

    # What coverage.py says about exactly those lines.
    expected = project.coverage_json(project.db.parent / "run" / "python" / ".coverage")["files"]
    first_new = len(calc.read_text().splitlines()) - 3  # `def sign` line
    changed = {"pkg/calc.py": set(range(first_new - 2, first_new + 4)), "pkg/extra.py": None}
    n_statements = n_missing = 0
    for path, lines in changed.items():
        data = expected[path]
        statements = set(data["executed_lines"]) | set(data["missing_lines"])
        if lines is not None:
            statements &= lines
        n_statements += len(statements)
        n_missing += len(statements & set(data["missing_lines"]))
    assert (diff["num_statements"], diff["missing_lines"]) == (n_statements, n_missing)
    assert n_missing > 0
    alerts = json.loads(project.covtui("alerts", "--json", check=True).stdout)
    assert [a["rule"] for a in alerts] == ["diff_coverage"]


def test_outside_git_there_is_no_diff_coverage(project: Project) -> None:
    project.covtui("scan", check=True)
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert status["diff_coverage"] is None
