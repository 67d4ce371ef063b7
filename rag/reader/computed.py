"""Computed answers: a difference, sum, ratio or comparison of two stated figures.

The question is split into its two sides ("... in Q3 2024 than in Q2 2024"); each side is read
like a question of its own by the trained span scorer, and the two figures must be of the same
attribute and unit, from different sentences, each cited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rag.quantities import format_like, format_value
from rag.reader.candidates import CandidateSet
from rag.reader.features import FeatureBuilder
from rag.reader.lexicon import WORD_RE, Lexicon
from rag.reader.model import ReaderModel
from rag.reader.question import COMPARISONS, QuestionAnalysis, question_names
from rag.reader.ranking import top_sentences
from rag.reader.spans import Span, period_keys

AMOUNTS = frozenset({"money", "percent", "power", "energy", "data", "count", "number", "duration"})
SPLIT_PREFERENCE = ("than", "versus", "vs", "vs.", "compared", "times", "between", "to", "or", "and")
SIDE_CANDIDATES = 8  # best spans per side considered for a pair


@dataclass
class SidePick:
    sentence: int
    span: Span
    probability: float
    label: str  # the side as the question words it ("Mars buying Kellanova")


@dataclass
class ComputedPick:
    first: SidePick
    second: SidePick
    operation: str  # difference | sum | ratio | max | min
    result: str  # the computed short answer
    closing: str  # the sentence that states the computation


def _split_rank(word: str) -> int:
    lowered = word.lower().split()[-1]
    return SPLIT_PREFERENCE.index(lowered) if lowered in SPLIT_PREFERENCE else len(SPLIT_PREFERENCE)


class ComputedReader:
    def __init__(self, lexicon: Lexicon, features: FeatureBuilder, model: ReaderModel) -> None:
        self.lexicon = lexicon
        self.features = features
        self.model = model
        self.cue_terms = {
            lexicon.canonical(w)
            for pattern in lexicon.raw["comparison"].values()
            for phrase in pattern
            for w in WORD_RE.findall(phrase)
        }

    def sides(self, q: QuestionAnalysis) -> tuple[QuestionAnalysis, QuestionAnalysis] | None:
        """The two things compared, each as a question of its own, or None."""
        options = []
        for match in self.lexicon.comparison_split.finditer(q.text):
            left, right = q.text[: match.start()], q.text[match.end() :]
            left_names = question_names(left, self.lexicon)
            right_names = question_names(right, self.lexicon)
            left_periods, right_periods = period_keys(left), period_keys(right)
            right_latest = bool(self.lexicon.latest_cues.search(right))
            distinct = (
                set(right_names) - set(left_names)
                or right_periods - left_periods
                or (right_latest and left_periods)
            )
            if distinct and (left_names or left_periods):
                options.append((_split_rank(match.group(0)), match.start(), left, right,
                                left_names, right_names, left_periods, right_periods, right_latest))  # fmt: skip
        if not options:
            return None
        _, _, left, right, ln, rn, lp, rp, latest = min(options, key=lambda o: (o[0], o[1]))
        attribute = [t for t in q.attribute_terms if t not in self.cue_terms] or q.attribute_terms
        return (
            self._side(q, left, ln or rn, lp or q.periods, False, attribute),
            self._side(q, right, rn or ln, rp or lp, latest, attribute),
        )

    def _side(self, q, text, names, periods, latest, attribute):  # type: ignore[no-untyped-def]
        name_terms = {self.lexicon.canonical(w) for n in names for w in WORD_RE.findall(n)}
        return replace(
            q,
            text=text,
            names=list(names),
            name_terms=name_terms,
            periods=set(periods),
            latest=latest,
            attribute_terms=list(attribute),
            terms=list(attribute) + sorted(name_terms),
            comparisons={c: 0.0 for c in COMPARISONS},
            figures=[],
            two_sides=False,
        )

    def _ranked(
        self, side: QuestionAnalysis, c: CandidateSet, kind_probs: np.ndarray
    ) -> list[tuple[int, Span, float]]:
        """The side's best figures among the spans of its own best sentences."""
        rows = self.features.sentence_features(side, c, kind_probs)
        top = top_sentences(self.model.scorer("sentence").predict(rows))
        pairs, span_rows = self.features.span_features(
            side, c, rows, only=sorted(top), kind_probs=kind_probs
        )
        if not pairs:
            return []
        scores = self.model.scorer("span").predict(span_rows)
        order = np.argsort(-scores)
        ranked = [(pairs[k][0], pairs[k][1], float(scores[k])) for k in order if pairs[k][1].kind in AMOUNTS]
        return ranked[:SIDE_CANDIDATES]

    def read(
        self, q: QuestionAnalysis, c: CandidateSet, kind_probs: np.ndarray
    ) -> ComputedPick | None:
        sides = self.sides(q)
        if sides is None:
            return None
        first, second = (self._ranked(side, c, kind_probs) for side in sides)
        best: tuple[float, tuple[int, Span, float], tuple[int, Span, float]] | None = None
        for a in first:
            for b in second:
                if not _comparable(a, b, c):
                    continue
                score = a[2] * b[2]
                if best is None or score > best[0]:
                    best = (score, a, b)
        if best is None:
            return None
        _, a, b = best
        if min(a[2], b[2]) < self.model.threshold("computed_answer"):
            return None
        return self._compute(q, c, sides, a, b)

    def _compute(self, q, c, sides, a, b) -> ComputedPick:  # type: ignore[no-untyped-def]
        texts = [c.sentences[x[0]].sentence.text for x in (a, b)]
        surface = [x[1].text_of(t) for x, t in zip((a, b), texts, strict=True)]
        picks = [
            SidePick(x[0], x[1], x[2], _label(side)) for x, side in zip((a, b), sides, strict=True)
        ]
        va, vb = float(a[1].value), float(b[1].value)
        kind, unit = a[1].kind, a[1].unit
        example = " ".join(surface)
        cues = q.comparisons
        big, small = (0, 1) if va >= vb else (1, 0)
        values = (va, vb)
        difference = _amount(abs(va - vb), kind, unit, example)
        if cues["ratio"] and min(va, vb):
            ratio = values[big] / values[small]
            result = f"{ratio:.3g} times"
            closing = f"{surface[big]} is {result} {surface[small]} [{big + 1}][{small + 1}]."
            operation = "ratio"
        elif cues["max"] or cues["min"]:
            winner = big if cues["max"] and not cues["min"] else small
            operation = "max" if winner == big else "min"
            result = picks[winner].label
            if cues["difference"] or "how much" in q.text.lower():
                result = f"{result}, by {difference}"
            closing = (f"{picks[winner].label}: {surface[winner]} against {surface[1 - winner]}, "
                       f"a difference of {difference} [1][2].")  # fmt: skip
        elif cues["sum"] and not cues["difference"]:
            result = _amount(va + vb, kind, unit, example)
            closing = f"Together that is {result}: {surface[0]} plus {surface[1]} [1][2]."
            operation = "sum"
        else:
            result = difference
            closing = f"The difference is {difference}: {surface[big]} against {surface[small]} [1][2]."
            operation = "difference"
        return ComputedPick(picks[0], picks[1], operation, result, closing)


