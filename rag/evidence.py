"""Sentence evidence: scores every stored sentence of the retrieved chunks against a question.

Only the question is embedded per query; sentence vectors were stored at ingest time.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from rag.dates import DateMention, find_dates
from rag.quantities import Quantity, find_quantities
from rag.question import (
    WORD_RE,
    QuestionAnalysis,
    answer_names,
    asks_report_date,
    canonical,
    content_stems,
    stem,
)
from rag.store import ChromaStore
from rag.support import is_instruction
from rag.types import ScoredChunk, Sentence

FEATURES = (
    "semantic", "lexical", "context", "entity", "named", "type_fit", "time_fit", "attribute",
    "prose",
)  # fmt: skip
# Weights of the sentence ranking score, fitted by `python -m eval.calibrate` (logistic
# regression: does this sentence hold a gold answer?) on eval/sets/announcements.jsonl.
RANK_WEIGHTS = {
    "semantic": 0.1532,
    "lexical": 0.0772,
    "context": 0.1277,
    "entity": 0.2267,
    "named": 0.0697,
    "type_fit": 0.1729,
    "time_fit": 0.1265,
    "attribute": 0.0237,
    "prose": -0.0224,
}


def rank_score(evidence: Evidence, weights: dict[str, float]) -> float:
    return sum(getattr(evidence, name) * weights.get(name, 0.0) for name in FEATURES)


@dataclass
class Evidence:
    sentence: Sentence
    chunk: ScoredChunk
    chunk_rank: int
    position: int  # sentence number within its document
    semantic: float = 0.0
    lexical: float = 0.0
    context: float = 0.0
    entity: float = 0.0
    type_fit: float = 0.0
    time_fit: float = 0.5  # neutral when the question names no time frame
    attribute: float = 1.0  # 1 when the sentence speaks of the attribute the question asks about
    named: float = 1.0  # share of the question's names in the sentence itself (and the title)
    prose: float = 1.0  # 0 for headings and titles: they summarise but rarely state the facts
    score: float = 0.0
    quantities: list[Quantity] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return self.sentence.doc_id


def _position(sentence_id: str) -> int:
    tail = sentence_id.rsplit(":s", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _idf(terms: set[str], bags: list[set[str]]) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for bag in bags:
        counts.update(terms & bag)
    n = len(bags) + 1
    return {t: math.log((n + 1) / (counts[t] + 0.5)) for t in terms}


def _coverage(terms: list[str], bag: set[str], idf: dict[str, float]) -> float:
    total = sum(idf[t] for t in terms)
    return sum(idf[t] for t in terms if t in bag) / total if total else 0.0


def _spelled_out(acronym: str, haystack: str) -> bool:
    """An acronym written out in the source: its capitals start consecutive words, small
    joining words allowed ("CfD" = "contract for difference")."""
    capitals = [c for c in acronym if c.isupper()]
    lowercase = sum(c.islower() for c in acronym)
    if not 2 <= len(capitals) <= 6 or not acronym[0].isupper() or lowercase > 1:
        return False  # "CoreWeave" is a name, not an acronym
    joiner = r"\s+(?:(?:and|of|for|the|&|de)\s+)?"
    pattern = joiner.join(rf"{re.escape(c)}[\w-]*" for c in capitals)
    return re.search(rf"(?i)\b{pattern}\b", haystack) is not None


def word_sets(text: str) -> tuple[set[str], set[str]]:
    """The words of a text as written, and lower-cased with plural 's' also dropped."""
    exact = set(re.findall(r"\w+", text))
    present = {w.lower() for w in exact}
    present |= {w[:-1] for w in present if w.endswith("s")}  # "GPUs" covers "GPU"
    return exact, present


def _entity_coverage(
    entities: list[str], haystack: str, known: tuple[set[str], set[str]] | None = None
) -> float:
    """Share of the question's names found in `haystack`. A name counts by the share of its
    words present ("Unit 1 of the Three Mile Island plant" has all of "Three Mile Island
    Unit 1"), halved when its first word is missing ("Large 3" is not "Mistral Large 3")."""
    if not entities:
        return 1.0
    exact, present = known or word_sets(haystack)
    total = 0.0
    for entity in entities:
        raw_words = re.findall(r"\w+", entity)
        words = [w.lower() for w in raw_words]
        if not words:
            continue
        if any(w.isdigit() and w not in present for w in words):
            continue  # "PASI 90" is not "PASI 75": a name's number must match
        if len(raw_words) == 1 and _spelled_out(raw_words[0], haystack):
            # "FDA" for "Food and Drug Administration", "CfD" for "contract for difference"
            total += 1.0
            continue
        # short capitals ("US", "EU") must match as capitals: "us" is a pronoun
        found = [
            (raw in exact) if raw.isupper() and len(raw) <= 3 else (low in present)
            for raw, low in zip(raw_words, words, strict=True)
        ]
        share = sum(found) / len(words)
        total += share if found[0] else share * 0.5
    return total / len(entities)


PREDICATE_REACH = 60  # characters: how close a slot must be to a question word to be bound to it


def predicate_positions(analysis: QuestionAnalysis, text: str) -> list[int]:
    """Where the sentence uses the question's own non-name words ("output", "led", "supply")."""
    named = {canonical(stem(w)) for e in analysis.entities for w in e.split()}
    wanted = set(analysis.terms) - named
    return [m.start() for m in WORD_RE.finditer(text) if canonical(stem(m.group(0))) in wanted]


def _bound(spans: list[tuple[int, int]], anchors: list[int]) -> bool:
    return any(
        start - PREDICATE_REACH <= anchor <= end + PREDICATE_REACH
        for start, end in spans
        for anchor in anchors
    )


def _type_fit(analysis: QuestionAnalysis, evidence: Evidence, question_entities: set[str]) -> float:
    """1 when the sentence holds the kind of answer asked for next to the question's own words,
    0.75 when it holds one elsewhere in the sentence, less when it holds none."""
    qtype = analysis.qtype
    text = evidence.sentence.text
    spans: list[tuple[int, int]] = []
    if qtype == "number" or analysis.comparison:
        if not evidence.quantities:
            return 0.0
        spans = [
            (q.start, q.end)
            for q in evidence.quantities
            if not analysis.wanted_kinds
            or (
                q.kind in analysis.wanted_kinds
                and (
                    q.kind != "count"
                    or not analysis.count_noun
                    or canonical(stem(q.unit)) == canonical(analysis.count_noun)
                )
            )
        ]
        if not spans:
            return 0.25
    elif qtype == "date":
        spans = [(d.start, d.end) for d in evidence.dates if not d.relative or d.resolved]
        if not spans:
            published = evidence.chunk.document.published
            return 0.75 if published and asks_report_date(analysis) else 0.1
    elif qtype == "entity":
        names = answer_names(text, analysis.entities, evidence.chunk.text)
        if not names:
            return 0.2
        spans = [(s, e) for s, e, _ in names]
    else:
        return 0.5
    if _bound(spans, predicate_positions(analysis, text)):
        if qtype == "entity" and analysis.answer_noun:
            # "Platte Valley Energy, a regional utility" answers "which utility" best
            return 1.0 if analysis.answer_noun in set(content_stems(text)) else 0.8
        return 1.0
    return 0.75


def _time_fit(analysis: QuestionAnalysis, evidence: Evidence, newest_day: int) -> float:
    frame = analysis.time
    if frame.is_empty:
        return 0.5
    fit = 0.0
    if frame.years:
        mentioned = {d.year for d in evidence.dates if d.year}
        if mentioned & set(frame.years) or any(
            str(y) in evidence.sentence.text for y in frame.years
        ):
            fit = 1.0
        elif (
            evidence.chunk.document.published
            and evidence.chunk.document.published.year in frame.years
        ):
            fit = 0.5
    if frame.latest and evidence.chunk.document.published:
        age_days = newest_day - evidence.chunk.document.published.toordinal()
        fit = max(fit, 1.0 / (1.0 + age_days / 90.0))
    return fit


def _stem_set(text: str) -> set[str]:
    return set(content_stems(text))


def gather_evidence(
    analysis: QuestionAnalysis,
    question_vector: np.ndarray,
    chunks: list[ScoredChunk],
    store: ChromaStore,
    weights: dict[str, float] | None = None,
) -> list[Evidence]:
    """Every sentence of `chunks`, scored; best first."""
    weights = RANK_WEIGHTS if weights is None else weights
    if not chunks:
        return []
    rank_of = {c.chunk_id: rank for rank, c in enumerate(chunks)}
    chunk_of = {c.chunk_id: c for c in chunks}
    sentences, vectors = store.sentences_for_chunks(list(chunk_of))
    if not sentences:
        return []
    semantic = vectors @ np.asarray(question_vector, dtype=np.float32)
    # Stems, figures and dates of stored text don't change until the store does: memoised.
    bags = [store.memo(("stems", s.sentence_id), partial(_stem_set, s.text)) for s in sentences]
    chunk_bags = {
        cid: store.memo(("chunk-stems", cid), partial(_stem_set, c.text + " " + c.document.title))
        for cid, c in chunk_of.items()
    }
    chunk_entity = {
        cid: _entity_coverage(
            analysis.entities,
            c.document.title + " " + c.text,
            store.memo(("chunk-words", cid), partial(word_sets, c.document.title + " " + c.text)),
        )
        for cid, c in chunk_of.items()
    }
    terms = list(dict.fromkeys(analysis.terms))
    # Names are measured by `entity`; lexical coverage is about the rest of the question.
    named = {canonical(stem(w)) for e in analysis.entities for w in WORD_RE.findall(e)}
    predicate_terms = [t for t in terms if t not in named] or terms
    idf = _idf(set(terms), bags)
    question_entities = {e.lower() for e in analysis.entities}
    published_days = [c.document.published.toordinal() for c in chunks if c.document.published]
    newest_day = max(published_days) if published_days else 0
    found: list[Evidence] = []
    for sentence, bag, similarity in zip(sentences, bags, semantic, strict=True):
        if is_instruction(sentence.text):
            continue  # text that tries to steer the answerer is never evidence
        chunk = chunk_of[sentence.chunk_id]
        evidence = Evidence(
            sentence=sentence,
            chunk=chunk,
            chunk_rank=rank_of[sentence.chunk_id],
            position=_position(sentence.sentence_id),
            semantic=float(similarity),
            quantities=store.memo(
                ("quantities", sentence.sentence_id), partial(find_quantities, sentence.text)
            ),
            dates=store.memo(
                ("dates", sentence.sentence_id, chunk.document.published),
                partial(find_dates, sentence.text, chunk.document.published),
            ),
        )
        context_bag = bag | chunk_bags[sentence.chunk_id]
        stripped = sentence.text.rstrip()
        if not stripped.endswith((".", "!", "?", '"', "”", "'", ")")) or (
            stripped == chunk.document.title.strip()
        ):
            evidence.prose = 0.0
        if analysis.attributes and not analysis.attributes & bag:
            evidence.attribute = 0.0
        evidence.lexical = _coverage(predicate_terms, bag, idf)
        evidence.context = _coverage(terms, context_bag, idf)
        evidence.entity = chunk_entity[sentence.chunk_id]
        named_text = chunk.document.title + " " + sentence.text
        evidence.named = _entity_coverage(
            analysis.entities,
            named_text,
            store.memo(("named-words", sentence.sentence_id), partial(word_sets, named_text)),
        )
        evidence.type_fit = _type_fit(analysis, evidence, question_entities)
        evidence.time_fit = _time_fit(analysis, evidence, newest_day)
        evidence.score = rank_score(evidence, weights)
        found.append(evidence)
    found.sort(key=lambda e: (-e.score, e.chunk_rank, e.sentence.start))
    return found
