"""The computed-question detector (eval.fit.train_grams, rag.reader.model.GramScorer): it learns
from the question's wording, keeps only words that questions about several document families
use, and serves the same grams it was trained on."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from eval.fit import GRAM_FAMILIES, train_grams
from rag.reader.decisions import question_grams
from rag.reader.model import GramScorer, Scorer

FEATURES = ("c_one", "c_two")


def examples() -> list[SimpleNamespace]:
    """Computed questions ("by how much did ... exceed ...") and plain ones, each about its own
    document family; "Zorvex" is asked about in one family only."""
    rows = []
    for family in range(2 * GRAM_FAMILIES):
        rows.append(
            (f"By how much did the Q{family % 4 + 1} sales exceed the forecast?", 1, family)
        )
        rows.append((f"How much revenue did the unit report in Q{family % 4 + 1}?", 0, family))
    rows.append(("How much did Zorvex exceed its target by?", 1, 0))
    return [
        SimpleNamespace(analysis=SimpleNamespace(text=t), computed=y, group=g) for t, y, g in rows
    ]


def test_the_detector_learns_the_wording_and_keeps_names_out() -> None:
    found = examples()
    rows = np.zeros((len(found), len(FEATURES)), dtype=np.float32)
    labels = np.array([e.computed for e in found], dtype=np.int8)
    detector = train_grams(found, rows, labels, FEATURES)  # type: ignore[arg-type]
    assert "exceed" in detector.vocabulary and "zorvex" not in detector.vocabulary
    assert not any("zorvex" in gram for gram in detector.grams)

    def score(text: str) -> float:
        return detector.predict_grams(question_grams(text, detector.vocabulary), np.zeros(2))

    assert score("By how much did the order book exceed the target?") > 0.5
    assert score("How much revenue did the company report?") < 0.5
    # the artifact keeps what serving needs, and reads back to the same scores
    again = Scorer.from_json(detector.to_json())
    assert isinstance(again, GramScorer)
    text = "By how much did Q3 sales exceed Q2 sales?"
    assert again.predict_grams(
        question_grams(text, again.vocabulary), np.zeros(2)
    ) == pytest.approx(score(text), abs=1e-5)


def test_words_outside_the_vocabulary_become_one_placeholder() -> None:
    grams = question_grams("By how much did Zorvex exceed it?", frozenset({"by", "how", "exceed"}))
    assert "by how _" in grams and "_ exceed _" in grams
    assert not any("zorvex" in gram for gram in grams)
