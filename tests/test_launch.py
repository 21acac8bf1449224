"""A scan's tests import pytest before coverage.py starts measuring (covtui_launch), unless
coverage.py would measure something that import ran: then they run as plain `coverage run`."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import Project, clean_env

#: Writes the command line the tests' Python was started with (after any start over).
ARGV_CONFTEST = """
import json, sys

with open("argv.json", "w") as f:
    json.dump(sys.orig_argv, f)
"""

TOTALS = ("num_statements", "covered_lines", "num_branches", "covered_branches", "percent_covered")


def plain_run(project: Project) -> dict:
    """`coverage json` of the same tests run as `python -m coverage run --branch -m pytest`."""
    data = project.root / "plain.coverage"
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}", "-m",
         "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:covtui"],
        cwd=project.root, env=clean_env(), check=True, capture_output=True,
    )
    return project.coverage_json(data)


def _stored_totals(project: Project) -> dict:
    status = json.loads(project.covtui("status", "--json", check=True).stdout)
    return {key: status["totals"][key] for key in TOTALS}


def test_the_tests_import_pytest_first_and_measure_what_a_plain_run_measures(
    project: Project,
) -> None:
    project.write("tests/conftest.py", ARGV_CONFTEST)
    project.covtui("scan", check=True)
    argv = json.loads((project.root / "argv.json").read_text())
    assert argv[1].endswith("covtui_launch.py"), argv  # not started over
    expected = plain_run(project)
    assert _stored_totals(project) == {key: expected["totals"][key] for key in TOTALS}


def test_a_project_measuring_what_pytest_imports_runs_plainly(project: Project) -> None:
    # iniconfig is one of pytest's own dependencies: imported unmeasured, its module-level
    # lines would be missing (32.55 % instead of 54.12 % when this was written).
    project.write("pyproject.toml", '[tool.coverage.run]\nsource_pkgs = ["iniconfig"]\n')
    project.write("tests/test_calc.py", """
        import iniconfig

        def test_parse():
            assert iniconfig.IniConfig("x.ini", data="[a]\\nb = 1\\n")["a"]["b"] == "1"
    """)
    project.write("tests/conftest.py", ARGV_CONFTEST)
    proc = project.covtui("scan", check=True)
    assert "tests 1 passed" in " ".join(proc.stdout.split())  # run once, not twice
    argv = json.loads((project.root / "argv.json").read_text())
    assert argv[1:3] == ["-m", "coverage"], argv  # started over as plain `coverage run`
    expected = plain_run(project)
    assert expected["totals"]["covered_lines"] > 0
    assert _stored_totals(project) == {key: expected["totals"][key] for key in TOTALS}


def test_pytest_starts_up_unmeasured_and_the_figures_are_a_plain_runs(project: Project) -> None:
    # A plugin from the ini file's options loads before the first conftest: while coverage.py
    # waits (covtui_contexts.pause_until_conftests), no tracer is set.
    project.write("plugtrace.py", """
        import json, sys

        with open("traced.json", "w") as f:
            json.dump(sys.gettrace() is not None, f)
    """)
    project.write(
        "pyproject.toml",
        '[tool.coverage.run]\nsource = ["pkg"]\n\n'
        '[tool.pytest.ini_options]\naddopts = "-p plugtrace"\n',
    )
    project.write("tests/conftest.py", ARGV_CONFTEST)
    project.covtui("scan", check=True)
    assert json.loads((project.root / "traced.json").read_text()) is False
    argv = json.loads((project.root / "argv.json").read_text())
    assert argv[1].endswith("covtui_launch.py"), argv  # not started over
    expected = plain_run(project)
    assert json.loads((project.root / "traced.json").read_text()) is True  # plain: measured
    assert _stored_totals(project) == {key: expected["totals"][key] for key in TOTALS}


def test_a_project_measuring_its_own_pytest_plugin_runs_plainly(project: Project) -> None:
    # Loaded from the ini file's options while coverage.py waits for the first conftest:
    # unmeasured, the plugin's module-level lines would be missing from the figures.
    project.write("pkg/plug.py", """
        import os

        MODE = os.environ.get("COVTUI_NO_SUCH_VARIABLE", "plain")


        def pytest_configure(config):
            config.covtui_plug_mode = MODE
    """)
    project.write(
        "pyproject.toml",
        '[tool.coverage.run]\nsource = ["pkg"]\n\n'
        '[tool.pytest.ini_options]\naddopts = "-p pkg.plug"\n',
    )
    project.write("tests/conftest.py", ARGV_CONFTEST)
    proc = project.covtui("scan", check=True)
    assert "tests 2 passed" in " ".join(proc.stdout.split())  # run once, not twice
    argv = json.loads((project.root / "argv.json").read_text())
    assert argv[1:3] == ["-m", "coverage"], argv  # started over as plain `coverage run`
    expected = plain_run(project)
    assert expected["files"]["pkg/plug.py"]["summary"]["covered_lines"] == 4
    assert _stored_totals(project) == {key: expected["totals"][key] for key in TOTALS}
