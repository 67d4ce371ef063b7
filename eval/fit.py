"""Fitting the reader's models from training examples (eval.trainset) into a ReaderModel.

The question-kind regression, the four rankers of rag/reader/ranking.py, answerability (trained
on out-of-fold rankings, so it sees the scores rankers give questions they never saw), the
yes/no verdict and the computed-question detector. Thresholds are chosen on the same
out-of-fold rankings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from eval.encoder_finetune import (
    TuneOptions,
    base_similarity,
    example_key,
    use_similarities,
)
from eval.encoder_finetune import fit_encoder as tune_encoder
from eval.trainset import Example
from rag.reader.computed import ComputedReader
from rag.reader.decisions import (
    COMPUTED_FEATURES,
    VERDICT_FEATURES,
    computed_row,
    gram_words,
    question_grams,
    verdict_row,
)
from rag.reader.encoder import QuestionEncoder
from rag.reader.features import (
    SENTENCE_FEATURES,
    SPAN_FEATURES,
    FeatureBuilder,
    fill_sentence_kinds,
    fill_span_kinds,
)
from rag.reader.lexicon import default_lexicon
from rag.reader.model import (
    DEFAULT_THRESHOLDS,
    GramScorer,
    KindModel,
    LinearScorer,
    ReaderModel,
    Scorer,
)
from rag.reader.question import kind_flags
from rag.reader.ranking import (
    ANSWER_FEATURES,
    STACKED_FEATURES,
    TOP_SENTENCES,
    Ranking,
    answer_row,
    rank,
    stack_rows,
    top_sentences,
)
from rag.reader.spans import KINDS

PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "verbose": -1,
    "num_threads": 2,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
}
ROUNDS = {"sentence": 200, "span": 200, "stacked": 200, "within": 200, "answerable": 150,
          "verdict": 80}  # fmt: skip
SMALL = {"min_data_in_leaf": 5, "num_leaves": 7}  # for the models with a few hundred rows
MAX_REFUSALS = 0.10  # answerable questions answered right the threshold may refuse (out of fold)
SPAN_TRAINING_SENTENCES = 20  # spans of this many best first-pass sentences train the span model
KIND_C = 1.0  # inverse L2 strength of the question-kind regression
THRESHOLD_REPEATS = 5  # fold assignments pooled to choose the answerability threshold


@dataclass
class FitOptions:
    inner_folds: int = 3
    seed: int = 7
    max_refusals: float = MAX_REFUSALS
    sentence_weight: float = DEFAULT_THRESHOLDS["sentence_weight"]
    kind_weight: float = DEFAULT_THRESHOLDS["kind_weight"]
    # top MiniLM layers of the reader's question encoder to tune, and the folds its
    # out-of-fold cosines come from. 0 (the shipped reader): read with the bundled model's
    # question vector; 2 ranks better but abstains worse (eval/README.md, "Eleventh round")
    encoder_layers: int = 0
    encoder_folds: int = 5

    @property
    def weights(self) -> tuple[float, float]:
        return (self.sentence_weight, self.kind_weight)


def train_scorer(name: str, rows: np.ndarray, labels: np.ndarray, features: tuple[str, ...],
                 *, small: bool = False, seed: int = 7) -> Scorer:  # fmt: skip
    import lightgbm

    params = {**PARAMS, **(SMALL if small else {}), "seed": seed}
    if len(labels) == 0 or labels.min() == labels.max():  # a constant label: a constant model
        rows = np.zeros((2, len(features)), dtype=np.float32)
        labels = np.array([0, 1]) if len(labels) == 0 else np.array([labels[0], labels[0]])
        params.update(num_leaves=2, min_data_in_leaf=1)
    dataset = lightgbm.Dataset(rows, label=labels, feature_name=list(features), free_raw_data=True)
    booster = lightgbm.train(params, dataset, num_boost_round=ROUNDS[name])
    return Scorer(features, booster)


VERDICT_C = 0.3  # inverse L2 strength of the yes/no verdict regression
GRAM_C = 1.0  # inverse L2 strength of the computed detector's n-gram regression
# a word is one of the computed detector's when questions about this many document families
# use it: general words ("exceed", "times", "combined") pass, names do not
GRAM_FAMILIES = 5


def _standardised(rows: np.ndarray, features: tuple[str, ...]) -> LinearScorer:
    """A linear model that only standardises `rows` (no weights yet); with one label class, it
    is fitted as it is: a constant at that class's rate."""
    mean = rows.mean(axis=0) if len(rows) else np.zeros(len(features))
    scale = rows.std(axis=0) if len(rows) else np.ones(len(features))
    scale[scale == 0] = 1.0
    return LinearScorer(features, mean, scale, np.zeros(len(features)), 0.0)


