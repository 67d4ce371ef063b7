"""ExtractiveAnswerer: answers by quoting the best-supported source sentences, or abstains."""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from functools import partial

import numpy as np

from rag.citations import CitationError, make_citation, marker_problem
from rag.compose import (
    Draft,
    comparison_draft,
    conflict_draft,
    single_draft,
)
from rag.conversation import standalone_question
from rag.evidence import FEATURES, Evidence, gather_evidence
from rag.question import (
    NUMBER_TOKEN,
    STOPWORDS,
    WORD_RE,
    QuestionAnalysis,
    analyse,
    find_entities,
    is_generic,
)
from rag.store import ChromaStore
from rag.support import SUPPORT_THRESHOLD, support_score
from rag.types import Answer, Citation, Embedder, Filters, Retriever, ScoredChunk

# Answerability model: a logistic regression over the best sentence's features, fitted by
# `python -m eval.calibrate` on eval/sets/announcements.jsonl (see eval/README.md); the
# answerer abstains when the probability that its best sentence answers is below threshold.
ANSWERABLE_WEIGHTS = {
    "bias": -4.271,
    "semantic": 1.027,
    "lexical": 0.979,
    "context": 0.112,
    "entity": -0.003,
    "named": 0.537,
    "type_fit": 2.317,
    "time_fit": 0.263,
    "attribute": 0.355,
    "prose": 0.481,
}
log = logging.getLogger("newsdesk.rag")
DEFAULT_THRESHOLD = 0.2
GATE_MARGIN = 0.15  # how far below the top sentence the best one passing the gates may score


def support_scores(draft: Draft) -> list[float]:
    """Support of every claim of the draft by the quotes it cites (rag.support)."""
    scores = []
    for claim, numbers in draft.claims():
        quotes = " ".join(draft.evidence[n - 1].sentence.text for n in numbers)
        scores.append(support_score(claim, quotes))
    return scores


def supported(draft: Draft) -> bool:
    """Every claim must be supported by the spans it cites, else the draft is not given."""
    scores = support_scores(draft)
    draft.notes["support"] = ",".join(f"{score:.2f}" for score in scores)
    return all(score >= SUPPORT_THRESHOLD for score in scores)


def newest_first(evidence: list[Evidence]) -> list[Evidence]:
    """'What is X now / the latest X': among comparable sentences the newest source wins."""

    def day(item: Evidence) -> int:
        published = item.chunk.document.published
        return published.toordinal() if published else 0

    return sorted(evidence, key=lambda e: (-day(e), -e.score))


def passes_gates(evidence: Evidence, analysis: QuestionAnalysis) -> bool:
    """Hard conditions for a sentence to answer; a near miss (right company, absent fact)
    usually fails one: every name asked about is in the source, an amount's sentence speaks
    of the attribute asked for, and a year asked about is the year spoken of."""
    if evidence.entity < 0.75:
        return False
    if analysis.qtype == "number" and evidence.attribute < 1.0:
        return False
    if analysis.qtype != "yes_no" and analysis.required_numbers:
        context = set(re.findall(NUMBER_TOKEN, evidence.chunk.text))
        if not set(analysis.required_numbers) <= context:
            return False
    return not (analysis.time.years and evidence.time_fit < 0.5)


def enrich_entities(
    analysis: QuestionAnalysis, chunks: Sequence[ScoredChunk], store: ChromaStore
) -> None:
    """Names typed in lower case ("helmsway capacity") are recognised by the sources' own
    capitalised names, so they count as names the answer must be about."""
    lowered = f" {' '.join(WORD_RE.findall(analysis.text.lower()))} "
    known = {e.lower() for e in analysis.entities}
    for chunk in chunks:
        names = store.memo(
            ("names", chunk.chunk_id),
            partial(find_entities, chunk.document.title + ". " + chunk.text),
        )
        for _, _, name in names:
            # "Nordlink Telecom" is also asked about as plain "nordlink", "Rival Telora" as "telora"
            words = [w for w in name.split() if len(w) >= 4 and w[0].isupper()]
            for candidate in [name, *words]:
                key = candidate.lower()
                if key in known or len(key) < 3 or key in STOPWORDS or is_generic(candidate):
                    continue
                if f" {key} " in lowered and not any(key in k for k in known):
                    analysis.entities.append(candidate)
                    known.add(key)


def merge_time_filters(filters: Filters | None, analysis: QuestionAnalysis) -> Filters | None:
    """'as of 2024' / 'before 2025' / 'since 2025' become hard publication-date bounds."""
    frame = analysis.time
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


