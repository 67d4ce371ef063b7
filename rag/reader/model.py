"""The trained artifact: gradient-boosted scorers and their feature names, loaded at startup.

`python -m eval.train` (`make train`) writes it; serving only reads it (fit -> artifact ->
predict). The artifact carries its own version, the feature names each model expects, the
sets it was trained on and its cross-validated figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rag.reader.encoder import QuestionEncoder

ARTIFACT_VERSION = 2  # 2: the computed detector reads word n-grams (GramScorer)
MODELS = ("span", "sentence", "answerable", "verdict", "computed")


class ModelError(ValueError):
    """The artifact is missing, of another version, or expects other features."""


@dataclass
class Scorer:
    """One LightGBM model (binary objective) with the feature names it was trained on."""

    features: tuple[str, ...]
    booster: Any

    def predict(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float64)
        if rows.shape[1] != len(self.features):
            raise ModelError(f"expected {len(self.features)} features, got {rows.shape[1]}")
        return np.asarray(self.booster.predict(rows, num_threads=1), dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "model": self.booster.model_to_string()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scorer | LinearScorer | GramScorer:
        if data.get("type") == "linear":
            return LinearScorer.from_json(data)
        if data.get("type") == "grams":
            return GramScorer.from_json(data)
        import lightgbm

        return cls(tuple(data["features"]), lightgbm.Booster(model_str=data["model"]))


@dataclass
class LinearScorer:
    """A logistic regression over standardised features, for models with a few hundred rows
    (the yes/no verdict), where a monotone model generalises better than trees."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float64)
        return _sigmoid(self.logit(rows))

    def logit(self, rows: np.ndarray) -> np.ndarray:
        if rows.shape[1] != len(self.features):
            raise ModelError(f"expected {len(self.features)} features, got {rows.shape[1]}")
        return (
            (np.asarray(rows, dtype=np.float64) - self.mean) / self.scale
        ) @ self.coef + self.intercept

    def to_json(self) -> dict[str, Any]:
        return {"type": "linear", "features": list(self.features), "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearScorer:
        return cls(tuple(data["features"]), np.asarray(data["mean"]), np.asarray(data["scale"]),
                   np.asarray(data["coef"]), float(data["intercept"]))  # fmt: skip


@dataclass
class GramScorer:
    """A logistic regression over a question's word n-grams (rag.reader.decisions.question_grams)
    and a row of dense features: the computed-question detector, where the wording ("by how much
    did ... exceed", "how many times") tells more than cue flags. Words outside `vocabulary`
    are one placeholder, so the model holds general words and no names."""

    rows: LinearScorer  # the dense row's part of the regression (and its intercept)
    vocabulary: frozenset[str]
    grams: dict[str, int]  # n-gram -> its weight's index
    gram_coef: np.ndarray

    @property
    def features(self) -> tuple[str, ...]:
        return self.rows.features

    def predict_grams(self, grams: set[str], row: np.ndarray) -> float:
        z = float(self.rows.logit(np.asarray(row)[None, :])[0])
        z += float(sum(self.gram_coef[self.grams[g]] for g in grams if g in self.grams))
        return float(_sigmoid(np.asarray(z)))

    def to_json(self) -> dict[str, Any]:
        rows = self.rows
        return {"type": "grams", "features": list(rows.features),
                "vocabulary": sorted(self.vocabulary), "grams": list(self.grams),
                "gram_coef": self.gram_coef.round(6).tolist(), "mean": rows.mean.tolist(),
                "scale": rows.scale.tolist(), "coef": rows.coef.round(6).tolist(),
                "intercept": rows.intercept}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GramScorer:
        return cls(LinearScorer.from_json(data), frozenset(data["vocabulary"]),
                   {g: n for n, g in enumerate(data["grams"])}, np.asarray(data["gram_coef"]))  # fmt: skip


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


DEFAULT_THRESHOLDS = {
    "answerable": 0.5,  # probability that the best answer is right, below which we abstain
    "no": 0.5,  # verdict probability of "No" above which a yes/no answer is No
    # probability that a question asks for a computed two-source answer: low, because a
    # computed question read as a plain one is always answered wrong (-1), while a plain
    # question sent to the computation is at worst refused (0)
    "computed": 0.25,
    # the weaker side's span score (exp(final / 3)) a computed answer needs (training chooses
    # it on out-of-fold computations, eval/fit.py computed_threshold)
    "computed_answer": 0.4,
    "sentence_weight": 2.0,  # weight of the sentence's log score against the span's in a pick
    "kind_weight": 1.0,  # weight of the question-kind probability of the span's kind
}


@dataclass
class KindModel:
    """Which kind of span a question wants (money, date, name...), from its MiniLM vector and
    its question-word and cue flags: a multinomial logistic regression, evaluated with numpy."""

    classes: tuple[str, ...]
    coef: np.ndarray  # classes x inputs (the vector's dimensions, then the flags)
    intercept: np.ndarray

    def predict(self, vector: np.ndarray, flags: np.ndarray) -> np.ndarray:
        inputs = np.concatenate(
            [np.asarray(vector, dtype=np.float64), np.asarray(flags, dtype=np.float64)]
        )
        z = self.coef @ inputs + self.intercept
        z = np.exp(z - z.max())
        return z / z.sum()

    def to_json(self) -> dict[str, Any]:
        return {"classes": list(self.classes), "coef": self.coef.round(6).tolist(),
                "intercept": self.intercept.round(6).tolist()}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KindModel:
        return cls(tuple(data["classes"]), np.asarray(data["coef"]), np.asarray(data["intercept"]))


@dataclass
class ReaderModel:
    scorers: dict[str, Scorer | LinearScorer | GramScorer]
    kinds: KindModel
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    meta: dict[str, Any] = field(default_factory=dict)
    # the reader's question encoder (tuned top layers); None: read with retrieval's vector
    encoder: QuestionEncoder | None = None

    def threshold(self, name: str) -> float:
        return float(self.thresholds.get(name, DEFAULT_THRESHOLDS[name]))

    def scorer(self, name: str) -> Scorer | LinearScorer:
        found = self.scorers.get(name)
        if not isinstance(found, Scorer | LinearScorer):
            raise ModelError(f"the reader artifact has no {name!r} row model")
        return found

    def gram_scorer(self, name: str) -> GramScorer:
        found = self.scorers.get(name)
        if not isinstance(found, GramScorer):
            raise ModelError(f"the reader artifact has no {name!r} n-gram model; retrain it "
                             "with `make train`")  # fmt: skip
        return found

    def check(
        self, expected: dict[str, tuple[str, ...]], kinds: tuple[str, ...], kind_inputs: int
    ) -> None:
        """Refuse an artifact trained on other features than this code computes."""
        if tuple(self.kinds.classes) != tuple(kinds) or self.kinds.coef.shape[1] != kind_inputs:
            raise ModelError(
                "the reader artifact knows other span kinds; retrain it with `make train`"
            )
        for name, features in expected.items():
            found = self.scorers.get(name)
            if found is None:
                raise ModelError(f"the reader artifact has no {name!r} model")
            if tuple(found.features) != tuple(features):
                raise ModelError(
                    f"the reader artifact's {name!r} model was trained on other features; "
                    "retrain it with `make train`"
                )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": ARTIFACT_VERSION,
            "thresholds": self.thresholds,
            "meta": self.meta,
            "kinds": self.kinds.to_json(),
            "models": {name: scorer.to_json() for name, scorer in self.scorers.items()},
            **({"encoder": self.encoder.to_json()} if self.encoder is not None else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReaderModel:
        if data.get("version") != ARTIFACT_VERSION:
            raise ModelError(
                f"reader artifact version {data.get('version')!r}, this code reads "
                f"{ARTIFACT_VERSION}; retrain it with `make train`"
            )
        return cls(
            scorers={k: Scorer.from_json(v) for k, v in data["models"].items()},
            kinds=KindModel.from_json(data["kinds"]),
            thresholds={k: float(v) for k, v in dict(data["thresholds"]).items()},
            meta=dict(data.get("meta") or {}),
            encoder=QuestionEncoder.from_json(data["encoder"]) if data.get("encoder") else None,
        )

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json()), encoding="utf-8")


def load_model(path: Path | None = None) -> ReaderModel:
    """The artifact at `path`, or the one shipped in the package (rag/reader/model.json)."""
    try:
        if path is None:
            text = resources.files("rag.reader").joinpath("model.json").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, FileNotFoundError) as error:
        raise ModelError(f"no reader artifact ({error}); build it with `make train`") from None
    try:
        return ReaderModel.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError) as error:
        raise ModelError(f"unreadable reader artifact: {error}") from None
