"""The exclusions audit against coverage.py's own `excluded` lines, on a fixture project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Project, clean_env
from .test_components import make_project

EXCLUDING = '''
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

DEBUG = False
if DEBUG:
    print("debugging")


def kept(x):
    if x:  # pragma: no cover
        return 1
    return 2


def dropped():  # pragma: no cover
    a = 1
    return a


class Base:
    def method(self):
        raise NotImplementedError


def call(
    a,
    b,
):  # pragma: no cover
    return a + b
'''

CONFIG = '''
[tool.coverage.run]
source = ["pkg"]
branch = true
omit = ["pkg/skip_*.py"]

[tool.coverage.report]
exclude_also = ["if DEBUG:", "raise NotImplementedError"]

[[tool.covtui.components]]
name = "core"
paths = ["pkg/core/*"]
'''


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> tuple[Project, dict]:
    p = make_project(tmp_path_factory.mktemp("exclusions") / "proj", CONFIG)
    p.write("pkg/excluding.py", EXCLUDING)
    p.write("pkg/skip_me.py", "X = 1\n")
    p.write("tests/test_excluding.py", "from pkg.excluding import kept\n\ndef test_k():\n    assert kept(0) == 2\n")
    p.covtui("scan", check=True)
    proc = p.covtui("excluded", "--json", check=True)
    return p, json.loads(proc.stdout)


def coverage_json_include(p: Project, data_file: Path, include: str) -> float:
    out = p.root / "inc.json"
    subprocess.run([sys.executable, "-m", "coverage", "json", f"--data-file={data_file}",
                    f"--include={include}", "-o", str(out)],
                   cwd=p.root, env=clean_env(), check=True, capture_output=True)
    return json.loads(out.read_text())["totals"]["percent_covered"]


def coverage_excluded(p: Project) -> dict[str, list[int]]:
    """coverage.py's `Analysis.excluded` for every measured file (`Coverage.analysis2`)."""
    script = (
        "import json, coverage\n"
        "cov = coverage.Coverage(data_file='.covtui/run/python/.coverage')\n"
        "cov.load()\n"
        "out = {}\n"
        "for f in cov.get_data().measured_files():\n"
        "    out[f] = sorted(cov.analysis2(f)[2])\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=p.root, env=clean_env(),
                          capture_output=True, text=True, check=True)
    root = str(p.root.resolve())
    return {k[len(root) + 1:]: v for k, v in json.loads(proc.stdout).items()}


def test_audit_lines_equal_coverage_pys_excluded(audited) -> None:
    p, data = audited
    theirs = {path: lines for path, lines in coverage_excluded(p).items() if lines}
    mine = {path: [x["line"] for x in f["lines"]] for path, f in data["files"].items()}
    assert mine == theirs
    assert set(mine) == {"pkg/excluding.py", "pkg/core/b.py"}
    for f in data["files"].values():
        assert f["n_excluded"] == f["n_excluded_at_snapshot"]
    totals = p.coverage_json(p.root / ".covtui" / "run" / "python" / ".coverage")["totals"]
    assert data["n_excluded_lines"] == totals["excluded_lines"]
    assert data["history"][-1]["n_excluded"] == totals["excluded_lines"]


def test_each_line_has_its_reason(audited) -> None:
    _, data = audited
    lines = {x["line"]: (x["reason"], x["by_line"]) for x in data["files"]["pkg/excluding.py"]["lines"]}
    text = EXCLUDING.splitlines()
    pragma, debug, raising = ("pragma: no cover", "exclude_also 'if DEBUG:'",
                              "exclude_also 'raise NotImplementedError'")
    checking = r"coverage.py default '^\s*if (typing\.)?TYPE_CHECKING:'"
    at = {t.strip(): n for n, t in enumerate(text, 1) if t.strip()}
    assert lines[at["if TYPE_CHECKING:"]] == (checking, at["if TYPE_CHECKING:"])
    assert lines[at["import os"]] == (checking, at["if TYPE_CHECKING:"])
    assert lines[at['print("debugging")']] == (debug, at["if DEBUG:"])
    assert lines[at["def dropped():  # pragma: no cover"]][0] == pragma
    assert lines[at["a = 1"]] == (pragma, at["def dropped():  # pragma: no cover"])
    assert lines[at["raise NotImplementedError"]][0] == raising
    # A statement over several lines matched on its last line: coverage.py matches it whole.
    assert lines[at["def call("]][0] == pragma
    assert lines[at["return a + b"]] == (pragma, at["def call("])
    counts = data["counts"]
    assert sum(counts[r] for r in (pragma, checking, debug, raising)) == data["n_excluded_lines"]