def confidence(
    best: Evidence, analysis: QuestionAnalysis, weights: dict[str, float] | None = None
) -> float:
    """Probability that the best sentence answers the question; compared with the threshold."""
    weights = ANSWERABLE_WEIGHTS if weights is None else weights
    z = weights.get("bias", 0.0) + sum(
        getattr(best, name) * weights.get(name, 0.0) for name in FEATURES
    )
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def abstain_text(question: str) -> str:
    subject = question.strip().rstrip("?.! ")
    subject = subject[0].lower() + subject[1:] if subject else subject
    return f"The indexed announcements don't say {_indirect(subject)}."


def _indirect(subject: str) -> str:
    """'how much capacity comes online' reads fine after "don't say"; quote anything else."""
    if re.match(r"^(how|what|when|who|which|where|why|whether)\b", subject, re.I):
        return subject
    if re.match(r"^(is|are|was|were|does|do|did|will|has|have|had|can)\b", subject, re.I):
        return f"whether {subject}"
    return f'anything about "{subject}"'


class ExtractiveAnswerer:
    """Default answerer: offline and deterministic; embeds only the question."""

    name = "extractive"

    def __init__(
        self,
        *,
        embedder: Embedder,
        store: ChromaStore,
        retriever: Retriever,
        top_k: int = 8,
        threshold: float | None = None,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.retriever = retriever
        self.top_k = top_k
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold

    def answer(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Sequence[dict[str, str]] | None = None,
        _retry: bool = True,
    ) -> Answer:
        started = time.perf_counter()
        standalone = standalone_question(question, history)
        analysis = analyse(standalone)
        vector = self.embedder.embed([standalone])[0]
        chunks = self.retriever.retrieve(
            standalone, vector, k=self.top_k, filters=merge_time_filters(filters, analysis)
        )
        retrieved = time.perf_counter()
        enrich_entities(analysis, chunks, self.store)
        evidence = gather_evidence(analysis, np.asarray(vector), chunks, self.store)
        draft = self._draft(analysis, evidence)
        answered = time.perf_counter()
        timings = {
            "retrieve": round((retrieved - started) * 1000, 3),
            "answer": round((answered - retrieved) * 1000, 3),
            "total": round((answered - started) * 1000, 3),
        }
        extra: dict[str, object] = {"answerer": self.name}
        if standalone != question:
            extra["standalone_question"] = standalone
        if draft is None:
            extra["confidence"] = round(self._best_confidence(analysis, evidence), 4)
            return Answer(question, abstain_text(standalone), None, True, [], timings, extra)
        extra["confidence"] = round(draft.confidence, 4)
        extra["support"] = [float(x) for x in draft.notes.get("support", "").split(",") if x]
        try:
            citations = self._citations(draft)
        except CitationError:
            if not _retry:
                raise
            # Another process rewrote the document within the cache window: read afresh.
            self.store.invalidate_cache()
            return self.answer(question, filters=filters, history=history, _retry=False)
        problem = marker_problem(draft.text, citations)
        if problem:  # never give out (or crash on) an answer whose markers can't be verified
            log.warning("abstaining on %r: %s", question[:200], problem)
            extra["dropped"] = problem
            return Answer(question, abstain_text(standalone), None, True, [], timings, extra)
        return Answer(question, draft.text, draft.short_answer, False, citations, timings, extra)

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

    # -- drafting -----------------------------------------------------------------------------

    def _best_confidence(self, analysis: QuestionAnalysis, evidence: list[Evidence]) -> float:
        return confidence(evidence[0], analysis) if evidence else 0.0

    def _draft(self, analysis: QuestionAnalysis, evidence: list[Evidence]) -> Draft | None:
        if not evidence:
            return None
        if analysis.comparison and len(analysis.entities) >= 2:
            draft = comparison_draft(analysis, evidence)
            if draft is not None and supported(draft):
                draft.confidence = max(
                    min(confidence(e, analysis) for e in draft.evidence), self.threshold
                )
                return draft
        top = evidence[0].score
        passing = [
            e for e in evidence if passes_gates(e, analysis) and e.score >= top - GATE_MARGIN
        ]
        if not passing:
            return None
        if analysis.time.latest:
            passing = newest_first(passing)
        level = confidence(passing[0], analysis)
        if level < self.threshold:
            return None
        draft = conflict_draft(analysis, passing, self.threshold, confidence) or single_draft(
            analysis, passing
        )
        draft.confidence = level
        if analysis.qtype in ("number", "date", "entity") and draft.short_answer is None:
            return None  # the sentence matched but holds no figure, date or name: don't guess
        return draft if supported(draft) else None

    def _citations(self, draft: Draft) -> list[Citation]:
        citations = []
        for number, item in enumerate(draft.evidence, 1):
            citations.append(
                make_citation(number, item.sentence, item.chunk.document, item.chunk, item.score)
            )
        return citations
