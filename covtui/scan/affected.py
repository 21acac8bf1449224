"""Affected rescans' files: the coverage data and state kept beside the database, the
project's content hashes, and the exact merge of a rerun into the kept data.

After every scan of pytest under coverage.py with per-test contexts, the run's coverage data
(one file: every test's lines and arcs under its contexts) is kept as `base.coverage` with
`base.json` (the tree's content hashes, settings, installed packages, each test's outcome).
An incremental scan reruns the tests `covtui.domain.affected.select` picks and collects
only the test modules `covtui.domain.affected.collection` picks (each module's collection is
its own context, `collect:<module>`), then merges: the kept data minus every context of the
rerun tests and of the modules collected again, plus the rerun's data. When it collects every
module, the import context goes too (the rerun measures it again). coverage.py then reads the
merged file as it reads any run's: the figures are its own.
"""

from __future__ import annotations

import configparser
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import tomllib

from covtui.config import Config, SourceConfig
from covtui.domain.affected import (
    Base,
    Collection,
    Tree,
    mentions_fixtures,
    module_skeleton,
    test_file_of,
)
from covtui.domain.contexts import IMPORT, collected_module, has_tests, split_context
from covtui.domain.digests import content_digest
from covtui.folder import covtui_files, project_files, python_sources
from covtui.scan.plan import SELECT_ENV, SELECTION_FILE, base_folder

if TYPE_CHECKING:
    from covtui.domain.edits import FunctionEdit

#: coverage.py data schema this merge reads and writes (coverage.py 5.x to 7.x).
COVERAGE_SCHEMA = 7


# -- the project's state --------------------------------------------------------------------


def tree_files(
    root: Path, skip: Iterable[Path] = (), previous: dict[str, list] | None = None,
    outside: Iterable[str] = (),
) -> dict[str, list]:
    """Every file of the project (hidden folders, caches, virtualenvs left out) and every
    `outside` file (absolute paths the tests ran beyond the root): path → [content digest,
    module skeleton digest (Python), defines fixtures]. Skeletons of files whose content is
    unchanged since `previous` are taken from it."""
    previous = previous or {}
    files: dict[str, list] = {}
    for full, rel in project_files(root, skip):
        entry = _entry(full, rel, previous)
        if entry is not None:
            files[rel] = entry
    for path in outside:
        entry = _entry(path, path, previous)
        if entry is not None:
            files[path] = entry
    return files


def python_digests(root: Path, skip: Iterable[Path] = ()) -> dict[str, str]:
    """The content digest of every Python file of the project, by `tree_files`' keys: what
    a run's report is checked against when covtui hashed no tree before it."""
    return {key: content_digest(data) for key, data in python_sources(root, skip)}


def _entry(full: str, key: str, previous: dict[str, list]) -> list | None:
    try:
        with open(full, "rb") as f:
            data = f.read()
    except OSError:
        return None
    digest = content_digest(data)
    if not key.endswith(".py"):
        return [digest, None, False]
    before = previous.get(key)
    if before is not None and before[0] == digest:
        return list(before)
    return [digest, module_skeleton(data), mentions_fixtures(data)]


def settings(config: Config, source: SourceConfig) -> tuple[str, bool]:
    """A digest of every setting that changes what the tests run or what coverage.py
    measures (coverage.py's, pytest's, covtui's source), and whether coverage.py measures
    only part of the tree (`source`, `include` or `omit` in its run settings)."""
    root = config.root
    parts: dict[str, object] = {
        "source": dataclasses.asdict(source),
        "python": sys.version,
    }
    narrow = False
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            tool = {"unreadable": pyproject.read_bytes().hex()}
        for key in ("coverage", "pytest", "covtui"):
            parts[f"pyproject:{key}"] = tool.get(key) if isinstance(tool, dict) else tool
        run = tool.get("coverage", {}).get("run", {}) if isinstance(tool, dict) else {}
        narrow |= isinstance(run, dict) and _narrowing(run)
    for name in (".coveragerc", "pytest.ini", "covtui.toml"):
        path = root / name
        if path.is_file():
            parts[name] = content_digest(path.read_bytes())
    for name, sections in (("setup.cfg", ("coverage:", "tool:pytest")),
                           ("tox.ini", ("coverage:", "pytest")),
                           (".coveragerc", ("run", "coverage:run"))):
        path = root / name
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            parts[f"{name}:raw"] = content_digest(path.read_bytes())
            continue
        for section in parser.sections():
            if section.startswith(sections):
                parts[f"{name}:{section}"] = sorted(parser.items(section))
                if section in ("run", "coverage:run"):
                    narrow |= _narrowing(dict(parser.items(section)))
    override = os.environ.get("COVTUI_CONFIG")
    if override and Path(override).is_file():
        parts["COVTUI_CONFIG"] = content_digest(Path(override).read_bytes())
    text = json.dumps(parts, sort_keys=True, default=str)
    return content_digest(text.encode()), narrow


