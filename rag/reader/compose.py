"""Composition, the reader's last stage: a Reading becomes the Answer contract, every quote
checked to be `document_text[start:end]`."""

from __future__ import annotations

import re
import time
from datetime import date

from rag.citations import CitationError, check_markers, cite, prose_safe
from rag.dates import find_dates, spoken_day
from rag.pipeline import Retrieved
from rag.reader.candidates import SentenceCandidate
from rag.reader.reader import Reading
from rag.reader.spans import Span
from rag.store import ChromaStore
from rag.types import Answer, Citation, DocumentInfo

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def annotate(text: str, published: date | None) -> str:
    """Relative dates resolved inline against the publication date: 'this quarter (Q2 2026)'."""
    if published is None:
        return text
    for mention in sorted(find_dates(text, published), key=lambda d: d.start, reverse=True):
        if mention.relative and mention.resolved:
            end = mention.end
            possessive = re.match(r"['’]s\b", text[end:])
            end += possessive.end() if possessive else 0
            text = f"{text[:end]} ({mention.resolved}){text[end:]}"
    return text


def cited(text: str, info: DocumentInfo, number: int, *, with_date: bool = True) -> str:
    """'<sentence> (published 2026-04-20) [n].' with the sentence's end punctuation moved last."""
    body = prose_safe(annotate(text.strip(), info.published))
    end = ""
    while body and body[-1] in ".!?;:":
        end = end or body[-1]
        body = body[:-1]
    when = f" (published {info.published.isoformat()})" if with_date and info.published else ""
    return f"{body}{when} [{number}]{end or '.'}"


def abstain_text(question: str) -> str:
    subject = question.strip().rstrip("?.! ")
    subject = subject[0].lower() + subject[1:] if subject else subject
    if re.match(r"^(how|what|when|who|which|where|why|whether)\b", subject, re.I):
        return f"The indexed announcements don't say {subject}."
    if re.match(r"^(is|are|was|were|does|do|did|will|has|have|had|can)\b", subject, re.I):
        return f"The indexed announcements don't say whether {subject}."
    return f'The indexed announcements don\'t say anything about "{subject}".'


def short_answer(span: Span, sentence: str, info: DocumentInfo) -> str:
    """The span as written; a relative date with what it means ("this quarter (Q2 2026)"), and
    a relative day as the day it names ("today" -> "December 20, 2024")."""
    text = span.text_of(sentence).strip(" ,;:")
    if span.kind == "date" and span.unit == "relative" and info.published:
        mentions = find_dates(text, info.published)
        if (
            len(mentions) == 1
            and mentions[0].relative
            and ISO_DAY.fullmatch(mentions[0].resolved or "")
        ):
            return spoken_day(date.fromisoformat(mentions[0].resolved or ""))
        resolved = annotate(text, info.published)
        return resolved if resolved != text else text
    return text


class AnswerComposer:
    """Writes the answer text with [n] markers and builds verified citations."""

    def __init__(self, store: ChromaStore, *, name: str = "extractive") -> None:
        self.store = store
        self.name = name

    def compose(self, retrieved: Retrieved, reading: Reading, read_at: float) -> Answer:
        extra: dict[str, object] = {"answerer": self.name, **retrieved.extra}
        extra["confidence"] = round(reading.answerable, 4)
        c = reading.candidates
        if not reading.answered:
            extra["reason"] = reading.reason
            return self._answer(
                retrieved, abstain_text(retrieved.standalone), None, True, [], extra, read_at
            )
        if reading.computed is not None:
            pick = reading.computed
            first, second = c.sentences[pick.first.sentence], c.sentences[pick.second.sentence]
            text = (f"{cited(first.sentence.text, c.docs[first.doc].info, 1)} "
                    f"{cited(second.sentence.text, c.docs[second.doc].info, 2)} {pick.closing}")  # fmt: skip
            citations = [self._citation(1, first, c, pick.first.probability),
                         self._citation(2, second, c, pick.second.probability)]  # fmt: skip
            extra["computed"] = pick.operation
            return self._answer(retrieved, text, pick.result, False, citations, extra, read_at)
        best = reading.best
        assert best is not None  # an answered reading has a best pick
        candidate = c.sentences[best.sentence]
        info = c.docs[candidate.doc].info
        text = cited(candidate.sentence.text, info, 1)
        if reading.verdict is not None:
            short: str | None = reading.verdict
            text = f"{reading.verdict}: {text}"
        else:
            short = short_answer(best.span, candidate.sentence.text, info) if best.span else None
        citations = [self._citation(1, candidate, c, best.probability)]
        return self._answer(retrieved, text, short, False, citations, extra, read_at)

    def _citation(self, number: int, candidate: SentenceCandidate, c, score: float) -> Citation:  # type: ignore[no-untyped-def]
        info: DocumentInfo = c.docs[candidate.doc].info
        sentence = candidate.sentence
        text = self.store.memo(("doc-text", info.doc_id), lambda: self._text(info.doc_id))
        if text is None or text[sentence.start : sentence.end] != sentence.text:
            raise CitationError(f"quote of {sentence.sentence_id} does not match {info.doc_id}")
        return cite(number, info, sentence.text, sentence.start, sentence.end, score)

    def _text(self, doc_id: str) -> str | None:
        found = self.store.get_document(doc_id)
        return found[1] if found else None

    def _answer(self, retrieved, text, short, abstained, citations, extra, read_at) -> Answer:  # type: ignore[no-untyped-def]
        check_markers(text, citations)
        finished = time.perf_counter()
        timings = {
            "retrieve": retrieved.retrieve_ms(),
            "answer": round((finished - read_at) * 1000, 3),
            "total": round((finished - retrieved.started) * 1000, 3),
        }
        return Answer(retrieved.question, text, short, abstained, citations, timings, extra)
