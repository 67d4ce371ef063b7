"""Re-ingesting: unchanged sources embed nothing, changes replace, vanished sources go, duplicates once."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.ids import path_doc_id
from ingest.pipeline import Ingestor
from rag.store import ChromaStore


def _corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "one.md").write_text(
        "---\ntitle: One\ndate: 2025-01-05\n---\nAcme hired 40 engineers. They start in May.\n"
    )
    (root / "two.txt").write_text("Two\n\nBeta sold 3 ships. The buyer is Gamma Ltd.\n")
    (root / "recs.jsonl").write_text(
        json.dumps({"id": "r1", "text": "Delta grew 5%."})
        + "\n"
        + json.dumps({"id": "r2", "text": "Epsilon shrank 2%."})
        + "\n"
    )
    return root


def _chunk_texts(store: ChromaStore) -> list[str]:
    return sorted(store.chunks.get(include=["documents"])["documents"])


def test_second_ingest_embeds_and_writes_nothing(
    tmp_path: Path, ingestor: Ingestor, store: ChromaStore, counting: object
) -> None:
    corpus = _corpus(tmp_path / "c")
    first = ingestor.ingest([corpus])
    assert (first.added, first.documents, first.failed) == (4, 4, [])
    generation = store.generation()
    counting.reset()  # type: ignore[attr-defined]

    second = ingestor.ingest([corpus])
    assert (second.added, second.updated, second.unchanged, second.chunks) == (0, 0, 4, 0)
    assert second.documents == 4 and second.removed == 0
    assert counting.calls == 0  # type: ignore[attr-defined]
    assert store.generation() == generation  # nothing was written


def test_changed_document_replaces_all_old_parts(
    tmp_path: Path, ingestor: Ingestor, store: ChromaStore
) -> None:
    corpus = _corpus(tmp_path / "c")
    ingestor.ingest([corpus])
    (corpus / "one.md").write_text(
        "---\ntitle: One\ndate: 2025-01-06\n---\nAcme hired 41 engineers.\n"
    )
    summary = ingestor.ingest([corpus])
    assert (summary.updated, summary.unchanged, summary.added) == (1, 3, 0)
    texts = _chunk_texts(store)
    assert not any("40 engineers" in t or "start in May" in t for t in texts)
    assert any("41 engineers" in t for t in texts)
    sentence_texts = store.sentences.get(include=["documents"])["documents"]
    assert not any("40 engineers" in t for t in sentence_texts)
    assert store.stats()["documents"] == 4


def test_vanished_sources_and_records_are_removed(
    tmp_path: Path, ingestor: Ingestor, store: ChromaStore
) -> None:
    corpus = _corpus(tmp_path / "c")
    ingestor.ingest([corpus])
    (corpus / "two.txt").unlink()
    (corpus / "recs.jsonl").write_text(json.dumps({"id": "r1", "text": "Delta grew 5%."}) + "\n")
    summary = ingestor.ingest([corpus])
    assert summary.removed == 2 and summary.failed == []
    one_id = path_doc_id(corpus / "one.md", corpus)
    assert {i.doc_id for i in store.all_document_infos()} == {"r1", one_id}
    assert not any("Beta sold" in t for t in _chunk_texts(store))
    assert not [k for k in store.manifest_keys() if k.endswith("two.txt")]


def test_same_story_twice_is_stored_once(
    tmp_path: Path, ingestor: Ingestor, store: ChromaStore
) -> None:
    story = "Zeta opens a plant in Ohio. It will employ 300 people."
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text(story)
    (corpus / "copy.txt").write_text(story)  # identical text, another path
    (corpus / "recs.json").write_text(
        json.dumps(
            [
                {"id": "x1", "url": "https://z.example.com/ohio", "text": "Zeta: Ohio plant."},
                {"id": "x2", "url": "https://z.example.com/ohio", "text": "Zeta's Ohio plant!"},
            ]
        )
    )
    summary = ingestor.ingest([corpus])
    assert summary.duplicates == 2 and summary.added == 2
    assert store.stats()["documents"] == 2
    again = ingestor.ingest([corpus])
    assert again.added == 0 and again.chunks == 0 and store.stats()["documents"] == 2


def test_killed_run_converges(
    tmp_path: Path, ingestor: Ingestor, store: ChromaStore, counting: object
) -> None:
    corpus = _corpus(tmp_path / "c")
    ingestor.ingest([corpus])
    # A run killed after writing documents but before their manifest entries:
    for key in store.manifest_keys():
        store.manifest_delete(key)
    counting.reset()  # type: ignore[attr-defined]
    summary = ingestor.ingest([corpus])
    assert (summary.unchanged, summary.chunks, counting.calls) == (4, 0, 0)  # type: ignore[attr-defined]
    assert len(store.manifest_keys()) == 3
    # A document deleted behind the manifest's back is put back.
    one = next(i for i in store.all_document_infos() if i.title == "One")
    store.delete_document(one.doc_id)
    summary = ingestor.ingest([corpus])
    assert summary.added == 1 and summary.unchanged == 3
