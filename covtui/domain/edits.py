"""Where an edit to a module landed: inside function bodies only, and how its lines moved.

An affected rescan reruns the tests that ran a line of a changed file. When every changed
line of a module lies inside the bodies of its functions (and methods), and the module is
otherwise the same (the same functions in the same order, the same code outside them), a
test that ran none of the changed functions' lines ran the same code as before: only the
tests that ran a changed function need to run again. Their kept records stay exact once
their line numbers follow the edit: lines above it keep their numbers, lines below it move
by what the edit added or removed, and no kept record can name a line inside a changed body
(whoever ran one reruns). `function_edit` finds those functions and that mapping from the
two versions of the source, or says the change is not of that kind.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionEdit:
    """A change confined to function bodies."""

    #: The changed functions' qualified names (`Class.method`), in source order.
    functions: tuple[str, ...]
    #: Each changed function's body in the old source: (first line, last line).
    old_spans: tuple[tuple[int, int], ...]
    #: Old line → new line, for every line outside the changed bodies.
    line_map: dict[int, int]

    def old_lines(self) -> set[int]:
        """Every line of the changed bodies, in the old source."""
        return {n for first, last in self.old_spans for n in range(first, last + 1)}


def function_edit(old: bytes, new: bytes) -> FunctionEdit | None:
    """The functions an edit from `old` to `new` changed, when every changed line lies inside
    a function body in both versions and the functions are the same ones in the same order;
    None otherwise (a change outside any body, a function added, removed or renamed, a
    source that does not parse): then every test that ran the file reruns."""
    try:
        old_functions, new_functions = _functions(old), _functions(new)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # not Python we can follow
        return None
    if [name for name, _, _ in old_functions] != [name for name, _, _ in new_functions]:
        return None
    # Python numbers lines as bytes.splitlines() splits them (\n, \r\n, \r).
    old_lines, new_lines = old.splitlines(), new.splitlines()
    old_owner, new_owner = _owners(old_functions, len(old_lines)), _owners(new_functions, len(new_lines))
    line_map: dict[int, int] = {}
    changed: set[int] = set()
    for tag, i1, i2, j1, j2 in _opcodes(old_lines, new_lines):
        if tag == "equal":
            # Equal text is the same code only in the same place: outside every body on both
            # sides, or in the same function's (a blank line or a `pass` could pair across).
            if any(old_owner[i1 + k + 1] != new_owner[j1 + k + 1] for k in range(i2 - i1)):
                return None
            line_map.update((i1 + k + 1, j1 + k + 1) for k in range(i2 - i1))
            continue
        k = _owner(old_functions, new_functions, (i1, i2), (j1, j2))
        if k is None:
            return None
        changed.add(k)
    if not changed:
        return None  # the same lines (a line-ending change): nothing to follow
    order = sorted(changed)
    edit = FunctionEdit(
        functions=tuple(old_functions[k][0] for k in order),
        old_spans=tuple((old_functions[k][1], old_functions[k][2]) for k in order),
        line_map=line_map,
    )
    for n in edit.old_lines():  # unchanged lines of a changed body: no kept record has them
        line_map.pop(n, None)
    return edit


#: Above this many lines between the first and the last difference, difflib's heuristic for
#: frequent lines (blank lines, `return x`) keeps the diff fast; a worse alignment only makes
#: the edit look less confined (file granularity), never a wrong map (see the owner check).
_EXACT_DIFF_MAX = 1000


def _opcodes(a: list[bytes], b: list[bytes]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from `a` to `b`, the common first and last lines taken out first (an
    edit in one function leaves a few lines to diff in a module of thousands)."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    a_mid, b_mid = a[head:len(a) - tail], b[head:len(b) - tail]
    ops = [("equal", 0, head, 0, head)] if head else []
    matcher = difflib.SequenceMatcher(
        None, a_mid, b_mid, autojunk=max(len(a_mid), len(b_mid)) > _EXACT_DIFF_MAX
    )
    ops += [
        (tag, i1 + head, i2 + head, j1 + head, j2 + head)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    if tail:
        ops.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return ops


def _owner(
    old: list[tuple[str, int, int]], new: list[tuple[str, int, int]],
    old_range: tuple[int, int], new_range: tuple[int, int],
) -> int | None:
    """The function whose body holds a changed region on both sides (`*_range`: a slice of
    0-based line indexes, empty for a pure insertion or deletion), or None."""
    for k, ((_, old_first, old_last), (_, new_first, new_last)) in enumerate(zip(old, new, strict=True)):
        if _inside(old_range, old_first, old_last) and _inside(new_range, new_first, new_last):
            return k
    return None


def _inside(region: tuple[int, int], first: int, last: int) -> bool:
    """Whether 0-based lines [start, stop) lie in the 1-based body lines first..last; an empty
    region (the gap before line `start + 1`: lines inserted on the other side) when that gap
    touches the body: the other side's check says whether what fills it is body."""
    start, stop = region
    if start == stop:
        return first - 1 <= start <= last
    return first <= start + 1 and stop <= last


def _owners(functions: list[tuple[str, int, int]], n_lines: int) -> list[int]:
    """For each 1-based line (index 0 unused): the index of the function whose body holds it,
    or -1 outside every body."""
    owner = [-1] * (n_lines + 2)
    for k, (_, first, last) in enumerate(functions):
        for n in range(first, min(last, n_lines) + 1):
            owner[n] = k
    return owner


def _functions(source: bytes) -> list[tuple[str, int, int]]:
    """Each function and method outside other functions, in source order: (qualified name,
    first line of its body, last line of it). Functions nested in one are part of its body;
    those under `if`, `try`, `with` or a class count as the module's."""
    tree = ast.parse(source)
    found: list[tuple[str, int, int]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                last = child.end_lineno if child.end_lineno is not None else child.body[-1].lineno
                found.append((f"{prefix}{child.name}", child.body[0].lineno, last))
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                walk(child, prefix)

    walk(tree, "")
    return found