def _narrowing(run: dict) -> bool:
    return any(run.get(key) for key in ("source", "source_pkgs", "include", "omit"))


def packages(root: Path | None = None) -> str:
    """A digest of the installed distributions (what `pip freeze` says, and more): the
    metadata folders on the import path where importlib.metadata finds them, by name
    (`NAME-VERSION.dist-info`) and the time their metadata file was written (a reinstall,
    or a `NAME.egg-info` whose name holds no version). Parsing every distribution's metadata
    instead took a fifth of a second, on every rescan.

    The import path is the tests' own: the project's `root` first (where `coverage run -m
    pytest` starts), not the folder this process started from, which differs between
    `covtui` (its script's folder), `python -m covtui` (the working directory) and the
    pytest plugin."""
    found: list[str] = []
    for entry in ([str(root), *sys.path[1:]] if root is not None else sys.path):
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                folder = os.path.join(entry or ".", name)
                written = [_mtime(os.path.join(folder, meta)) for meta in ("METADATA", "PKG-INFO")]
                found.append(f"{folder} {written}")
    return content_digest("\n".join(sorted(found)).encode())


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def current_tree(
    config: Config, source: SourceConfig, previous: dict[str, list] | None,
    outside: Iterable[str] = (),
) -> tuple[Tree, bool]:
    """The project's state now, and whether coverage.py measures only part of it."""
    digest, narrow = settings(config, source)
    files = tree_files(config.root, _own_files(config), previous, outside)
    return Tree(files, digest, packages(config.root)), narrow


def digests_before(config: Config, tree: Tree | None = None) -> dict[str, str] | None:
    """The project's Python files' digests as a run starts: from `tree` (hashed as it began)
    when there is one, else hashed now; None when they can't be (the check is then skipped)."""
    if tree is not None:
        return {path: entry[0] for path, entry in tree.files.items()}
    try:
        return python_digests(config.root, _own_files(config))
    except OSError:
        return None


def _own_files(config: Config) -> list[Path]:
    """What covtui writes inside the project: not the project's content."""
    return covtui_files(config.lock_base, config.root)


# -- the kept base -----------------------------------------------------------------------------


def load_base(folder: Path) -> tuple[Base | None, str]:
    """The kept base, or None and why there is none (one line)."""
    manifest = folder / "base.json"
    try:
        state = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "no per-test coverage kept yet (a full scan with contexts keeps it)"
    except (OSError, ValueError) as exc:
        return None, f"{manifest}: not readable ({exc})"
    if not isinstance(state, dict):
        return None, f"{manifest}: not readable"
    if state.get("unusable"):
        return None, str(state["unusable"])
    if not (folder / "base.coverage").is_file():
        return None, f"{folder / 'base.coverage'}: missing"
    try:
        return Base(**state["base"]), ""
    except (KeyError, TypeError) as exc:
        return None, f"{manifest}: not readable ({exc})"


def save_base(
    folder: Path, base: Base | None, data: Path | None, why_not: str = "",
    results: bytes | None = None,
) -> None:
    """Keep `data` and `base` (each replaced atomically; the manifest last, so a crash
    between leaves a manifest naming a snapshot the data may not match: the next scan then
    checks the snapshot id and falls back), and the read of `data` (`results`), named by the
    snapshot, so that only the manifest's is ever reused."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "base.json"
    if base is None or data is None:
        _write_atomic(manifest, json.dumps({"unusable": why_not}).encode())
        _drop_results(folder, keep=None)
        return
    target = folder / "base.coverage"
    partial = folder / "base.coverage.tmp"
    shutil.copyfile(data, partial)
    os.replace(partial, target)
    kept = _results_file(folder, base.snapshot_id)
    if results is not None:
        _write_atomic(kept, results)
    # Its fields as they are (plain dicts and lists): `asdict()`'s deep copy took 2 ms.
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    _write_atomic(manifest, json.dumps({"base": fields}).encode())
    _drop_results(folder, keep=kept if results is not None else None)


def _keep_sources(folder: Path, root: Path, files: dict[str, list], measured: Iterable[str]) -> None:
    """Keep the source of each measured Python module of the base as its tests ran it (by
    content digest, in `sources/`), so that the next rescan can tell which functions an edit
    changed (`domain.edits`); sources no longer in the base are removed."""
    kept = folder / "sources"
    kept.mkdir(exist_ok=True)
    wanted: set[str] = set()
    for key in measured:
        entry = files.get(key)
        if os.path.isabs(key) or not key.endswith(".py") or entry is None:
            continue
        digest = entry[0]
        wanted.add(digest)
        if (kept / digest).is_file():
            continue
        source = (root / key).read_bytes()
        if content_digest(source) == digest:  # as the tests ran it (else: not kept)
            # Renamed into place, not synced: a copy a crash cut short fails its digest when
            # read (`_kept_source`), and that file's next rescan is file-granular.
            partial = kept / f"{digest}.tmp"
            partial.write_bytes(source)
            os.replace(partial, kept / digest)
    for old in os.listdir(kept):
        if old not in wanted:
            with contextlib.suppress(OSError):
                os.remove(kept / old)


def _kept_source(folder: Path, digest: str) -> bytes | None:
    """A module's source kept with the base, by its digest; None if not kept (or altered)."""
    try:
        source = (folder / "sources" / digest).read_bytes()
    except OSError:
        return None
    return source if content_digest(source) == digest else None


