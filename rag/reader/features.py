"""Features, the reader's third stage: numbers a trained model scores, for sentences and spans.

`FeatureBuilder.sentence_features` and `.span_features` compute one row per candidate; `explain`
prints a row by feature name. Nothing here decides: every weight lives in the trained artifact
(rag/reader/model.py). Columns that depend on the question-kind model (`qk_*`, `kind_fit`,
`kind_prob`) are filled from its probabilities when given, else left 0 for training to fill.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from rag.reader.candidates import CandidateSet, DocCandidate, SentenceCandidate
from rag.reader.lexicon import Lexicon
from rag.reader.question import COMPARISONS, CUE_KINDS, WH_CLASSES, QuestionAnalysis
from rag.reader.signals import (
    Marks,
    conflicting_periods,
    coverage,
    idf,
    lower_words,
    name_share,
    period_order,
    same_amount,
    sentence_marks,
    share,
)
from rag.reader.span_rows import SPAN_OWN_FEATURES, SpanContext
from rag.reader.spans import AMOUNT_KINDS, KINDS, Span, period_keys
from rag.store import ChromaStore

QUESTION_FEATURES = (
    *(f"wh_{w}" for w in WH_CLASSES), *(f"cue_{k}" for k in CUE_KINDS),
    *(f"cmp_{c}" for c in COMPARISONS), "q_names", "q_terms", "q_periods", "q_latest",
    "q_figures", "q_modifiers",
)  # fmt: skip
KIND_FEATURES = ("kind_fit", *(f"qk_{k}" for k in KINDS))
SENTENCE_FEATURES = (
    "cos", "cos_rank", "cos_gap", "cos_prev", "cos_next", "cos_doc_max", "cos_doc_first",
    "lex_attr", "lex_all", "lex_window", "lex_doc", "lex_title", "names_sent", "names_doc",
    "names_title", "figures_sent", "period_sent", "period_doc", "period_conflict",
    "quarter_loose", "doc_period_recency", "latest_period_recency",
    "doc_rank", "doc_fused", "doc_dense", "doc_dense_gap", "doc_keyword", "doc_undated",
    "doc_recency", "latest_recency", "position", "is_first", "is_heading", "length",
    "negations", "contrasts", "n_amounts", "n_dates", "n_names", *QUESTION_FEATURES,
    *KIND_FEATURES,
)  # fmt: skip
SPAN_FEATURES = (*SENTENCE_FEATURES, *SPAN_OWN_FEATURES)
KIND_COLUMNS = SENTENCE_FEATURES.index("kind_fit")
# the columns read from the question-sentence cosines alone (similarity_columns)
SIMILARITY_FEATURES = SENTENCE_FEATURES[: SENTENCE_FEATURES.index("cos_doc_first") + 1]
KIND_PROB_COLUMN = SPAN_FEATURES.index("kind_prob")


def similarity_columns(c: CandidateSet, sims: np.ndarray) -> np.ndarray:
    """The SIMILARITY_FEATURES of every candidate sentence from its cosine to the question:
    its own, its rank and gap to the best, its neighbours', its document's best and first."""
    n = len(c.sentences)
    columns = np.zeros((n, len(SIMILARITY_FEATURES)), dtype=np.float32)
    if n == 0:
        return columns
    # rank by how many sentences are more similar, to 5 decimals: equal cosines (one sentence
    # in two documents) share a rank instead of taking the store's order
    rounded = np.round(sims, 5)
    above = n - np.searchsorted(np.sort(rounded), rounded, side="right")
    rank = above.astype(np.float32) / max(1, n - 1)
    best = float(sims.max())
    doc_max = [float(sims[d.first : d.first + d.count].max()) for d in c.docs]
    for i, cand in enumerate(c.sentences):
        doc = c.docs[cand.doc]
        prev_i, next_i = c.neighbour(i, -1), c.neighbour(i, 1)
        columns[i] = (
            float(sims[i]), rank[i], best - float(sims[i]),
            float(sims[prev_i]) if prev_i is not None else 0.0,
            float(sims[next_i]) if next_i is not None else 0.0,
            doc_max[cand.doc], float(sims[doc.first]),
        )  # fmt: skip
    return columns


class FeatureBuilder:
    """Builds the feature rows of one question's candidates."""

    def __init__(self, lexicon: Lexicon, store: ChromaStore) -> None:
        self.lexicon = lexicon
        self.store = store

    def marks(self, candidate: SentenceCandidate) -> Marks:
        return self.store.memo(
            ("marks", candidate.sentence.sentence_id),
            partial(sentence_marks, candidate, self.lexicon),
        )

    def words(self, key: str, text: str) -> set[str]:
        return self.store.memo(("words", key), partial(lower_words, text))

    def doc_words(self, c: CandidateSet, doc: DocCandidate) -> set[str]:
        sentences = c.sentences[doc.first : doc.first + doc.count]
        text = doc.info.title + " " + " ".join(s.sentence.text for s in sentences)
        return self.words(f"doc:{doc.info.doc_id}", text)

    # -- sentences ---------------------------------------------------------------------------

    def sentence_features(
        self, q: QuestionAnalysis, c: CandidateSet, kind_probs: np.ndarray | None = None
    ) -> np.ndarray:
        n = len(c.sentences)
        rows = np.zeros((n, len(SENTENCE_FEATURES)), dtype=np.float32)
        if n == 0:
            return rows
        weights = idf(set(q.terms), c)
        rows[:, : len(SIMILARITY_FEATURES)] = similarity_columns(c, c.similarity)
        fused_best = max(d.fused for d in c.docs) or 1.0
        dense_best = max(d.dense for d in c.docs)
        keyword_best = max(d.keyword for d in c.docs) or 1.0
        days = sorted({d.day for d in c.docs if d.day}, reverse=True)
        doc_periods = [period_order(d.periods) for d in c.docs]
        period_levels = sorted(set(doc_periods), reverse=True)
        quarters = {p[-2:] for p in q.periods if "Q" in p}
        years = {p[:4] for p in q.periods if p[:4].isdigit()}
        question_flags = [
            *(float(q.wh == w) for w in WH_CLASSES), *(q.cues[k] for k in CUE_KINDS),
            *(q.comparisons[k] for k in COMPARISONS), len(q.names), len(q.terms),
            float(bool(q.periods)), float(q.latest), len(q.figures), len(q.modifiers),
        ]  # fmt: skip
        doc_words = [self.doc_words(c, d) for d in c.docs]
        title_words = [self.words(f"title:{d.info.doc_id}", d.info.title) for d in c.docs]
        for i, cand in enumerate(c.sentences):
            doc = c.docs[cand.doc]
            window = set(cand.terms)
            for j in (c.neighbour(i, -1), c.neighbour(i, 1)):
                if j is not None:
                    window |= c.sentences[j].terms
            text = cand.sentence.text
            sentence_id = cand.sentence.sentence_id
            periods = self.store.memo(("speriods", sentence_id), partial(period_keys, text))
            marks = self.marks(cand)
            figures = [f for f in q.figures if any(same_amount(f, s) for s in cand.spans)]
            recency = days.index(doc.day) / max(1, len(days) - 1) if doc.day and days else 1.0
            stripped = text.rstrip()
            rows[i, len(SIMILARITY_FEATURES) : KIND_COLUMNS] = (
                coverage(q.attribute_terms, cand.terms, weights), coverage(q.terms, cand.terms, weights),
                coverage(q.attribute_terms, window, weights), coverage(q.terms, doc.terms, weights),
                coverage(q.terms, doc.title_terms, weights),
                name_share(q.names, self.words(sentence_id, text)),
                name_share(q.names, doc_words[cand.doc]), name_share(q.names, title_words[cand.doc]),
                len(figures) / len(q.figures) if q.figures else 0.0,
                share(q.periods, periods) if q.periods else 0.0,
                share(q.periods, doc.periods) if q.periods else 0.0,
                float(bool(q.periods) and conflicting_periods(q.periods, periods)),
                float(bool(quarters) and any(p[-2:] in quarters for p in periods if "Q" in p)
                      and (not years or bool(years & {p[:4] for p in doc.periods | periods}))),
                period_levels.index(doc_periods[cand.doc]) / max(1, len(period_levels) - 1),
                period_levels.index(doc_periods[cand.doc]) / max(1, len(period_levels) - 1)
                if q.latest else 0.5,
                doc.rank, doc.fused / fused_best, doc.dense, dense_best - doc.dense,
                doc.keyword / keyword_best, float(doc.day == 0), recency,
                recency if q.latest else 0.5,
                cand.position, float(cand.position == 0),
                float(not stripped.endswith((".", "!", "?", '"', "”", ")", "'"))),
                min(len(text), 600) / 200.0,
                len(marks.negations), len(marks.contrasts),
                sum(s.kind in AMOUNT_KINDS for s in cand.spans),
                sum(s.kind in ("date", "year") for s in cand.spans),
                sum(s.kind == "name" for s in cand.spans),
                *question_flags,
            )  # fmt: skip
        if kind_probs is not None:
            fill_sentence_kinds(rows, c, kind_probs)
        return rows

    # -- spans ---------------------------------------------------------------------------------

    def span_features(
        self,
        q: QuestionAnalysis,
        c: CandidateSet,
        sentence_rows: np.ndarray,
        *,
        only: list[int] | None = None,
        kind_probs: np.ndarray | None = None,
    ) -> tuple[list[tuple[int, Span]], np.ndarray]:
        """One row per typed span of the candidate sentences (all, or those in `only`), each
        row starting with its sentence's row."""
        indices = range(len(c.sentences)) if only is None else only
        pairs = [(i, k) for i in indices for k in range(len(c.sentences[i].spans))]
        rows = np.zeros((len(pairs), len(SPAN_FEATURES)), dtype=np.float32)
        if not pairs:
            return [], rows
        width = len(SENTENCE_FEATURES)
        context = SpanContext(self, q, c)
        for row, (i, k) in enumerate(pairs):
            rows[row, :width] = sentence_rows[i]
            rows[row, width:] = context.row(i, k)
        spans = [(i, c.sentences[i].spans[k]) for i, k in pairs]
        if kind_probs is not None:
            fill_span_kinds(rows, spans, kind_probs)
        return spans, rows


