"""Ranking, the reader's fourth stage: four trained scorers in a stack.

1. `sentence` scores every candidate sentence; the best TOP_SENTENCES go on.
2. `span` scores every typed span of those sentences.
3. `stacked` re-scores the sentences, knowing how well each one's best span scored.
4. `within` scores each span against the other spans of its own sentence.
A span's final score is `sentence_weight * log(stacked) + log(within) + kind_weight *
log(kind)`: the right sentence, the right span in it, of the kind the question wants. The same functions build the training rows (eval/fit.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.reader.features import KIND_PROB_COLUMN, SENTENCE_FEATURES, SPAN_FEATURES
from rag.reader.spans import Span

TOP_SENTENCES = 15
STACK_OWN = ("s0", "s0_rank", "span_max", "span_sum", "span_top", "span_rel", "n_spans")
STACKED_FEATURES = (*SENTENCE_FEATURES, *STACK_OWN)
EPSILON = 1e-6
Predict = Callable[[np.ndarray], np.ndarray]


@dataclass
class Ranking:
    top: list[int]  # sentence indices, best first by the first-pass score
    pairs: list[tuple[int, Span]]  # the typed spans of those sentences
    span_rows: np.ndarray
    span_scores: np.ndarray  # `span` model, aligned with pairs
    stacked: np.ndarray  # `stacked` model, aligned with top
    within: np.ndarray  # `within` model, aligned with pairs
    final: np.ndarray  # combined, aligned with pairs

    def sentence_score(self, sentence: int) -> float:
        return float(self.stacked[self.top.index(sentence)]) if sentence in self.top else 0.0

    def best_sentence(self) -> int:
        return self.top[int(np.argmax(self.stacked))]


def top_sentences(first_pass: np.ndarray, k: int = TOP_SENTENCES) -> list[int]:
    return [int(i) for i in np.argsort(-first_pass, kind="stable")[:k]]


def stack_rows(
    sentence_rows: np.ndarray,
    first_pass: np.ndarray,
    top: list[int],
    pairs: list[tuple[int, Span]],
    span_scores: np.ndarray,
) -> np.ndarray:
    """Sentence rows of `top` with what the span scorer thought of each sentence's spans."""
    position = {sentence: n for n, sentence in enumerate(top)}
    best = np.zeros(len(top))
    total = np.zeros(len(top))
    count = np.zeros(len(top))
    for (sentence, _), score in zip(pairs, span_scores, strict=True):
        n = position[sentence]
        best[n] = max(best[n], score)
        total[n] += score
        count[n] += 1
    winner = np.zeros(len(top))
    if len(span_scores):
        winner[position[pairs[int(np.argmax(span_scores))][0]]] = 1.0
    overall = best.max() if len(best) else 0.0
    own = np.column_stack([
        first_pass[top], np.arange(len(top)) / max(1, len(top) - 1), best, total, winner,
        best / (overall + EPSILON), count,
    ])  # fmt: skip
    return np.hstack([sentence_rows[top], own]).astype(np.float32)


def combine(
    top: list[int], pairs: list[tuple[int, Span]], stacked: np.ndarray, within: np.ndarray,
    kind: np.ndarray, weights: tuple[float, float],
) -> np.ndarray:  # fmt: skip
    position = {sentence: n for n, sentence in enumerate(top)}
    of_pair = np.asarray([stacked[position[i]] for i, _ in pairs])
    sentence_weight, kind_weight = weights
    return (sentence_weight * np.log(of_pair + EPSILON) + np.log(within + EPSILON)
            + kind_weight * np.log(kind + EPSILON))  # fmt: skip


def rank(
    first_pass: np.ndarray,
    sentence_rows: np.ndarray,
    spans_of: Callable[[list[int]], tuple[list[tuple[int, Span]], np.ndarray]],
    span: Predict,
    stacked: Predict,
    within: Predict,
    weights: tuple[float, float],
) -> Ranking:
    top = top_sentences(first_pass)
    pairs, span_rows = spans_of(sorted(top))
    span_scores = span(span_rows)
    stacked_scores = stacked(stack_rows(sentence_rows, first_pass, top, pairs, span_scores))
    within_scores = within(span_rows)
    kind = span_rows[:, KIND_PROB_COLUMN] if len(span_rows) else np.zeros(0)
    final = combine(top, pairs, stacked_scores, within_scores, kind, weights)
    return Ranking(top, pairs, span_rows, span_scores, stacked_scores, within_scores, final)


ANSWER_HEAD = ("final1", "final_gap", "stacked1", "stacked2", "stacked_gap", "span_best",
               "within_best", "n_spans", "is_yes_no")  # fmt: skip
ANSWER_FEATURES = (*ANSWER_HEAD, *SPAN_FEATURES)


def answer_row(ranking: Ranking, sentence_rows: np.ndarray, yes_no: bool) -> np.ndarray:
    """Answerability features: how sure the rankers are, and what the answer looks like (the
    best span's row, or for a yes/no question the best sentence's row)."""
    stacked = np.sort(ranking.stacked)[::-1]
    s1 = float(stacked[0]) if len(stacked) else 0.0
    s2 = float(stacked[1]) if len(stacked) > 1 else 0.0
    row = np.zeros(len(SPAN_FEATURES), dtype=np.float32)
    if yes_no or not len(ranking.pairs):
        if ranking.top:
            row[: sentence_rows.shape[1]] = sentence_rows[ranking.best_sentence()]
        head = [0.0, 0.0, s1, s2, s1 - s2, 0.0, 0.0, float(len(ranking.pairs)), float(yes_no)]
    else:
        order = np.argsort(-ranking.final)
        best = int(order[0])
        gap = float(ranking.final[best] - ranking.final[order[1]]) if len(order) > 1 else 10.0
        row[:] = ranking.span_rows[best]
        head = [float(ranking.final[best]), gap, s1, s2, s1 - s2,
                float(ranking.span_scores[best]), float(ranking.within[best]),
                float(len(ranking.pairs)), 0.0]  # fmt: skip
    return np.concatenate([np.asarray(head, dtype=np.float32), row])
