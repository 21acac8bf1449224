"""JUnit reader: counts agree with what pytest itself printed; nextest and jest-junit shapes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from covtui.errors import InputError
from covtui.readers import read_tests
from covtui.readers.junit import read_junit

from .conftest import BILLION_LAUGHS, EXTERNAL_ENTITY, PytestRun


def junit_name(nodeid: str) -> str:
    """pytest's "test_x.py::TestC::test_f" as JUnit names it: "test_x.TestC::test_f"."""
    parts = nodeid.split("::")
    module = parts[0].removesuffix(".py").replace("/", ".")
    return f"{'.'.join([module, *parts[1:-1]])}::{parts[-1]}"


def test_counts_match_pytest_summary(junit_run: PytestRun) -> None:
    outcomes = read_junit(junit_run.junit)
    counts = junit_run.counts
    assert outcomes.n_failed == counts.get("failed", 0)
    assert outcomes.n_errors == counts.get("errors", 0)
    assert outcomes.n_skipped == counts.get("skipped", 0)
    assert outcomes.n_passed == counts.get("passed", 0)
    assert outcomes.n_tests == sum(counts.values())
    assert outcomes.duration_s is not None
    assert 0 <= outcomes.duration_s <= junit_run.duration_s


def test_failures_are_named_and_one_line(junit_run: PytestRun) -> None:
    outcomes = read_junit(junit_run.junit)
    assert {f.name for f in outcomes.failures} == {junit_name(i) for i in junit_run.failed_ids}
    for failure in outcomes.failures:
        assert failure.message and "\n" not in failure.message
    by_name = {f.name: f.message for f in outcomes.failures}
    assert "numbers differ" in by_name["test_sample::test_fail_one"]
    assert by_name["test_sample::test_fail_two"] == "ValueError: bad value"
    assert "fixture exploded" in by_name["test_sample::test_error"]


def test_suite_attributes_that_lie_are_ignored(junit_run: PytestRun, tmp_path: Path) -> None:
    xml = junit_run.junit.read_text()
    lying = re.sub(r'(<testsuite [^>]*?)tests="\d+"', r'\1tests="999"', xml)
    lying = re.sub(r'(<testsuite [^>]*?)failures="\d+"', r'\1failures="0"', lying)
    assert lying != xml
    path = tmp_path / "lying.xml"
    path.write_text(lying)
    assert read_junit(path) == read_junit(junit_run.junit)


def test_suite_attributes_without_testcases(junit_run: PytestRun, tmp_path: Path) -> None:
    xml = junit_run.junit.read_text()
    bare = re.sub(r"<testcase .*?(/>|</testcase>)", "", xml, flags=re.S)
    assert "<testcase" not in bare
    path = tmp_path / "bare.xml"
    path.write_text(bare)
    full, summary = read_junit(junit_run.junit), read_junit(path)
    assert (summary.n_tests, summary.n_failed, summary.n_errors, summary.n_skipped) == (
        full.n_tests,
        full.n_failed,
        full.n_errors,
        full.n_skipped,
    )
    assert summary.failures == []


# Shapes of other tools' output (no Rust or Jest toolchain here to run them).
NEXTEST = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="4" failures="1" errors="0" uuid="x" timestamp="2024-01-01T00:00:00Z" time="1.250">
  <testsuite name="mycrate" tests="4" disabled="1" errors="0" failures="1">
    <testcase name="tests::ok" classname="mycrate" timestamp="2024-01-01T00:00:00Z" time="0.010"/>
    <testcase name="tests::flaky" classname="mycrate" time="0.020">
      <flakyFailure type="test failure" message="first try failed">boom</flakyFailure>
    </testcase>
    <testcase name="tests::bad" classname="mycrate" time="0.030">
      <failure type="test failure">thread 'tests::bad' panicked at src/lib.rs:9:5:
assertion `left == right` failed</failure>
      <rerunFailure type="test failure">again</rerunFailure>
    </testcase>
    <testcase name="tests::ignored" classname="mycrate" time="0.000"><skipped/></testcase>
  </testsuite>
</testsuites>
"""

JEST_JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="3" failures="1" errors="0" time="2.5">
  <testsuite name="math" errors="0" failures="1" skipped="1" timestamp="2024-01-01T00:00:00" time="2.1" tests="3">
    <testcase classname="math adds" name="math adds" time="0.003"/>
    <testcase classname="math divides" name="math divides" time="0.004">
      <failure>Error: expect(received).toBe(expected) // Object.is equality

Expected: 3
Received: 4
    at Object.toBe (math.test.js:9:17)</failure>
    </testcase>
    <testcase classname="math todo" name="math todo" time="0"><skipped/></testcase>
  </testsuite>
</testsuites>
"""


def test_nextest_shape(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(NEXTEST)
    outcomes = read_junit(path)
    assert (outcomes.n_tests, outcomes.n_failed, outcomes.n_errors, outcomes.n_skipped) == (
        4,
        1,
        0,
        1,
    )
    assert outcomes.n_passed == 2  # a flaky test that passed on retry passed
    assert outcomes.duration_s == pytest.approx(1.25)  # the <testsuites time=>
    (failure,) = outcomes.failures
    assert failure.name == "mycrate::tests::bad"
    assert failure.message == "thread 'tests::bad' panicked at src/lib.rs:9:5:"


def test_jest_junit_shape(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JEST_JUNIT)
    outcomes = read_tests(path)
    assert (outcomes.n_tests, outcomes.n_failed, outcomes.n_skipped, outcomes.n_passed) == (
        3,
        1,
        1,
        1,
    )
    assert outcomes.duration_s == pytest.approx(2.5)
    (failure,) = outcomes.failures
    assert failure.message == "Error: expect(received).toBe(expected) // Object.is equality"


def test_bare_testsuite_root_and_nested_suites(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuite name="outer" time="3"><testsuite name="inner" time="2">'
        '<testcase name="a"/><testcase name="b"><error message="boom"/></testcase>'
        "</testsuite></testsuite>"
    )
    outcomes = read_junit(path)
    assert (outcomes.n_tests, outcomes.n_errors) == (2, 1)
    assert outcomes.duration_s == 3.0
    assert outcomes.failures[0].name == "b"


def test_no_times_means_no_duration(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text('<testsuites><testsuite><testcase name="a"/></testsuite></testsuites>')
    assert read_junit(path).duration_s is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BILLION_LAUGHS.format(root="testsuites"), "unsafe XML refused"),
        (EXTERNAL_ENTITY.format(root="testsuites"), "unsafe XML refused"),
        ("<coverage/>", "not JUnit XML"),
        ("<testsuites><testsuite>", "not well-formed"),
        ("not xml at all", "not well-formed"),
    ],
)
def test_bad_junit_is_an_input_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_junit(path)
    assert problem in caught.value.problem
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
