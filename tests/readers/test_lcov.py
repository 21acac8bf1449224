"""lcov reader: totals and per-file numbers agree with lcov's own summaries and c8's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covtui.errors import InputError
from covtui.readers import read_coverage
from covtui.readers.lcov import read_lcov

from .conftest import (
    Counts,
    assert_matches_c8_summary,
    build_c_project,
    lcov_branch_rc,
    lcov_capture,
    lcov_file_summary,
    lcov_summary,
    run,
)


def assert_counts(numbers, expected: Counts) -> None:
    assert (numbers.n_executed, numbers.n_statements) == expected.lines
    if expected.functions is not None:
        functions = (numbers.n_functions - numbers.n_missing_functions, numbers.n_functions)
        assert functions == expected.functions
    else:
        assert numbers.n_functions == 0
    if expected.branches is not None:
        assert (numbers.n_executed_branches, numbers.n_branches) == expected.branches
    else:
        assert numbers.n_branches == 0


def test_totals_match_lcov_summary(c_lcov: Path) -> None:
    report = read_lcov(c_lcov, root=c_lcov.parent)
    assert report.format == "lcov"
    assert report.has_branches
    assert report.read_s > 0
    assert_counts(report.numbers, lcov_summary(c_lcov))
    assert report.numbers.n_files == 2


def test_per_file_numbers_match_lcov(c_lcov: Path, tmp_path: Path) -> None:
    report = read_lcov(c_lcov, root=c_lcov.parent)
    assert sorted(f.path for f in report.files) == ["prog.c", "util.c"]  # relative to root
    for fc in report.files:
        assert_counts(fc.numbers, lcov_file_summary(c_lcov, fc.path, tmp_path))
        assert fc.numbers.n_files == fc.numbers.n_files_covered == 1


def gcov_unexecuted(project: Path, source: str) -> set[int]:
    """Lines gcov marks "#####" (executable, never run) in its annotated source."""
    stem = Path(source).stem
    (notes,) = [p for p in project.glob("*.gcno") if p.stem in (stem, f"prog-{stem}")]
    run(["gcov", notes.name], project)
    text = (project / f"{source}.gcov").read_text()
    return {int(m[1]) for m in re.finditer(r"^\s*#####:\s*(\d+):", text, re.M)}


def test_missing_lines_match_gcov(c_lcov: Path, tmp_path: Path) -> None:
    project = tmp_path / "copy"
    shutil.copytree(c_lcov.parent, project)
    report = read_lcov(c_lcov, root=c_lcov.parent)
    for fc in report.files:
        assert set(fc.missing_lines) == gcov_unexecuted(project, fc.path)
        assert list(fc.missing_lines) == sorted(fc.missing_lines)


def test_functions_cover_their_lines(c_lcov: Path) -> None:
    report = read_lcov(c_lcov, root=c_lcov.parent)
    prog = next(f for f in report.files if f.path == "prog.c")
    names = [f.name for f in prog.functions]
    assert names == ["classify", "never", "main"]  # the program's functions, in source order
    never = prog.functions[1]
    # `never` is never called: every line it spans is missing.
    assert never.n_statements > 0 and never.n_missing == never.n_statements
    assert sum(f.n_statements for f in prog.functions) <= prog.numbers.n_statements


def test_records_for_one_file_are_merged(c_project: Path, tmp_path: Path) -> None:
    """Two runs captured separately and concatenated read like `lcov -a` merging them."""
    if not shutil.which("lcov"):
        pytest.skip("lcov is not installed")
    # Built afresh: a copied binary would write its counts back into the original directory.
    project = build_c_project(tmp_path / "proj")
    run(["./prog", "1"], project)
    first = lcov_capture(project, tmp_path / "first.info")
    for gcda in project.glob("*.gcda"):
        gcda.unlink()
    run(["./prog", "-5", "2", "3", "4", "5"], project)
    second = lcov_capture(project, tmp_path / "second.info")
    both = tmp_path / "both.info"
    both.write_text(first.read_text() + second.read_text())
    merged = tmp_path / "merged.info"
    run(
        [
            "lcov",
            "--quiet",
            "-a",
            str(first),
            "-a",
            str(second),
            "-o",
            str(merged),
            *lcov_branch_rc(),
        ],
        tmp_path,
    )

    report = read_lcov(both, root=project)
    assert len(report.files) == 2  # one entry per file, not per record
    assert_counts(report.numbers, lcov_summary(merged))
    # A line missed by one run but hit by the other counts as covered.
    one = {f.path: set(f.missing_lines) for f in read_lcov(first, root=project).files}
    two = {f.path: set(f.missing_lines) for f in read_lcov(second, root=project).files}
    for fc in report.files:
        assert set(fc.missing_lines) == one[fc.path] & two[fc.path]
    assert any(one[p] - two[p] for p in one), "the two runs should cover different lines"


def test_c8_lcov_matches_c8_summary(c8_project: Path) -> None:
    report = read_lcov(c8_project / "coverage" / "lcov.info", root=c8_project)
    assert [f.path for f in report.files] == ["app.js"]
    assert_matches_c8_summary(report, c8_project)


def test_dispatch_detects_lcov(c_lcov: Path) -> None:
    report = read_coverage([c_lcov], root=c_lcov.parent)
    assert report.format == "lcov"


LCOV2_RECORD = """\
TN:
SF:{sf}
FNL:0,1,5
FNA:0,3,add<int>
FNA:0,0,add<long>
FNL:1,7,9
FNA:1,0,unused
FN:11,13,newer
FNDA:1,newer
DA:1,3
DA:2,3
DA:3,0
DA:8,0
DA:12,1
BRDA:2,e0,(a > b) == True,2
BRDA:2,e0,(a > b) == False,-
end_of_record
"""


def test_lcov2_records(tmp_path: Path) -> None:
    """lcov 2.x FNL/FNA (aliases are one function), FN with an end line, expression branches.

    lcov 1.16 here cannot write these, so the record is written by hand.
    """
    info = tmp_path / "v2.info"
    info.write_text(LCOV2_RECORD.format(sf=tmp_path / "src" / "a.cpp"))
    report = read_lcov(info, root=tmp_path)
    (fc,) = report.files
    assert fc.path == "src/a.cpp"
    assert (fc.numbers.n_functions, fc.numbers.n_missing_functions) == (3, 1)
    assert [(f.name, f.start_line, f.end_line) for f in fc.functions] == [
        ("add<int>", 1, 5),
        ("unused", 7, 9),
        ("newer", 11, 13),
    ]
    assert [(f.n_statements, f.n_missing) for f in fc.functions] == [(3, 1), (1, 1), (1, 0)]
    assert (fc.numbers.n_branches, fc.numbers.n_missing_branches) == (2, 1)
    assert fc.numbers.n_partial_branches == 1  # line 2 ran but one branch did not
    assert fc.missing_arcs == ()


def test_fifty_thousand_lines_is_fast(tmp_path: Path) -> None:
    parts = []
    for f in range(400):
        parts.append(f"TN:\nSF:/src/f{f}.c\nFN:1,f{f}\nFNDA:{f % 2},f{f}\n")
        for ln in range(1, 121):
            parts.append(f"DA:{ln},{(ln * f) % 3}\n")
            if ln % 10 == 0:
                parts.append(f"BRDA:{ln},0,0,{'-' if f % 3 else 1}\nBRDA:{ln},0,1,0\n")
        parts.append("LF:120\nLH:80\nend_of_record\n")
    info = tmp_path / "big.info"
    info.write_text("".join(parts))
    assert info.read_text().count("\n") > 50_000
    started = time.perf_counter()
    report = read_lcov(info, root=tmp_path)
    assert time.perf_counter() - started < 1.0
    assert report.numbers.n_files == 400


LARGE_C_FUNCTION = """\
int f{n}(int x) {{
    int y = x * {n};
    if (x > {n} % 7)
        y += 1;
    else
        y -= 1;
    for (int i = 0; i < 3; i++)
        y ^= i;
    return y;
}}
"""

PEAK_MEMORY = """\
import json, resource, sys
from pathlib import Path
from covtui.readers.lcov import read_lcov

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = read_lcov(Path(sys.argv[1]), root=Path(sys.argv[2]))
grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"grown_kb": grown_kb, "files": len(report.files),
                  "lines": report.numbers.n_statements, "missed": report.numbers.n_missing}))
