"""Question analysis, quantities and dates: the pieces the extractive answerer reasons with."""

from __future__ import annotations

from datetime import date

import pytest

from rag.dates import find_dates, question_time_frame, resolve_relative
from rag.evidence import _spelled_out
from rag.quantities import find_quantities
from rag.question import analyse


@pytest.mark.parametrize(
    ("question", "qtype", "kinds"),
    [
        ("How much capacity comes online by the end of 2026?", "number", {"power"}),
        ("What is the price of Anthropic's deal with Amazon?", "number", {"currency"}),
        ("How many GB200 chips is CoreWeave supplying?", "number", {"count"}),
        ("When will the Abilene campus be completed?", "date", set()),
        ("Which utility is supplying power to the campus?", "entity", set()),
        ("Did Amazon invest more than $4 billion in Anthropic?", "yes_no", {"currency"}),
        ("helmsway capacity now", "number", {"power"}),
        ("halvern FDA filing timing", "date", set()),
        ("What did Acme Power switch on in Nevada?", "other", set()),
    ],
)
def test_answer_types(question: str, qtype: str, kinds: set[str]) -> None:
    analysis = analyse(question)
    assert analysis.qtype == qtype
    assert analysis.wanted_kinds == kinds


def test_names_labels_and_counted_nouns() -> None:
    analysis = analyse("Who is the CEO of Platte Valley Energy?")
    assert analysis.entities == ["Platte Valley Energy"]
    assert analyse("How many GB200 chips is CoreWeave supplying?").count_noun == "chip"
    assert analyse("desert bloom phase 2 cost").required_numbers == ["2"]
    assert analyse("When does the 5 GW Anthropic–Amazon deal start?").entities == [
        "Anthropic",
        "Amazon",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Amazon has invested over $4 billion in it", [("over $4 billion", 4e9, "currency")]),
        ("nearly 1 gigawatt by the end of 2026", [("nearly 1 gigawatt", 1e9, "power")]),
        ("a 1.2 GW campus and 500 MW", [("1.2 GW", 1.2e9, "power"), ("500 MW", 5e8, "power")]),
        ("about 60,000 Nvidia GB200 GPUs", [("about 60,000 Nvidia GB200 GPUs", 6e4, "count")]),
        ("a round of 1.7 billion euros", [("1.7 billion euros", 1.7e9, "currency")]),
        ("Unit 1 has no connection to the 1979 reactor", []),
    ],
)
def test_quantities_have_exact_spans(text: str, expected: list[tuple[str, float, str]]) -> None:
    found = find_quantities(text)
    assert [(q.text, q.value, q.kind) for q in found] == expected
    assert all(text[q.start : q.end] == q.text for q in found)


def test_relative_dates_resolve_against_publication() -> None:
    published = date(2026, 4, 20)
    assert resolve_relative("this quarter", published) == "Q2 2026"
    assert resolve_relative("by the end of next year", published) == "by the end of 2027"
    assert resolve_relative("next month", published) == "May 2026"
    mentions = find_dates(
        "Capacity comes online this quarter; SAN FRANCISCO, March 3, 2025", published
    )
    assert [(m.text, m.resolved) for m in mentions] == [
        ("this quarter", "Q2 2026"),
        ("March 3, 2025", None),
    ]
    frame = question_time_frame("What was the latest valuation as of March 2025?")
    assert frame.latest and frame.as_of == date(2025, 3, 31)


def test_acronyms_match_their_spelled_out_names_only() -> None:
    assert _spelled_out("FDA", "filed with the US Food and Drug Administration")
    assert _spelled_out("CfD", "a 15-year contract for difference")
    assert not _spelled_out("CoreWeave", "the company was founded")
