"""Computed answers: a difference, sum, ratio or comparison of two stated figures.

The question is split into its two sides ("... in Q3 2024 than in Q2 2024"); each side is read
like a question of its own by the trained span scorer, and the two figures must be of the same
attribute and unit, from different sentences, each cited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rag.quantities import format_like, format_value
from rag.reader.candidates import CandidateSet
from rag.reader.features import FeatureBuilder
from rag.reader.lexicon import WORD_RE, Lexicon
from rag.reader.model import ReaderModel
from rag.reader.question import COMPARISONS, QuestionAnalysis, question_names
from rag.reader.ranking import Ranking
from rag.reader.spans import Span, period_keys

AMOUNTS = frozenset({"money", "percent", "power", "energy", "data", "count", "number", "duration"})
SPLIT_PREFERENCE = ("than", "versus", "vs", "vs.", "compared", "times", "to", "or", "and")
SIDE_CANDIDATES = 8  # best spans per side considered for a pair
MAGNITUDE_GAP = 50.0  # two statements of one attribute differ by less than this factor
RankSide = Callable[[QuestionAnalysis], Ranking]


@dataclass
class SidePick:
    sentence: int
    span: Span
    probability: float
    label: str  # the side as the question words it ("Orrin buying Tessel")


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
            left_words, right_words = self.own_terms(left, right), self.own_terms(right, left)
            distinct = (
                set(right_names) - set(left_names)
                or right_periods - left_periods
                or (right_latest and left_periods)
                or (left_words and right_words)
            )
            if distinct and (left_names or left_periods or left_words):
                options.append((_split_rank(match.group(0)), match.start(), left, right,
                                left_names, right_names, left_periods, right_periods, right_latest))  # fmt: skip
        if not options:
            return None
        _, _, left, right, ln, rn, lp, rp, latest = min(options, key=lambda o: (o[0], o[1]))
        attribute = [t for t in q.attribute_terms if t not in self.cue_terms] or q.attribute_terms
        # a side without a period shares the other's only when the sides are two subjects
        # ("Corvane's Q3 deliveries than Orvane's"); when they are two events of one subject
        # ("from the 2021 announcement to the plant's opening") its period is unknown
        two_subjects = bool(set(rn) - set(ln))
        if len(rn) == 1 and len(ln) >= 2 and ln[0] not in rn:
            rn = [ln[0], *rn]  # "... velomab in STRIDE 1 than in STRIDE 2": same subject
        lp, rp = _with_years(lp, rp), _with_years(rp, lp)
        shared = set(q.periods) if two_subjects else set(q.periods) - rp
        left_periods = lp or shared
        right_periods = rp or (set() if latest or not two_subjects else lp)
        return (
            self._side(q, left, ln or rn, left_periods, False, attribute),
            self._side(q, right, rn or ln, right_periods, latest, attribute),
        )

    def own_terms(self, text: str, other: str) -> set[str]:
        """Content stems of one side that the other side lacks ("June raise" against "fourth
        raise": june), comparison cues out."""
        others = set(self.lexicon.content_terms(other))
        return set(self.lexicon.content_terms(text)) - others - self.cue_terms

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

    def _ranked(self, side: QuestionAnalysis, rank_side: RankSide) -> list[tuple[int, Span, float]]:
        """The side's best figures, ranked by the reader's full ranking for the side alone."""
        ranking = rank_side(side)
        order = np.argsort(-ranking.final)
        ranked = [
            (ranking.pairs[k][0], ranking.pairs[k][1], float(np.exp(ranking.final[k] / 3.0)))
            for k in order
            if ranking.pairs[k][1].kind in AMOUNTS
        ]
        return ranked[:SIDE_CANDIDATES]

    def read(
        self,
        q: QuestionAnalysis,
        c: CandidateSet,
        rank_side: RankSide,
        *,
        threshold: float | None = None,
    ) -> ComputedPick | None:
        """The computation the question asks for, from its two best comparable figures, or None
        when there are none or the weaker side scores under `threshold` (the artifact's)."""
        sides = self.sides(q)
        if sides is None:
            return None
        first, second = (self._ranked(side, rank_side) for side in sides)
        best: tuple[float, tuple[int, Span, float], tuple[int, Span, float]] | None = None
        for a in first:
            for b in second:
                if not _comparable(a, b, c, bool(q.comparisons["ratio"])):
                    continue
                score = a[2] * b[2]
                if best is None or score > best[0]:
                    best = (score, a, b)
        if best is None:
            return None
        _, a, b = best
        if threshold is None:
            threshold = self.model.threshold("computed_answer")
        if min(a[2], b[2]) < threshold:
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
        asks_which = q.wh in ("which", "who", "what")
        if cues["ratio"] and min(va, vb):
            ratio = values[big] / values[small]
            result = _times(ratio)
            closing = f"{surface[big]} is {result} {surface[small]} [{big + 1}][{small + 1}]."
            operation = "ratio"
        elif (cues["max"] or cues["min"]) and asks_which:
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
            closing = (
                f"The difference is {difference}: {surface[big]} against {surface[small]} [1][2]."
            )
            operation = "difference"
        return ComputedPick(picks[0], picks[1], operation, result, closing)


def _with_years(periods: set[str], other: set[str]) -> set[str]:
    """ "Q1 and Q2 2025": a quarter without its year takes the year the other side names."""
    years = {p for p in other if p.isdigit()}
    if not periods or len(years) != 1 or any(p.isdigit() for p in periods):
        return set(periods)
    year = next(iter(years))
    return set(periods) | {year} | {f"{year}{p}" for p in periods if not p[:1].isdigit()}


def _comparable(
    a: tuple[int, Span, float], b: tuple[int, Span, float], c: CandidateSet, ratio: bool
) -> bool:
    """Two statements of the same attribute and unit, from different sentences; never one
    figure counted twice (a headline repeating the body's figure), never a number that is
    part of a name ("Batch 17"), and, unless a ratio is asked, of the same order of magnitude
    (two statements of one attribute: "$2.05" a share is not comparable with "$2.33 billion")."""
    (sa, span_a, _), (sb, span_b, _) = a, b
    if sa == sb or span_a.kind != span_b.kind:
        return False
    if span_a.unit != span_b.unit and span_a.kind in ("money", "count"):
        return False
    if _inside_name(span_a, c.sentences[sa].spans) or _inside_name(span_b, c.sentences[sb].spans):
        return False
    low, high = sorted((abs(float(span_a.value)), abs(float(span_b.value))))
    if not ratio and low > 0 and high / low > MAGNITUDE_GAP:
        return False
    # the same figure twice is one statement read twice (a headline and its body, two reports
    # of one number), never two sides of a comparison
    return span_a.value != span_b.value


def _inside_name(span: Span, spans: list[Span]) -> bool:
    return any(
        other.kind == "name" and other.start <= span.start and span.end <= other.end
        for other in spans
    )


def _plain(value: float) -> str:
    """A count or number as people write it: "3,442,140", "1.55", never "3.44214e+06"."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def _times(ratio: float) -> str:
    """A ratio to 3 significant digits, written in full: "15 times", "1,230 times"."""
    return f"{_plain(float(f'{ratio:.3g}'))} times"


def _amount(value: float, kind: str, unit: str, example: str) -> str:
    if kind == "percent":
        return f"{value:.1f} percentage points"
    if kind in ("count", "number"):
        return f"{_plain(value)} {unit}".strip()
    if kind in ("energy", "data"):
        base = "Wh" if kind == "energy" else "B"
        for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= scale:
                return f"{value / scale:,.4g} {prefix}{base}"
        return f"{value:,.4g} {base}"
    if kind == "duration":
        return f"{value / 12:,.3g} years" if value >= 24 else f"{value:,.3g} months"
    formatted = format_like(value, {"money": "currency"}.get(kind, kind), unit, example)
    return formatted or format_value(value, kind, unit)


def _label(side: QuestionAnalysis) -> str:
    """How the question names a side: from its first name to its last ("Orrin buying Tessel")."""
    if not side.names:
        return side.text.strip(" ,:;?")
    positions = [
        (side.text.find(n), side.text.find(n) + len(n)) for n in side.names if n in side.text
    ]
    if not positions:
        return side.names[0]
    start = min(p[0] for p in positions)
    end = max(p[1] for p in positions)
    return side.text[start:end]
