"""Gap analysis: exactly what one file's tests miss — lines, branch arcs, functions, handlers."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from covtui.domain.model import FunctionCoverage
from covtui.domain.numbers import Numbers
from covtui.domain.records import FileDetail
from covtui.domain.regions import DefinitionFinder

SOURCE_NOT_AVAILABLE = "source not available"
SOURCE_CHANGED = "source changed since the snapshot"
SOURCE_OUTSIDE = "source outside the project root, not opened"


@dataclass(frozen=True)
class MissedArc:
    """A branch arc never taken; a negative target is an exit from the code object."""

    source_line: int
    target_line: int
    description: str


#: A function, method or class with at least one uncovered statement.
UncoveredFunction = FunctionCoverage


@dataclass(frozen=True)
class UncoveredHandler:
    """An `except` clause whose body never ran: an error path without a test."""

    line: int
    end_line: int
    exception: str  # "ValueError", "(KeyError, IndexError)", "" for a bare except
    function: str | None  # the enclosing function's qualified name; None at module level


@dataclass(frozen=True)
class FileGaps:
    """What covering one file would take."""

    source: str
    path: str
    numbers: Numbers
    missed_ranges: tuple[tuple[int, int], ...]
    missed_arcs: tuple[MissedArc, ...]
    #: Functions, methods and classes with uncovered statements, in source order.
    functions: tuple[UncoveredFunction, ...]
    uncovered_handlers: tuple[UncoveredHandler, ...]
    #: Why some of the analysis is missing ("source not available"); "" when complete.
    note: str = ""

    @property
    def uncovered_async(self) -> tuple[UncoveredFunction, ...]:
        """Async functions never entered."""
        return tuple(f for f in self.functions if f.is_async and f.never_run)

    @property
    def n_uncovered_handlers(self) -> int:
        return len(self.uncovered_handlers)

    @property
    def n_uncovered_async(self) -> int:
        return len(self.uncovered_async)


def line_ranges(lines: Iterable[int]) -> tuple[tuple[int, int], ...]:
    """Sorted line numbers as (first, last) runs of consecutive lines."""
    runs: list[list[int]] = []
    for n in sorted(set(lines)):
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return tuple((a, b) for a, b in runs)


def describe_arc(source_line: int, target_line: int, functions: Iterable[UncoveredFunction] = ()) -> str:
    """"line 12 never jumped to line 15"; an exit says what never finished ("never returned
    from load"), in the words of coverage.py's HTML report rather than its data's."""
    if target_line >= 0:
        return f"line {source_line} never jumped to line {target_line}"
    # coverage.py: -N is an exit from the code object that starts on line N.
    start = -target_line
    for f in functions:
        if f.start_line == start:
            if f.kind == "class":
                return f"line {source_line} never finished the body of class {f.name}"
            return f"line {source_line} never returned from {f.name}"
    if start == 1:
        return f"line {source_line} never exited the module"
    return f"line {source_line} never returned from the function on line {start}"


def analyse_file(
    detail: FileDetail, source_text: str | None, *, missing_note: str = SOURCE_NOT_AVAILABLE
) -> FileGaps:
    """The gaps in `detail`; `source_text` (the file as it is now) adds the AST-only facts.

    Functions come from the stored result where the reader filled them (coverage.py
    regions, lcov FN/FNDA); for a Python file without them they come from the AST.
    Exception handlers always need the AST. A file that no longer matches the stored
    result is noted, and its AST is not trusted.
    """
    missing = set(detail.missing_lines)
    functions = [
        _known_function(f, detail.functions) for f in detail.functions if f.n_missing > 0
    ]
    handlers: list[UncoveredHandler] = []
    note = ""
    if _is_python(detail.path):
        tree = _parse(source_text) if source_text is not None else None
        if tree is None:
            note = missing_note if source_text is None else SOURCE_NOT_AVAILABLE
        elif not _matches(tree, source_text or "", detail):
            note = SOURCE_CHANGED
        else:
            if not detail.functions:
                functions = [f for f in _ast_functions(tree, missing) if f.n_missing > 0]
            handlers = _uncovered_handlers(tree, missing)
    functions.sort(key=lambda f: (f.start_line, f.name))
    arcs = tuple(
        MissedArc(a, b, describe_arc(a, b, functions or _as_functions(detail)))
        for a, b in sorted(detail.missing_arcs, key=lambda arc: (arc[0], arc[1] < 0, abs(arc[1])))
    )
    return FileGaps(
        source=detail.source,
        path=detail.path,
        numbers=detail.numbers,
        missed_ranges=line_ranges(missing),
        missed_arcs=arcs,
        functions=tuple(functions),
        uncovered_handlers=tuple(handlers),
        note=note,
    )


def _is_python(path: str) -> bool:
    return path.endswith((".py", ".pyw"))


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested past the parser's limit
        return None


def _as_functions(detail: FileDetail) -> list[UncoveredFunction]:
    return [UncoveredFunction(f.name, f.kind, f.start_line, f.end_line, f.n_statements, f.n_missing)
            for f in detail.functions]


def _known_function(f, all_functions) -> UncoveredFunction:
    """A stored function; coverage.py calls methods "function", named "Class.method"."""
    kind = f.kind
    if kind in ("function", "async function") and "." in f.name:
        owner = f.name.rpartition(".")[0]
        if any(g.kind == "class" and g.name == owner for g in all_functions):
            kind = "async method" if kind == "async function" else "method"
    return UncoveredFunction(f.name, kind, f.start_line, f.end_line, f.n_statements, f.n_missing)


def _matches(tree: ast.Module, text: str, detail: FileDetail) -> bool:
    """Whether the file on disk still looks like the one measured."""
    n_lines = text.count("\n") + 1
    if any(line > n_lines for line in detail.missing_lines):
        return False
    if detail.functions:
        defs = {
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        # Decorated definitions: coverage.py may start them at the decorator.
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs.update(d.lineno for d in node.decorator_list)
        return all(f.start_line in defs for f in detail.functions if f.start_line > 0)
    return True


def _statement_lines(tree: ast.Module) -> set[int]:
    """First lines of statements, roughly what coverage.py measures (docstrings aside)."""
    lines = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for i, stmt in enumerate(body):
                is_docstring = (
                    i == 0
                    and isinstance(stmt, ast.Expr)
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                )
                if isinstance(stmt, ast.stmt) and not is_docstring:
                    lines.add(stmt.lineno)
        for name in ("orelse", "finalbody"):
            for stmt in getattr(node, name, ()) or ():
                if isinstance(stmt, ast.stmt):
                    lines.add(stmt.lineno)
    return lines


def _ast_functions(tree: ast.Module, missing: set[int]) -> list[UncoveredFunction]:
    finder = DefinitionFinder()
    finder.handle_node(tree)
    statements = _statement_lines(tree) | missing
    classes = {r.name for r in finder.regions if r.kind == "class"}
    result = []
    for region, (is_async, end) in zip(finder.regions, finder.extra, strict=True):
        kind = region.kind
        if kind == "function" and region.name.rpartition(".")[0] in classes:
            kind = "method"
        if is_async:
            kind = f"async {kind}"
        result.append(
            UncoveredFunction(
                region.name,
                kind,
                region.start,
                end,
                len(statements & region.lines),
                len(missing & region.lines),
            )
        )
    return result


def _uncovered_handlers(tree: ast.Module, missing: set[int]) -> list[UncoveredHandler]:
    found: list[UncoveredHandler] = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.ExceptHandler):
                body_lines = [stmt.lineno for stmt in child.body]
                if body_lines and all(line in missing for line in body_lines):
                    found.append(
                        UncoveredHandler(
                            child.lineno,
                            child.end_lineno or child.lineno,
                            ast.unparse(child.type) if child.type is not None else "",
                            ".".join(scope) or None,
                        )
                    )
            visit(child, scope)

    visit(tree, [])
    found.sort(key=lambda h: h.line)
    return found
