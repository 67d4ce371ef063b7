"""Reliability helpers: generated corpora, a memoising wrapper of the real model, index snapshots."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag.config import Settings
from rag.embedder import SentenceTransformerEmbedder
from rag.store import STATE_ID, ChromaStore
from tests.conftest import SAMPLE_CORPUS

REPO_ROOT = Path(__file__).resolve().parents[2]
SYLLABLES = ["ka", "zor", "vex", "lum", "tri", "nor", "bel", "qua", "dri", "sen", "mor", "pla"]
THINGS = ["depots", "turbines", "clinics", "stores", "ferries", "warehouses", "kilns", "labs"]
CITIES = ["Ghent", "Tartu", "Porto", "Bergen", "Lyon", "Graz", "Cork", "Brno", "Turku", "Split"]


class MemoEmbedder:
    """The real model, remembering each text's vector: the same corpus is ingested many times
    here, and re-embedding identical texts would only burn the 2 shared cores."""

    def __init__(self, model: SentenceTransformerEmbedder) -> None:
        self.model = model
        self.dimension = model.dimension
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.model.embed(missing), strict=True):
                self._vectors[text] = vector
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])


@pytest.fixture(scope="session")
def memo_embedder(embedder: SentenceTransformerEmbedder) -> MemoEmbedder:
    return MemoEmbedder(embedder)


def company(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


@dataclass
class Fact:
    doc_id: str
    name: str
    count: int
    thing: str
    city: str

    @property
    def question(self) -> str:
        return f"How many {self.thing} did {self.name} open in {self.city}?"


def fact_record(rng: random.Random, doc_id: str) -> tuple[dict[str, Any], Fact]:
    fact = Fact(doc_id, company(rng), rng.randint(3, 990), rng.choice(THINGS), rng.choice(CITIES))
    text = (
        f"{fact.name} opened {fact.count} {fact.thing} in {fact.city} this spring. "
        f"The company said the sites employ {rng.randint(10, 900)} people."
    )
    record = {
        "id": doc_id,
        "title": f"{fact.name} expands in {fact.city}",
        "published": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "text": text,
    }
    return record, fact


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def write_note(path: Path, rng: random.Random, number: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    name = company(rng)
    path.write_text(
        f"---\ntitle: {name} note {number}\ndate: 2024-{rng.randint(1, 12):02d}-"
        f"{rng.randint(1, 28):02d}\n---\n\n# {name} note {number}\n\n"
        f"{name} signed a supply contract worth {rng.randint(2, 99)} million dollars. "
        f"Deliveries begin in {rng.choice(CITIES)} next year.\n"
    )


def copy_sample(corpus: Path) -> None:
    shutil.copytree(SAMPLE_CORPUS, corpus / "sample", ignore=shutil.ignore_patterns("README*"))


@dataclass
class Snapshot:
    documents: dict[str, tuple[Any, ...]]
    chunks: dict[str, tuple[Any, ...]]
    sentences: dict[str, tuple[Any, ...]]
    manifest: dict[str, tuple[str, tuple[str, ...]]]

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("documents", "chunks", "sentences", "manifest")}


def snapshot(store: ChromaStore) -> Snapshot:
    """Everything durable, by id: texts and the metadata that matters (not timestamps)."""

    def rows(collection: Any, *fields: str) -> dict[str, tuple[Any, ...]]:
        got = collection.get(include=["documents", "metadatas"])
        ids = got["ids"]
        assert len(ids) == len(set(ids)), "duplicate ids"
        return {
            i: (text, *(meta.get(f) for f in fields))
            for i, text, meta in zip(ids, got["documents"], got["metadatas"])
        }

    fields = ("title", "url", "published", "source", "content_hash", "n_chunks", "n_sentences")
    manifest_got = store.manifest.get(include=["metadatas"])
    manifest = {
        key: (str(meta["content_hash"]), tuple(sorted(json.loads(str(meta["doc_ids"])))))
        for key, meta in zip(manifest_got["ids"], manifest_got["metadatas"])
        if key != STATE_ID
    }
    return Snapshot(
        documents=rows(store.documents, *fields),
        chunks=rows(store.chunks, "doc_id", "start", "end", "index"),
        sentences=rows(store.sentences, "doc_id", "chunk_id", "start", "end"),
        manifest=manifest,
    )


def check_consistent(state: Snapshot) -> None:
    """No orphans, and every stored span is its document's text at its offsets."""
    texts = {doc_id: row[0] for doc_id, row in state.documents.items()}
    for chunk_id, (text, doc_id, start, end, _) in state.chunks.items():
        assert doc_id in texts, f"orphan chunk {chunk_id}"
        assert texts[doc_id][start:end] == text, f"chunk {chunk_id} is not its span"
    for sentence_id, (text, doc_id, chunk_id, start, end) in state.sentences.items():
        assert doc_id in texts and chunk_id in state.chunks, f"orphan sentence {sentence_id}"
        assert texts[doc_id][start:end] == text, f"sentence {sentence_id} is not its span"
    for doc_id, row in state.documents.items():
        n_chunks, n_sentences = row[6], row[7]
        assert sum(c[1] == doc_id for c in state.chunks.values()) == n_chunks, doc_id
        assert sum(s[1] == doc_id for s in state.sentences.values()) == n_sentences, doc_id
    for key, (_, doc_ids) in state.manifest.items():
        assert set(doc_ids) <= set(texts), f"manifest {key} names a missing document"


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None, **overrides)  # type: ignore[call-arg]
