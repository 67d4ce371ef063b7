"""Retraining noise of the gates: the same code and examples retrained with other seeds, each
artifact judged on the gated sets of eval/gates.json (`python -m eval.train --draws N`).

A seed moves the inner fold assignment and the trees' bagging, so each retrain is one draw of
the artifact `make train` could have written. A gate that some draws of unchanged code miss
sits inside that noise: it says which draw was shipped, not whether a change is a regression.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.aggregate import lookup

Values = dict[str, dict[str, float]]  # set name -> gated metric path -> value


def gated_values(metrics: dict[str, Any], gate: dict[str, Any]) -> dict[str, float]:
    """The value of every metric a gated set bounds (NaN when the report lacks it)."""
    values = {}
    for path in (*gate.get("min", {}), *gate.get("max", {})):
        try:
            found = lookup(metrics, path)
        except KeyError:
            found = None
        values[path] = float("nan") if found is None else float(found)
    return values


def misses(values: Values, gates: Sequence[dict[str, Any]]) -> list[str]:
    """Each bound a draw misses, as "set path value < bound" (a missing value misses)."""
    out = []
    for gate in gates:
        mine = values.get(gate["name"], {})
        for path, bound in gate.get("min", {}).items():
            value = mine.get(path, float("nan"))
            if not value >= bound:
                out.append(f"{gate['name']} {path} {value:.3f} < {bound}")
        for path, bound in gate.get("max", {}).items():
            value = mine.get(path, float("nan"))
            if not value <= bound:
                out.append(f"{gate['name']} {path} {value:.3f} > {bound}")
    return out


def envelope(draws: Sequence[Values]) -> dict[str, dict[str, tuple[float, float]]]:
    """(lowest, highest) of each gated metric over the draws."""
    spread: dict[str, dict[str, tuple[float, float]]] = {}
    for values in draws:
        for name, metrics in values.items():
            for path, value in metrics.items():
                low, high = spread.setdefault(name, {}).get(path, (value, value))
                spread[name][path] = (min(low, value), max(high, value))
    return spread


def judge(model: Any, gates: Sequence[dict[str, Any]], root: Path, embedder: Any) -> Values:
    """Every gated set answered in-process with `model` over a fresh store of its corpus."""
    from eval.questions import load_set
    from eval.runner import evaluate
    from eval.targets import InProcessTarget
    from ingest.pipeline import Ingestor
    from rag.config import Settings
    from rag.store import ChromaStore
    from rag.system import build_newsdesk

    values: Values = {}
    with tempfile.TemporaryDirectory(prefix="newsdesk-draws-") as tmp:
        for gate in gates:
            settings = Settings(data_dir=Path(tmp) / gate["name"], _env_file=None)  # type: ignore[call-arg]
            store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
            Ingestor(settings, store, embedder).ingest([root / gate["corpus"]])
            newsdesk = build_newsdesk(settings, embedder=embedder, model=model)
            report = evaluate(
                InProcessTarget(newsdesk), load_set(root / gate["set"]), {"set": gate["set"]}
            )
            values[gate["name"]] = gated_values(report["metrics"], gate)
    return values


def report(labels: Sequence[str], draws: Sequence[Values], gates: Sequence[dict[str, Any]]) -> str:
    """A markdown table: one row per draw, one column per gated metric, then the envelope."""
    columns = [(g["name"], p) for g in gates for p in (*g.get("min", {}), *g.get("max", {}))]
    head = ["draw", *(f"{name} {path.split('.')[-1]}" for name, path in columns), "bounds missed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, values in zip(labels, draws, strict=True):
        cells = [f"{values[name][path]:.3f}" for name, path in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {len(misses(values, gates))} |")
    spread = envelope(draws)
    cells = [f"{spread[n][p][0]:.3f}–{spread[n][p][1]:.3f}" for n, p in columns]
    lines.append("| all draws | " + " | ".join(cells) + " | |")
    return "\n".join(lines)


def run(examples: Sequence[Any], seeds: Sequence[int], root: Path, embedder: Any,
        gates_path: Path, keep: Path | None = None) -> str:  # fmt: skip
    from eval.fit import FitOptions, fit_reader

    gates = json.loads(gates_path.read_text(encoding="utf-8"))["sets"]
    labels, draws = [], []
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        model = fit_reader(examples, FitOptions(seed=seed))
        if keep is not None:
            model.save(keep / f"seed-{seed}.json")
        labels.append(f"seed {seed} (threshold {model.thresholds['answerable']:.4f})")
        draws.append(judge(model, gates, root, embedder))
        for line in misses(draws[-1], gates):
            print(f"seed {seed} misses {line}")
    return report(labels, draws, gates)
