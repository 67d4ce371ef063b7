"""Tuning the reader's question encoder (rag.reader.encoder): MiniLM's top layers trained so a
question lands next to its gold sentences (contrastive, with its own other candidates as hard
negatives), used by eval.fit, and `python -m eval.encoder_finetune` to screen variants.

Two variants:

- question side (what the reader ships): only the question passes through the tuned layers; the
  sentences keep the vectors ingest stores (the bundled model's).
- both sides (`--both-sides`, a screen only): the sentences pass through the tuned layers too.
  Shipping it would mean embedding sentences with the tuned encoder at ingest.

The lower layers stay frozen, so their output is computed once per text; a step then runs only
the tuned layers. Hand-written (not sentence-transformers' fit loop): that loop runs the frozen
layers again on every step, and keeps no hard negatives per question.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.trainset import Example
from rag.reader.encoder import QuestionEncoder, TopLayers
from rag.reader.features import SIMILARITY_FEATURES, similarity_columns

Key = tuple[str, str]  # (set name, question id)
Log = Callable[[str], object]


@dataclass(frozen=True)
class TuneOptions:
    layers: int = 2  # top transformer layers tuned (MiniLM-L6 has 6)
    epochs: int = 3
    learning_rate: float = 5e-5
    negatives: int = 7  # hard negatives per question in a step, beside the batch's other texts
    pool: int = 20  # hard negatives drawn from the question's most similar wrong candidates
    batch: int = 16  # questions per step
    temperature: float = 0.05
    both_sides: bool = False
    seed: int = 7


def example_key(example: Example) -> Key:
    return (example.set_name, example.question.id)


def sentence_texts(example: Example) -> list[str]:
    return [s.sentence.text for s in example.candidates.sentences]


def use_similarities(example: Example, sims: np.ndarray) -> None:
    """Read `example` with these question-sentence cosines: its candidates' similarity and the
    cosine columns of its sentence and span rows."""
    if len(sims) != len(example.candidates.sentences):
        raise ValueError(f"{example_key(example)}: {len(sims)} cosines for "
                         f"{len(example.candidates.sentences)} sentences")  # fmt: skip
    example.candidates.similarity = np.asarray(sims, dtype=np.float32)
    if not len(sims):
        return
    columns = similarity_columns(example.candidates, example.candidates.similarity)
    width = len(SIMILARITY_FEATURES)
    example.sentence_rows[:, :width] = columns
    if example.pairs:
        example.span_rows[:, :width] = columns[[i for i, _ in example.pairs]]


def base_similarity(example: Example) -> np.ndarray:
    """Cosines of the bundled model's question vector to the candidates (as built)."""
    return np.asarray(example.candidates.vectors @ example.retrieved.vector, dtype=np.float32)


class TuningSet:
    """The texts of some examples with their frozen-layer states (computed once), and the
    sentences' stored vectors."""

    def __init__(self, examples: Sequence[Example], split: TopLayers, both_sides: bool) -> None:
        self.split = split
        self.torch = split.torch
        texts = [e.question.question for e in examples]
        if both_sides:
            texts += [t for e in examples for t in sentence_texts(e)]
        self.texts = list(dict.fromkeys(texts))
        self.index = {text: i for i, text in enumerate(self.texts)}
        self.states: list[Any] = [None] * len(self.texts)
        by_length = sorted(range(len(self.texts)), key=lambda i: len(self.texts[i]))
        for start in range(0, len(by_length), 128):
            ids = by_length[start : start + 128]
            for i, state in zip(ids, split.lower([self.texts[i] for i in ids]), strict=True):
                self.states[i] = state.to(self.torch.float16)
        self.stored: dict[str, np.ndarray] = {}  # sentence text -> its stored vector
        for e in examples:
            for text, vector in zip(sentence_texts(e), e.candidates.vectors, strict=True):
                self.stored.setdefault(text, vector)

    def encode(self, layers: Any, texts: Sequence[str], *, grad: bool) -> Any:
        torch = self.torch
        parts = []
        with torch.set_grad_enabled(grad):
            for start in range(0, len(texts), 256):
                ids = [self.index[t] for t in texts[start : start + 256]]
                parts.append(self.split.upper(layers, [self.states[i].float() for i in ids]))
        return torch.cat(parts) if parts else torch.zeros((0, 384))


def training_items(
    examples: Sequence[Example], pool: int
) -> list[tuple[str, list[str], list[str]]]:
    """(question, gold sentences, hard negatives) of every answerable question with a gold
    sentence among its candidates; hard negatives by the bundled model's cosine."""
    items = []
    for e in examples:
        if not e.answerable or not e.sentence_labels.any():
            continue
        texts = sentence_texts(e)
        gold = list(dict.fromkeys(texts[i] for i in np.flatnonzero(e.sentence_labels)))
        order = np.argsort(-base_similarity(e), kind="stable")
        wrong = dict.fromkeys(texts[i] for i in order if not e.sentence_labels[i])
        negatives = [t for t in wrong if t not in gold][:pool]
        if negatives:
            items.append((e.question.question, gold, negatives))
    return items


