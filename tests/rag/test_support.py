"""Claim-vs-span support: calibration examples for SUPPORT_THRESHOLD and the answer splitter."""

from __future__ import annotations

from datetime import date

import pytest

from rag.support import (
    SUPPORT_THRESHOLD,
    markers,
    missing_figures,
    split_sentences_with_markers,
    strip_markers,
    support_score,
)

CAPACITY = "Nearly 1 gigawatt is expected to be operational by the end of 2026, the company said."
FUNDING = "Amazon has put more than $4 billion into Anthropic through earlier funding rounds."
TRANCHE = "The first tranche of that capacity starts coming online this quarter."
ROUND = "Paris-based Mistral AI closed a funding round of 1.7 billion euros."
STAKE = "The round was led by ASML, which now holds about 11% of the company."

# (claim, span) pairs a reader would accept as supported: copies, light paraphrase, figures
# in another notation, relative dates resolved by the publication date, meta-words.
SUPPORTED = [
    ("Nearly 1 gigawatt is expected to be operational by the end of 2026 [1].", CAPACITY),
    ("About 1 GW should be operational by the end of 2026.", CAPACITY),
    ("Amazon has invested more than $4 billion in Anthropic [2].", FUNDING),
    ("Amazon has put $4bn into Anthropic.", FUNDING),
    ("According to the source, Amazon funded Anthropic.", FUNDING),
    ("The first tranche of capacity comes online in Q2 2026.", TRANCHE),
    ("Mistral AI closed a 1.7 billion euro funding round.", ROUND),
    ("ASML led the round and holds about 11 percent of Mistral.", STAKE),
    ("ASML holds about 11% of the company [1][2].", STAKE),
]
# Pairs that must fail: a changed figure, unit, year or month, a figure the span never
# mentions, an unrelated statement, and claims with nothing to check.
UNSUPPORTED = [
    ("Nearly 2 gigawatts will be operational by the end of 2026.", CAPACITY),
    ("Nearly 1 megawatt will be operational by the end of 2026.", CAPACITY),
    ("Nearly 1 gigawatt will be operational by the end of 2027.", CAPACITY),
    ("Nearly 1 gigawatt will be operational by March 2026.", CAPACITY),
    ("Amazon has invested $40 billion in Anthropic.", FUNDING),
    ("The deal is worth $999 billion.", FUNDING),
    ("Mistral raised 1.7 billion euros.", FUNDING),
    ("ASML holds about 15% of the company.", STAKE),
    ("Nvidia will ship Vera Rubin systems in the second half of the year.", CAPACITY),
    ("The first tranche of capacity comes online in Q3 2026.", TRANCHE),
    ("Yes.", FUNDING),
    ("", FUNDING),
]
PUBLISHED = date(2026, 4, 20)


@pytest.mark.parametrize(("claim", "span"), SUPPORTED)
def test_supported_claims_reach_the_threshold(claim: str, span: str) -> None:
    score = support_score(claim, span, published=PUBLISHED)
    assert SUPPORT_THRESHOLD <= score <= 1.0, (claim, score)


@pytest.mark.parametrize(("claim", "span"), UNSUPPORTED)
def test_unsupported_claims_stay_below_the_threshold(claim: str, span: str) -> None:
    score = support_score(claim, span, published=PUBLISHED)
    assert 0.0 <= score < SUPPORT_THRESHOLD, (claim, score)


def test_threshold_separates_the_two_sets_with_margin() -> None:
    lowest_good = min(support_score(c, s, published=PUBLISHED) for c, s in SUPPORTED)
    highest_bad = max(support_score(c, s, published=PUBLISHED) for c, s in UNSUPPORTED)
    assert highest_bad < SUPPORT_THRESHOLD <= lowest_good
    assert lowest_good - highest_bad >= 0.2


def test_relative_dates_need_the_publication_date() -> None:
    claim = "The first tranche of capacity comes online in Q2 2026."
    assert missing_figures(claim, TRANCHE, published=PUBLISHED) == []
    assert missing_figures(claim, TRANCHE) == ["2", "2026"]
    assert support_score(claim, TRANCHE) < SUPPORT_THRESHOLD


def test_missing_figures_names_what_is_absent() -> None:
    assert missing_figures("Amazon invested $40 billion by 2025 [1].", FUNDING) == [
        "$40 billion",
        "2025",
    ]
    assert missing_figures("Amazon invested more than $4,000 million.", FUNDING) == []


def test_markers_and_stripping() -> None:
    text = "Capacity grows [2][1]. ASML leads [1, 3]. None here. Repeat [2]"
    assert markers(text) == [2, 1, 3]
    assert strip_markers("Capacity grows [2][1].") == "Capacity grows."
    assert strip_markers("ASML leads [1, 3] and pays [4].") == "ASML leads and pays."


def test_split_sentences_with_markers() -> None:
    answer = (
        "Nearly 1 gigawatt comes online by the end of 2026 [1]. Amazon put in $4 billion [1][2]. "
        "The U.S. site is big.[3] Mistral raised 1.7 billion euros [2, 3].\n"
        "- A bullet point [4]\nIt ships in H2 2026. [1] Done."
    )
    assert split_sentences_with_markers(answer) == [
        ("Nearly 1 gigawatt comes online by the end of 2026 [1].", [1]),
        ("Amazon put in $4 billion [1][2].", [1, 2]),
        ("The U.S. site is big.[3]", [3]),
        ("Mistral raised 1.7 billion euros [2, 3].", [2, 3]),
        ("- A bullet point [4]", [4]),
        ("It ships in H2 2026. [1]", [1]),
        ("Done.", []),
    ]
    assert split_sentences_with_markers("") == []
