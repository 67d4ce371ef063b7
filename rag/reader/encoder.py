"""QuestionEncoder: the reader's own question vector, from MiniLM's lower layers and top layers
that `make train` tuned to put a question next to the sentences that answer it.

Retrieval keeps the bundled model's vector; the reader scores candidate sentences (whose stored
vectors are the bundled model's) against this one. Only the question side is tuned, so ingest
and stores are unchanged (eval/README.md, "Eleventh round"). The layers run by hand (embeddings,
then each layer with an additive mask): the tuned layers replace the model's own top ones.
"""

from __future__ import annotations

import base64
import copy
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

MAX_TOKENS = 96


class TopLayers:
    """MiniLM split below its top `depth` layers: `lower` runs the frozen part once per text,
    `upper` runs the top layers (the model's own, or tuned copies) and pools."""

    def __init__(self, depth: int, *, model_path: str | None = None) -> None:
        import torch

        from rag.embedder import SentenceTransformerEmbedder

        self.torch = torch
        # loaded as the embedder loads it (offline, from the package path); an own copy, since
        # its top layers are swapped and its token limit set
        model = SentenceTransformerEmbedder(model_path).model
        model.max_seq_length = MAX_TOKENS
        self.model = model
        bert: Any = model[0].auto_model
        bert.eval()
        self.bert = bert
        total = len(bert.encoder.layer)
        if not 1 <= depth <= total:
            raise ValueError(f"tuned layers must be 1..{total}, got {depth}")
        self.depth = depth
        self.frozen = list(bert.encoder.layer[: total - depth])
        self.base = list(bert.encoder.layer[total - depth :])

    def lower(self, texts: Sequence[str]) -> list[Any]:
        """Each text's token states after the frozen layers (float32, padding dropped)."""
        torch = self.torch
        batch = self.model.tokenize(list(texts))
        mask = batch["attention_mask"]
        with torch.no_grad():
            x = self.bert.embeddings(
                input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids")
            )
            x = self._layers(self.frozen, x, mask.float())
        return [x[row, : int(mask[row].sum())] for row in range(len(texts))]

    def upper(self, layers: Sequence[Any], states: Sequence[Any]) -> Any:
        """Normalised mean-pooled vectors of `states` through `layers` (a torch tensor)."""
        torch = self.torch
        longest = max(len(s) for s in states)
        x = torch.zeros(len(states), longest, states[0].shape[1])
        mask = torch.zeros(len(states), longest)
        for row, s in enumerate(states):
            x[row, : len(s)] = s
            mask[row, : len(s)] = 1
        x = self._layers(layers, x, mask)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def _layers(self, layers: Sequence[Any], x: Any, mask: Any) -> Any:
        additive = (1.0 - mask)[:, None, None, :] * self.torch.finfo(self.torch.float32).min
        for layer in layers:
            x = layer(x, attention_mask=additive)
            if isinstance(x, tuple):
                x = x[0]
        return x

    def copies(self, state: dict[str, np.ndarray] | None = None) -> Any:
        """Copies of the top layers (a ModuleList), with `state`'s weights when given."""
        layers = self.torch.nn.ModuleList([copy.deepcopy(layer) for layer in self.base])
        if state is not None:
            tensors = {
                k: self.torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()
            }
            layers.load_state_dict(tensors)
        return layers.eval()


_SPLITS: dict[int, TopLayers] = {}
_SPLITS_LOCK = threading.Lock()


def shared_split(depth: int) -> TopLayers:
    """One loaded bundled model per process and depth, shared by every encoder."""
    with _SPLITS_LOCK:
        if depth not in _SPLITS:
            _SPLITS[depth] = TopLayers(depth)
        return _SPLITS[depth]


class QuestionEncoder:
    """Embeds one question with the tuned top layers; loads the model on first use."""

    def __init__(self, depth: int, state: dict[str, np.ndarray]) -> None:
        self.depth = depth
        self.state = state
        self._layers: Any = None
        self._lock = threading.Lock()

    def _ready(self) -> tuple[TopLayers, Any]:
        split = shared_split(self.depth)
        with self._lock:
            if self._layers is None:
                self._layers = split.copies(self.state)
            return split, self._layers

    def warm_up(self) -> None:
        self._ready()

    def encode(self, text: str) -> np.ndarray:
        split, layers = self._ready()
        with split.torch.no_grad():
            vector = split.upper(layers, split.lower([text]))[0]
        return vector.numpy().astype(np.float32)

    def to_json(self) -> dict[str, Any]:
        return {
            "depth": self.depth,
            "dtype": "float16",
            "tensors": {
                name: {
                    "shape": list(np.shape(value)),
                    "data": base64.b64encode(
                        np.asarray(value, dtype=np.float16).tobytes()
                    ).decode(),
                }
                for name, value in sorted(self.state.items())
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QuestionEncoder:
        state = {
            name: np.frombuffer(base64.b64decode(item["data"]), dtype=np.float16)
            .astype(np.float32)
            .reshape(item["shape"])
            for name, item in data["tensors"].items()
        }
        return cls(int(data["depth"]), state)
