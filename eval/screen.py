"""`python -m eval.screen`: the rankers' out-of-fold top-1 on built examples, the nested screen
the rounds of eval/README.md report ("top-1 / best sentence right").

The examples' kind columns are filled out of fold, the four rankers are fitted with inner folds
grouped by document family (eval.fit.fit_stack), and each answerable question that wants a span
(not yes/no, not computed) is ranked by rankers that did not see it. `--sims FILE` first replaces
every example's cosine columns (rag.reader.features.SIMILARITY_FEATURES) with those of the
question-sentence cosines in FILE (eval.encoder_finetune writes them), as a reader reading with
those cosines would compute them.
"""

from __future__ import annotations

import argparse
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eval.encoder_finetune import example_key, use_similarities
from eval.fit import (
    FitOptions,
    _split,
    _typed,
    fill_kinds_out_of_fold,
    fit_stack,
    folds_of,
    out_of_fold,
    rank_example,
)
from eval.trainset import Example


def replace_similarities(
    examples: Sequence[Example], sims: dict[tuple[str, str], np.ndarray]
) -> int:
    """Read every example found in `sims` with those cosines; returns how many were found."""
    replaced = 0
    for e in examples:
        found = sims.get(example_key(e))
        if found is not None:
            use_similarities(e, found)
            replaced += 1
    return replaced


def screen(examples: Sequence[Example], seed: int) -> dict[str, float]:
    """Out-of-fold top-1 span and best sentence right over the answerable span questions."""
    options = FitOptions(seed=seed)
    fill_kinds_out_of_fold(examples, options.inner_folds, seed)
    _, inner = fit_stack(examples, options)
    wanted = {id(e) for e in _typed(examples)}
    typed = [s.correct for s in out_of_fold(examples, inner, options) if id(s.example) in wanted]
    assignment = folds_of(examples, options.inner_folds, seed)
    best_right = []
    for fold, stack in enumerate(inner):
        _, test = _split(examples, assignment, fold)
        for e in _typed(test):
            if e.sentence_labels.any():
                ranking = rank_example(e, stack, options.weights)
                best_right.append(
                    bool(ranking.top) and bool(e.sentence_labels[ranking.best_sentence()])
                )
    return {
        "top1": float(np.mean(typed)), "questions": len(typed),
        "best_sentence_right": float(np.mean(best_right)), "with_sentence": len(best_right),
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.screen", description=__doc__)
    parser.add_argument("--cache", type=Path, required=True,
                        help="built examples (python -m eval.train --cache FILE)")  # fmt: skip
    parser.add_argument("--sims", type=Path, help="question-sentence cosines to read with")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    _, examples = pickle.loads(args.cache.read_bytes())
    note = ""
    if args.sims:
        replaced = replace_similarities(examples, pickle.loads(args.sims.read_bytes()))
        note = f", cosines of {replaced} questions from {args.sims}"
    found = screen(examples, args.seed)
    print(f"seed {args.seed}{note}: top-1 {found['top1']:.3f} over {found['questions']}; best "
          f"sentence right {found['best_sentence_right']:.3f} over {found['with_sentence']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
