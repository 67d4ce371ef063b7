"""Retrievers: ChromaDenseRetriever, BM25KeywordRetriever and their RRF fusion, HybridRetriever."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from rag.keyword import BM25KeywordIndex
from rag.store import ChromaStore, ChunkHit
from rag.types import Filters, ScoredChunk

RRF_K = 60  # the constant from Cormack et al.; damps the head of each ranking
CANDIDATES_PER_RANKER = 30
MAX_CHUNKS_PER_DOC = 2


@dataclass
class _Candidate:
    hit: ChunkHit
    score: float = 0.0
    dense_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float | None = None
    keyword_score: float | None = None


def diversify(candidates: list[_Candidate], k: int, per_doc: int) -> list[_Candidate]:
    """Best-first, at most `per_doc` chunks of one document until others run out."""
    chosen: list[_Candidate] = []
    overflow: list[_Candidate] = []
    per_doc_count: dict[str, int] = defaultdict(int)
    for candidate in candidates:
        if per_doc_count[candidate.hit.doc_id] < per_doc:
            per_doc_count[candidate.hit.doc_id] += 1
            chosen.append(candidate)
        else:
            overflow.append(candidate)
        if len(chosen) >= k:
            return chosen
    return (chosen + overflow)[:k]


class _Resolver:
    """Turns candidates into ScoredChunks with their document metadata."""

    def __init__(self, store: ChromaStore) -> None:
        self.store = store

    def resolve(self, candidates: list[_Candidate]) -> list[ScoredChunk]:
        infos = self.store.document_infos([c.hit.doc_id for c in candidates])
        results = []
        for c in candidates:
            info = infos.get(c.hit.doc_id)
            if info is None:  # chunk of a document deleted a moment ago
                continue
            results.append(
                ScoredChunk(
                    chunk_id=c.hit.chunk_id,
                    doc_id=c.hit.doc_id,
                    start=c.hit.start,
                    end=c.hit.end,
                    text=c.hit.text,
                    score=c.score,
                    document=info,
                    dense_rank=c.dense_rank,
                    keyword_rank=c.keyword_rank,
                    similarity=c.similarity,
                    keyword_score=c.keyword_score,
                )
            )
        return results


class ChromaDenseRetriever(_Resolver):
    def candidates(
        self, query_embedding: np.ndarray, k: int, filters: Filters | None
    ) -> list[_Candidate]:
        hits = self.store.query_chunks(query_embedding, k=k, filters=filters)
        return [
            _Candidate(hit, score=hit.similarity, dense_rank=rank, similarity=hit.similarity)
            for rank, hit in enumerate(hits, 1)
        ]

    def retrieve(
        self, query: str, query_embedding: np.ndarray, *, k: int, filters: Filters | None = None
    ) -> list[ScoredChunk]:
        found = self.candidates(query_embedding, CANDIDATES_PER_RANKER, filters)
        return self.resolve(diversify(found, k, MAX_CHUNKS_PER_DOC))

    def refresh(self) -> None:
        return None


class BM25KeywordRetriever(_Resolver):
    def __init__(self, store: ChromaStore, index: BM25KeywordIndex) -> None:
        super().__init__(store)
        self.index = index

    def candidates(self, query: str, k: int, filters: Filters | None) -> list[_Candidate]:
        hits = self.index.search(query, k=k, filters=filters)
        chunks = {c.chunk_id: c for c in self.store.get_chunks([h.chunk_id for h in hits])}
        return [
            _Candidate(chunks[h.chunk_id], score=h.score, keyword_rank=rank, keyword_score=h.score)
            for rank, h in enumerate(hits, 1)
            if h.chunk_id in chunks
        ]

    def retrieve(
        self, query: str, query_embedding: np.ndarray, *, k: int, filters: Filters | None = None
    ) -> list[ScoredChunk]:
        found = self.candidates(query, CANDIDATES_PER_RANKER, filters)
        return self.resolve(diversify(found, k, MAX_CHUNKS_PER_DOC))

    def refresh(self) -> None:
        self.index.refresh(force=True)


class HybridRetriever(_Resolver):
    """Dense and keyword rankings fused with reciprocal rank fusion, then diversified."""

    def __init__(self, dense: ChromaDenseRetriever, keyword: BM25KeywordRetriever) -> None:
        super().__init__(dense.store)
        self.dense = dense
        self.keyword = keyword

    def retrieve(
        self, query: str, query_embedding: np.ndarray, *, k: int, filters: Filters | None = None
    ) -> list[ScoredChunk]:
        fused: dict[str, _Candidate] = {}
        for candidate in self.dense.candidates(query_embedding, CANDIDATES_PER_RANKER, filters):
            candidate.score = 1.0 / (RRF_K + (candidate.dense_rank or 0))
            fused[candidate.hit.chunk_id] = candidate
        for candidate in self.keyword.candidates(query, CANDIDATES_PER_RANKER, filters):
            rrf = 1.0 / (RRF_K + (candidate.keyword_rank or 0))
            existing = fused.get(candidate.hit.chunk_id)
            if existing is None:
                candidate.score = rrf
                fused[candidate.hit.chunk_id] = candidate
            else:
                existing.score += rrf
                existing.keyword_rank = candidate.keyword_rank
                existing.keyword_score = candidate.keyword_score
        ranked = sorted(fused.values(), key=lambda c: c.score, reverse=True)
        return self.resolve(diversify(ranked, k, MAX_CHUNKS_PER_DOC))

    def refresh(self) -> None:
        self.keyword.refresh()
