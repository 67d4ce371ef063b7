"""ExtractiveAnswerer: the offline default. The shared question pipeline retrieves once; the
trained reader picks a sentence and an answer span or abstains; the composer cites it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence

from rag.citations import CitationError
from rag.pipeline import QuestionPipeline, Retrieved
from rag.reader.compose import AnswerComposer
from rag.reader.reader import ExtractiveReader
from rag.store import ChromaStore
from rag.types import Answer, Filters

log = logging.getLogger("newsdesk.answer")


class ExtractiveAnswerer:
    """Default answerer: offline and deterministic; embeds only the question."""

    name = "extractive"

    def __init__(
        self, *, pipeline: QuestionPipeline, reader: ExtractiveReader, store: ChromaStore
    ) -> None:
        self.pipeline = pipeline
        self.reader = reader
        self.store = store
        self.composer = AnswerComposer(store, name=self.name)

    def answer(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Sequence[dict[str, str]] | None = None,
    ) -> Answer:
        return self.answer_retrieved(self.pipeline.run(question, filters=filters, history=history))

    def answer_retrieved(self, retrieved: Retrieved) -> Answer:
        """Read chunks someone already retrieved (the LLM answerer's fallback reuses its own)."""
        for attempt in (1, 2):
            reading = self.reader.read(retrieved.standalone, retrieved.vector, retrieved.chunks)
            try:
                return self.composer.compose(retrieved, reading, retrieved.retrieved)
            except CitationError as error:
                # a document changed under us (another process rewrote it): read afresh once
                log.warning("citation check failed (attempt %d): %s", attempt, error)
                self.store.invalidate_cache()
        reading = self.reader.read(retrieved.standalone, retrieved.vector, [])
        reading.reason = "the cited sources changed while answering"
        return self.composer.compose(retrieved, reading, retrieved.retrieved)

    def stream(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Sequence[dict[str, str]] | None = None,
    ) -> Iterator[str | Answer]:
        final = self.answer(question, filters=filters, history=history)
        # The answer is complete at once; stream it in word groups for the same client code path.
        yield from re.findall(r"\S+\s*", final.answer)
        yield final
