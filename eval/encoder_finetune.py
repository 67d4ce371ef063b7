"""`python -m eval.encoder_finetune`: fine-tune MiniLM's top layers on the training questions
(contrastive: the question against its gold sentences, with its own other candidates as hard
negatives) and write every question's out-of-fold cosines to its candidate sentences.

A measurement, not yet a reader stage: `python -m eval.screen --sims FILE` then asks whether
the rankers gain from those cosines (eval/README.md, "Eleventh round"). Two variants:

- both sides (default): the question and the sentences pass through the tuned layers. Shipping
  it would mean embedding sentences with the tuned encoder at ingest.
- question side (`--question-side`): only the question passes through the tuned layers; the
  sentences keep the vectors ingest stores today, so only the question costs one more pass.

The lower layers stay frozen, so their output is computed once per text and cached; a training
step then runs only the tuned layers. Hand-written (not sentence-transformers' fit loop): that
loop re-runs the frozen layers on every step, 25 times slower here.
"""

from __future__ import annotations

import argparse
import copy
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

from eval.fit import folds_of
from eval.trainset import Example

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
    max_tokens: int = 96
    question_side: bool = False
    seed: int = 7


def example_key(example: Example) -> Key:
    return (example.set_name, example.question.id)


def sentence_texts(example: Example) -> list[str]:
    return [s.sentence.text for s in example.candidates.sentences]


class LowerStates:
    """The frozen layers' output of every text, computed once, and the tuned layers' pass."""

    def __init__(self, texts: Sequence[str], options: TuneOptions) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        from rag.embedder import bundled_model_path

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.torch = torch
        self.options = options
        model = SentenceTransformer(bundled_model_path(), device="cpu", local_files_only=True)
        model.max_seq_length = options.max_tokens
        self.model = model
        bert: Any = model[0].auto_model
        bert.eval()
        depth = len(bert.encoder.layer)
        if not 1 <= options.layers <= depth:
            raise ValueError(f"layers must be 1..{depth}, got {options.layers}")
        self.base_layers = list(bert.encoder.layer[depth - options.layers :])
        self.texts = list(dict.fromkeys(texts))
        self.index = {text: i for i, text in enumerate(self.texts)}
        self.states: list[Any] = [None] * len(self.texts)
        by_length = sorted(range(len(self.texts)), key=lambda i: len(self.texts[i]))
        with torch.no_grad():
            for start in range(0, len(by_length), 128):
                ids = by_length[start : start + 128]
                batch = model.tokenize([self.texts[i] for i in ids])
                out = bert(
                    input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                    token_type_ids=batch.get("token_type_ids"), output_hidden_states=True,
                )  # fmt: skip
                hidden = out.hidden_states[depth - options.layers]
                for row, i in enumerate(ids):
                    length = int(batch["attention_mask"][row].sum())
                    self.states[i] = hidden[row, :length].to(torch.float16)
        self.base = self.encode(self.base_layers, range(len(self.texts)), grad=False)

    def encode(self, layers: Sequence[Any], ids: Sequence[int], *, grad: bool = True) -> Any:
        """Normalised mean-pooled vectors of texts `ids` through `layers`, in batches of 256."""
        torch = self.torch
        ids = list(ids)
        parts = []
        with torch.set_grad_enabled(grad):
            for start in range(0, max(1, len(ids)), 256):
                part = ids[start : start + 256]
                if part:
                    parts.append(self._pass(layers, part))
        return torch.cat(parts) if parts else torch.zeros((0, 384))

    def _pass(self, layers: Sequence[Any], ids: list[int]) -> Any:
        torch = self.torch
        states = [self.states[i].float() for i in ids]
        longest = max(len(s) for s in states)
        x = torch.zeros(len(states), longest, states[0].shape[1])
        mask = torch.zeros(len(states), longest)
        for row, s in enumerate(states):
            x[row, : len(s)] = s
            mask[row, : len(s)] = 1
        additive = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        for layer in layers:
            x = layer(x, attention_mask=additive)
            if isinstance(x, tuple):
                x = x[0]
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def check(self) -> float:
        """Largest difference between the cached path and the model's own embedding."""
        probe = self.texts[:3] + self.texts[-3:]
        expected = self.model.encode(probe, normalize_embeddings=True, convert_to_tensor=True)
        got = self.encode(self.base_layers, [self.index[t] for t in probe], grad=False)
        return float((expected - got).abs().max())


def training_items(
    examples: Sequence[Example], states: LowerStates, pool: int
) -> list[tuple[int, list[int], list[int]]]:
    """(question, gold sentences, hard negatives) of every answerable question with a gold
    sentence among its candidates; texts as indices into `states`."""
    items = []
    for e in examples:
        if not e.answerable or not e.sentence_labels.any():
            continue
        texts = sentence_texts(e)
        gold = [states.index[texts[i]] for i in np.flatnonzero(e.sentence_labels)]
        order = np.argsort(-e.candidates.similarity)
        wrong = [states.index[texts[i]] for i in order if not e.sentence_labels[i]]
        negatives = [n for n in dict.fromkeys(wrong) if n not in gold][:pool]
        if negatives:
            items.append((states.index[e.question.question], gold, negatives))
    return items


