"""The reader reads a document's sentences by id (its record says how many), which must give
exactly what a `doc_id` filter gives: same sentences, same text order, same vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.store import ChromaStore

# Written for this test: two short dated notes with several sentences each.
NOTES = {
    "harbour.md": "---\ntitle: Harbour Bank opens a branch\ndate: 2026-02-10\n---\n"
    "Harbour Bank opened a branch in Tromso. It employs 14 people. "
    "The bank plans two more branches by 2027. Its deposits rose 6 percent last year.",
    "lumen.md": "---\ntitle: Lumen Rail orders trams\ndate: 2026-05-02\n---\n"
    "Lumen Rail ordered 12 trams for 90 million euros. Deliveries start in March 2027.",
}


def _record_gets(store: ChromaStore, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Let `store.sentences.get` note its arguments."""
    calls: list[dict[str, Any]] = []
    inner = store.sentences

    class Recording:
        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

        def get(self, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return inner.get(**kwargs)

    recording = Recording()
    monkeypatch.setattr(ChromaStore, "sentences", property(lambda _: recording))
    return calls


def _by_filter(store: ChromaStore, doc_id: str) -> tuple[list[str], list[str], np.ndarray]:
    got = store.sentences.get(
        where={"doc_id": doc_id}, include=["metadatas", "documents", "embeddings"]
    )
    order = sorted(range(len(got["ids"])), key=lambda r: int(got["metadatas"][r]["start"]))
    return (
        [got["ids"][r] for r in order],
        [got["documents"][r] for r in order],
        np.asarray([got["embeddings"][r] for r in order], dtype=np.float32),
    )


def test_sentences_by_id_match_the_filter(
    tmp_path: Path, ingestor: Ingestor, store: ChromaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in NOTES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ingestor.ingest([tmp_path])
    doc_ids = [info.doc_id for info in store.all_document_infos()]
    assert len(doc_ids) == 2

    calls = _record_gets(store, monkeypatch)
    found = store.sentences_for_documents([*doc_ids, "no-such-document"])
    assert calls and "ids" in calls[0]  # the counted documents, by key
    assert [c.get("where") for c in calls[1:]] == [{"doc_id": {"$in": ["no-such-document"]}}]
    assert found["no-such-document"][0] == []  # no record, no sentences: nothing to read
    for doc_id in doc_ids:
        sentences, matrix = found[doc_id]
        ids, texts, vectors = _by_filter(store, doc_id)
        assert [s.sentence_id for s in sentences] == ids
        assert [s.text for s in sentences] == texts and len(texts) >= 2
        np.testing.assert_allclose(matrix, vectors)


def test_a_record_without_a_count_is_read_by_filter(
    tmp_path: Path, ingestor: Ingestor, store: ChromaStore, settings: Settings
) -> None:
    (tmp_path / "lumen.md").write_text(NOTES["lumen.md"], encoding="utf-8")
    ingestor.ingest([tmp_path])
    (info,) = store.all_document_infos()
    # a count of 0 reads as none (an index written before records counted their sentences)
    store.documents.update(ids=[info.doc_id], metadatas=[{"n_sentences": 0}])
    fresh = ChromaStore.from_settings(settings, dimension=store.dimension)
    assert fresh.document_infos([info.doc_id])[info.doc_id].n_sentences == 0

    sentences, _ = fresh.sentences_for_documents([info.doc_id])[info.doc_id]
    assert [s.sentence_id for s in sentences] == _by_filter(store, info.doc_id)[0]
    assert len(sentences) == info.n_sentences == 2  # the count as ingest wrote it