def test_omitted_and_generated_files_are_listed(audited) -> None:
    p, data = audited
    left = {x["path"]: x["reason"] for x in data["left_out"]}
    assert left["pkg/skip_me.py"] == "omit pattern 'pkg/skip_*.py'"
    assert left["pkg/gen/thing_pb2.py"] == "generated (*_pb2.py)"
    assert left["pkg/made.py"].startswith("generated (header: # Code generated")
    assert "pkg/skip_me.py" not in coverage_excluded(p)  # omitted: coverage.py never measured it
    assert data["counts"]["file: omit pattern 'pkg/skip_*.py'"] == 1
    assert data["counts"]["file: generated"] == 2


def test_text_output_lists_lines_and_counts(audited) -> None:
    p, data = audited
    out = p.covtui("excluded", check=True).stdout
    assert out.startswith(f"{data['n_excluded_lines']} excluded lines in 2 files; 3 files left out")
    assert "pkg/skip_me.py: left out, omit pattern 'pkg/skip_*.py'" in out
    assert "(block at line" in out


@pytest.mark.parametrize(("before", "after", "fires"), [(5, 15, True), (5, 14, False), (None, 90, False)])
def test_excluded_lines_jump_threshold(before, after, fires) -> None:
    from covtui.config import DEFAULT_PHASES, AlertConfig
    from covtui.domain.alerts import AlertInputs, evaluate
    from covtui.domain.numbers import Numbers
    from covtui.domain.recording import Baseline

    from .test_alerts import draft

    now = Numbers(n_files=1, n_files_covered=1, n_statements=100, n_missing=10, n_excluded=after)
    alerts = evaluate(AlertInputs(draft(), now, Baseline(3, 0.0, 90.0, before)), AlertConfig(), DEFAULT_PHASES)
    found = [a for a in alerts if a.rule == "excluded_lines"]
    assert bool(found) is fires
    if fires:
        assert found[0].message.startswith("10 more lines excluded from coverage (15, from 5 at snapshot #3")
        assert found[0].severity.value == "warning" and found[0].value == 10


def test_a_pragma_that_hides_lines_raises_an_alert(tmp_path: Path) -> None:
    p = make_project(tmp_path / "proj", CONFIG + "\n[[tool.covtui.components]]\nname = 'cli'\n"
                     "paths = ['pkg/cli/*']\n\n[tool.covtui.alerts]\nexcluded_lines = 3\n")
    data_file = p.root / ".covtui" / "run" / "python" / ".coverage"
    p.covtui("scan", check=True)
    before = p.coverage_json(data_file)["totals"]["excluded_lines"]
    cli_before = coverage_json_include(p, data_file, "pkg/cli/*")
    # The untested function disappears from the numbers behind a pragma: 3 lines.
    p.write("pkg/cli/main.py", (p.root / "pkg/cli/main.py").read_text().replace(
        "def unused():", "def unused():  # pragma: no cover"))
    out = p.covtui("scan", check=True).stdout
    after = p.coverage_json(data_file)["totals"]["excluded_lines"]
    assert after - before == 3
    assert f"3 more lines excluded from coverage ({after}, from {before} at snapshot #1" in out
    assert "; most from pragma: no cover (+3)" in out  # the reason that jumped
    data = json.loads(p.covtui("excluded", "--json", check=True).stdout)
    assert [h["n_excluded"] for h in data["history"]] == [before, after]
    by_reason = data["by_reason"]
    assert (by_reason["snapshot_id"], by_reason["previous_snapshot_id"], by_reason["previous"]) == (2, 1, "recorded")
    pragma = next(r for r in by_reason["reasons"] if r["reason"] == "pragma: no cover")
    assert pragma["lines_change"] == after - before and pragma["files_change"] == 1
    assert all(r["lines_change"] in (0, None) for r in by_reason["reasons"] if r is not pragma)
    # Each snapshot's per-reason lines add up to coverage.py's excluded lines then.
    assert [sum(r["n_lines"] or 0 for r in h["reasons"]) for h in data["history"]] == [before, after]
    text = p.covtui("excluded", "--no-lines", check=True).stdout
    assert "By reason at snapshot #2 (change since #1)" in text
    row = next(line for line in text.splitlines() if "pragma: no cover" in line)
    assert "+3 lines" in row and "+1 file" in row
    # The component's change since the snapshot before, from coverage.py's figures for both.
    cli_after = coverage_json_include(p, data_file, "pkg/cli/*")
    status = json.loads(p.covtui("status", "--json", check=True).stdout)["components"]["cli"]
    assert status["percent_change"] == cli_after - cli_before != 0
    assert status["compared_with_snapshot"] == 1


