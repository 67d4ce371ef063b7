"""A source's own bracketed numbers never pass for citation markers; unverifiable markers are
reported as a reason, not raised."""

from __future__ import annotations

import pytest

from rag.citations import CitationError, check_markers, marker_problem, markers_in, prose_safe
from rag.types import Citation


def citation(number: int) -> Citation:
    return Citation(number, "d", "t", None, None, "q", 0, 1, 1.0)


@pytest.mark.parametrize(
    ("source", "safe"),
    [
        ("Revenue rose 9 percent [2].", "Revenue rose 9 percent (2)."),
        ("Six carriers [3, 4] and [13-15] and [ 5 ] and [1][2].",
         "Six carriers (3, 4) and (13-15) and (5) and (1)(2)."),
        ("Keep [note] and [a1] and 2[x] as they are.", "Keep [note] and [a1] and 2[x] as they are."),
    ],
)  # fmt: skip
def test_prose_safe_neutralises_only_bracketed_numbers(source: str, safe: str) -> None:
    assert prose_safe(source) == safe
    assert markers_in(prose_safe(source)) == set()


def test_marker_problem_is_a_reason_and_check_markers_raises_it() -> None:
    assert marker_problem("Grew 9 percent [1].", [citation(1)]) is None
    reason = marker_problem("Grew 9 percent [2] [1].", [citation(1)])
    assert reason == "answer cites [2] without citations"
    with pytest.raises(CitationError, match=r"cites \[2\]"):
        check_markers("Grew 9 percent [2] [1].", [citation(1)])
