"""ExtractiveReader: question analysis -> candidate sentences -> features -> trained scorers ->
answer span -> gates. Returns a Reading the composer turns into an Answer.

Each stage is a small class or function (rag/reader/*.py); the weights are the trained artifact
(rag/reader/model.py), the words the lexicon (rag/reader/lexicon.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rag.reader.candidates import CandidateSet, DocumentSentenceGatherer
from rag.reader.computed import ComputedPick, ComputedReader
from rag.reader.decisions import (
    COMPUTED_FEATURES,
    VERDICT_FEATURES,
    computed_row,
    question_grams,
    verdict_row,
)
from rag.reader.features import SENTENCE_FEATURES, SPAN_FEATURES, FeatureBuilder
from rag.reader.lexicon import Lexicon, default_lexicon
from rag.reader.model import ReaderModel
from rag.reader.question import CUE_KINDS, WH_CLASSES, QuestionAnalysis, analyse, kind_flags
from rag.reader.ranking import ANSWER_FEATURES, STACKED_FEATURES, Ranking, answer_row, rank
from rag.reader.signals import period_grain, period_owner, periods_agree
from rag.reader.spans import KINDS, Span, period_mentions
from rag.store import ChromaStore
from rag.types import ScoredChunk

KIND_INPUTS = 384 + len(WH_CLASSES) + len(CUE_KINDS)  # MiniLM vector, then kind_flags()
EXPECTED_FEATURES = {
    "sentence": SENTENCE_FEATURES,
    "span": SPAN_FEATURES,
    "stacked": STACKED_FEATURES,
    "within": SPAN_FEATURES,
    "answerable": ANSWER_FEATURES,
    "verdict": VERDICT_FEATURES,
    "computed": COMPUTED_FEATURES,
}


@dataclass
class Pick:
    sentence: int  # index into the CandidateSet's sentences
    span: Span | None  # None for a yes/no answer, which cites a whole sentence
    probability: float


@dataclass
class Reading:
    analysis: QuestionAnalysis
    candidates: CandidateSet
    ranked: list[Pick] = field(default_factory=list)
    answerable: float = 0.0
    answered: bool = False
    verdict: str | None = None  # "Yes" / "No"
    computed: ComputedPick | None = None
    reason: str = ""  # why the reader abstained

    @property
    def best(self) -> Pick | None:
        return self.ranked[0] if self.ranked else None


class ExtractiveReader:
    """Reads the retrieved chunks of one question; loads nothing, calls no network."""

    def __init__(
        self, store: ChromaStore, model: ReaderModel, *, lexicon: Lexicon | None = None,
        max_docs: int = 5, threshold: float | None = None,
    ) -> None:  # fmt: skip
        self.lexicon = lexicon or default_lexicon()
        self.model = model
        self.model.check(EXPECTED_FEATURES, KINDS, KIND_INPUTS)
        self.detector = self.model.gram_scorer("computed")  # an artifact of version 2 has one
        self.threshold = model.threshold("answerable") if threshold is None else threshold
        self.gatherer = DocumentSentenceGatherer(store, self.lexicon, max_docs=max_docs)
        self.features = FeatureBuilder(self.lexicon, store)
        self.computed = ComputedReader(self.lexicon, self.features, model)

    def warm_up(self) -> None:
        """Load the question encoder now rather than on the first question."""
        if self.model.encoder is not None:
            self.model.encoder.warm_up()

    def read(self, question: str, vector: np.ndarray, chunks: list[ScoredChunk]) -> Reading:
        q = analyse(question, self.lexicon)
        # candidate sentences are scored against the reader's own question vector when the
        # artifact has a tuned encoder; retrieval and the kind model keep `vector`
        encoder = self.model.encoder
        reading_vector = encoder.encode(question) if encoder is not None and chunks else vector
        candidates = self.gatherer.gather(chunks, reading_vector)
        reading = Reading(q, candidates)
        if not candidates.sentences:
            reading.reason = "no sources"
            return reading
        kind_probs = self.model.kinds.predict(vector, np.asarray(kind_flags(q)))
        sentence_rows = self.features.sentence_features(q, candidates, kind_probs)
        ranking = self.rank(q, candidates, sentence_rows, kind_probs)
        if not q.yes_no and self.wants_computed(q):
            # a computed question is answered by a computation or not at all: one figure alone
            # would be a wrong answer
            def rank_side(side: QuestionAnalysis) -> Ranking:
                return self.rank(
                    side,
                    candidates,
                    self.features.sentence_features(side, candidates, kind_probs),
                    kind_probs,
                )

            reading.computed = self.computed.read(q, candidates, rank_side)
            if reading.computed is None:
                reading.reason = "no two comparable figures for the computation asked for"
                return reading
            reading.answered = True
            reading.answerable = min(reading.computed.first.probability,
                                     reading.computed.second.probability)  # fmt: skip
            return reading
        if q.yes_no:
            best = ranking.best_sentence()
            reading.ranked = [Pick(best, None, ranking.sentence_score(best))]
            reading.verdict = self.verdict(q, candidates, sentence_rows, ranking, best)
        elif ranking.pairs:
            reading.ranked = _dedupe(ranking, candidates)
            if q.periods and other_period(q, candidates, reading.ranked[0]):
                reading.reason = "the best figure is for another period than asked"
                return reading
        else:
            reading.reason = "no figure, date or name in the sources"
            return reading
        row = answer_row(ranking, sentence_rows, q.yes_no)
        reading.answerable = float(self.model.scorer("answerable").predict(row[None, :])[0])
        reading.answered = reading.answerable >= self.threshold
        if not reading.answered:
            reading.reason = f"answerability {reading.answerable:.2f} < {self.threshold:.2f}"
        return reading

    def rank(
        self,
        q: QuestionAnalysis,
        c: CandidateSet,
        sentence_rows: np.ndarray,
        kind_probs: np.ndarray,
    ) -> Ranking:
        scorer = self.model.scorer
        return rank(
            scorer("sentence").predict(sentence_rows),
            sentence_rows,
            lambda only: self.features.span_features(
                q, c, sentence_rows, only=only, kind_probs=kind_probs
            ),
            scorer("span").predict,
            scorer("stacked").predict,
            scorer("within").predict,
            (self.model.threshold("sentence_weight"), self.model.threshold("kind_weight")),
        )

    def verdict(self, q, c, sentence_rows, ranking, best) -> str:  # type: ignore[no-untyped-def]
        scores = np.zeros(len(c.sentences))
        scores[ranking.top] = ranking.stacked
        row = verdict_row(self.features, q, c, sentence_rows, scores, best)
        p_no = float(self.model.scorer("verdict").predict(row[None, :])[0])
        return "No" if p_no >= self.model.threshold("no") else "Yes"

    def wants_computed(self, q: QuestionAnalysis) -> bool:
        row = computed_row(q, self.lexicon, self.computed.sides(q) is not None)
        grams = question_grams(q.text, self.detector.vocabulary)
        return self.detector.predict_grams(grams, row) >= self.model.threshold("computed")


def other_period(q: QuestionAnalysis, c: CandidateSet, pick: Pick) -> bool:
    """Gate: the picked figure is for another period than asked. Either it is written beside a
    period of the asked grain and not the asked one ("third-quarter revenue of ..." for a
    fourth-quarter question), or the asked quarter or half appears nowhere in its document while
    other quarters or halves do (a third-quarter report read for the fourth quarter). Years are
    left out of the second test: a report often says "last year" for the year it covers."""
    sentence = c.sentences[pick.sentence]
    if pick.span is None or pick.span not in sentence.spans:
        return False
    index = sentence.spans.index(pick.span)
    text = sentence.sentence.text
    beside = {
        key
        for key, start, end in period_mentions(text)
        if period_owner(sentence.spans, start, end) == index
    }
    if periods_agree(q.periods, beside)[1]:
        return True
    within_year = {p for p in q.periods if period_grain(p) != "Y"}
    return bool(within_year) and periods_agree(within_year, c.docs[sentence.doc].periods)[1]


def _dedupe(ranking: Ranking, c: CandidateSet) -> list[Pick]:
    """Ranked answer candidates, one per distinct answer text (its best-scored occurrence)."""
    seen: set[str] = set()
    picks: list[Pick] = []
    for k in np.argsort(-ranking.final):
        sentence, span = ranking.pairs[int(k)]
        key = span.text_of(c.sentences[sentence].sentence.text).lower()
        if key not in seen:
            seen.add(key)
            picks.append(Pick(sentence, span, float(np.exp(ranking.final[int(k)] / 3.0))))
    return picks
