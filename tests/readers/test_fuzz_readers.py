"""Fuzz the readers: any input gives a report or an `InputError`, never another exception."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from covtui.domain import model
from covtui.errors import InputError
from covtui.readers.cobertura import read_cobertura
from covtui.readers.coverage_json import read_coverage_json
from covtui.readers.junit import read_junit
from covtui.readers.lcov import read_lcov
from tests.counts import record

FUZZ = settings(
    max_examples=int(os.environ.get("COVTUI_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check(reader, path: Path, data: bytes, expected_type: type) -> None:
    record("fuzzed inputs read without an uncaught exception")
    path.write_bytes(data)
    try:
        result = reader(path)
    except InputError as exc:
        event(f"InputError: {exc.problem.split(':')[0][:30]}")
        assert str(path) in str(exc)
        assert "\n" not in str(exc), str(exc)
        return
    event("read")
    assert isinstance(result, expected_type)


def garble(data: bytes, cuts: list[tuple[int, int, bytes]]) -> bytes:
    """Replace slices of `data`: truncations, deletions and junk insertions."""
    for start, length, junk in cuts:
        start %= len(data) + 1
        data = data[:start] + junk + data[start + length :]
    return data


garbles = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 50), st.binary(max_size=8)), max_size=4
)
small_text = st.text(alphabet="0123456789,-e/.:ab \x00é", max_size=12)

# ---------------------------------------------------------------- lcov

LCOV_TAGS = [
    "TN",
    "SF",
    "DA",
    "BRDA",
    "FN",
    "FNDA",
    "FNF",
    "FNH",
    "LF",
    "LH",
    "BRF",
    "BRH",
    "FNL",
    "FNA",
    "VER",
    "MCDC",
]
lcov_line = st.one_of(
    st.builds(lambda t, v: f"{t}:{v}", st.sampled_from(LCOV_TAGS), small_text),
    st.builds(
        lambda t, v: f"{t}:{v}", st.sampled_from(["LF", "LH", "FNF", "BRH"]), st.integers(0, 9)
    ),
    st.builds(
        lambda i, a, b: f"FNL:{i},{a},{b}",
        st.integers(0, 3),
        st.integers(0, 50),
        st.integers(0, 50),
    ),
    st.builds(
        lambda i, c, name: f"FNA:{i},{c},{name}",
        st.integers(0, 3),
        st.integers(0, 3),
        st.sampled_from(["f", "g"]),
    ),
    st.just("end_of_record"),
    st.builds(lambda n, c: f"DA:{n},{c}", st.integers(-2, 50), st.integers(-2, 5)),
    st.builds(
        lambda n, b, t: f"BRDA:{n},0,{b},{t}",
        st.integers(0, 50),
        st.integers(0, 3),
        st.sampled_from(["-", "0", "1", "x"]),
    ),
    st.builds(
        lambda n, name: f"FN:{n},{name}", st.integers(0, 50), st.sampled_from(["f", "g", "a,b"])
    ),
    st.builds(
        lambda c, name: f"FNDA:{c},{name}", st.integers(0, 3), st.sampled_from(["f", "g", "h"])
    ),
    st.text(max_size=20),
)


@st.composite
def lcov_text(draw) -> bytes:
    records = []
    for _ in range(draw(st.integers(0, 3))):
        sf = draw(st.sampled_from(["/src/a.c", "/src/b.c", "rel/c.js", "/src/\x00bad.c"]))
        body = draw(st.lists(lcov_line, max_size=12))
        records.append("\n".join(["TN:", f"SF:{sf}", *body, "end_of_record"]))
    data = ("\n".join(records) + "\n").encode("utf-8", "surrogatepass")
    return garble(data, draw(garbles)) if draw(st.booleans()) else data


@FUZZ
@given(data=lcov_text())
def test_lcov_fuzz(workdir: Path, data: bytes) -> None:
    check(lambda p: read_lcov(p, root=workdir), workdir / "fuzz.info", data, model.CoverageReport)


# ---------------------------------------------------------------- XML

XML_TAGS = [
    "coverage",
    "sources",
    "source",
    "packages",
    "package",
    "classes",
    "class",
    "methods",
    "method",
    "lines",
    "line",
    "conditions",
    "condition",
    "testsuites",
    "testsuite",
    "testcase",
    "failure",
    "error",
    "skipped",
    "system-out",
]
XML_ATTRS = [
    "filename",
    "name",
    "number",
    "hits",
    "branch",
    "condition-coverage",
    "missing-branches",
    "time",
    "tests",
    "failures",
    "errors",
    "skipped",
    "classname",
    "message",
    "status",
]
attr_value = st.one_of(
    st.sampled_from(
        [
            "1",
            "0",
            "-3",
            "true",
            "50% (1/2)",
            "(3/0)",
            "1e400",
            "nan",
            "a.py",
            "/abs/b.py",
            "exit,4",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=10),
)


def make_element(
    tag: str, attrs: dict[str, str], text: str, children: list[ET.Element]
) -> ET.Element:
    elem = ET.Element(tag, attrs)
    elem.text = text or None
    elem.extend(children)
    return elem


xml_tree = st.recursive(
    st.builds(
        make_element,
        st.sampled_from(XML_TAGS),
        st.dictionaries(st.sampled_from(XML_ATTRS), attr_value, max_size=4),
        st.text(alphabet="ab \n1", max_size=5),
        st.just([]),
    ),
    lambda children: st.builds(
        make_element,
        st.sampled_from(XML_TAGS),
        st.dictionaries(st.sampled_from(XML_ATTRS), attr_value, max_size=4),
        st.text(alphabet="ab \n1", max_size=5),
        st.lists(children, max_size=4),
    ),
    max_leaves=25,
)


@st.composite
def xml_bytes(draw, root: str) -> bytes:
    tree = draw(xml_tree)
    if draw(st.booleans()):
        tree.tag = root  # most examples should get past the root check
    return garble(ET.tostring(tree), draw(garbles))


# Mostly valid: the garbling and test_cobertura_fuzz cover malformed values.
number = st.integers(-2, 40).map(str) | st.sampled_from(["1.0", "2e3"])
line_elem = st.builds(
    lambda n, hits, branch, cond, miss: ET.Element(
        "line",
        {
            k: v
            for k, v in [
                ("number", n),
                ("hits", hits),
                ("branch", branch),
                ("condition-coverage", cond),
                ("missing-branches", miss),
            ]
            if v is not None
        },
    ),
    number,
    number,
    st.sampled_from(["true", "false", None]),
    st.sampled_from(["50% (1/2)", "0% (0/3)", "100% (2/2)", "(5/2)", "x", None]),
    st.sampled_from(["exit", "3,exit", "7", "", "a,,", None]),
)


def lines_elem(lines: list[ET.Element]) -> ET.Element:
    return make_element("lines", {}, "", lines)


method_elem = st.builds(
    lambda name, hits, lines: make_element(
        "method", {"name": name, **hits}, "", [lines_elem(lines)]
    ),
    st.sampled_from(["f", "g", ""]),
    st.sampled_from([{}, {"hits": "0"}, {"hits": "3"}, {"hits": "z"}]),
    st.lists(line_elem, max_size=3),
)
class_elem = st.builds(
    lambda filename, methods, lines: make_element(
        "class",
        {"filename": filename},
        "",
        [make_element("methods", {}, "", methods), lines_elem(lines)],
    ),
    st.sampled_from(["a.py", "pkg/b.py", "/abs/c.py", "../d.py", "e\\f.py"]),
    st.lists(method_elem, max_size=2),
    st.lists(line_elem, max_size=6),
)
cobertura_tree = st.builds(
    lambda sources, classes: make_element(
        "coverage",
        {},
        "",
        [
            make_element("sources", {}, "", [make_element("source", {}, s, []) for s in sources]),
            make_element(
                "packages",
                {},
                "",
                [make_element("package", {}, "", [make_element("classes", {}, "", classes)])],
            ),
        ],
    ),
    st.lists(st.sampled_from([".", "src", "/abs", "/nonexistent/x", ""]), max_size=2),
    st.lists(class_elem, max_size=4),
)


@st.composite
def cobertura_bytes(draw) -> bytes:
    data = ET.tostring(draw(cobertura_tree))
    return garble(data, draw(garbles)) if draw(st.booleans()) else data


@FUZZ
@given(data=cobertura_bytes())
def test_cobertura_structured_fuzz(workdir: Path, data: bytes) -> None:
    check(
        lambda p: read_cobertura(p, root=workdir), workdir / "fuzz.xml", data, model.CoverageReport
    )


testcase_elem = st.builds(
    lambda attrs, outcome: make_element("testcase", attrs, "", outcome),
    st.dictionaries(
        st.sampled_from(["name", "classname", "time", "status"]), attr_value, max_size=3
    ),
    st.lists(
        st.builds(
            lambda tag, attrs, text: make_element(tag, attrs, text, []),
            st.sampled_from(["failure", "error", "skipped", "system-out", "flakyFailure"]),
            st.dictionaries(st.sampled_from(["message", "type"]), attr_value, max_size=2),
            st.text(max_size=30),
        ),
        max_size=2,
    ),
)
suite_attrs = st.dictionaries(
    st.sampled_from(["name", "tests", "failures", "errors", "skipped", "disabled", "time"]),
    attr_value,
    max_size=5,
)
junit_tree = st.builds(
    lambda attrs, suites: make_element("testsuites", attrs, "", suites),
    suite_attrs,
    st.lists(
        st.builds(
            lambda a, cases: make_element("testsuite", a, "", cases),
            suite_attrs,
            st.lists(testcase_elem, max_size=4),
        ),
        max_size=3,
    ),
)


@FUZZ
@given(tree=junit_tree, cuts=garbles, garbled=st.booleans())
def test_junit_structured_fuzz(workdir: Path, tree: ET.Element, cuts, garbled: bool) -> None:
    data = ET.tostring(tree)
    check(
        read_junit,
        workdir / "fuzz-junit.xml",
        garble(data, cuts) if garbled else data,
        model.TestOutcomes,
    )


@FUZZ
@given(data=xml_bytes("coverage"))
def test_cobertura_fuzz(workdir: Path, data: bytes) -> None:
    check(
        lambda p: read_cobertura(p, root=workdir), workdir / "fuzz.xml", data, model.CoverageReport
    )


@FUZZ
@given(data=xml_bytes("testsuites"))
def test_junit_fuzz(workdir: Path, data: bytes) -> None:
    check(read_junit, workdir / "fuzz-junit.xml", data, model.TestOutcomes)


# ---------------------------------------------------------------- JSON

json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 50)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
SUMMARY_KEYS = [
    "num_statements",
    "missing_lines",
    "excluded_lines",
    "num_branches",
    "num_partial_branches",
    "missing_branches",
]
summary = st.one_of(
    st.fixed_dictionaries({k: st.integers(0, 20) for k in SUMMARY_KEYS[:2]}),
    st.dictionaries(st.sampled_from(SUMMARY_KEYS), st.integers(-1, 20) | json_value, max_size=6),
)
line_list = (
    st.lists(st.integers(-2, 30), max_size=5)
    | st.lists(st.integers(-2, 30), max_size=5)
    | json_value
)
region = st.fixed_dictionaries(
    {"summary": summary},
    optional={
        "start_line": st.integers(-1, 30) | json_value,
        "executed_lines": line_list,
        "missing_lines": line_list,
        "excluded_lines": line_list,
    },
)
file_entry = st.fixed_dictionaries(
    {"summary": summary},
    optional={
        "missing_lines": line_list,
        "missing_branches": st.lists(st.lists(st.integers(-3, 30), max_size=3), max_size=3)
        | json_value,
        "functions": st.dictionaries(st.text(max_size=6), region | json_value, max_size=3)
        | json_value,
        "classes": st.dictionaries(st.text(max_size=6), region, max_size=3),
    },
)
coverage_doc = st.fixed_dictionaries(
    {
        "files": st.dictionaries(
            st.sampled_from(["a.py", "/abs/b.py", "c\x00.py", ""]), file_entry, max_size=3
        )
    },
    optional={
        "meta": st.fixed_dictionaries({"format": st.integers(1, 3)}) | json_value,
        "totals": json_value,
    },
)


@FUZZ
@given(doc=st.one_of(coverage_doc, json_value), cuts=garbles, garbled=st.booleans())
def test_coverage_json_fuzz(workdir: Path, doc: object, cuts, garbled: bool) -> None:
    data = json.dumps(doc).encode()
    if garbled:
        data = garble(data, cuts)
    check(
        lambda p: read_coverage_json(p, root=workdir),
        workdir / "fuzz.json",
        data,
        model.CoverageReport,
    )


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes(workdir: Path, data: bytes) -> None:
    for name, reader, kind in [
        ("r.info", lambda p: read_lcov(p, root=workdir), model.CoverageReport),
        ("r.xml", lambda p: read_cobertura(p, root=workdir), model.CoverageReport),
        ("r-junit.xml", read_junit, model.TestOutcomes),
        ("r.json", lambda p: read_coverage_json(p, root=workdir), model.CoverageReport),
    ]:
        check(reader, workdir / name, data, kind)
