"""Citation building and verification: a quote is always `document_text[start:end]`."""

from __future__ import annotations

import re

from rag.types import Citation, DocumentInfo, ScoredChunk, Sentence

MARKER_RE = re.compile(r"\[(\d+)\]")


class CitationError(ValueError):
    """A quote that is not exactly the document text at its offsets."""


def verify_in_chunk(sentence: Sentence, chunk: ScoredChunk) -> None:
    """Sentence offsets are document offsets; the chunk's text is the same document slice."""
    inner = chunk.text[sentence.start - chunk.start : sentence.end - chunk.start]
    if not (chunk.start <= sentence.start <= sentence.end <= chunk.end) or inner != sentence.text:
        raise CitationError(
            f"quote of {sentence.sentence_id} does not match {chunk.doc_id}[{sentence.start}:{sentence.end}]"
        )


def make_citation(
    number: int, sentence: Sentence, document: DocumentInfo, chunk: ScoredChunk, score: float
) -> Citation:
    verify_in_chunk(sentence, chunk)
    return Citation(
        id=number,
        doc_id=sentence.doc_id,
        title=document.title,
        url=document.url,
        published=document.published.isoformat() if document.published else None,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        score=round(float(score), 4),
    )


def markers_in(text: str) -> set[int]:
    return {int(n) for n in MARKER_RE.findall(text)}


def check_markers(answer_text: str, citations: list[Citation]) -> None:
    """Every [n] in the answer has a citation with that id (DESIGN.md)."""
    ids = {c.id for c in citations}
    missing = markers_in(answer_text) - ids
    if missing:
        raise CitationError(f"answer cites {sorted(missing)} without citations")