def coverage_excluded_by_regex(p: Project) -> dict[str, list[int]]:
    """For each of coverage.py's exclusion regexes (its config's, in order), the lines it
    alone excludes in the measured files, summed: `Coverage.exclude` with only that regex,
    then `analysis2`'s excluded lines; as (lines, files)."""
    script = (
        "import json, coverage\n"
        "cov = coverage.Coverage(data_file='.covtui/run/python/.coverage')\n"
        "cov.load()\n"
        "regexes = list(cov.config.exclude_list)\n"
        "files = cov.get_data().measured_files()\n"
        "out = {}\n"
        "for rx in regexes:\n"
        "    cov.clear_exclude()\n"
        "    cov.exclude(rx)\n"
        "    n = [len(cov.analysis2(f)[2]) for f in files]\n"
        "    out[rx] = [sum(n), sum(1 for x in n if x)]\n"
        "print(json.dumps({'regexes': out, 'also': cov.config.exclude_also}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=p.root, env=clean_env(),
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_each_scan_stores_the_counts_per_reason_as_coverage_py_counts_them(audited) -> None:
    """Every regex's lines, as coverage.py excludes them with that regex alone (the fixture's
    blocks don't overlap), equal what the scan stored under its reason; the omit and
    generated files are counted as files."""
    from covtui.domain.exclusions import regex_reason
    from covtui.readers.exclusions import exclusion_settings

    p, data = audited
    theirs = coverage_excluded_by_regex(p)
    settings = exclusion_settings(p.root)
    expected = {
        regex_reason(rx, settings.defaults, theirs["also"]): tuple(v)
        for rx, v in theirs["regexes"].items() if v[0]
    }
    stored = {r["reason"]: (r["n_lines"], r["n_files"]) for r in data["by_reason"]["reasons"]}
    lines = {reason: v for reason, v in stored.items() if v[0] is not None}
    assert lines == expected
    assert "exclude_also 'if DEBUG:'" in lines and "pragma: no cover" in lines
    assert stored["omit pattern 'pkg/skip_*.py'"] == (None, 1)
    assert stored["generated"] == (None, 2)
    totals = p.coverage_json(p.root / ".covtui" / "run" / "python" / ".coverage")["totals"]
    assert sum(n for n, _ in lines.values()) == totals["excluded_lines"]
    # The first snapshot: nothing to compare with.
    assert data["by_reason"]["previous_snapshot_id"] is None
    assert all(r["lines_change"] is None for r in data["by_reason"]["reasons"])


def test_snapshots_without_counts_say_not_recorded(tmp_path: Path) -> None:
    """A snapshot stored without a census (before this schema, or by the demo) is "not
    recorded", never 0; a scan after it records its counts and says the one before has none."""
    import asyncio

    from covtui.domain.model import RunStatus, SnapshotDraft, SourceResult
    from covtui.readers import read_coverage
    from covtui.record import record_snapshot
    from covtui.store import Store

    p = make_project(tmp_path / "proj", CONFIG)
    p.write("pkg/excluding.py", EXCLUDING)
    p.covtui("scan", check=True)
    data_file = p.root / ".covtui" / "run" / "python" / ".coverage"
    report = read_coverage([data_file], root=p.root)

    async def store_uncounted() -> None:
        async with await Store.open(p.db) as store:
            draft = SnapshotDraft("ingest", [SourceResult("python", RunStatus.OK, report)])
            await record_snapshot(store, draft, p.config)

    asyncio.run(store_uncounted())
    data = json.loads(p.covtui("excluded", "--json", check=True).stdout)
    assert data["by_reason"]["snapshot_id"] == 2 and data["by_reason"]["reasons"] == "not recorded"
    assert data["history"][-1]["reasons"] == "not recorded"
    assert isinstance(data["history"][0]["reasons"], list)
    text = p.covtui("excluded", "--no-lines", check=True).stdout
    assert "By reason (on disk now; not recorded at snapshot #2)" in text
    p.covtui("scan", check=True)
    data = json.loads(p.covtui("excluded", "--json", check=True).stdout)
    assert data["by_reason"]["previous_snapshot_id"] == 2 and data["by_reason"]["previous"] == "not recorded"
    assert all(r["lines_change"] is None for r in data["by_reason"]["reasons"])
    text = p.covtui("excluded", "--no-lines", check=True).stdout
    assert "(#2 did not record them)" in text and "not recorded" in text


def test_the_census_takes_coverage_pys_parse_from_the_scans_cache(audited) -> None:
    """The scan's read left coverage.py's parse of each file in the analysis cache; the
    census reads it from there (no second parse) and counts exactly what a parse counts."""
    from covtui.readers.analysis_cache import AnalysisCache
    from covtui.readers.exclusions import _cache_lookup, count_exclusions, exclusion_settings

    p, data = audited
    cache_dir = p.root / ".covtui" / "cache"
    paths = [str(f.relative_to(p.root)) for f in (p.root / "pkg").rglob("*.py")]
    store = AnalysisCache(cache_dir)
    try:
        lookup = _cache_lookup(exclusion_settings(p.root), store)
        assert lookup((p.root / "pkg/excluding.py").read_bytes()) is not None
    finally:
        store.close()
    assert count_exclusions(p.root, paths, cache_dir=cache_dir) == count_exclusions(p.root, paths)


@pytest.fixture
def counted(tmp_path: Path) -> Project:
    """A fresh project (it is changed) whose scan left its census in the analysis cache."""
    p = make_project(tmp_path / "proj", CONFIG)
    p.write("pkg/excluding.py", EXCLUDING)
    p.write("pkg/skip_me.py", "X = 1\n")
    p.write("tests/test_excluding.py", "from pkg.excluding import kept\n\ndef test_k():\n    assert kept(0) == 2\n")
    p.covtui("scan", check=True)
    return p


def test_the_census_cache_counts_what_coverage_py_counts_as_sources_config_and_version_change(
    counted: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file's count per reason is kept in the analysis cache under its bytes, the
    exclusion regexes and coverage.py's version: a cached census equals one parsed afresh and
    coverage.py's own per-regex counts; a changed source, config or coverage.py version is
    counted again (only the changed file, for a source)."""
    from covtui import coverage_compat
    from covtui.domain.exclusions import census_counts, regex_reason
    from covtui.readers import exclusions, read_coverage

    p = counted
    cache = p.root / ".covtui" / "cache"
    data_file = p.root / ".covtui" / "run" / "python" / ".coverage"
    paths = [f.path for f in read_coverage([data_file], root=p.root).files]
    parsed: list[str] = []
    parse = exclusions.file_exclusions

    def counting_parse(root, path, *args, **kwargs):
        parsed.append(path)
        return parse(root, path, *args, **kwargs)

    monkeypatch.setattr(exclusions, "file_exclusions", counting_parse)

    def census_agrees() -> dict:
        parsed.clear()
        cached = exclusions.take_census(p.root, paths, cache)
        from_cache = sorted(parsed)
        assert cached == exclusions.take_census(p.root, paths)  # no cache: all parsed
        theirs = coverage_excluded_by_regex(p)
        settings = exclusions.exclusion_settings(p.root)
        expected = {
            regex_reason(rx, settings.defaults, theirs["also"]): tuple(v)
            for rx, v in theirs["regexes"].items() if v[0]
        }
        mine = {c.reason: (c.n_lines, c.n_files) for c in census_counts(cached) if c.n_lines}
        assert mine == expected
        return {"parsed": from_cache, "counts": mine}

    first = census_agrees()
    assert first["parsed"] == []  # the scan's census, from the cache
    assert "pragma: no cover" in first["counts"]

    p.write("pkg/excluding.py", EXCLUDING + "\n\ndef more():  # pragma: no cover\n    return 1\n")
    source = census_agrees()
    assert source["parsed"] == ["pkg/excluding.py"]
    assert source["counts"]["pragma: no cover"][0] == first["counts"]["pragma: no cover"][0] + 2

    config = (p.root / "pyproject.toml").read_text()
    p.write("pyproject.toml", config.replace('"if DEBUG:", ', '"if DEBUG:", "return 2", '))
    changed = census_agrees()
    assert sorted(changed["parsed"]) == sorted(f for f in paths if f.endswith(".py"))
    assert changed["counts"] != source["counts"]

    monkeypatch.setattr(coverage_compat, "VERSION", f"{coverage_compat.VERSION}.another")
    assert census_agrees()["parsed"] == sorted(f for f in paths if f.endswith(".py"))


def test_ingest_counts_from_its_reads_census(counted: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """`covtui ingest` has its read's worker take the census (no census worker of its own)
    and stores the counts a census worker stores (the scan's, same files and bytes)."""
    import asyncio

    from covtui.domain.model import SnapshotDraft
    from covtui.ingest import start_reports
    from covtui.readers import exclusions, heads
    from covtui.record import count_exclusions
    from covtui.store import Store

    p = counted
    data_file = p.root / ".covtui" / "run" / "python" / ".coverage"
    result = start_reports(p.config, [data_file])()
    assert result.report is not None and result.report.exclusions is not None
    assert result.report.exclusions.paths == {f.path for f in result.report.files}
    # The generated files, found in the worker from the bytes it read: as the parent finds them.
    found = heads.find_generated_files(p.config, result.report.exclusions.paths)
    assert found and result.report.exclusions.generated == tuple((g.path, g.why) for g in found)

    def no_worker(*args, **kwargs):
        raise AssertionError("a census worker started although the read took the census")

    def no_heads(*args, **kwargs):
        raise AssertionError("the files' heads were read again although the read found the generated files")

    monkeypatch.setattr(exclusions, "start_counting_exclusions", no_worker)
    monkeypatch.setattr(heads, "find_generated_files", no_heads)

    async def counts():
        async with await Store.open(p.db) as store:
            return await count_exclusions(store, SnapshotDraft("ingest", [result]), p.config)

    from_read = asyncio.run(counts())
    scanned = json.loads(p.covtui("excluded", "--json", check=True).stdout)["by_reason"]["reasons"]
    assert [(c.reason, c.n_lines, c.n_files) for c in from_read] == [
        (r["reason"], r["n_lines"], r["n_files"]) for r in scanned
    ]
    assert any(c.reason == "generated" for c in from_read)  # the parent's share: generated files
    p.covtui("ingest", str(data_file), check=True)
    again = json.loads(p.covtui("excluded", "--json", check=True).stdout)["by_reason"]
    assert again["snapshot_id"] == 2 and again["reasons"] == [
        {**r, "lines_change": None if r["n_lines"] is None else 0, "files_change": 0}
        for r in scanned
    ]
