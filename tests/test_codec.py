"""The stored forms of line lists and arcs decode to what was encoded, and the one-pass arc
decoder reads exactly what the part-by-part one reads."""

from __future__ import annotations

import random

import pytest

from covtui.domain.codec import decode_arcs, decode_lines, encode_arcs, encode_lines


def _decode_arcs_part_by_part(text: str) -> tuple[tuple[int, int], ...]:
    arcs = []
    for part in filter(None, text.split(",")):
        a, _, b = part.partition(">")
        arcs.append((int(a), int(b)))
    return tuple(arcs)


def test_arcs_and_lines_decode_to_what_was_encoded() -> None:
    rng = random.Random(7)
    for _ in range(300):
        arcs = {(rng.randint(-400, 400), rng.randint(-400, 400)) for _ in range(rng.randint(0, 60))}
        text = encode_arcs(arcs)
        assert decode_arcs(text) == tuple(sorted(arcs)) == _decode_arcs_part_by_part(text)
        lines = {rng.randint(1, 300) for _ in range(rng.randint(0, 80))}
        assert decode_lines(encode_lines(lines)) == tuple(sorted(lines))


@pytest.mark.parametrize("text", ["", "3>5,,8>-1", ",3>5", "3>5,", " 3>5", "+3>5"])
def test_other_arc_texts_read_as_before(text: str) -> None:
    assert decode_arcs(text) == _decode_arcs_part_by_part(text)


@pytest.mark.parametrize("text", ["3", "3>5>7,8", "3>x", "3>5,8"])
def test_malformed_arc_texts_still_fail(text: str) -> None:
    with pytest.raises(ValueError):
        _decode_arcs_part_by_part(text)
    with pytest.raises(ValueError):
        decode_arcs(text)


def test_a_file_result_decodes_to_the_file_it_encodes_its_statements_when_first_used() -> None:
    import pickle

    from covtui.domain.codec import EncodedLines, decode_file_result, encode_file_result
    from covtui.domain.model import FileCoverage, FunctionCoverage
    from covtui.domain.numbers import Numbers

    f = FileCoverage(
        "pkg/a.py", Numbers.of_file(n_statements=9, n_missing=2, n_branches=4, n_partial_branches=1,
                                    n_missing_branches=1),
        missing_lines=(4, 9), missing_arcs=((3, -1),),
        functions=(FunctionCoverage("f", "function", 1, 5, 4, 1),),
        statements=(1, 2, 3, 4, 6, 7, 8, 9, 12),
    )
    back = decode_file_result(encode_file_result(f), f.path)
    assert back == f
    assert isinstance(back.statements, EncodedLines)
    assert back.statements._lines is None  # not decoded until asked
    assert list(back.statements) == list(f.statements) and len(back.statements) == 9
    assert back.statements[-1] == 12 and 6 in back.statements and 5 not in back.statements
    again = pickle.loads(pickle.dumps(back))
    assert again == f and tuple(again.statements) == f.statements


def test_known_results_match_only_the_text_of_the_same_file() -> None:
    import dataclasses

    from covtui.domain.codec import (
        KnownResults,
        encode_arcs,
        encode_file_result,
        encode_functions,
        encode_lines,
    )
    from covtui.domain.model import FileCoverage, FunctionCoverage
    from covtui.domain.numbers import Numbers

    f = FileCoverage(
        "a.py", Numbers.of_file(n_statements=5, n_missing=1, n_branches=2, n_missing_branches=1,
                                n_partial_branches=1),
        missing_lines=(4,), missing_arcs=((2, 4),),
        functions=(FunctionCoverage("f", "function", 1, 5, 5, 1),), statements=(1, 2, 3, 4, 5),
    )

    def as_stored(g: FileCoverage):
        """As the store keeps it: no statements; lines, arcs and functions as texts."""
        texts = (encode_lines(g.missing_lines), encode_arcs(g.missing_arcs),
                 encode_functions(g.functions))
        return dataclasses.replace(g, statements=()), texts

    known = KnownResults([as_stored(f)])
    back = known.match("a.py", encode_file_result(f))
    assert back == f and tuple(back.statements) == (1, 2, 3, 4, 5)
    assert known.match("b.py", encode_file_result(f)) is None
    for other in (
        dataclasses.replace(f, missing_lines=(4, 5)),
        dataclasses.replace(f, missing_arcs=((2, 4), (3, -1))),
        dataclasses.replace(f, functions=f.functions + (FunctionCoverage("g", "function", 6, 7, 1, 0),)),
        dataclasses.replace(f, numbers=Numbers.of_file(n_statements=5, n_missing=2)),
    ):
        assert known.match("a.py", encode_file_result(other)) is None
    # No functions: stored as "", a JSON array in the read's text.
    bare = dataclasses.replace(f, functions=())
    assert KnownResults([as_stored(bare)]).match("a.py", encode_file_result(bare)) == bare
    # Counts that are not one file's own (n_files 2) are not taken as known.
    stored, texts = as_stored(f)
    odd = dataclasses.replace(stored, numbers=dataclasses.replace(stored.numbers, n_files=2))
    assert KnownResults([(odd, texts)]).match("a.py", encode_file_result(f)) is None