def _results_file(folder: Path, snapshot_id: int) -> Path:
    return folder / f"base.results.{snapshot_id}.json"


def _drop_results(folder: Path, keep: Path | None) -> None:
    for old in folder.glob("base.results.*.json"):
        if old != keep:
            with contextlib.suppress(OSError):
                old.unlink()


def _encoded_results(report) -> bytes | None:
    """A read's results to keep beside its data (`coverage_data.kept_results` reads them):
    each Python file's source key, result text and line-tests blob."""
    if report is None or report.source_keys is None:
        return None
    import base64

    from covtui.domain.codec import encode_file_result, encode_line_tests

    line_tests = report.line_tests or {}
    files = {}
    for f in report.files:
        key = report.source_keys.get(f.path)
        if key is None:
            continue
        tests = line_tests.get(f.path)
        data = encode_line_tests(tests) if tests is not None else None
        blob = base64.b64encode(data).decode() if data is not None else None
        digest = hashlib.blake2b(data, digest_size=16).hexdigest() if data is not None else None
        files[f.path] = [key, encode_file_result(f), blob, digest]
    return json.dumps({"files": files}).encode()


def _write_selection(path: Path, selection: dict) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(selection), encoding="utf-8")
    os.replace(partial, path)


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".tmp")
    with open(partial, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)


# -- coverage data -----------------------------------------------------------------------------


def _connect(path: Path, *, write: bool = False) -> sqlite3.Connection:
    if write:
        return sqlite3.connect(path)
    return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)


def data_problem(path: Path) -> str | None:
    """Why a run's coverage data can't be kept for merging (None: it can)."""
    try:
        con = _connect(path)
        try:
            (version,) = con.execute("SELECT version FROM coverage_schema").fetchone()
            contexts = [c for (c,) in con.execute("SELECT context FROM context")]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"{path}: not readable coverage data ({exc})"
    if version != COVERAGE_SCHEMA:
        return f"coverage.py data schema {version} (covtui merges schema {COVERAGE_SCHEMA})"
    if not has_tests(contexts):
        return "the run recorded no per-test contexts"
    return None


def measured_files(path: Path, root: Path) -> dict[str, str]:
    """Each file in the data, by the key `tree_files` uses (relative inside the root,
    absolute outside it) → the path the data names."""
    con = _connect(path)
    try:
        paths = [p for (p,) in con.execute("SELECT path FROM file")]
    finally:
        con.close()
    real_root = os.path.realpath(root)
    keys = {}
    for measured in paths:
        real = os.path.realpath(measured)
        if real == real_root or real.startswith(real_root + os.sep):
            keys[os.path.relpath(real, real_root).replace(os.sep, "/")] = measured
        else:
            keys[measured] = measured
    return keys