def tune(
    examples: Sequence[Example], states: LowerStates, options: TuneOptions, log: Log = print
) -> Any:
    """Tuned copies of the top layers, trained on `examples`."""
    torch = states.torch
    torch.manual_seed(options.seed)
    layers = torch.nn.ModuleList([copy.deepcopy(layer) for layer in states.base_layers]).train()
    optimiser = torch.optim.AdamW(layers.parameters(), lr=options.learning_rate, weight_decay=0.01)
    items = training_items(examples, states, options.pool)
    rng = random.Random(options.seed)
    for epoch in range(options.epochs):
        rng.shuffle(items)
        started, total, steps = time.perf_counter(), 0.0, 0
        for start in range(0, len(items), options.batch):
            chunk = items[start : start + options.batch]
            docs: list[int] = []
            targets = []
            for _, gold, negatives in chunk:
                targets.append(len(docs))
                docs.append(rng.choice(gold))
                docs += rng.sample(negatives, min(options.negatives, len(negatives)))
            questions = states.encode(layers, [q for q, _, _ in chunk])
            sentences = states.base[docs] if options.question_side else states.encode(layers, docs)
            logits = questions @ sentences.T / options.temperature
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item()
            steps += 1
        log(
            f"  epoch {epoch}: loss {total / max(1, steps):.3f} ({time.perf_counter() - started:.0f} s)"
        )
    return layers.eval()


def similarities(
    examples: Sequence[Example], states: LowerStates, layers: Any, options: TuneOptions
) -> dict[Key, np.ndarray]:
    """Each example's cosines between its question and its candidate sentences, tuned."""
    wanted = sorted(
        {states.index[t] for e in examples for t in [e.question.question, *sentence_texts(e)]}
    )
    tuned = states.encode(layers, wanted, grad=False).numpy()
    row = {i: n for n, i in enumerate(wanted)}
    base = states.base.numpy()
    out = {}
    for e in examples:
        question = tuned[row[states.index[e.question.question]]]
        side = base if options.question_side else tuned
        rows = [states.index[t] for t in sentence_texts(e)]
        vectors = side[rows] if options.question_side else side[[row[i] for i in rows]]
        out[example_key(e)] = (vectors @ question).astype(np.float32)
    return out


def out_of_fold(
    examples: Sequence[Example], folds: int, options: TuneOptions, log: Log = print
) -> dict[Key, np.ndarray]:
    """Every example's tuned cosines from layers tuned without its fold (folds grouped by
    document family, eval.fit.folds_of); logs top-1 sentence by cosine, base against tuned."""
    texts = [t for e in examples for t in [e.question.question, *sentence_texts(e)]]
    states = LowerStates(texts, options)
    log(f"{len(states.texts)} texts; cached path differs from the model by {states.check():.1e}")
    assignment = folds_of(examples, folds, options.seed)
    out: dict[Key, np.ndarray] = {}
    hits = {"base": 0, "tuned": 0}
    counted = 0
    for fold in range(folds):
        train = [e for e, f in zip(examples, assignment, strict=True) if f != fold]
        test = [e for e, f in zip(examples, assignment, strict=True) if f == fold]
        found = similarities(test, states, tune(train, states, options, log), options)
        out.update(found)
        for e in test:
            sims = found[example_key(e)]
            if e.answerable and not e.yes_no and not e.computed and e.sentence_labels.any():
                counted += 1
                hits["base"] += bool(e.sentence_labels[int(np.argmax(e.candidates.similarity))])
                hits["tuned"] += bool(e.sentence_labels[int(np.argmax(sims))])
        log(f"fold {fold}: top-1 sentence by cosine, base {hits['base']}/{counted}, "
            f"tuned {hits['tuned']}/{counted}")  # fmt: skip
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.encoder_finetune", description=__doc__)
    parser.add_argument("--cache", type=Path, required=True,
                        help="built examples (python -m eval.train --cache FILE)")  # fmt: skip
    parser.add_argument(
        "--out", type=Path, required=True, help="where to write the cosines (pickle)"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--question-side", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    _, examples = pickle.loads(args.cache.read_bytes())
    options = TuneOptions(layers=args.layers, epochs=args.epochs, seed=args.seed,
                          question_side=args.question_side)  # fmt: skip
    started = time.perf_counter()
    sims = out_of_fold(examples, args.folds, options, log=lambda m: print(m, file=sys.stderr))
    args.out.write_bytes(pickle.dumps(sims))
    print(f"wrote {args.out} ({len(sims)} questions) in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
