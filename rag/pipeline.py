"""The one question pipeline both answerers share: rewrite a follow-up -> time frame ->
embed -> retrieve. Its result (`Retrieved`) is read by the extractive reader or sent to an
LLM; a fallback reuses it instead of retrieving again."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from rag.conversation import standalone_question
from rag.dates import question_time_frame
from rag.types import Embedder, Filters, Retriever, ScoredChunk

Rewriter = Callable[[str, Sequence[dict[str, str]]], str]


@dataclass
class Retrieved:
    question: str  # as asked
    standalone: str  # a follow-up rewritten to stand alone
    filters: Filters | None  # the caller's filters merged with the question's own time frame
    vector: np.ndarray
    chunks: list[ScoredChunk]
    started: float
    retrieved: float
    extra: dict[str, Any] = field(default_factory=dict)

    def retrieve_ms(self) -> float:
        return round((self.retrieved - self.started) * 1000, 3)


def merge_time_filters(filters: Filters | None, question: str) -> Filters | None:
    """'as of 2024' / 'before 2025' / 'since 2025' become hard publication-date bounds."""
    frame = question_time_frame(question)
    until = frame.as_of or (
        date.fromordinal(frame.before.toordinal() - 1) if frame.before else None
    )
    since = frame.after
    if not (until or since):
        return filters
    merged = replace(filters) if filters else Filters()
    if until and (merged.until is None or until < merged.until):
        merged.until = until
    if since and (merged.since is None or since > merged.since):
        merged.since = since
    return merged


class QuestionPipeline:
    """Rewrite -> embed -> retrieve, once per question, for every answerer."""

    def __init__(self, *, embedder: Embedder, retriever: Retriever, top_k: int = 10) -> None:
        self.embedder = embedder
        self.retriever = retriever
        self.top_k = top_k

    def run(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Sequence[dict[str, str]] | None = None,
        rewrite: Rewriter | None = None,
    ) -> Retrieved:
        started = time.perf_counter()
        if history and rewrite is not None:
            standalone = rewrite(question, history)
        else:
            standalone = standalone_question(question, history)
        merged = merge_time_filters(filters, standalone)
        vector = self.embedder.embed([standalone])[0]
        chunks = list(self.retriever.retrieve(standalone, vector, k=self.top_k, filters=merged))
        extra: dict[str, Any] = {}
        if standalone != question:
            extra["standalone_question"] = standalone
        return Retrieved(
            question, standalone, merged, vector, chunks, started, time.perf_counter(), extra
        )