def contexts_touching(
    path: Path, files: Iterable[str], lines: Mapping[str, set[int]] | None = None,
) -> dict[str, set[str]]:
    """Data path → the contexts that ran any line (or arc) of it; for a file in `lines`,
    only those that ran one of those lines (an arc from or to one)."""
    from coverage.numbits import nums_to_numbits, register_sqlite_functions

    wanted = list(files)
    if not wanted:
        return {}
    lines = lines or {}
    con = _connect(path)
    try:
        register_sqlite_functions(con)
        found: dict[str, set[str]] = {p: set() for p in wanted}
        whole = [p for p in wanted if p not in lines]
        if whole:
            marks = ",".join("?" * len(whole))
            for table in ("line_bits", "arc"):
                rows = con.execute(
                    f"SELECT DISTINCT f.path, c.context FROM {table} t JOIN file f ON f.id = t.file_id "
                    f"JOIN context c ON c.id = t.context_id WHERE f.path IN ({marks})",
                    whole,
                )
                for file_path, context in rows:
                    found[file_path].add(context)
        for file_path, some in lines.items():
            if file_path not in found or not some:
                continue
            for (context,) in con.execute(
                "SELECT DISTINCT c.context FROM line_bits t JOIN file f ON f.id = t.file_id "
                "JOIN context c ON c.id = t.context_id "
                "WHERE f.path = ? AND numbits_any_intersection(t.numbits, ?)",
                (file_path, nums_to_numbits(some)),
            ):
                found[file_path].add(context)
            for context, a, b in con.execute(
                "SELECT c.context, t.fromno, t.tono FROM arc t JOIN file f ON f.id = t.file_id "
                "JOIN context c ON c.id = t.context_id WHERE f.path = ?", (file_path,),
            ):
                if abs(a) in some or abs(b) in some:
                    found[file_path].add(context)
    finally:
        con.close()
    return found


def _gone(context: str, replaced: set[str], collected: frozenset[str] | None) -> bool:
    """Whether a kept context leaves the merge: a rerun test's, or a collection (or the import
    context) measured again (`collected`: the modules collected again; None: all of them)."""
    module = collected_module(context)
    if module is not None:
        return collected is None or module in collected
    if context == IMPORT:
        return collected is None
    return split_context(context)[0] in replaced


def collection_lines_lost(
    base: Path, run: list[Path], modules: Iterable[str], changed: Iterable[str],
) -> str | None:
    """A data path whose line or arc the `modules`' collections ran in the base data and no
    context of the rerun ran (None: none). Files in `changed` (data paths) are left out: their
    lines come from the rerun only. Such a line was run first by that collection (an import,
    a cache filled), so a module collected later may run it now in a full run."""
    from coverage.numbits import numbits_to_nums

    names = [f"collect:{m}" for m in modules]
    if not names:
        return None
    skip = set(changed)

    def lines(path: Path, contexts: list[str] | None) -> tuple[dict, dict]:
        con = _connect(path)
        try:
            where, args = "", []
            if contexts is not None:
                where = f" WHERE c.context IN ({','.join('?' * len(contexts))})"
                args = contexts
            found: dict[str, set[int]] = {}
            for file_path, bits in con.execute(
                "SELECT f.path, t.numbits FROM line_bits t JOIN file f ON f.id = t.file_id "
                f"JOIN context c ON c.id = t.context_id{where}", args,
            ):
                found.setdefault(file_path, set()).update(numbits_to_nums(bits))
            arcs: dict[str, set[tuple[int, int]]] = {}
            for file_path, a, b in con.execute(
                "SELECT f.path, t.fromno, t.tono FROM arc t JOIN file f ON f.id = t.file_id "
                f"JOIN context c ON c.id = t.context_id{where}", args,
            ):
                arcs.setdefault(file_path, set()).add((a, b))
            return found, arcs
        finally:
            con.close()

    before_lines, before_arcs = lines(base, names)
    now_lines: dict[str, set] = {}
    now_arcs: dict[str, set] = {}
    for path in run:
        got_lines, got_arcs = lines(path, None)
        for k, v in got_lines.items():
            now_lines.setdefault(k, set()).update(v)
        for k, v in got_arcs.items():
            now_arcs.setdefault(k, set()).update(v)
    for before, now in ((before_lines, now_lines), (before_arcs, now_arcs)):
        for file_path, had in sorted(before.items()):
            if file_path not in skip and not had <= now.get(file_path, set()):
                return file_path
    return None


