"""Candidate gathering, the reader's second stage: every sentence of the best retrieved documents.

Retrieval ranks chunks; the answer often sits in a sentence of a top document that no retrieved
chunk holds, so the reader takes the top documents whole (their sentences, vectors and typed
spans were stored at ingest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import numpy as np

from rag.reader.lexicon import WORD_RE, Lexicon
from rag.reader.spans import Span, period_keys
from rag.store import ChromaStore
from rag.support import is_instruction
from rag.types import DocumentInfo, ScoredChunk, Sentence


@dataclass
class DocCandidate:
    info: DocumentInfo
    rank: int  # by fused retrieval score, 0 = best
    fused: float  # best fused (RRF) score of its retrieved chunks
    dense: float  # best cosine similarity of its retrieved chunks (0 when dense missed it)
    keyword: float  # best BM25 score of its retrieved chunks (0 when keyword missed it)
    first: int = 0  # index of its first sentence in CandidateSet.sentences
    count: int = 0  # number of its sentences
    terms: set[str] = field(default_factory=set)  # canonical stems of its title and text
    title_terms: set[str] = field(default_factory=set)
    periods: set[str] = field(default_factory=set)  # periods in its title, text and date
    day: int = 0  # publication day (ordinal), 0 when unknown


@dataclass
class SentenceCandidate:
    sentence: Sentence
    doc: int  # index into CandidateSet.docs
    position: int  # sentence number within its document
    spans: list[Span]
    tokens: list[tuple[int, str]]  # (char offset, canonical stem) of each word
    terms: set[str]


@dataclass
class CandidateSet:
    docs: list[DocCandidate]
    sentences: list[SentenceCandidate]
    vectors: np.ndarray  # one row per sentence
    similarity: np.ndarray  # cosine of each sentence to the question

    def neighbour(self, index: int, step: int) -> int | None:
        """The sentence `step` places away in the same document, if any."""
        other = index + step
        inside = 0 <= other < len(self.sentences)
        return other if inside and self.sentences[other].doc == self.sentences[index].doc else None


def sentence_tokens(text: str, lexicon: Lexicon) -> list[tuple[int, str]]:
    return [(m.start(), lexicon.canonical(m.group(0))) for m in WORD_RE.finditer(text)]


def _day(published: date | None) -> int:
    return published.toordinal() if published else 0


class DocumentSentenceGatherer:
    """Top `max_docs` documents of the retrieved chunks, all their sentences."""

    def __init__(self, store: ChromaStore, lexicon: Lexicon, *, max_docs: int = 5) -> None:
        self.store = store
        self.lexicon = lexicon
        self.max_docs = max_docs

    def gather(self, chunks: list[ScoredChunk], question_vector: np.ndarray) -> CandidateSet:
        docs = self._documents(chunks)
        stored = self.store.sentences_for_documents([d.info.doc_id for d in docs])
        sentences: list[SentenceCandidate] = []
        matrices: list[np.ndarray] = []
        kept_docs: list[DocCandidate] = []
        for doc in docs:
            rows, matrix = stored.get(doc.info.doc_id, ([], None))
            keep = [i for i, s in enumerate(rows) if not is_instruction(s.text)]
            if not keep or matrix is None:
                continue
            doc.first, doc.count = len(sentences), len(keep)
            index = len(kept_docs)
            kept_docs.append(doc)
            for position in keep:
                sentence = rows[position]
                tokens = self.store.memo(
                    ("tokens", sentence.sentence_id),
                    partial(sentence_tokens, sentence.text, self.lexicon),
                )
                sentences.append(
                    SentenceCandidate(
                        sentence=sentence,
                        doc=index,
                        position=position,
                        spans=list(sentence.spans or []),
                        tokens=tokens,
                        terms={t for _, t in tokens},
                    )
                )
            matrices.append(matrix[keep])
            title_tokens = sentence_tokens(doc.info.title, self.lexicon)
            doc.title_terms = {t for _, t in title_tokens}
            doc.terms = doc.title_terms.union(*(s.terms for s in sentences[doc.first :]))
            doc.periods = self.store.memo(
                ("periods", doc.info.doc_id),
                partial(
                    _document_periods, doc.info, [s.sentence.text for s in sentences[doc.first :]]
                ),
            )
        if not sentences:
            empty = np.zeros((0, 1), dtype=np.float32)
            return CandidateSet(kept_docs, [], empty, np.zeros(0, dtype=np.float32))
        vectors = np.vstack(matrices)
        similarity = vectors @ np.asarray(question_vector, dtype=np.float32)
        return CandidateSet(kept_docs, sentences, vectors, similarity)

    def _documents(self, chunks: list[ScoredChunk]) -> list[DocCandidate]:
        by_doc: dict[str, DocCandidate] = {}
        for chunk in chunks:  # chunks come best first
            doc = by_doc.get(chunk.doc_id)
            if doc is None:
                doc = by_doc[chunk.doc_id] = DocCandidate(
                    info=chunk.document,
                    rank=len(by_doc),
                    fused=chunk.score,
                    dense=0.0,
                    keyword=0.0,
                    day=_day(chunk.document.published),
                )
            doc.dense = max(doc.dense, chunk.similarity or 0.0)
            doc.keyword = max(doc.keyword, chunk.keyword_score or 0.0)
        return list(by_doc.values())[: self.max_docs]


def _document_periods(info: DocumentInfo, texts: list[str]) -> set[str]:
    found = period_keys(info.title + " " + " ".join(texts))
    if info.published:
        found.add(str(info.published.year))
    return found


def gathered_from(candidates: CandidateSet) -> dict[str, Any]:
    """A printable summary (doc ids and sentence counts) for logs and debugging."""
    return {d.info.doc_id: d.count for d in candidates.docs}
