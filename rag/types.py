"""Domain types and the role Protocols (Embedder, Retriever, Answerer) shared by every package."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass
class Document:
    """One normalized announcement: the text every citation offset indexes into."""

    doc_id: str
    title: str
    text: str
    url: str | None = None
    published: date | None = None
    source: str = ""  # file path or URL the document came from
    guid: str | None = None  # feed entry id / guid when there is one
    content_hash: str = ""


@dataclass
class Sentence:
    """A sentence span of a document; `text == document.text[start:end]`."""

    sentence_id: str
    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    # typed spans (rag.reader.spans.Span) found at ingest; None until computed
    spans: list[Any] | None = None


@dataclass
class Chunk:
    """A run of whole sentences; `text == document.text[start:end]`."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    sentences: list[Sentence] = field(default_factory=list)


@dataclass
class Filters:
    """Restrictions a caller puts on retrieval (all optional)."""

    since: date | None = None
    until: date | None = None
    sources: list[str] | None = None
    doc_ids: list[str] | None = None

    def is_empty(self) -> bool:
        return not (self.since or self.until or self.sources or self.doc_ids)


@dataclass
class DocumentInfo:
    """Document metadata without its text (what lists and citations need)."""

    doc_id: str
    title: str
    url: str | None
    published: date | None
    source: str
    content_hash: str
    guid: str | None = None
    n_chunks: int = 0
    n_sentences: int = 0


@dataclass
class ScoredChunk:
    """A retrieved chunk with its fused score and where it came from."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    score: float
    document: DocumentInfo
    dense_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float | None = None  # cosine similarity to the question, when dense ran
    keyword_score: float | None = None  # BM25 score, when the keyword ranker found it


@dataclass
class Citation:
    id: int
    doc_id: str
    title: str
    url: str | None
    published: str | None
    quote: str
    start: int
    end: int
    score: float


@dataclass
class Answer:
    """The answer contract of DESIGN.md; extra fields are allowed, never renamed or dropped."""

    question: str
    answer: str
    short_answer: str | None
    abstained: bool
    citations: list[Citation]
    timings_ms: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "short_answer": self.short_answer,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "timings_ms": dict(self.timings_ms),
        }
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalized float32 vectors."""

    dimension: int

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...


@runtime_checkable
class Retriever(Protocol):
    def retrieve(
        self, query: str, query_embedding: np.ndarray, *, k: int, filters: Filters | None = None
    ) -> list[ScoredChunk]: ...


@runtime_checkable
class Answerer(Protocol):
    def answer(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Sequence[dict[str, str]] | None = None,
    ) -> Answer: ...

    def stream(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Sequence[dict[str, str]] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text pieces as produced, then the final Answer as the last item."""
        ...
