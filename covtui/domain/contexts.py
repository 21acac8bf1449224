"""Per-test coverage: which tests (coverage.py contexts) ran each line of a file.

Context names are pytest-cov's (`--cov-context=test`), which covtui's own pytest plugin
writes too: `tests/test_x.py::test_y|run`, `…|setup`, `…|teardown`. The empty context ""
is code run before the first test: module import at collection, conftest, session start
(code run between two tests counts as the earlier one's teardown, as in pytest-cov).

covtui's scan also names each test module's collection `collect:<module node id>` (its imports,
parametrize arguments), so that an affected rescan can collect only the modules it needs.
Such a context is import, as the empty one is: no test ran the line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

#: The phases of a test, as the suffix of its context name says.
PHASES = ("setup", "run", "teardown")
#: What covered a line when no test was running (the empty context).
IMPORT = ""
#: The prefix of the context covtui's scan gives each test module's collection.
COLLECT = "collect:"


def collected_module(context: str) -> str | None:
    """"collect:tests/test_x.py" → "tests/test_x.py" (the module whose collection it names);
    None for any other context."""
    return context[len(COLLECT):] if context.startswith(COLLECT) else None


def is_import(context: str) -> bool:
    """Whether a context is code run outside any test: the empty one or a collection's."""
    return context == IMPORT or context.startswith(COLLECT)


def split_context(context: str) -> tuple[str, str]:
    """"tests/t.py::test_a|run" → ("tests/t.py::test_a", "run"); "" (or a collection's
    context) → ("", "import").

    A name without a phase suffix (`dynamic_context = test_function`) is its own test, "run".
    """
    if is_import(context):
        return "", "import"
    test, sep, phase = context.rpartition("|")
    if sep and phase in PHASES:
        return test, phase
    return context, "run"


class LineTests:
    """One file's executed lines and the contexts that executed each.

    `contexts` is the file's table of context names; `lines` maps a line to indexes into it.
    `content` is a digest of the file's source when it was measured (None: not known).
    `blob` is its encoded form (`covtui.domain.codec`) when it came from one, or once encoded:
    such a file is decoded only when its lines are asked for, and written again as it is.
    Immutable; equal when the lines and their contexts are (`content` aside).
    """

    __slots__ = ("_contexts", "_lines", "content", "blob", "_decode")

    def __init__(
        self,
        contexts: tuple[str, ...],
        lines: Mapping[int, tuple[int, ...]],
        content: str | None = None,
    ) -> None:
        self._contexts: tuple[str, ...] | None = contexts
        self._lines: Mapping[int, tuple[int, ...]] | None = lines
        self.content = content
        self.blob: bytes | None = None
        self._decode: Callable[[bytes], tuple] | None = None

    @classmethod
    def encoded(
        cls, blob: bytes, content: str | None, decode: Callable[[bytes], tuple]
    ) -> LineTests:
        """From its blob, decoded (`decode(blob)` gives contexts and lines) when first needed."""
        tests = cls.__new__(cls)
        tests._contexts = tests._lines = None
        tests.content, tests.blob, tests._decode = content, blob, decode
        return tests

    @property
    def contexts(self) -> tuple[str, ...]:
        if self._decode is not None:
            self._load()
        return self._contexts  # type: ignore[return-value]

    @property
    def lines(self) -> Mapping[int, tuple[int, ...]]:
        if self._decode is not None:
            self._load()
        return self._lines  # type: ignore[return-value]

    def _load(self) -> None:
        assert self._decode is not None and self.blob is not None
        self._contexts, self._lines = self._decode(self.blob)
        self._decode = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LineTests):
            return NotImplemented
        if self.blob is not None and self.blob == other.blob:
            return True  # equal data encodes to equal bytes
        return self.contexts == other.contexts and dict(self.lines) == dict(other.lines)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self._decode is not None:
            return f"LineTests(<{len(self.blob or b'')}-byte blob>, content={self.content!r})"
        return f"LineTests({self._contexts!r}, {self._lines!r}, content={self.content!r})"

    def __reduce__(self):
        if self._decode is not None:  # across processes as its blob: decoded where needed
            return (LineTests.encoded, (self.blob, self.content, self._decode))
        return (LineTests, (self._contexts, self._lines, self.content))

    @classmethod
    def of(
        cls,
        by_line: Mapping[int, Iterable[str]],
        executed: Iterable[int] | None = None,
        content: str | None = None,
    ) -> LineTests:
        """From coverage.py's `contexts_by_lineno()` shape (line → context names), kept to the
        `executed` lines (every one of them, with no context where the data names none)."""
        lines_run = sorted(by_line) if executed is None else sorted(executed)
        named = {line: set(by_line.get(line, ())) for line in lines_run}
        table = sorted({c for names in named.values() for c in names})
        index = {name: i for i, name in enumerate(table)}
        lines = {line: tuple(sorted(index[c] for c in names)) for line, names in named.items()}
        return cls(tuple(table), lines, content)

    def contexts_of(self, line: int) -> list[str]:
        """The context names that ran `line` (sorted); empty when it did not run."""
        return [self.contexts[i] for i in self.lines.get(line, ())]

    def tests_of(self, line: int) -> list[str]:
        """The tests that ran `line` in any phase (sorted; no "" for import)."""
        return sorted({t for t, _ in map(split_context, self.contexts_of(line)) if t})

    def n_tests(self, line: int) -> int:
        return len(self.tests_of(line))

    def only_outside_tests(self, line: int) -> bool:
        """True when `line` ran, but never in a test's own body (only at import, in fixtures)."""
        phases = {split_context(c)[1] for c in self.contexts_of(line)}
        return bool(phases) and "run" not in phases

    def all_tests(self) -> set[str]:
        return {t for t, _ in map(split_context, self.contexts) if t}


def has_tests(contexts: Iterable[str]) -> bool:
    """Whether measured data names any context but the empty one (per-test data was taken)."""
    return any(not is_import(c) for c in contexts)


#: A test's outcome in a run: "passed", "failed", "error", "skipped".
Outcomes = Mapping[str, str]
FAILING = frozenset({"failed", "error"})
