"""Span rows: the features of one typed span, as the span scorers see it, measured against
the question (binding to its words, modifiers, periods) and by its shape (outlet, person...)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.reader.candidates import CandidateSet
from rag.reader.lexicon import WORD_RE
from rag.reader.question import QuestionAnalysis
from rag.reader.signals import (
    FAR,
    Marks,
    coverage,
    host_words,
    idf,
    is_publication_date,
    left_right,
    person_like,
    place_names,
    same_amount,
    share,
    year_of,
)
from rag.reader.spans import AMOUNT_KINDS, KINDS, Span, period_keys

if TYPE_CHECKING:
    from rag.reader.features import FeatureBuilder

# The kind cues that speak for each span kind.
KIND_CUES = {
    "money": ("money",), "percent": ("percent",), "count": ("count",), "number": ("count", "percent"),
    "power": ("power",), "energy": ("energy",), "data": ("energy", "power"),
    "duration": ("duration",), "date": ("date",),
    "year": ("date",), "name": ("person", "org", "place", "name"),
}  # fmt: skip
NEAR_WORDS = 8  # words either side of a span counted as its neighbourhood
FIXED_MODIFIERS = ("up_to", "base", "per_share", "before", "after", "excluding", "part", "annual",
                   "total", "average", "expected", "net", "gross", "per_unit")  # fmt: skip
SPAN_OWN_FEATURES = (
    *(f"kind_{k}" for k in KINDS), "kind_prob", "cue_match", "approx", "is_range",
    "attr_left", "attr_right", "rival_left", "rival_right", "spans_to_attr", "name_dist",
    "attr_rank", "clause_attr", "clause_rival", "clause_names", "clause_same_kind", "figure_dist",
    "title_only",
    "near_attr", "near_all", "in_question", "name_overlap", "same_kind", "kind_index",
    "span_words", "mod_agree", "mod_conflict", *(f"mod_{m}" for m in FIXED_MODIFIERS),
    "span_year_asked", "span_year_published", "span_is_published", "span_after_published",
    "event_near", "report_near", "expected_near", "negation_near", "is_outlet", "in_parens",
    "all_caps", "sentence_start", "org_suffix", "title_near", "place_prep", "is_place",
    "person_like", "in_title", "doc_frequency", "inside_name", "magnitude",
)  # fmt: skip


@dataclass
class SentenceView:
    """One candidate sentence as a question's span rows need it (computed once per question)."""

    marks: Marks
    attr: list[int]  # word positions of the question's attribute terms
    rivals: list[int]  # ... of attribute words the question does not use
    names: list[int]  # ... of the question's names
    amounts: list[int]  # first word of every amount span
    clause_terms: dict[int, set[str]]  # clause number -> its words' canonical stems
    attr_distance: list[float]  # per span: scaled distance to the nearest attribute term
    figures: list[tuple[int, int]]  # (span, first word) of spans stating the question's figures
    by_kind: dict[str, list[int]]  # kind -> indexes of its spans


