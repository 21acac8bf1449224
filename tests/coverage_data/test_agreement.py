"""Reading coverage.py data gives exactly `coverage json`'s figures, run from the project root."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from covtui.errors import InputError
from covtui.readers import read_coverage
from covtui.readers.coverage_data import read_coverage_data, read_with_stats

from .conftest import assert_agrees, coverage, coverage_json, write_files

CORE = '''\
    """Shapes coverage.py treats specially."""
    import asyncio
    import contextlib
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from collections.abc import Iterable


    def classify(x, *, strict=False):
        if x > 10:
            label = "big"
        elif x < 0:
            label = "negative"
        else:
            label = (
                "small"
                if x
                else "zero"
            )
        if strict and label == "negative":  # pragma: no branch
            raise ValueError(x)
        return label


    def total(items: "Iterable[int]") -> int:
        result = 0
        with contextlib.suppress(TypeError):
            for item in items:
                result += item
        with open(__file__, encoding="utf-8") as fh:
            fh.readline()
        return result


    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        except TypeError:  # pragma: no cover
            raise
        else:
            value += 1
        finally:
            text = None
        return value


    def unreached():  # pragma: no cover
        return 1


    def abstract():
        raise NotImplementedError


    async def fetch(n):
        out = []
        for i in range(n):
            if i % 2:
                await asyncio.sleep(0)
                out.append(i)
        return out


    class Cart:
        def __init__(self):
            self.items = []

        def add(self, item, qty=1):
            while qty > 0:  # maybe partial
                self.items.append(item)
                qty -= 1
            return len(self.items)

        async def checkout(self):
            return sum(self.items)

        class Line:
            def price(self):
                return 0
    '''

FULL = '''\
    def double(x):
        return 2 * x
    '''

UNUSED = '''\
    def never(x):
        if x:
            return 1
        return 2
    '''

VENDORED = '''\
    def helper():
        return 1
    '''

RUN = '''\
    import asyncio
    import sys

    from shop import core, full
    from shop.vendored import lib

    core.classify(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    core.classify(-1)
    core.total([1, 2])
    core.parse("x")
    asyncio.run(core.fetch(3))
    core.Cart().add(1, qty=2)
    full.double(2)
    lib.helper()
    '''

PYPROJECT = '''\
    [tool.coverage.run]
    branch = true
    source = ["shop"]

    [tool.coverage.report]
    omit = ["*/vendored/*"]
    exclude_also = ["if TYPE_CHECKING:", "raise NotImplementedError"]
    partial_also = ["# maybe partial"]
    '''

PROJECT = {
    "shop/__init__.py": "",
    "shop/core.py": CORE,
    "shop/full.py": FULL,
    "shop/unused.py": UNUSED,
    "shop/vendored/__init__.py": "",
    "shop/vendored/lib.py": VENDORED,
    "run.py": RUN,
}


@pytest.fixture(scope="module")
def branch_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shop")
    write_files(root, PROJECT | {"pyproject.toml": PYPROJECT})
    coverage(root, "run", "run.py")
    return root


def test_branch_data_agrees_with_coverage_json(branch_project: Path) -> None:
    report = read_coverage_data([branch_project / ".coverage"], root=branch_project, cache_dir=None)
    expected = coverage_json(branch_project)
    assert_agrees(report, expected, branch_project)
    paths = {f.path for f in report.files}
    # `source` brings in the never-imported file; report omit drops the vendored one.
    assert "shop/unused.py" in paths and "shop/__init__.py" in paths
    assert not any("vendored" in p for p in paths)
    by_path = {f.path: f for f in report.files}
    assert by_path["shop/unused.py"].numbers.n_executed == 0
    assert by_path["shop/full.py"].numbers.pc_covered == 100.0
    assert report.format == "coverage.py" and report.has_branches


def test_functions_and_kinds(branch_project: Path) -> None:
    report = read_coverage_data([branch_project / ".coverage"], root=branch_project, cache_dir=None)
    core = next(f for f in report.files if f.path == "shop/core.py")
    kinds = {f.name: f.kind for f in core.functions}
    assert kinds["fetch"] == "async function"
    assert kinds["Cart.checkout"] == "async function"
    assert kinds["classify"] == "function"
    assert kinds["Cart"] == "class" and kinds["Cart.Line"] == "class"
    classify = next(f for f in core.functions if f.name == "classify")
    assert (classify.start_line, classify.end_line) == (10, 23)
    assert (classify.n_statements, classify.n_missing) == (8, 2)  # "big" and the raise


def test_dispatch_and_cwd_untouched(branch_project: Path, tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        rel_root = Path(os.path.relpath(branch_project, tmp_path))
        report = read_coverage([rel_root / ".coverage"], root=rel_root)
        assert os.getcwd() == str(tmp_path)
    finally:
        os.chdir(cwd)
    assert_agrees(report, coverage_json(branch_project), branch_project)


def test_statement_data_with_coveragerc(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT | {".coveragerc": """\
        [run]
        source = shop
        [report]
        exclude_lines =
            pragma: no cover
            def abstract
        omit = shop/full.py
        """})
    coverage(tmp_path, "run", "run.py", "42")
    report = read_coverage_data([tmp_path / ".coverage"], root=tmp_path, cache_dir=tmp_path / "c")
    assert not report.has_branches
    assert_agrees(report, coverage_json(tmp_path), tmp_path)
    assert "shop/full.py" not in {f.path for f in report.files}


def test_pytest_run_with_setup_cfg(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT | {
        "setup.cfg": "[coverage:run]\nbranch = True\nsource = shop\n",
        "tests/test_shop.py": """\
            import asyncio
            from shop import core

            def test_classify():
                assert core.classify(50) == "big"

            def test_cart():
                assert asyncio.run(core.Cart().checkout()) == 0
            """,
    })
    coverage(tmp_path, "run", "--branch", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    report = read_coverage_data([tmp_path / ".coverage"], root=tmp_path, cache_dir=tmp_path / "c")
    assert_agrees(report, coverage_json(tmp_path), tmp_path)


def test_parallel_shards_equal_combine(tmp_path: Path) -> None:
    write_files(tmp_path, PROJECT | {"pyproject.toml": PYPROJECT})
    coverage(tmp_path, "run", "-p", "run.py", "50")
    coverage(tmp_path, "run", "-p", "run.py", "-3")
    shards = sorted(tmp_path.glob(".coverage.*"))
    assert len(shards) == 2
    report = read_coverage_data(shards, root=tmp_path, cache_dir=tmp_path / "c")
    assert all(s.exists() for s in shards)  # read in memory, files untouched

    combined = tmp_path.parent / (tmp_path.name + "-combined")
    shutil.copytree(tmp_path, combined)
    coverage(combined, "combine")
    expected = coverage_json(combined)
    # The same figures, and "big" and "negative" branches both taken thanks to the second shard.
    assert_agrees(report, expected, tmp_path)
    singles = [read_coverage_data([s], root=tmp_path, cache_dir=None) for s in shards]
    assert max(r.numbers.n_missing for r in singles) > report.numbers.n_missing


def test_paths_aliases_when_combining(tmp_path: Path) -> None:
    """Shards measured in another checkout are re-mapped by the project's [paths]."""
    elsewhere = tmp_path / "ci" / "build"
    root = tmp_path / "proj"
    config = PYPROJECT + '\n[tool.coverage.paths]\nsource = ["shop/", "*/build/shop/"]\n'
    for where in (elsewhere, root):
        write_files(where, PROJECT | {"pyproject.toml": config})
    coverage(elsewhere, "run", "-p", "run.py")
    coverage(root, "run", "-p", "run.py", "-5")
    shards = sorted(elsewhere.glob(".coverage.*")) + sorted(root.glob(".coverage.*"))
    report = read_coverage_data(shards, root=root, cache_dir=None)

    for shard in shards:
        shutil.copy(shard, root / f"{shard.name}.x{shards.index(shard)}")
        if shard.parent == root:
            shard.unlink()
    coverage(root, "combine")
    assert_agrees(report, coverage_json(root), root)
    assert not any("build" in f.path for f in report.files)