def merge_data(
    base: Path, run: list[Path], out: Path, replaced: set[str],
    collected: frozenset[str] | None = None, moved: Mapping[str, Mapping[int, int]] | None = None,
) -> set[str]:
    """Write to `out` the base data without the `replaced` tests' contexts and the contexts of
    the collections measured again (`collected`: those modules'; None: every module's and the
    import context), combined with the rerun's data files (as `coverage combine` would, no
    aliases). `moved`: data path → old line → new line, for the files edited inside function
    bodies only: their kept lines and arcs take the new numbers (a kept line the map lacks is
    an error: the merge would not be exact). Returns the data's names of the files whose
    lines, arcs or contexts may differ from the base's: those the removed contexts ran and
    those the rerun measured."""
    from coverage import CoverageData

    partial = out.with_name(out.name + ".merging")
    shutil.copyfile(base, partial)
    con = _connect(partial, write=True)
    try:
        gone = [
            context_id for context_id, context in con.execute("SELECT id, context FROM context")
            if _gone(context, replaced, collected)
        ]
        con.execute("CREATE TEMP TABLE gone (id INTEGER PRIMARY KEY)")
        con.executemany("INSERT INTO gone (id) VALUES (?)", [(i,) for i in gone])
        base_files = {path for (path,) in con.execute("SELECT path FROM file")}
        touched = {
            path for (path,) in con.execute(
                "SELECT f.path FROM file f WHERE f.id IN (SELECT file_id FROM line_bits "
                "WHERE context_id IN (SELECT id FROM gone) UNION SELECT file_id FROM arc "
                "WHERE context_id IN (SELECT id FROM gone))"
            )
        }
        for table in ("line_bits", "arc"):
            con.execute(f"DELETE FROM {table} WHERE context_id IN (SELECT id FROM gone)")
        con.execute("DELETE FROM context WHERE id IN (SELECT id FROM gone)")
        for file_path, lines in (moved or {}).items():
            _move_lines(con, file_path, lines)
            touched.add(file_path)
        # Files no kept context ran are no longer measured (the rerun measures them if run).
        kept = "SELECT file_id FROM line_bits UNION SELECT file_id FROM arc"
        con.execute(f"DELETE FROM tracer WHERE file_id NOT IN ({kept})")
        con.execute(f"DELETE FROM file WHERE id NOT IN ({kept})")
        con.commit()
    finally:
        con.close()
    merged = CoverageData(basename=str(partial))
    merged.read()
    for path in run:
        other = CoverageData(basename=str(path))
        other.read()
        touched.update(_files_with_data(path))
        merged.update(other)
    merged.write()
    # And the files that came or went (coverage.py lists the files of `source` it never
    # ran, with no data, and the merge drops those of the base).
    touched.update(base_files ^ set(merged.measured_files()))
    del merged
    os.replace(partial, out)
    return touched


def _move_lines(con: sqlite3.Connection, file_path: str, lines: Mapping[int, int]) -> None:
    """Give a file's recorded lines and arcs their new numbers (`lines`: old → new; an arc's
    negative end, a code object's entry or exit, names its first line)."""
    from coverage.numbits import numbits_to_nums, nums_to_numbits

    def new(n: int) -> int:
        try:
            return lines[n] if n > 0 else -lines[-n]
        except KeyError:
            raise ValueError(
                f"{file_path}: a kept record ran line {abs(n)}, which the edit changed"
            ) from None

    row = con.execute("SELECT id FROM file WHERE path = ?", (file_path,)).fetchone()
    if row is None:
        return
    (file_id,) = row
    bits = con.execute(
        "SELECT context_id, numbits FROM line_bits WHERE file_id = ?", (file_id,)
    ).fetchall()
    arcs = con.execute(
        "SELECT context_id, fromno, tono FROM arc WHERE file_id = ?", (file_id,)
    ).fetchall()
    moved_bits = [(nums_to_numbits([new(n) for n in numbits_to_nums(b)]), file_id, c) for c, b in bits]
    moved_arcs = [(file_id, c, new(a), new(b)) for c, a, b in arcs]
    con.executemany("UPDATE line_bits SET numbits = ? WHERE file_id = ? AND context_id = ?", moved_bits)
    con.execute("DELETE FROM arc WHERE file_id = ?", (file_id,))  # unique keys: all at once
    con.executemany(
        "INSERT INTO arc (file_id, context_id, fromno, tono) VALUES (?, ?, ?, ?)", moved_arcs
    )


def _files_with_data(path: Path) -> set[str]:
    """The data names of the files with a line or an arc in a data file."""
    con = _connect(path)
    try:
        return {
            name for (name,) in con.execute(
                "SELECT path FROM file WHERE id IN "
                "(SELECT file_id FROM line_bits UNION SELECT file_id FROM arc)"
            )
        }
    finally:
        con.close()


# -- one source's incremental scan -----------------------------------------------------------


