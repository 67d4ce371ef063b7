"""Decision rows: the features of the reader's two decisions that are not rankings, the yes/no
verdict on the sentence chosen to answer, and whether a question wants a computation."""

from __future__ import annotations

import re

import numpy as np

from rag.reader.candidates import CandidateSet
from rag.reader.features import SENTENCE_FEATURES, FeatureBuilder
from rag.reader.lexicon import Lexicon
from rag.reader.question import COMPARISONS, WH_CLASSES, QuestionAnalysis
from rag.reader.signals import lower_words, same_amount

VERDICT_FEATURES = (
    "v_score", "v_neg_near", "v_neg_any", "v_q_negated", "v_contrast", "v_figures",
    "v_names_sent", "v_names_doc", "v_lex_attr",
    "v_lex_window", "v_attr_missing_doc", "v_mod_missing", "v_cos", "v_direction", "v_extent",
)  # fmt: skip
# the lexicon's polarity scales the verdict compares question and sentence on ("did revenue rise"
# against "revenue fell": -1), in VERDICT_FEATURES order
POLARITY_SCALES = ("direction", "extent")
COMPUTED_FEATURES = (
    *(f"c_{c}" for c in COMPARISONS), "c_sides", "c_two_sides", "c_names", "c_periods", "c_split",
    "c_figures", "c_latest", *(f"c_wh_{w}" for w in WH_CLASSES),
)  # fmt: skip


GRAM_WORD_RE = re.compile(r"[a-z]+")
GRAM_SIZES = (1, 2, 3)


def gram_words(text: str) -> list[str]:
    """The lower-case words the computed detector reads a question by."""
    return GRAM_WORD_RE.findall(text.lower())


def question_grams(text: str, vocabulary: frozenset[str]) -> set[str]:
    """The question's word n-grams, each word outside `vocabulary` (the general words the
    detector was trained with) written "_", so a name never becomes a feature ("by how much did
    _ exceed"). Hand-written: serving must cut grams exactly as training did."""
    words = [w if w in vocabulary else "_" for w in gram_words(text)]
    return {" ".join(words[i : i + n]) for n in GRAM_SIZES for i in range(len(words) - n + 1)}


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
    question_words = lower_words(q.text)
    sentence_words = builder.words(cand.sentence.sentence_id, cand.sentence.text)
    lexicon = builder.lexicon
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
            # +1: question and sentence lean the same way on the scale, -1: opposite ways
            *(
                lexicon.pole(scale, question_words) * lexicon.pole(scale, sentence_words)
                for scale in POLARITY_SCALES
            ),
        ],  # fmt: skip
        dtype=np.float32,
    )