"""


def test_a_large_tracefile_is_read_in_memory_bounded_by_its_records(tmp_path: Path) -> None:
    """A 13 MB, 1.2M-line tracefile whose records are merged: memory no longer follows the file.

    The records are a real gcc+lcov record of a 2,400-line program, copied under 500 names,
    and every copy appears twice (two test names), so each file is merged as `lcov -a` does.
    Reading it grew the process by 130 MB before streaming, 3 MB after.
    """
    if not (shutil.which("gcc") and shutil.which("lcov")):
        pytest.skip("gcc and lcov are needed")
    project = tmp_path / "big"
    project.mkdir()
    n_functions = 200
    calls = "".join(f"    t += f{n}(argc);\n" for n in range(0, n_functions, 2))
    (project / "big.c").write_text(
        "".join(LARGE_C_FUNCTION.format(n=n) for n in range(n_functions))
        + f"int main(int argc, char **argv) {{\n    int t = 0;\n{calls}    return t & 1;\n}}\n"
    )
    run(["gcc", "--coverage", "-O0", "-o", "big", "big.c"], project)
    run(["./big"], project)
    record = lcov_capture(project, tmp_path / "one.info")
    one = read_lcov(record, root=project)
    assert_counts(one.numbers, lcov_summary(record))
    body = record.read_text().split("SF:", 1)[1].split("\n", 1)[1]  # the record after its SF
    copies = 500
    info = tmp_path / "large.info"
    with open(info, "w") as out:
        for test in ("first", "second"):
            for i in range(copies):
                out.write(f"TN:{test}\nSF:{project}/copy{i}/big.c\n{body}")
    assert info.stat().st_size > 12_000_000
    result = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, str(info), str(project)],
        capture_output=True, text=True, check=True, timeout=300,
    )
    got = json.loads(result.stdout)
    assert (got["files"], got["lines"], got["missed"]) == (
        copies, copies * one.numbers.n_statements, copies * one.numbers.n_missing
    )
    assert got["grown_kb"] < 40 * 1024, f"reading grew memory by {got['grown_kb'] // 1024} MB"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("TN:\nSF:/a.c\nDA:1,1\n", "line 3: truncated"),
        ("TN:\nSF:/a.c\nDA:1,1\nend_of_record\nSF:/b.c\nDA:2,0\n", "truncated"),
        ("DA:1,1\nend_of_record\n", "line 1: DA before any SF"),
        ("SF:/a.c\nDA:one,1\nend_of_record\n", "line 2: line number is not an integer"),
        ("SF:/a.c\nDA:1,lots\nend_of_record\n", "line 2: execution count is not an integer"),
        ("SF:/a.c\nDA:99999999999999999999,1\nend_of_record\n", "line 2: line number 9999"),
        ("SF:/a.c\nDA:1\nend_of_record\n", "line 2: DA needs"),
        ("SF:/a.c\nBRDA:1,0,x\nend_of_record\n", "line 2: BRDA needs"),
        ("SF:/a.c\nLF:many\nend_of_record\n", "line 2: LF is not an integer"),
        ("SF:/a.c\nSF:/b.c\nend_of_record\n", "line 2: SF before the end_of_record"),
        ("SF:/a.c\nthis is not lcov\nend_of_record\n", "line 2: not an lcov record"),
        ("end_of_record\n", "line 1: end_of_record outside a record"),
        ("", "empty file"),
    ],
)
def test_bad_lcov_is_an_input_error(tmp_path: Path, text: str, problem: str) -> None:
    info = tmp_path / "bad.info"
    info.write_text(text)
    with pytest.raises(InputError) as caught:
        read_lcov(info, root=tmp_path)
    assert problem in caught.value.problem
    assert str(info) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No such file"):
        read_lcov(tmp_path / "nope.info", root=tmp_path)