def _constant(model: LinearScorer, labels: np.ndarray) -> LinearScorer | None:
    """`model` as a constant at the labels' rate when they hold one class only (else None)."""
    if len(set(labels.tolist())) >= 2:
        return None
    rate = float(labels.mean()) if len(labels) else 0.5
    return replace(model, intercept=float(np.log((rate + 1e-3) / (1 - rate + 1e-3))))


def train_linear(rows: np.ndarray, labels: np.ndarray, features: tuple[str, ...]) -> LinearScorer:
    from sklearn.linear_model import LogisticRegression

    linear = _standardised(rows, features)
    if (constant := _constant(linear, labels)) is not None:
        return constant
    model = LogisticRegression(C=VERDICT_C, max_iter=2000).fit(
        (rows - linear.mean) / linear.scale, labels
    )
    return replace(linear, coef=model.coef_[0], intercept=float(model.intercept_[0]))


def train_grams(
    examples: Sequence[Example], rows: np.ndarray, labels: np.ndarray, features: tuple[str, ...]
) -> GramScorer:
    """The computed-question detector: a logistic regression over the question's word n-grams
    and its computed_row. Its words are those that questions about GRAM_FAMILIES document
    families use, so names (of companies, products, places) stay out of the model."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    families: dict[str, set[int]] = {}
    for e in examples:
        for word in set(gram_words(e.analysis.text)):
            families.setdefault(word, set()).add(e.group)
    vocabulary = frozenset(w for w, seen in families.items() if len(seen) >= GRAM_FAMILIES)
    question_sets = [question_grams(e.analysis.text, vocabulary) for e in examples]
    counts = Counter(g for grams in question_sets for g in grams)
    index = {g: n for n, g in enumerate(sorted(g for g, k in counts.items() if k >= 2))}
    linear = _standardised(rows, features)
    if (constant := _constant(linear, labels)) is not None:
        return GramScorer(constant, vocabulary, {}, np.zeros(0))
    cells = [(r, index[g]) for r, grams in enumerate(question_sets) for g in grams if g in index]
    grams_matrix = csr_matrix(
        (np.ones(len(cells)), ([r for r, _ in cells], [c for _, c in cells])),
        shape=(len(examples), len(index)),
    )
    inputs = hstack([grams_matrix, csr_matrix((rows - linear.mean) / linear.scale)]).tocsr()
    model = LogisticRegression(C=GRAM_C, max_iter=5000).fit(inputs, labels)
    coef = model.coef_[0]
    fitted = replace(linear, coef=coef[len(index) :], intercept=float(model.intercept_[0]))
    return GramScorer(fitted, vocabulary, index, coef[: len(index)])


def _rows(parts: Sequence[np.ndarray], width: int) -> np.ndarray:
    kept = [p for p in parts if len(p)]
    return np.vstack(kept) if kept else np.zeros((0, width), dtype=np.float32)


def _labels(parts: Sequence[np.ndarray]) -> np.ndarray:
    kept = [p for p in parts if len(p)]
    return np.concatenate(kept) if kept else np.zeros(0, dtype=np.int8)


def folds_of(examples: Sequence[Example], k: int, seed: int) -> list[int]:
    """Fold of each example, whole document families together, balanced by question count."""
    groups = sorted({e.group for e in examples})
    rng = np.random.default_rng(seed)
    rng.shuffle(groups)
    sizes = {g: 0 for g in groups}
    for e in examples:
        sizes[e.group] += 1
    load = [0] * k
    fold_of_group = {}
    for group in sorted(groups, key=lambda g: -sizes[g]):  # biggest first into the emptiest fold
        fold = int(np.argmin(load))
        fold_of_group[group] = fold
        load[fold] += sizes[group]
    return [fold_of_group[e.group] for e in examples]


def _split(
    examples: Sequence[Example], assignment: list[int], fold: int
) -> tuple[list[Example], list[Example]]:
    train = [e for e, f in zip(examples, assignment, strict=True) if f != fold]
    test = [e for e, f in zip(examples, assignment, strict=True) if f == fold]
    return train, test


# -- the question-kind regression ------------------------------------------------------------


def kind_label(example: Example) -> str | None:
    """The kind of span that answers the question (its most frequent right span's kind)."""
    kinds = [
        span.kind
        for (_, span), label in zip(example.pairs, example.span_labels, strict=True)
        if label
    ]
    if not kinds:
        return None
    return max(KINDS, key=lambda k: (kinds.count(k), -KINDS.index(k)))


def fit_kinds(examples: Sequence[Example]) -> KindModel:
    from sklearn.linear_model import LogisticRegression

    labelled = [(kind_inputs(e), kind_label(e)) for e in examples]
    rows = np.vstack([v for v, k in labelled if k is not None])
    labels = np.array([KINDS.index(k) for _, k in labelled if k is not None])
    model = LogisticRegression(C=KIND_C, max_iter=3000)
    model.fit(rows, labels)
    coef = np.zeros((len(KINDS), rows.shape[1]))
    intercept = np.full(len(KINDS), -30.0)  # kinds never seen in training: never predicted
    for n, cls in enumerate(model.classes_):
        coef[cls] = model.coef_[n]
        intercept[cls] = model.intercept_[n]
    return KindModel(KINDS, coef, intercept)


def kind_inputs(example: Example) -> np.ndarray:
    return np.concatenate([example.retrieved.vector, kind_flags(example.analysis)])


def fill_kinds(example: Example, kinds: KindModel) -> None:
    """The kind-model columns of an example's rows, from `kinds`."""
    probs = kinds.predict(example.retrieved.vector, np.asarray(kind_flags(example.analysis)))
    fill_sentence_kinds(example.sentence_rows, example.candidates, probs)
    if example.pairs:
        width = len(SENTENCE_FEATURES)
        example.span_rows[:, :width] = example.sentence_rows[[i for i, _ in example.pairs]]
        fill_span_kinds(example.span_rows, example.pairs, probs)


def fill_kinds_out_of_fold(examples: Sequence[Example], folds: int, seed: int) -> None:
    """Kind columns of every example from a kind model that did not see it."""
    assignment = folds_of(examples, folds, seed)
    for fold in range(folds):
        train, test = _split(examples, assignment, fold)
        kinds = fit_kinds(train)
        for example in test:
            fill_kinds(example, kinds)


# -- the ranking stack -----------------------------------------------------------------------


@dataclass
class Stack:
    sentence: Scorer | LinearScorer
    span: Scorer | LinearScorer
    stacked: Scorer | LinearScorer
    within: Scorer | LinearScorer


def _typed(examples: Sequence[Example]) -> list[Example]:
    return [e for e in examples if e.answerable and not e.yes_no and not e.computed]


def _span_subset(
    example: Example, sentences: set[int]
) -> tuple[list[int], list[tuple[int, object]]]:
    keep = [k for k, (i, _) in enumerate(example.pairs) if i in sentences]
    return keep, [example.pairs[k] for k in keep]


def rank_example(example: Example, stack: Stack, weights: tuple[float, float]) -> Ranking:
    """The reader's ranking of an example, from its stored rows (rag.reader.ranking.rank)."""

    def spans_of(only: list[int]):  # type: ignore[no-untyped-def]
        keep, pairs = _span_subset(example, set(only))
        return pairs, example.span_rows[keep]

    return rank(
        stack.sentence.predict(example.sentence_rows), example.sentence_rows, spans_of,
        stack.span.predict, stack.stacked.predict, stack.within.predict, weights,
    )  # fmt: skip


def fit_stack(examples: Sequence[Example], options: FitOptions) -> tuple[Stack, list[Stack]]:
    """The four rankers on `examples`, and for each inner fold the rankers trained without it
    (for out-of-fold rankings)."""
    seed = options.seed
    with_sentence = [e for e in examples if e.answerable and e.sentence_labels.any()]

    def sentence_model(part: Sequence[Example]) -> Scorer:
        chosen = [e for e in part if e.answerable and e.sentence_labels.any()]
        return train_scorer("sentence", _rows([e.sentence_rows for e in chosen], len(SENTENCE_FEATURES)),
                            _labels([e.sentence_labels for e in chosen]), SENTENCE_FEATURES, seed=seed)  # fmt: skip

    sentence = sentence_model(with_sentence)
    typed = _typed(examples)
    # the span model learns from the spans of each question's best first-pass sentences, as
    # it will see them when reading
    training_spans = {}
    for e in typed:
        top = set(top_sentences(sentence.predict(e.sentence_rows), SPAN_TRAINING_SENTENCES))
        top |= set(int(i) for i in np.flatnonzero(e.sentence_labels))
        training_spans[id(e)] = _span_subset(e, top)[0]

    def span_model(part: Sequence[Example]) -> Scorer:
        chosen = [e for e in _typed(part) if training_spans[id(e)]]
        return train_scorer("span", _rows([e.span_rows[training_spans[id(e)]] for e in chosen], len(SPAN_FEATURES)),
                            _labels([e.span_labels[training_spans[id(e)]] for e in chosen]), SPAN_FEATURES, seed=seed)  # fmt: skip

    assignment = folds_of(examples, options.inner_folds, seed)
    span_oof: dict[int, np.ndarray] = {}
    inner_spans = []
    for fold in range(options.inner_folds):
        train, test = _split(examples, assignment, fold)
        model = span_model(train)
        inner_spans.append(model)
        for e in test:
            span_oof[id(e)] = model.predict(e.span_rows)

    def stacked_model(part: Sequence[Example], first_pass: Scorer) -> Scorer:
        rows, labels = [], []
        for e in part:
            if not (e.answerable and e.sentence_labels.any()) or e.computed:
                continue
            first = first_pass.predict(e.sentence_rows)
            top = top_sentences(first, TOP_SENTENCES)
            keep, pairs = _span_subset(e, set(top))
            rows.append(stack_rows(e.sentence_rows, first, top, pairs, span_oof[id(e)][keep]))  # type: ignore[arg-type]
            labels.append(e.sentence_labels[top])
        return train_scorer("stacked", _rows(rows, len(STACKED_FEATURES)), _labels(labels),
                            STACKED_FEATURES, seed=seed)  # fmt: skip

    def within_model(part: Sequence[Example]) -> Scorer:
        rows, labels = [], []
        for e in _typed(part):
            positive = {int(i) for i in np.flatnonzero(e.sentence_labels)}
            keep, _ = _span_subset(e, positive)
            rows.append(e.span_rows[keep])
            labels.append(e.span_labels[keep])
        return train_scorer(
            "within", _rows(rows, len(SPAN_FEATURES)), _labels(labels), SPAN_FEATURES, seed=seed
        )

    full = Stack(
        sentence, span_model(examples), stacked_model(examples, sentence), within_model(examples)
    )
    inner = []
    for fold in range(options.inner_folds):
        train, _ = _split(examples, assignment, fold)
        first_pass = sentence_model(train)
        inner.append(
            Stack(
                first_pass, inner_spans[fold], stacked_model(train, first_pass), within_model(train)
            )
        )
    return full, inner


# -- answerability, verdicts, thresholds ------------------------------------------------------


@dataclass
class Scored:
    """An example's out-of-fold ranking and what the reader would answer from it."""

    example: Example
    row: np.ndarray  # answerability features
    correct: bool  # the best candidate is right
    verdict_row: np.ndarray | None = None


class _NoStore:
    """FeatureBuilder needs a memo only; training computes afresh."""

    def memo(self, key: object, compute):  # type: ignore[no-untyped-def]
        return compute()


def score_example(example: Example, stack: Stack, weights: tuple[float, float]) -> Scored:
    ranking = rank_example(example, stack, weights)
    if example.yes_no or not ranking.pairs:
        if not ranking.top:
            return Scored(example, np.zeros(len(ANSWER_FEATURES), dtype=np.float32), False)
        best = ranking.best_sentence()
        row = answer_row(ranking, example.sentence_rows, True)
        scores = np.zeros(len(example.sentence_rows))
        scores[ranking.top] = ranking.stacked
        builder = FeatureBuilder(default_lexicon(), _NoStore())  # type: ignore[arg-type]
        verdict = verdict_row(
            builder, example.analysis, example.candidates, example.sentence_rows, scores, best
        )
        known = bool(example.sentence_labels.any())
        correct = example.answerable and (bool(example.sentence_labels[best]) or not known)
        return Scored(example, row, correct, verdict)
    best = int(np.argmax(ranking.final))
    keep, _ = _span_subset(example, set(ranking.top))
    label = example.span_labels[keep][best]
    return Scored(
        example,
        answer_row(ranking, example.sentence_rows, False),
        bool(example.answerable and label),
    )


def out_of_fold(
    examples: Sequence[Example], inner: list[Stack], options: FitOptions
) -> list[Scored]:
    assignment = folds_of(examples, options.inner_folds, options.seed)
    scored = []
    for fold, stack in enumerate(inner):
        _, test = _split(examples, assignment, fold)
        scored += [score_example(e, stack, options.weights) for e in test]
    return scored


def computed_outcomes(
    examples: Sequence[Example], inner: list[Stack], options: FitOptions
) -> list[tuple[float, bool]]:
    """For each computed training question, out of fold: the weaker side's score of the
    computation the reader would give, and whether its result is right."""
    from eval.metrics import short_answer_matches
    from rag.reader.features import KIND_COLUMNS
    from rag.reader.ranking import rank

    lexicon = default_lexicon()
    builder = FeatureBuilder(lexicon, _NoStore())  # type: ignore[arg-type]
    reader = ComputedReader(lexicon, builder, None)  # type: ignore[arg-type]
    assignment = folds_of(examples, options.inner_folds, options.seed)
    outcomes = []
    for example, fold in zip(examples, assignment, strict=True):
        if not (example.computed and example.answerable and example.candidates.sentences):
            continue
        stack, c = inner[fold], example.candidates
        kind_probs = example.sentence_rows[0, KIND_COLUMNS + 1 : KIND_COLUMNS + 1 + len(KINDS)]

        def rank_side(side, stack=stack, c=c, kind_probs=kind_probs):  # type: ignore[no-untyped-def]
            rows = builder.sentence_features(side, c, kind_probs)
            return rank(stack.sentence.predict(rows), rows,
                        lambda only: builder.span_features(side, c, rows, only=only, kind_probs=kind_probs),
                        stack.span.predict, stack.stacked.predict, stack.within.predict, options.weights)  # fmt: skip

        pick = reader.read(example.analysis, c, rank_side, threshold=0.0)
        if pick is not None:
            score = min(pick.first.probability, pick.second.probability)
            outcomes.append(
                (score, short_answer_matches(example.question.answers, pick.result, "number"))
            )
    return outcomes


def computed_threshold(outcomes: list[tuple[float, bool]], default: float) -> float:
    """The weaker-side score above which a computation is given: the one maximising +1 right,
    -1 wrong over the out-of-fold computations (abstaining scores 0)."""
    if not outcomes:
        return default
    best_t, best_value = 1.01, 0.0  # answering nothing scores 0
    for t in sorted({score for score, _ in outcomes}):
        value = sum((1 if right else -1) for score, right in outcomes if score >= t)
        if value > best_value:
            best_t, best_value = t, value
    return best_t


def choose_threshold(
    probabilities: np.ndarray, scored: Sequence[Scored], max_refusals: float
) -> float:
    """The threshold maximising CRAG truthfulness (+1 right, 0 abstained, -1 wrong) with at
    most `max_refusals` of the questions that would be answered right refused."""
    answerable = np.array([s.example.answerable for s in scored])
    right = np.array([s.correct for s in scored])
    best_t, best_value = 0.0, -np.inf
    for t in np.unique(np.concatenate([[0.0], probabilities])):
        answered = probabilities >= t
        value = np.where(answered, np.where(right, 1, -1), np.where(answerable, 0, 1)).mean()
        refused_right = (~answered & right).sum() / max(1, right.sum())
        if refused_right <= max_refusals and value > best_value:
            best_t, best_value = float(t), float(value)
    return best_t


def fit_encoder(examples: Sequence[Example], options: FitOptions) -> QuestionEncoder | None:
    """The question encoder, tuned on `examples`; each example's cosine columns (and candidate
    similarities) are rewritten with out-of-fold tuned cosines, as the reader will read."""
    if not options.encoder_layers:
        for e in examples:  # examples may hold another fit's cosines
            use_similarities(e, base_similarity(e))
        return None
    tuning = TuneOptions(layers=options.encoder_layers, seed=options.seed)
    encoder, sims = tune_encoder(examples, options.encoder_folds, tuning, log=lambda m: None)
    for e in examples:
        use_similarities(e, sims[example_key(e)])
    return encoder


def fit_reader(examples: Sequence[Example], options: FitOptions | None = None) -> ReaderModel:
    options = options or FitOptions()
    seed = options.seed
    encoder = fit_encoder(examples, options)
    fill_kinds_out_of_fold(examples, options.inner_folds, seed)
    stack, inner = fit_stack(examples, options)
    scored = [s for s in out_of_fold(examples, inner, options) if not s.example.computed]
    answer_rows = np.vstack([s.row for s in scored])
    answer_labels = np.array([s.correct for s in scored], dtype=np.int8)
    answerable = train_scorer("answerable", answer_rows, answer_labels, ANSWER_FEATURES, seed=seed)
    # the threshold on answerability scores of questions it did not see: a second level of
    # folds over the (already out-of-fold) answerability rows, repeated over several fold
    # assignments and pooled, so one lucky split does not move the threshold
    probabilities = []
    scored_examples = [s.example for s in scored]
    for repeat in range(THRESHOLD_REPEATS):
        assignment = folds_of(scored_examples, options.inner_folds, seed + 1 + repeat)
        repeated = np.zeros(len(scored))
        for fold in range(options.inner_folds):
            inside = np.array([f != fold for f in assignment])
            model = train_scorer(
                "answerable", answer_rows[inside], answer_labels[inside], ANSWER_FEATURES, seed=seed
            )
            repeated[~inside] = model.predict(answer_rows[~inside])
        probabilities.append(repeated)
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds["sentence_weight"] = options.sentence_weight
    thresholds["kind_weight"] = options.kind_weight
    thresholds["answerable"] = choose_threshold(
        np.concatenate(probabilities), list(scored) * THRESHOLD_REPEATS, options.max_refusals
    )
    outcomes = computed_outcomes(examples, inner, options)
    thresholds["computed_answer"] = computed_threshold(outcomes, thresholds["computed_answer"])
    yes_no = [
        s for s in scored if s.example.yes_no and s.example.answerable and s.verdict_row is not None
    ]
    verdict = train_linear(
        _rows([s.verdict_row[None, :] for s in yes_no if s.verdict_row is not None], len(VERDICT_FEATURES)),
        np.array([s.example.question.answers[0].strip().lower() == "no" for s in yes_no], dtype=np.int8),
        VERDICT_FEATURES,
    )  # fmt: skip
    lexicon = default_lexicon()
    splitter = ComputedReader(lexicon, None, None)  # type: ignore[arg-type]
    computed = train_grams(
        examples,
        np.vstack([computed_row(e.analysis, lexicon, splitter.sides(e.analysis) is not None) for e in examples]),
        np.array([e.computed for e in examples], dtype=np.int8), COMPUTED_FEATURES,
    )  # fmt: skip
    kinds = fit_kinds(examples)
    return ReaderModel(
        scorers={
            "sentence": stack.sentence,
            "span": stack.span,
            "stacked": stack.stacked,
            "within": stack.within,
            "answerable": answerable,
            "verdict": verdict,
            "computed": computed,
        },  # fmt: skip
        kinds=kinds,
        thresholds=thresholds,
        encoder=encoder,
        meta={
            "questions": len(examples),
            "answer_rows": int(len(answer_rows)),
            "out_of_fold_answerable_rate": float(answer_labels.mean()),
            "out_of_fold_computations": len(outcomes),
            "out_of_fold_computations_right": int(sum(right for _, right in outcomes)),
        },  # fmt: skip
    )