class SpanContext:
    """What every span row of one question shares, computed once."""

    def __init__(self, builder: FeatureBuilder, q: QuestionAnalysis, c: CandidateSet) -> None:
        lexicon = builder.lexicon
        self.builder, self.q, self.c, self.lexicon = builder, q, c, lexicon
        self.attr = set(q.attribute_terms)
        self.rivals = lexicon.attribute_vocabulary - set(q.terms)
        self.q_name_words = {w.lower() for n in q.names for w in WORD_RE.findall(n)}
        self.idf = idf(set(q.terms), c)
        self.places = place_names()
        self.views: dict[int, SentenceView] = {}
        self.doc_values: dict[int, dict[tuple[str, object], int]] = {}

    def view(self, i: int) -> SentenceView:
        if i not in self.views:
            cand = self.c.sentences[i]
            marks = self.builder.marks(cand)
            terms = [t for _, t in cand.tokens]
            attr = [k for k, t in enumerate(terms) if t in self.attr]
            clause_terms: dict[int, set[str]] = {}
            for term, clause in zip(terms, marks.clauses, strict=False):
                clause_terms.setdefault(clause, set()).add(term)
            by_kind: dict[str, list[int]] = {}
            for n, span in enumerate(cand.spans):
                by_kind.setdefault(span.kind, []).append(n)
            self.views[i] = SentenceView(
                marks=marks,
                attr=attr,
                rivals=[k for k, t in enumerate(terms) if t in self.rivals],
                names=[k for k, t in enumerate(terms) if t in self.q.name_terms],
                amounts=[
                    first
                    for (first, _), s in zip(marks.span_tokens, cand.spans, strict=True)
                    if s.kind in AMOUNT_KINDS
                ],  # fmt: skip
                clause_terms=clause_terms,
                attr_distance=[min(left_right(attr, *bounds)) for bounds in marks.span_tokens],
                figures=[
                    (n, marks.span_tokens[n][0])
                    for n, other in enumerate(cand.spans)
                    if any(same_amount(f, other) for f in self.q.figures)
                ],  # fmt: skip
                by_kind=by_kind,
            )
        return self.views[i]

    def frequency(self, doc_index: int, span: Span) -> int:
        if doc_index not in self.doc_values:
            doc = self.c.docs[doc_index]
            counts: dict[tuple[str, object], int] = {}
            for s in self.c.sentences[doc.first : doc.first + doc.count]:
                for t in s.spans:
                    counts[(t.kind, t.value)] = counts.get((t.kind, t.value), 0) + 1
            self.doc_values[doc_index] = counts
        return self.doc_values[doc_index].get((span.kind, span.value), 0)

    def row(self, i: int, k: int) -> tuple[float, ...]:
        cand = self.c.sentences[i]
        span = cand.spans[k]
        surface = cand.sentence.text[span.start : span.end]
        span_words = [w.lower() for w in WORD_RE.findall(surface)]
        return (
            *(float(span.kind == kind) for kind in KINDS), 0.0,
            max((self.q.cues[cue] for cue in KIND_CUES[span.kind]), default=0.0),
            float(bool(span.approx) and span.approx != "range"), float(span.approx == "range"),
            *self._binding(i, k, span_words),
            *self._context(i, k, surface),
            *self._shape(i, k, surface, span_words),
        )  # fmt: skip

    def _binding(self, i: int, k: int, span_words: list[str]) -> tuple[float, ...]:
        """How the span sits among the question's words: distances, clause, neighbourhood."""
        q, view, cand = self.q, self.view(i), self.c.sentences[i]
        span = cand.spans[k]
        first, last = view.marks.span_tokens[k]
        attr_left, attr_right = left_right(view.attr, first, last)
        rival_left, rival_right = left_right(view.rivals, first, last)
        if view.attr:
            target = min(view.attr, key=lambda a: abs(a - first))
            low, high = sorted((target, first))
            between = sum(1 for a in view.amounts if low < a < high)
        else:
            between = 5
        name_dist = min((min(abs(n - first), abs(n - last)) for n in view.names), default=FAR)
        clause_of = view.marks.clauses
        clause = clause_of[first] if first < len(clause_of) else -1
        clause_terms = view.clause_terms.get(clause, set())
        others = [n for n in view.by_kind[span.kind] if n != k]
        attr_rank = sum(1 for n in others if view.attr_distance[n] < view.attr_distance[k])
        clause_same = sum(
            1 for n in others
            if view.marks.span_tokens[n][0] < len(clause_of)
            and clause_of[view.marks.span_tokens[n][0]] == clause
        )  # fmt: skip
        figure_dist = min((abs(t - first) for n, t in view.figures if n != k), default=FAR)
        tokens = cand.tokens
        near = {t for _, t in tokens[max(0, first - NEAR_WORDS) : first]}
        near |= {t for _, t in tokens[last + 1 : last + 1 + NEAR_WORDS]}
        titles = self.lexicon.person_titles
        return (
            attr_left, attr_right, rival_left, rival_right, min(between, 5) / 5.0,
            min(name_dist, FAR) / FAR, min(attr_rank, 5) / 5.0,
            coverage(q.attribute_terms, clause_terms, self.idf),
            float(bool(clause_terms & self.rivals)),
            share(q.name_terms, clause_terms) if q.name_terms else 0.0,
            float(clause_same), min(figure_dist, FAR) / FAR,
            float(span.kind == "name" and bool(span_words) and all(
                w.rstrip(".") in titles or w in ("and", "of", "&") for w in span_words)),
            coverage(q.attribute_terms, near, self.idf), coverage(q.terms, near, self.idf),
        )  # fmt: skip

    def _context(self, i: int, k: int, surface: str) -> tuple[float, ...]:
        """What is written around the span: modifiers, periods, event and report verbs."""
        q, view, cand = self.q, self.view(i), self.c.sentences[i]
        span = cand.spans[k]
        marks = view.marks
        doc = self.c.docs[cand.doc]
        if span.kind == "name":
            words = [w.lower() for w in WORD_RE.findall(surface)]
            in_question = float(bool(words) and all(w in self.q_name_words for w in words))
        elif span.kind in ("date", "year"):
            in_question = float(bool(period_keys(surface) & q.periods) and q.wh != "when")
        else:
            in_question = float(any(same_amount(f, span) for f in q.figures))
        local = {name for (name, _, _), owner in zip(marks.modifiers, marks.owners, strict=True)
                 if owner == k}  # fmt: skip
        same_kind = view.by_kind[span.kind]
        published = doc.info.published
        year = year_of(span)
        return (
            in_question,
            len(set(WORD_RE.findall(surface.lower())) & self.q_name_words)
            / max(1, len(WORD_RE.findall(surface))),
            len(same_kind), same_kind.index(k), len(WORD_RE.findall(surface)),
            len(local & q.modifiers), len(local - q.modifiers),
            *(float(m in local) - 0.5 * float(m in q.modifiers and m not in local) for m in FIXED_MODIFIERS),
            float(year is not None and str(year) in q.periods),
            float(year is not None and published is not None and year == published.year),
            float(is_publication_date(surface, published)),
            float(year is not None and published is not None and year > published.year),
            float(any(abs(p - span.start) < 60 for p in marks.events)),
            float(any(abs(p - span.start) < 60 for p in marks.reports)),
            float(any(name == "expected" and abs(s - span.start) < 60 for name, s, _ in marks.modifiers)),
            float(any(abs(p - span.start) < 50 for p in marks.negations)),
        )  # fmt: skip

    def _shape(self, i: int, k: int, surface: str, span_words: list[str]) -> tuple[float, ...]:
        """What the span looks like: an outlet, a dateline, a person, an organisation, a place."""
        lexicon, cand = self.lexicon, self.c.sentences[i]
        span = cand.spans[k]
        doc = self.c.docs[cand.doc]
        text = cand.sentence.text
        is_name = span.kind == "name"
        key = "".join(ch for ch in surface.lower() if ch.isalnum())
        before_words = [
            w.lower() for w in WORD_RE.findall(text[max(0, span.start - 30) : span.start])
        ]
        after_words = [w.lower() for w in WORD_RE.findall(text[span.end : span.end + 25])]
        titles = lexicon.person_titles
        value = span.value
        words_title = self.builder.words(f"title:{doc.info.doc_id}", doc.info.title)
        return (
            float(is_name and bool(key) and any(h in key or key in h for h in host_words(doc.info.url))),
            float(text[: span.start].count("(") > text[: span.start].count(")")),
            float(is_name and surface.isupper() and len(surface) > 3), float(span.start == 0),
            float(is_name and bool(span_words) and span_words[-1].rstrip(".") in lexicon.org_suffixes),
            float(any(w in titles for w in before_words[-3:]) or any(w in titles for w in after_words[:3])),
            float(bool(before_words) and before_words[-1] in lexicon.place_prepositions),
            float(is_name and str(value) in self.places),
            float(is_name and person_like(surface, span_words, lexicon)),
            float(is_name and bool(span_words) and all(w in words_title for w in span_words)),
            float(self.frequency(cand.doc, span)),
            float(span.kind in ("number", "count") and any(
                t.kind == "name" and t.start <= span.start and span.end <= t.end for t in cand.spans)),
            math.log10(abs(value) + 1) if isinstance(value, float) else 0.0,
        )  # fmt: skip