class Keeper:
    """One source's part in affected rescans during one scan: decides whether the run can be
    incremental (and which tests it reruns), merges its data, and keeps the new base once
    the snapshot is stored.

    Every scan that runs pytest with contexts keeps a base, so that `--affected` can follow.
    """

    def __init__(
        self, config: Config, source: SourceConfig, *, affected: bool, full_scan_every: int,
        last_good: int | None, now: float,
    ) -> None:
        self.config, self.source = config, source
        self.affected, self.every, self.last_good, self.now = affected, full_scan_every, last_good, now
        self.folder = base_folder(config, source)
        self.base: Base | None = None
        self.selection = None  # a domain Selection when the run is incremental
        self.note = ""  # one line: why the run is full, or what the incremental one ran
        self.tree: Tree | None = None
        self.narrow = False
        self.n_tests_run: int | None = None
        self.n_tests: int | None = None
        self._new_base: Base | None = None
        self._data: Path | None = None
        self._why_not = ""
        self._touched: set[str] | None = None  # data names the merge may have changed
        self._report = None  # the read of `_data`, kept with it
        #: Whether this source keeps per-test data (pytest under coverage with contexts).
        self.keeps = True
        #: Why the incremental run can't be merged (it then runs in full); "" when it can.
        self.failed_why = ""
        #: Why a full scan follows the incremental run to check it ("" : none does).
        self.verify = ""
        #: The incremental chain differed from the full scan (an `incremental_drift` alert).
        self.drift = None
        #: Which test modules the incremental run collects (a domain Collection).
        self.collection: Collection | None = None
        #: Each module the run collected → the files its collection imported first (tree keys).
        self.run_collected: dict[str, list[str]] | None = None
        self._data_paths: dict[str, str] = {}  # tree key → path in the kept data
        #: Data path → old line → new line, for the changed files edited inside function
        #: bodies only (their kept records follow the edit in the merge).
        self._moved: dict[str, dict[int, int]] = {}

    @property
    def incremental(self) -> bool:
        return self.selection is not None

    def decide(self) -> None:
        """Hash the project and choose: incremental (a selection) or full (a note why)."""
        try:
            self._decide()
        except (OSError, sqlite3.Error, ValueError) as exc:
            # Kept data that can't be read costs the rescan its speed, never its figures.
            self.selection = None
            if self.affected:
                self.note = f"full scan: the kept per-test coverage is not readable ({exc})"

    def _decide(self) -> None:
        from covtui.domain.affected import FullRun, collection, full_scan_due, select

        base, why = load_base(self.folder)
        self.base = base
        outside = [p for p in (base.files if base else {}) if os.path.isabs(p)]
        self.tree, self.narrow = current_tree(
            self.config, self.source, base.files if base else None, outside
        )
        if not self.affected:
            return
        if base is None:
            self.note = f"full scan: {why}"
            return
        if base.snapshot_id != self.last_good:
            self.note = (
                f"full scan: the last good snapshot of {self.source.name} is not the one whose "
                "per-test coverage covtui kept"
            )
            return
        due = full_scan_due(base, self.every, self.now)
        data = self.folder / "base.coverage"
        keys = measured_files(data, self.config.root)
        self._data_paths = keys
        changed = [p for p in keys if (base.files.get(p) or [None])[0]
                   != (self.tree.files.get(p) or [None])[0]]
        edits = self._function_edits(base, changed)
        touched = contexts_touching(
            data, [keys[p] for p in changed],
            lines={keys[p]: edit.old_lines() for p, edit in edits.items()},
        )
        touching = {p: touched.get(keys[p], set()) for p in changed}
        chosen = select(base, self.tree, touching, set(keys), within_functions=set(edits))
        if isinstance(chosen, FullRun):
            self.note = f"full scan: {chosen.reason}"
            return
        self.selection = chosen
        self._moved = {keys[p]: edit.line_map for p, edit in edits.items()}
        self.collection = collection(base, self.tree, chosen, touching)
        if due is not None:
            # The incremental run goes first, then a full one to check it against.
            self.verify = f"{due} (checks the incremental figures)"

    def _function_edits(self, base: Base, changed: list[str]) -> dict[str, FunctionEdit]:
        """The changed modules (not test modules) edited inside function bodies only, by the
        source kept with the base and the one hashed now: only the tests that ran a changed
        function rerun for them (`domain.edits`)."""
        from covtui.domain.edits import function_edit

        assert self.tree is not None
        test_files = {test_file_of(t) for t in base.outcomes}
        edits: dict[str, FunctionEdit] = {}
        for path in changed:
            old_entry, new_entry = base.files.get(path), self.tree.files.get(path)
            if (
                os.path.isabs(path) or not path.endswith(".py") or path in test_files
                or old_entry is None or new_entry is None
            ):
                continue
            old = _kept_source(self.folder, old_entry[0])
            try:
                new = (self.config.root / path).read_bytes()
            except OSError:
                continue
            if old is None or content_digest(new) != new_entry[0]:
                continue  # no source kept for it, or it changed again since it was hashed
            edit = function_edit(old, new)
            if edit is not None:
                edits[path] = edit
        return edits

    def fall_back(self, why: str) -> None:
        """The incremental run can't be merged exactly: the scan runs in full."""
        self.selection = None
        self.collection = None
        self.failed_why = ""
        self.n_tests_run = None
        self._new_base = None
        self._data = None
        self._why_not = ""
        self._touched = None
        self._report = None
        self.note = f"full scan: {why}"

    def select_env(self, work: Path) -> dict[str, str]:
        """The environment that makes covtui's pytest plugin run only the selection (written)."""
        self.write_selection(work)
        return {SELECT_ENV: str(work / SELECTION_FILE)}

    def write_selection(self, work: Path) -> None:
        """Write the selection where `select_env` says, whole or not at all (a waiting
        plugin reads it as soon as it exists). A full run's selection names nothing and
        knows no test: every test is new to it, so every one runs, as without a selection."""
        path = work / SELECTION_FILE
        if self.selection is None:
            _write_selection(path, {"tests": [], "files": [], "known": [], "skip": []})
            return
        assert self.base is not None
        root = self.config.root
        skip: list[str] = []
        if self.collection is not None and self.collection.modules is not None:
            known = set(self.base.collected or ()) | {test_file_of(t) for t in self.base.outcomes}
            skip = sorted(
                os.path.realpath(root / m) for m in known - self.collection.modules
            )
        _write_selection(path, {
            "tests": self.selection.tests,
            "files": [os.path.realpath(root / p) for p in self.selection.test_files],
            "known": sorted(self.base.outcomes),
            "skip": skip,
        })

    def read_collected(self, path: Path | None, started: float) -> None:
        """The modules the run collected, as covtui's plugin wrote them (None: not written)."""
        self.run_collected = None
        if path is None:
            return
        try:
            if path.stat().st_mtime < started - 1:
                return
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(raw, dict):
            return
        real_root = os.path.realpath(self.config.root)
        outside = {p for p in (self.tree.files if self.tree else {}) if os.path.isabs(p)}
        collected: dict[str, list[str]] = {}
        for module, files in raw.items():
            keys = set()
            for real in files if isinstance(files, list) else ():
                real = str(real)
                if real.startswith(real_root + os.sep):
                    keys.add(os.path.relpath(real, real_root).replace(os.sep, "/"))
                elif real in outside:
                    keys.add(real)
            collected[str(module)] = sorted(keys)
        self.run_collected = collected

    def collection_problem(self, run: list[Path]) -> str:
        """Why the collections the incremental run skipped can't be kept ("" : they can)."""
        from covtui.domain.affected import collection_kept

        if self.collection is None or self.collection.modules is None:
            return ""
        assert self.base is not None and self.selection is not None
        if self.run_collected is None:
            return "the incremental run did not record which test modules it collected"
        modules = set(self.run_collected)
        why = collection_kept(self.base, modules, self.run_collected, self.selection.changed)
        if why:
            return why
        changed = [self._data_paths[p] for p in self.selection.changed if p in self._data_paths]
        lost = collection_lines_lost(self.folder / "base.coverage", run, modules, changed)
        if lost is not None:
            shown = os.path.relpath(lost, self.config.root) if os.path.isabs(lost) else lost
            return (f"{shown}: lines the recollected test modules' collection ran last time did "
                    "not run again (a module collected later may run them now)")
        return ""

    def merge(self, run: list[Path], work: Path) -> Path:
        """The base merged with the rerun's data: the file coverage.py reads for the figures."""
        assert self.selection is not None
        out = work / "merged" / ".coverage"
        out.parent.mkdir(exist_ok=True)
        selective = self.collection is not None and self.collection.modules is not None
        collected = frozenset(self.run_collected or ()) if selective else None
        self._touched = merge_data(
            self.folder / "base.coverage", run, out, self.selection.replaced, collected,
            moved=self._moved,
        )
        return out

    def reuse(self) -> tuple[frozenset[str], str] | None:
        """For the read of the merged data: the files it may find changed, and where the base's
        read is kept (its results for every other file whose source is unchanged are taken
        as they are); None when there is nothing to reuse."""
        if self._touched is None or self.base is None:
            return None
        kept = _results_file(self.folder, self.base.snapshot_id)
        return (frozenset(self._touched), str(kept)) if kept.is_file() else None

    def results_to_keep(self, report) -> None:
        """The read of the data to keep: its results are kept with it (`reuse`)."""
        self._report = report

    def collection_note(self) -> str:
        """How the incremental run collected: "" when only the modules it needed, else why
        every one."""
        if self.collection is not None and self.collection.modules is None:
            return f"; every test module collected: {self.collection.why}"
        return ""

    def kept_tests(self, outcomes: dict[str, str] | None, junit: Path | None):
        """After the run: the outcomes and JUnit counts to store (merged when incremental),
        and get the base ready to keep. Returns (outcomes, TestOutcomes or None)."""
        from covtui.domain.affected import (
            junit_id,
            merge_junit,
            merge_outcomes,
            outcomes_from,
        )
        from covtui.readers.junit import read_junit_cases

        cases = None
        if junit is not None and junit.is_file():
            try:
                cases = read_junit_cases(junit)
            except Exception:  # noqa: BLE001 - the scan reads (and reports) the JUnit itself
                cases = None
        tests = None
        if self.incremental:
            assert self.base is not None and self.selection is not None
            ran = outcomes or {}
            self.n_tests_run = len(ran)
            outcomes = merge_outcomes(self.base.outcomes, self.selection.replaced, ran)
            cases = merge_junit(self.base.junit, self.selection.replaced, cases or {})
            tests = outcomes_from(cases)
            self.n_tests = tests.n_tests
        if outcomes is None or cases is None:
            self._why_not = "the run left no test outcomes or no JUnit XML"
        elif {junit_id(t) for t in outcomes} != set(cases):
            self._why_not = "the JUnit XML's test ids don't match pytest's node ids"
        elif not all((self.config.root / f).is_file() for f in {test_file_of(t) for t in outcomes}):
            self._why_not = (
                "pytest's node ids are not paths from the project root (its rootdir is "
                "elsewhere), so covtui can't tell which tests a changed file holds"
            )
        else:
            self._new_base = Base(
                snapshot_id=0,
                files=self.tree.files if self.tree else {},
                config=self.tree.config if self.tree else "",
                packages=self.tree.packages if self.tree else "",
                outcomes=dict(outcomes),
                junit=cases,
                narrow=self.narrow,
                n_incremental=(self.base.n_incremental + 1) if self.incremental and self.base else 0,
                full_at=(self.base.full_at if self.incremental and self.base else self.now),
                volatile=list(self.base.volatile) if self.base else [],
                collected=self._collected_to_keep(),
            )
        return outcomes, tests

    def _collected_to_keep(self) -> dict[str, list[str]] | None:
        """Each test module's collection record for the new base: the run's, with the kept
        record of the modules an incremental run did not collect."""
        if self.run_collected is None:
            return None
        if self.collection is not None and self.collection.modules is not None:
            assert self.base is not None and self.base.collected is not None
            kept = {m: f for m, f in self.base.collected.items() if m not in self.run_collected}
            return {**kept, **self.run_collected}
        return dict(self.run_collected)

    def data_to_keep(self, data: list[Path]) -> None:
        """The coverage data the snapshot's figures come from (one file, with contexts)."""
        if len(data) != 1:
            self._why_not = (
                f"the run wrote {len(data)} coverage data files (subprocesses or parallel mode: "
                "their lines have no test context)"
            )
            return
        problem = data_problem(data[0])
        if problem is not None:
            self._why_not = problem
            return
        self._data = data[0]

    def commit(self, snapshot_id: int) -> None:
        """Keep the base of the stored snapshot (in a thread: it copies and hashes files). The
        snapshot is stored already: a failure here only leaves no base (the next affected
        rescan runs every test and says why)."""
        try:
            self._commit(snapshot_id)
        except (OSError, sqlite3.Error, ValueError) as exc:
            with contextlib.suppress(OSError):
                save_base(self.folder, None, None, f"the per-test coverage could not be kept ({exc})")

    def _commit(self, snapshot_id: int) -> None:
        base = self._new_base
        if base is None or self._data is None:
            save_base(self.folder, None, None, self._why_not or "the run kept no per-test data")
            return
        base.snapshot_id = snapshot_id
        # Files the tests wrote meanwhile (not Python): outputs, not inputs; not tracked.
        after = tree_files(self.config.root, _own_files(self.config), base.files)
        base.volatile = sorted(set(base.volatile) | {
            p for p, entry in after.items()
            if not p.endswith(".py") and (base.files.get(p) or [None])[0] != entry[0]
        })
        # Files beyond the root that the tests ran (a sibling package installed editable).
        measured = measured_files(self._data, self.config.root)
        for key in measured:
            if os.path.isabs(key):
                entry = _entry(key, key, base.files)
                if entry is not None:
                    base.files[key] = entry
        save_base(self.folder, base, self._data, results=_encoded_results(self._report))
        with contextlib.suppress(OSError):  # without them the next rescan reruns whole files
            _keep_sources(self.folder, self.config.root, base.files, measured)
