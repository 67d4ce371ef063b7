"""embed_documents: texts go to the model longest first across calls, and every vector comes back
to its own document and row; a document over its budget is dropped without losing the others."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ingest import embedding
from ingest.budget import Budget
from ingest.embedding import embed_documents


class LengthEmbedder:
    """Each text's vector is [len(text), code point of its first character]; calls are recorded."""

    dimension = 2

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[len(t), ord(t[0])] for t in texts], dtype=np.float32)


def test_longest_first_across_calls_and_rows_come_back_in_order(monkeypatch) -> None:
    monkeypatch.setattr(embedding, "EMBED_CALL_CHARS", 40)
    docs = [["a" * 5, "b" * 30, "c" * 2], ["d" * 25, "e" * 9], ["f" * 12]]
    model = LengthEmbedder()
    out = embed_documents(model, docs, [Budget(60.0, f"doc{i}") for i in range(len(docs))])
    sent = [text for call in model.calls for text in call]
    assert [len(t) for t in sent] == sorted((len(t) for d in docs for t in d), reverse=True)
    assert len(model.calls) > 1  # the character cap still splits the work into calls
    for own, vectors in zip(docs, out, strict=True):
        assert vectors is not None
        assert vectors.tolist() == [[len(t), ord(t[0])] for t in own]


def test_document_over_budget_is_dropped_and_others_kept(monkeypatch) -> None:
    monkeypatch.setattr(embedding, "EMBED_CALL_CHARS", 1)  # one text per call
    docs = [["x" * 50, "y" * 40], ["z" * 10]]
    budgets = [Budget(60.0, "big"), Budget(60.0, "small")]
    budgets[0].charge(61.0)  # over after its first call: its remaining texts are never embedded
    model = LengthEmbedder()
    out = embed_documents(model, docs, budgets)
    assert out[0] is None
    assert ["y" * 40] not in model.calls
    assert out[1] is not None and out[1].tolist() == [[10, ord("z")]]
