"""Read JUnit XML test results (pytest `--junitxml`, cargo-nextest, jest-junit, surefire, …).

Outcomes are counted from the `<testcase>` elements, because suite attributes are not always
right; the suite attributes are used only when a report has no test cases at all.
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET

from covtui.domain.model import TestFailure, TestOutcomes
from covtui.errors import InputError
from covtui.readers.xml_input import tag as element_tag
from covtui.readers.xml_input import xml_errors

MAX_MESSAGE = 200


def read_junit(path: Path) -> TestOutcomes:
    """Read JUnit XML; raise `InputError` for anything else or anything unsafe."""
    with xml_errors(path):
        root = DET.parse(str(path)).getroot()
    root_tag = element_tag(root)
    if root_tag not in ("testsuites", "testsuite"):
        raise InputError(path, f"not JUnit XML: the root element is <{root_tag}>")
    outcomes = _from_testcases(root)
    if outcomes.n_tests == 0:
        outcomes = _from_attributes(root)
    outcomes.duration_s = _duration(root)
    return outcomes


def _children(elem: Element, tag: str) -> list[Element]:
    return [child for child in elem if element_tag(child) == tag]


def _from_testcases(root: Element) -> TestOutcomes:
    out = TestOutcomes()
    for name, kind, message in _cases(root):
        out.n_tests += 1
        out.ids.append(name)
        if kind == "failed":
            out.n_failed += 1
            out.failures.append(TestFailure(name, message))
        elif kind == "error":
            out.n_errors += 1
            out.failures.append(TestFailure(name, message))
        elif kind == "skipped":
            out.n_skipped += 1
    return out


def _cases(root: Element):
    """(id, "passed" | "failed" | "error" | "skipped", failure message) per test case."""
    for case in root.iter():
        if element_tag(case) != "testcase":
            continue
        tags = {element_tag(child): child for child in reversed(list(case))}  # first of each tag wins
        # One outcome per test: a failure that also errored in teardown counts as failed.
        if "failure" in tags:
            yield _name(case), "failed", _message(tags["failure"])
        elif "error" in tags:
            yield _name(case), "error", _message(tags["error"])
        elif "skipped" in tags or case.get("status") in ("notrun", "disabled", "skipped"):
            yield _name(case), "skipped", ""
        else:
            yield _name(case), "passed", ""


def read_junit_cases(path: Path) -> dict[str, list[str]]:
    """Each test case's id → [outcome, failure message] (for merging an incremental run)."""
    with xml_errors(path):
        root = DET.parse(str(path)).getroot()
    return {name: [kind, message] for name, kind, message in _cases(root)}


def _from_attributes(root: Element) -> TestOutcomes:
    """Counts from the top-level suites' (or the root's) attributes."""
    suites = [root] if element_tag(root) == "testsuite" else _children(root, "testsuite") or [root]
    out = TestOutcomes()
    for suite in suites:
        out.n_tests += _attr_int(suite, "tests")
        out.n_failed += _attr_int(suite, "failures")
        out.n_errors += _attr_int(suite, "errors")
        out.n_skipped += _attr_int(suite, "skipped") or _attr_int(suite, "disabled")
    return out


def _attr_int(elem: Element, name: str) -> int:
    try:
        return max(0, int(elem.get(name) or 0))
    except ValueError:
        return 0


def _attr_float(elem: Element, name: str) -> float | None:
    try:
        value = float(elem.get(name) or "")
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _duration(root: Element) -> float | None:
    """The root's `time`, else the sum of the top-level suites' times (None if none given)."""
    own = _attr_float(root, "time")
    if own is not None or element_tag(root) == "testsuite":
        return own
    times = [t for s in _children(root, "testsuite") if (t := _attr_float(s, "time")) is not None]
    return sum(times) if times else None


def _name(case: Element) -> str:
    name = case.get("name") or "?"
    classname = case.get("classname")
    return f"{classname}::{name}" if classname else name


def _message(elem: Element) -> str:
    """A one-line message: the `message` attribute, else the first line of the text."""
    text = elem.get("message") or ""
    if not text.strip():
        text = elem.text or elem.get("type") or ""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"
