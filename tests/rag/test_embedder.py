"""The mixed embedder: questions on ONNX Runtime, batches on torch, the same vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.embedder import SMALL_BATCH, MixedRuntimeEmbedder, SentenceTransformerEmbedder


def test_mixed_runtime_gives_the_torch_vectors(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    mixed = MixedRuntimeEmbedder(cache_dir=tmp_path / "onnx")
    mixed.batches = embedder  # share the session's loaded torch model
    mixed.warm_up()
    questions = ["How much capacity comes online by the end of 2026?", "Who leads CoreWeave?"]
    assert len(questions) <= SMALL_BATCH
    on_onnx = mixed.embed(questions)
    assert np.allclose(on_onnx, embedder.embed(questions), atol=1e-5)
    batch = [f"Sentence number {i} about {i * 10} megawatts." for i in range(SMALL_BATCH + 1)]
    assert np.allclose(mixed.embed(batch), embedder.embed(batch), atol=1e-6)
    assert (tmp_path / "onnx").exists()  # exported once from the bundled weights, no download
    assert mixed.embed([]).shape == (0, mixed.dimension)
