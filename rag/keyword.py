"""BM25KeywordIndex: a bm25s index over chunk texts, derived from Chroma and rebuilt when it changes."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.store import UNKNOWN_DAY, ChromaStore
from rag.types import Filters

TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-character tokens: "5" in "5 gigawatts" matters


@dataclass
class KeywordHit:
    chunk_id: str
    doc_id: str
    score: float


def make_stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str], stemmer: Any) -> Any:
    import bm25s

    return bm25s.tokenize(
        texts,
        token_pattern=TOKEN_PATTERN,
        stopwords="english",
        stemmer=stemmer,
        show_progress=False,
    )


class BM25KeywordIndex:
    """Keyword retrieval over every chunk in the store.

    The store's generation token says whether Chroma changed (here or in another process);
    `refresh()` compares it and rebuilds, persisting the result under `directory` so a
    restarted process with an unchanged store loads instead of rebuilding.
    """

    def __init__(self, store: ChromaStore, directory: Path, *, check_interval_s: float = 1.0):
        self.store = store
        self.directory = Path(directory)
        self.check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._stemmer: Any = None
        self._bm25: Any = None
        self._generation: str | None = None
        self._checked_at = 0.0
        self._local_version = -1  # the store's count of writes made in this process, when read
        self.chunk_ids: list[str] = []
        self.doc_ids: list[str] = []
        self.days = np.zeros(0, dtype=np.int64)
        self.sources: list[str] = []

    @property
    def stemmer(self) -> Any:
        if self._stemmer is None:
            self._stemmer = make_stemmer()
        return self._stemmer

    def refresh(self, *, force: bool = False) -> bool:
        """Rebuild or reload if the store changed; returns True when the index was replaced."""
        now = time.monotonic()
        recent = now - self._checked_at < self.check_interval_s
        local_write = self.store.local_version != self._local_version
        if not force and not local_write and self._generation is not None and recent:
            return False
        with self._lock:
            self._checked_at = now
            self._local_version = self.store.local_version
            generation = self.store.generation()
            if generation == self._generation:
                return False
            if not self._load(generation):
                self._build(generation)
            self._generation = generation
            return True

    def _saved_dir(self, generation: str) -> Path:
        return self.directory / (generation or "empty")

    def _load(self, generation: str) -> bool:
        folder = self._saved_dir(generation)
        meta_path = folder / "chunks.json"
        if not meta_path.exists():
            return False
        import bm25s

        try:
            meta = json.loads(meta_path.read_text())
            bm25 = bm25s.BM25.load(str(folder), show_progress=False) if meta["ids"] else None
        except Exception:  # a half-deleted or foreign folder: rebuild instead
            return False
        self._install(bm25, meta["ids"], meta["doc_ids"], meta["days"], meta["sources"])
        return True

    def _build(self, generation: str) -> None:
        import bm25s

        ids: list[str] = []
        texts: list[str] = []
        doc_ids: list[str] = []
        days: list[int] = []
        sources: list[str] = []
        for chunk_id, text, meta in self.store.iter_chunks():
            ids.append(chunk_id)
            texts.append(text)
            doc_ids.append(str(meta.get("doc_id", "")))
            days.append(int(meta.get("published_day", UNKNOWN_DAY)))
            sources.append(str(meta.get("source", "")))
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(tokenize(texts, self.stemmer), show_progress=False)
        self._install(bm25, ids, doc_ids, days, sources)
        self._persist(generation, bm25, ids, doc_ids, days, sources)

    def _persist(self, generation: str, bm25: Any, *columns: list[Any]) -> None:
        """Save under the generation's folder; several workers may race here, so each stages
        in a folder of its own and the first rename wins."""
        folder = self._saved_dir(generation)
        staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}")
        staging.mkdir(parents=True, exist_ok=True)
        try:
            if bm25 is not None:
                bm25.save(str(staging), show_progress=False)
            names = ("ids", "doc_ids", "days", "sources")
            meta = json.dumps(dict(zip(names, columns, strict=True)))
            (staging / "chunks.json").write_text(meta)
            staging.rename(folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another worker saved it first
            return
        # Older generations are never read again.
        for old in self.directory.iterdir():
            if old != folder and old.is_dir() and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)

    def _install(
        self, bm25: Any, ids: list[str], doc_ids: list[str], days: list[int], sources: list[str]
    ) -> None:
        self._bm25 = bm25
        self.chunk_ids = ids
        self.doc_ids = doc_ids
        self.days = np.asarray(days, dtype=np.int64)
        self.sources = sources

    def _mask(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        mask = np.ones(len(self.chunk_ids), dtype=bool)
        if filters.since:
            mask &= self.days >= filters.since.toordinal()
        if filters.until:
            mask &= (self.days <= filters.until.toordinal()) & (self.days >= 0)
        if filters.doc_ids:
            wanted = set(filters.doc_ids)
            mask &= np.fromiter((d in wanted for d in self.doc_ids), bool, len(self.doc_ids))
        if filters.sources:
            allowed = set(filters.sources)
            mask &= np.fromiter((s in allowed for s in self.sources), bool, len(self.sources))
        return mask

    def search(self, query: str, *, k: int, filters: Filters | None = None) -> list[KeywordHit]:
        self.refresh()
        bm25 = self._bm25
        if bm25 is None or not self.chunk_ids:
            return []
        tokens = tokenize([query], self.stemmer)
        if not tokens.vocab:
            return []
        # Map the query's vocabulary onto the index's; unknown words simply don't score.
        index_vocab = bm25.vocab_dict
        words = [w for w, _ in sorted(tokens.vocab.items(), key=lambda item: item[1])]
        query_terms = [words[i] for i in tokens.ids[0] if words[i] in index_vocab]
        if not query_terms:
            return []
        mask = self._mask(filters)
        if mask is not None and not mask.any():
            return []
        weight_mask = mask.astype(np.float32) if mask is not None else None
        scores = bm25.get_scores(query_terms, weight_mask=weight_mask)
        top = np.argsort(-scores)[: min(k, len(scores))]
        return [
            KeywordHit(self.chunk_ids[i], self.doc_ids[i], float(scores[i]))
            for i in top
            if scores[i] > 0
        ]