# Kinds one answer may take either way: a count written without its noun is a bare number
# ("41,000 subscribers, of which 12,000 were in Sweden"), a year is a date.
KIND_FAMILIES = ({"count", "number"}, {"date", "year"})


def kind_probability(kind_probs: np.ndarray) -> dict[str, float]:
    """The probability that the answer is a span of each kind, kinds of a family pooled."""
    by_kind = dict(zip(KINDS, (float(p) for p in kind_probs), strict=True))
    for family in KIND_FAMILIES:
        pooled = sum(by_kind[k] for k in family)
        for kind in family:
            by_kind[kind] = pooled
    return by_kind


def fill_sentence_kinds(rows: np.ndarray, c: CandidateSet, kind_probs: np.ndarray) -> None:
    """The question-kind model's columns of sentence rows: its probabilities, and how well the
    sentence's spans fit them (the most likely kind it holds)."""
    rows[:, KIND_COLUMNS + 1 : KIND_COLUMNS + 1 + len(KINDS)] = kind_probs
    probability = kind_probability(kind_probs)
    for i, cand in enumerate(c.sentences):
        rows[i, KIND_COLUMNS] = max((probability[s.kind] for s in cand.spans), default=0.0)


def fill_span_kinds(
    rows: np.ndarray, spans: list[tuple[int, Span]], kind_probs: np.ndarray
) -> None:
    probability = kind_probability(kind_probs)
    for row, (_, span) in enumerate(spans):
        rows[row, KIND_PROB_COLUMN] = probability[span.kind]


def explain(names: tuple[str, ...], row: np.ndarray) -> dict[str, float]:
    """A feature row by name, for printing one example."""
    return {name: round(float(value), 4) for name, value in zip(names, row, strict=True)}
