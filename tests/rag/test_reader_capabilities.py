"""The reader's named capabilities on announcements written for these tests (never seen in
training): the figure a question's modifiers pick, event dates against report dates, places for
"where" and people for "who", outlets and datelines that are never answers, yes/no read from
negations, near-miss abstention (each a family of questions, tests/rag/reader_families.py),
and the gates and computations that are not learned: figures of another period, computed
answers from two cited statements, relative dates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag.embedder import SentenceTransformerEmbedder
from rag.system import Newsdesk
from rag.types import Answer, Citation

from .reader_families import (
    FAMILIES,
    Case,
    describe,
    family_desk,
    inexact_quotes,
    judge,
    outcomes,
)


@pytest.fixture(scope="module")
def desk(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Newsdesk]:
    yield family_desk(tmp_path_factory.mktemp("reader-data"), embedder)


def answered(desk: Newsdesk, question: str) -> Answer:
    answer = desk.ask(question)
    assert not answer.abstained, (question, answer.extra.get("reason"))
    assert answer.short_answer is not None
    assert not inexact_quotes(desk, answer)  # every quote is its document's text at its offsets
    return answer


# The fewest questions of each family a reader must get right: the lowest count of the shipped
# artifact and eleven retrains of the same code and examples (seeds 1-12, `python -m eval.train
# --draws 12 --seed 1 --keep DIR`), so a retrain of unchanged code passes and a reader that loses
# a capability beyond that noise fails. Counts on 2026-12-03, shipped artifact / range over the
# 12 (and over 13 draws of the code before the modifier training questions): modifiers 8 / 6-8
# of 12 (5-7), event dates 6 / 6 of 6 (6), where-who 10 / 10 of 10 (9-10), outlets 2 / 1-3 of 4
# (1-3), yes/no 11 / 11-13 of 14 (11-13), near misses 6 / 5-7 of 11 (5-8). No artifact broke an
# invariant (inexact quote, outlet as the answer). The artifact shipped later that day (the
# polarity verdict and the clause "when", seed 13, retrained on that session's machine) counts
# modifiers 6, event dates 6, where-who 10, outlets 2, yes/no 13, near misses 5; 8 retrains of
# its code (seeds 1-8) range 6-8, 6, 10, 1-2, 11-13 and 5-7, inside every bound, which stay.
FAMILY_MIN = {
    "modifiers": 6,
    "event_dates": 6,
    "where_who": 10,
    "outlets": 1,
    "yes_no": 11,
    "near_misses": 5,
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_capability_family(desk: Newsdesk, family: str) -> None:
    """Each named capability as the share of its family answered right, with the invariants
    held on every answer: quotes are the source's own text, an abstention carries no citation
    or short answer, and an outlet or dateline is never the answer."""
    found = outcomes(desk, family)
    faults = [(describe(o), o.faults) for o in found if o.faults]
    assert not faults, faults
    right = sum(o.right for o in found)
    misses = [describe(o) for o in found if not o.right]
    assert right >= FAMILY_MIN[family], (f"{family}: {right}/{len(found)} right", misses)


def test_every_family_has_a_bound() -> None:
    assert set(FAMILY_MIN) == set(FAMILIES)
    assert all(0 < FAMILY_MIN[f] <= len(FAMILIES[f]) for f in FAMILIES)


def test_a_figure_of_another_period_is_not_the_answer(desk: Newsdesk) -> None:
    """Deliveries are stated for two quarters; the fourth is asked. The reader's period gate
    refuses the figure written beside another quarter, and keeps the one beside the asked one;
    it also refuses a figure from a report that names another quarter and never the asked one."""
    asked = "How many vehicles did Corvane Motors deliver in the fourth quarter of 2025?"
    refused = desk.ask(asked)
    assert refused.abstained, refused.answer
    assert "another period" in str(refused.extra.get("reason"))
    # no period is written beside the subscriber figures, but their report names only the third
    # quarter: the document test refuses them for a fourth-quarter question
    report = desk.ask(
        "How many mobile subscribers did Fjordlink Telecom add in the fourth quarter?"
    )
    assert report.abstained, report.answer
    assert "another period" in str(report.extra.get("reason"))
    stated = answered(
        desk, "How many vehicles did Corvane Motors deliver in the third quarter of 2025?"
    )
    assert stated.short_answer is not None and "61,800" in stated.short_answer


@pytest.mark.xfail(
    strict=True,
    reason="computations are held back by training: out of fold only 11 of 71 "
    "computed training questions got the right result, so the learned threshold (1.01 on the "
    "weaker side's score) refuses this one",
)
def test_computed_answer_from_two_cited_statements(desk: Newsdesk) -> None:
    answer = answered(
        desk, "How many more vehicles did Corvane Motors deliver in Q3 2025 than in Q2 2025?"
    )
    assert answer.short_answer is not None and "9,500" in answer.short_answer
    assert {c.doc_id for c in answer.citations} == {"corvane-q2", "corvane-q3"}
    assert len({(c.doc_id, c.start) for c in answer.citations}) == 2  # two different sentences
    assert "[1]" in answer.answer and "[2]" in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "By how many vehicles did Corvane Motors' Q2 2025 deliveries fall short of its Q3 2025 "
        "deliveries?",
        "How many times its base value could Harbor Grid's Delmar County contract reach with "
        "its options?",
        pytest.param(
            "By how much did Corvane Motors' third-quarter deliveries exceed its second-quarter "
            "deliveries?",
            marks=pytest.mark.xfail(
                strict=True,
                reason="not yet read as a computation: in the training questions 'by how much "
                "did ...' asks as often for a stated change ('by how much did revenue rise?'), "
                "and the detector scores this wording 0.07",
            ),
        ),
    ],
)
def test_a_computation_is_never_answered_with_one_of_its_figures(
    desk: Newsdesk, question: str
) -> None:
    """A question whose wording asks for a computation ("by how many ... fall short of", "how
    many times") is read as one: it gets a computed answer or none, never one of the figures
    it would compute from."""
    answer = desk.ask(question)
    stated = ("52,300", "61,800", "$120 million", "$310 million")
    if answer.abstained:
        assert answer.citations == [] and answer.short_answer is None
    else:
        assert answer.extra.get("computed"), (question, answer.answer)
        assert answer.short_answer not in stated, (question, answer.answer)


def test_relative_dates_are_resolved_against_publication(desk: Newsdesk) -> None:
    answer = answered(desk, "When does Corvane Motors expect its second plant to open?")
    assert answer.citations[0].doc_id == "corvane-q3"
    assert "by the end of 2026" in answer.answer  # "by the end of next year" in a 2025 article


class _Desk:
    """A stand-in desk with one document and one canned answer per question."""

    TEXT = "OSLO (Northwire) - Fjordlink Telecom did not meet its target."

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.store = self

    def ask(self, question: str) -> Answer:
        return self.answers[question]

    def get_document(self, doc_id: str) -> tuple[None, str] | None:
        return (None, self.TEXT) if doc_id == "doc" else None


def _answer(short: str | None, quote: str = "", start: int = 0) -> Answer:
    citations = (
        [Citation(1, "doc", "t", None, None, quote, start, start + len(quote), 1.0)]
        if quote
        else []
    )
    text = "The indexed announcements don't say." if short is None else f"{short} [1]"
    return Answer("q", text, short, short is None, citations, {})


def test_family_judging_counts_right_answers_and_flags_broken_invariants() -> None:
    """The family scorer itself: a right answer, a wrong one, a right abstention, and the
    invariants it must catch (an inexact quote, an outlet as the answer, a cited abstention)."""
    good_quote = "did not meet"
    start = _Desk.TEXT.index(good_quote)
    cases = {
        "right": (Case("right", ("No",), quote="did not meet"), _answer("No", good_quote, start)),
        "wrong": (Case("wrong", ("Fjordlink",)), _answer("Telecom", good_quote, start)),
        "abstain": (Case("abstain", abstain=True), _answer(None)),
        "inexact": (Case("inexact", ("No",)), _answer("No", good_quote, start + 1)),
        "outlet": (Case("outlet", ("Fjordlink",)), _answer("Northwire", "Northwire", 6)),
    }
    desk = _Desk({name: answer for name, (_, answer) in cases.items()})
    found = {name: judge(desk, case) for name, (case, _) in cases.items()}  # type: ignore[arg-type]
    assert [name for name, o in found.items() if o.right] == ["right", "abstain", "inexact"]
    assert [name for name, o in found.items() if o.faults] == ["inexact", "outlet"]
    cited = _answer(None)
    cited.citations = cases["right"][1].citations
    assert judge(_Desk({"abstain": cited}), cases["abstain"][0]).faults  # type: ignore[arg-type]