def _comparable(a: tuple[int, Span, float], b: tuple[int, Span, float], c: CandidateSet) -> bool:
    """Two statements of the same attribute and unit, from different sentences; never one
    figure counted twice (a headline repeating the body's figure)."""
    (sa, span_a, _), (sb, span_b, _) = a, b
    if sa == sb:
        return False
    kinds = {span_a.kind, span_b.kind}
    if len(kinds) > 1 and kinds != {"count", "number"}:
        return False
    if span_a.kind == "money" and span_a.unit != span_b.unit:
        return False
    if span_a.kind == "count" == span_b.kind and span_a.unit != span_b.unit:
        return False
    same_doc = c.sentences[sa].doc == c.sentences[sb].doc
    return not (same_doc and span_a.value == span_b.value)


def _amount(value: float, kind: str, unit: str, example: str) -> str:
    if kind == "percent":
        return f"{value:.1f} percentage points"
    if kind in ("count", "number"):
        return f"{value:,.6g} {unit}".strip()
    formatted = format_like(value, {"money": "currency"}.get(kind, kind), unit, example)
    return formatted or format_value(value, kind, unit)


def _label(side: QuestionAnalysis) -> str:
    """How the question names a side: from its first name to its last ("Mars buying Kellanova")."""
    if not side.names:
        return side.text.strip(" ,:;?")
    positions = [(side.text.find(n), side.text.find(n) + len(n)) for n in side.names if n in side.text]
    if not positions:
        return side.names[0]
    start = min(p[0] for p in positions)
    end = max(p[1] for p in positions)
    return side.text[start:end]
