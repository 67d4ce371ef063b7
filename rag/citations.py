"""Citation building and verification: a quote is always `document_text[start:end]`."""

from __future__ import annotations

import re

from rag.types import Citation, DocumentInfo, ScoredChunk, Sentence

MARKER_RE = re.compile(r"\[(\d+)\]")
# A source's own bracketed numbers: footnote markers "[3]", "[3, 4]", "[3-5]", "[ 12 ]".
SOURCE_BRACKETS_RE = re.compile(r"\[(\s*\d+(?:\s*[-–,;]\s*\d+)*\s*)\]")


class CitationError(ValueError):
    """A quote that is not exactly the document text at its offsets."""


def verify_in_chunk(sentence: Sentence, chunk: ScoredChunk) -> None:
    """Sentence offsets are document offsets; the chunk's text is the same document slice."""
    inner = chunk.text[sentence.start - chunk.start : sentence.end - chunk.start]
    if not (chunk.start <= sentence.start <= sentence.end <= chunk.end) or inner != sentence.text:
        raise CitationError(
            f"quote of {sentence.sentence_id} does not match {chunk.doc_id}[{sentence.start}:{sentence.end}]"
        )


def cite(
    number: int, document: DocumentInfo, quote: str, start: int, end: int, score: float
) -> Citation:
    """Citation [number] of `quote`, which the caller has checked is the document's [start:end]."""
    return Citation(
        id=number,
        doc_id=document.doc_id,
        title=document.title,
        url=document.url,
        published=document.published.isoformat() if document.published else None,
        quote=quote,
        start=start,
        end=end,
        score=round(float(score), 4),
    )


def make_citation(
    number: int, sentence: Sentence, document: DocumentInfo, chunk: ScoredChunk, score: float
) -> Citation:
    verify_in_chunk(sentence, chunk)
    return cite(number, document, sentence.text, sentence.start, sentence.end, score)


def markers_in(text: str) -> set[int]:
    return {int(n) for n in MARKER_RE.findall(text)}


def prose_safe(source_text: str) -> str:
    """Source text made safe to put in answer prose (or in front of a model that writes it):
    the source's own bracketed numbers, such as footnote markers, become parentheses
    ("[3]" -> "(3)", "[3, 4]" -> "(3, 4)"), so the only [n] in an answer are our citation
    markers. Citation quotes are never passed through this: they stay text[start:end]."""
    return SOURCE_BRACKETS_RE.sub(lambda match: f"({match.group(1).strip()})", source_text)


def marker_problem(answer_text: str, citations: list[Citation]) -> str | None:
    """Why the answer's markers can't be verified, or None when every [n] in the answer has
    a citation with that id (DESIGN.md). An answer with a problem is not given out."""
    ids = {c.id for c in citations}
    missing = markers_in(answer_text) - ids
    if missing:
        return f"answer cites {sorted(missing)} without citations"
    return None


def check_markers(answer_text: str, citations: list[Citation]) -> None:
    """Raises CitationError when `marker_problem` finds one."""
    problem = marker_problem(answer_text, citations)
    if problem:
        raise CitationError(problem)