def tune(
    examples: Sequence[Example], data: TuningSet, options: TuneOptions, log: Log = print
) -> Any:
    """Tuned copies of the top layers, trained on `examples`."""
    torch = data.torch
    torch.manual_seed(options.seed)
    layers = data.split.copies().train()
    optimiser = torch.optim.AdamW(layers.parameters(), lr=options.learning_rate, weight_decay=0.01)
    items = training_items(examples, options.pool)
    rng = random.Random(options.seed)
    for epoch in range(options.epochs):
        rng.shuffle(items)
        started, total, steps = time.perf_counter(), 0.0, 0
        for start in range(0, len(items), options.batch):
            chunk = items[start : start + options.batch]
            docs: list[str] = []
            targets = []
            for _, gold, negatives in chunk:
                targets.append(len(docs))
                docs.append(rng.choice(gold))
                docs += rng.sample(negatives, min(options.negatives, len(negatives)))
            questions = data.encode(layers, [q for q, _, _ in chunk], grad=True)
            if options.both_sides:
                sentences = data.encode(layers, docs, grad=True)
            else:
                sentences = torch.from_numpy(np.stack([data.stored[t] for t in docs]))
            logits = questions @ sentences.T / options.temperature
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item()
            steps += 1
        elapsed = time.perf_counter() - started
        log(f"  epoch {epoch}: loss {total / max(1, steps):.3f} ({elapsed:.0f} s)")
    return layers.eval()


def similarities(
    examples: Sequence[Example], data: TuningSet, layers: Any, options: TuneOptions
) -> dict[Key, np.ndarray]:
    """Each example's cosines between its question and its candidate sentences, tuned."""
    questions = data.encode(layers, [e.question.question for e in examples], grad=False).numpy()
    tuned: dict[str, np.ndarray] = {}
    if options.both_sides:  # each distinct sentence once, though many questions share it
        texts = list(dict.fromkeys(t for e in examples for t in sentence_texts(e)))
        tuned = dict(zip(texts, data.encode(layers, texts, grad=False).numpy(), strict=True))
    out = {}
    for e, question in zip(examples, questions, strict=True):
        if options.both_sides and len(e.candidates.sentences):
            vectors = np.stack([tuned[t] for t in sentence_texts(e)])
        else:
            vectors = e.candidates.vectors
        out[example_key(e)] = np.asarray(vectors @ question, dtype=np.float32)
    return out


def out_of_fold(
    examples: Sequence[Example], data: TuningSet, folds: int, options: TuneOptions, log: Log = print
) -> dict[Key, np.ndarray]:
    """Every example's tuned cosines from layers tuned without its fold (folds grouped by
    document family, eval.fit.folds_of); logs top-1 sentence by cosine, base against tuned."""
    from eval.fit import folds_of

    assignment = folds_of(examples, folds, options.seed)
    out: dict[Key, np.ndarray] = {}
    hits = {"base": 0, "tuned": 0}
    counted = 0
    for fold in range(folds):
        train = [e for e, f in zip(examples, assignment, strict=True) if f != fold]
        test = [e for e, f in zip(examples, assignment, strict=True) if f == fold]
        found = similarities(test, data, tune(train, data, options, log), options)
        out.update(found)
        for e in test:
            sims = found[example_key(e)]
            if e.answerable and not e.yes_no and not e.computed and e.sentence_labels.any():
                counted += 1
                hits["base"] += bool(e.sentence_labels[int(np.argmax(base_similarity(e)))])
                hits["tuned"] += bool(e.sentence_labels[int(np.argmax(sims))])
        log(f"fold {fold}: top-1 sentence by cosine, base {hits['base']}/{counted}, "
            f"tuned {hits['tuned']}/{counted}")  # fmt: skip
    return out


def encoder_of(layers: Any, depth: int) -> QuestionEncoder:
    state = {name: value.detach().numpy().copy() for name, value in layers.state_dict().items()}
    return QuestionEncoder(depth, state)


def fit_encoder(
    examples: Sequence[Example], folds: int, options: TuneOptions, log: Log = print
) -> tuple[QuestionEncoder, dict[Key, np.ndarray]]:
    """The question encoder tuned on every example, and every example's out-of-fold cosines
    (what the rankers train on, so they never see cosines of layers that saw the question)."""
    data = TuningSet(examples, TopLayers(options.layers), options.both_sides)
    sims = out_of_fold(examples, data, folds, options, log)
    return encoder_of(tune(examples, data, options, log), options.layers), sims


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.encoder_finetune", description=__doc__)
    parser.add_argument("--cache", type=Path, required=True,
                        help="built examples (python -m eval.train --cache FILE)")  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="the cosines (pickle)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--both-sides", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    _, examples = pickle.loads(args.cache.read_bytes())
    options = TuneOptions(layers=args.layers, epochs=args.epochs, seed=args.seed,
                          both_sides=args.both_sides)  # fmt: skip
    started = time.perf_counter()
    data = TuningSet(examples, TopLayers(options.layers), options.both_sides)
    sims = out_of_fold(examples, data, args.folds, options, log=lambda m: print(m, file=sys.stderr))
    args.out.write_bytes(pickle.dumps(sims))
    print(f"wrote {args.out} ({len(sims)} questions) in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