# --- bad input ----------------------------------------------------------------------------------


def test_garbage_named_coverage(tmp_path: Path) -> None:
    path = tmp_path / ".coverage"
    path.write_bytes(b"this is not sqlite at all\n" * 20)
    with pytest.raises(InputError) as info:
        read_coverage_data([path], root=tmp_path, cache_dir=None)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_empty_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / ".coverage"
    sqlite3.connect(path).execute("CREATE TABLE unrelated (x)").connection.close()
    with pytest.raises(InputError, match="isn't a coverage data file") as info:
        read_coverage_data([path], root=tmp_path, cache_dir=None)
    assert info.value.path == str(path)


def test_newer_schema(branch_project: Path, tmp_path: Path) -> None:
    path = tmp_path / ".coverage"
    shutil.copy(branch_project / ".coverage", path)
    con = sqlite3.connect(path)
    con.execute("UPDATE coverage_schema SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="wrong schema: 99") as info:
        read_coverage_data([path], root=branch_project, cache_dir=None)
    assert info.value.path == str(path)


def test_no_data_to_report(branch_project: Path, tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "[tool.coverage.report]\nomit = ['*']\n"})
    with pytest.raises(InputError, match="no data to report"):
        read_coverage_data([branch_project / ".coverage"], root=tmp_path, cache_dir=None)
    # A data file with nothing measured in it.
    empty = tmp_path / "empty.coverage"
    coverage(tmp_path, "erase")
    write_files(tmp_path, {"nothing.py": "x = 1\n"})
    coverage(tmp_path, "run", "--source=nowhere", "nothing.py")
    shutil.move(tmp_path / ".coverage", empty)
    with pytest.raises(InputError, match="no data to report"):
        read_coverage_data([empty], root=tmp_path, cache_dir=None)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_coverage_data([tmp_path / ".coverage"], root=tmp_path, cache_dir=None)


def test_missing_source_is_one_line_error(branch_project: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(branch_project, root)
    # The data names files in branch_project; delete one there in a copy of the data's world.
    report, stats = read_with_stats([root / ".coverage"], root=root, cache_dir=None)
    assert stats.n_files == len(report.files)
    moved = branch_project / "shop" / "full.py"
    saved = moved.read_text()
    moved.unlink()
    try:
        with pytest.raises(InputError, match="No source for code") as info:
            read_coverage_data([root / ".coverage"], root=root, cache_dir=None)
        assert "\n" not in str(info.value)
        write_files(root, {".coveragerc": "[run]\nbranch = True\nsource = shop\n"
                                          "[report]\nignore_errors = True\n"})
        report = read_coverage_data([root / ".coverage"], root=root, cache_dir=None)
        assert not any(f.path.endswith("full.py") for f in report.files)
    finally:
        moved.write_text(saved)
