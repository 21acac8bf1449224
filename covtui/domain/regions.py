"""Functions and classes in Python source, as coverage.py's region finder sees them."""

from __future__ import annotations

import ast

from covtui.coverage_compat import RegionFinder


class DefinitionFinder(RegionFinder):
    """coverage.py's region finder, also noting `async def` and each node's last line."""

    def __init__(self) -> None:
        super().__init__()
        # Appended before the base class appends the node's region, so it stays in step.
        self.extra: list[tuple[bool, int]] = []

    def handle_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.extra.append((isinstance(node, ast.AsyncFunctionDef), node.end_lineno or node.lineno))
        super().handle_FunctionDef(node)

    def handle_ClassDef(self, node: ast.ClassDef) -> None:
        self.extra.append((False, node.end_lineno or node.lineno))
        super().handle_ClassDef(node)
