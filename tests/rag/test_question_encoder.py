"""The reader's question encoder: MiniLM split at its tuned layers, stored in the artifact,
tuned contrastively, and read with by the reader."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from rag.embedder import SentenceTransformerEmbedder
from rag.reader.encoder import QuestionEncoder, TopLayers
from rag.reader.model import ReaderModel, load_model

TEXTS = [
    "How much did Halden Grid raise in its Series B round?",
    "Halden Grid said on Tuesday that revenue rose 12% to $41 million in the third quarter.",
]


@pytest.fixture(scope="module")
def split() -> TopLayers:
    return TopLayers(2)


def test_the_split_model_embeds_as_the_bundled_model_does(
    split: TopLayers, embedder: SentenceTransformerEmbedder
) -> None:
    with split.torch.no_grad():
        vectors = split.upper(split.base, split.lower(TEXTS)).numpy()
    np.testing.assert_allclose(vectors, embedder.embed(TEXTS), atol=1e-4)


def test_an_encoder_round_trips_through_the_artifact(split: TopLayers) -> None:
    state = {k: v.numpy() for k, v in split.copies().state_dict().items()}
    encoder = QuestionEncoder(2, state)
    model = load_model()
    with_encoder = ReaderModel(model.scorers, model.kinds, model.thresholds, model.meta, encoder)
    again = ReaderModel.from_json(with_encoder.to_json())
    assert again.encoder is not None and again.encoder.depth == 2
    assert set(again.encoder.state) == set(state)
    # stored at float16: the vector moves by less than 1e-3
    np.testing.assert_allclose(again.encoder.encode(TEXTS[0]), encoder.encode(TEXTS[0]), atol=1e-3)
    plain = ReaderModel(model.scorers, model.kinds, model.thresholds, model.meta)
    assert (
        "encoder" not in plain.to_json() and ReaderModel.from_json(plain.to_json()).encoder is None
    )


def _example(n: int, question: str, gold: str, wrong: list[str], vectors: Any) -> Any:
    texts = [gold, *wrong]
    labels = np.zeros(len(texts), dtype=np.int8)
    labels[0] = 1
    return SimpleNamespace(
        set_name="t", question=SimpleNamespace(id=f"q{n}", question=question),
        answerable=True, yes_no=False, computed=False, sentence_labels=labels,
        candidates=SimpleNamespace(
            sentences=[SimpleNamespace(sentence=SimpleNamespace(text=t)) for t in texts],
            vectors=vectors(texts),
        ),
        retrieved=SimpleNamespace(vector=vectors([question])[0]),
    )  # fmt: skip


def test_tuning_puts_each_question_next_to_its_gold_sentence(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """Questions whose gold sentence the bundled model ranks below a look-alike: after tuning,
    the gold sentence ranks first for them (the layers learn; a frozen copy would not)."""
    from eval.encoder_finetune import TuneOptions, TuningSet, similarities, tune

    cases = [
        ("What was {c}'s net income for the year?",
         "{c} reported a bottom line of $12 million for the year.",
         ["{c} reported net sales of $90 million for the year.",
          "{c} said its income statement will be published in March."]),
        ("How many employees does {c} have?",
         "{c} has a staff of 4,200 people across three sites.",
         ["{c} employees will move to a new office next year.",
          "{c} said employees voted on a new contract."]),
    ]  # fmt: skip
    companies = ["Halden Grid", "Marrow Labs", "Tesseract Rail", "Quillon Foods"]
    examples = [
        _example(n, q.format(c=c), g.format(c=c), [w.format(c=c) for w in ws], embedder.embed)
        for n, (c, (q, g, ws)) in enumerate((c, case) for c in companies for case in cases)
    ]
    options = TuneOptions(epochs=12, negatives=2, batch=4, learning_rate=2e-4)
    data = TuningSet(examples, TopLayers(2), both_sides=False)  # type: ignore[arg-type]

    def gold_first(sims: dict[Any, np.ndarray]) -> int:
        return sum(int(np.argmax(s)) == 0 for s in sims.values())

    untuned = similarities(examples, data, data.split.copies(), options)  # type: ignore[arg-type]
    tuned = similarities(examples, data, tune(examples, data, options, log=lambda m: None), options)  # type: ignore[arg-type]
    assert gold_first(untuned) < len(examples)
    assert gold_first(tuned) == len(examples) > gold_first(untuned)
