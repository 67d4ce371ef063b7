"""Per-question records -> report metrics, confusion matrix, per-type breakdown, bootstrap intervals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Record = dict[str, Any]
HEADLINE = (
    "retrieval.hit@5",
    "retrieval.mrr@10",
    "retrieval.ndcg@10",
    "answer.exact_match",
    "answer.f1",
    "answer.containment",
    "answer.numeric_match",
    "answer.short_answer_match",
    "citations.coverage",
    "citations.precision",
    "citations.recall",
    "abstention.truthfulness",
    "abstention.false_refusal_rate",
    "abstention.answered_unanswerable_rate",
    "summary.pass_rate",
)
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20240601


def mean(values: Sequence[float | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _part(records: Sequence[Record], part: str, key: str) -> float | None:
    return mean([(r["scores"].get(part) or {}).get(key) for r in records])


def confusion(records: Sequence[Record]) -> dict[str, int]:
    """Rows answerable/unanswerable x columns answered/abstained."""
    cells = {
        "answerable_answered": 0,
        "answerable_abstained": 0,
        "unanswerable_answered": 0,
        "unanswerable_abstained": 0,
    }
    for record in records:
        row = "answerable" if record["answerable"] else "unanswerable"
        cells[f"{row}_{'abstained' if record['abstained'] else 'answered'}"] += 1
    return cells


def abstention_metrics(records: Sequence[Record]) -> dict[str, float | None]:
    cells = confusion(records)
    abstained = cells["answerable_abstained"] + cells["unanswerable_abstained"]
    answerable = cells["answerable_answered"] + cells["answerable_abstained"]
    unanswerable = cells["unanswerable_answered"] + cells["unanswerable_abstained"]
    score = mean([r["scores"]["truthfulness"] for r in records])
    return {
        "precision": ratio(cells["unanswerable_abstained"], abstained),
        "recall": ratio(cells["unanswerable_abstained"], unanswerable),
        "false_refusal_rate": ratio(cells["answerable_abstained"], answerable),
        "answered_unanswerable_rate": ratio(cells["unanswerable_answered"], unanswerable),
        "truthfulness": score,
        "truthfulness_rate": None if score is None else (score + 1) / 2,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def compute_metrics(records: Sequence[Record], *, with_latency: bool = True) -> dict[str, Any]:
    retrieval_keys = ("hit@1", "hit@3", "hit@5", "recall@5", "mrr@10", "ndcg@10")
    quotes = sum(r["scores"]["citations"]["quotes"] for r in records)
    exact = sum(r["scores"]["citations"]["quotes_exact"] for r in records)
    metrics: dict[str, Any] = {
        "retrieval": {key: _part(records, "retrieval", key) for key in retrieval_keys},
        "answer": {
            key: _part(records, "answer", key)
            for key in (
                "exact_match",
                "f1",
                "containment",
                "numeric_match",
                "yes_no_match",
                "short_answer_match",
            )
        },
        "citations": {
            "quote_exactness": ratio(exact, quotes),
            **{k: _part(records, "citations", k) for k in ("coverage", "precision", "recall")},
            "support": _part(records, "citations", "support"),
        },
        "abstention": abstention_metrics(records),
        "summary": {
            "questions": len(records),
            "answerable": sum(r["answerable"] for r in records),
            "passed": sum(r["pass"] for r in records),
            "pass_rate": ratio(sum(r["pass"] for r in records), len(records)),
            "errors": sum(1 for r in records if r.get("error")),
        },
    }
    if with_latency:
        wall = [r["timings_ms"]["wall"] for r in records]
        metrics["latency_ms"] = {
            "p50": percentile(wall, 50),
            "p95": percentile(wall, 95),
            "mean": mean(wall),
            "max": max(wall) if wall else None,
        }
    judged = [r["llm_judge"] for r in records if r.get("llm_judge")]
    if judged:
        metrics["llm_judge"] = {
            "faithfulness": mean([j.get("faithfulness") for j in judged]),
            "correctness": mean([j.get("correctness") for j in judged]),
            "judged": len(judged),
        }
    return metrics


def lookup(metrics: dict[str, Any], path: str) -> Any:
    """A dotted path into the metrics ("retrieval.hit@5"); KeyError when absent."""
    value: Any = metrics
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(path)
        value = value[key]
    return value


def by_type(records: Sequence[Record]) -> dict[str, dict[str, Any]]:
    breakdown: dict[str, dict[str, Any]] = {}
    for kind in sorted({r["type"] for r in records}):
        subset = [r for r in records if r["type"] == kind]
        metrics = compute_metrics(subset, with_latency=False)
        breakdown[kind] = {
            "questions": len(subset),
            "pass_rate": metrics["summary"]["pass_rate"],
            "hit@5": metrics["retrieval"]["hit@5"],
            "mrr@10": metrics["retrieval"]["mrr@10"],
            "f1": metrics["answer"]["f1"],
            "containment": metrics["answer"]["containment"],
            "numeric_match": metrics["answer"]["numeric_match"],
            "short_answer_match": metrics["answer"]["short_answer_match"],
            "citation_coverage": metrics["citations"]["coverage"],
            "abstained_rate": ratio(sum(r["abstained"] for r in subset), len(subset)),
            "truthfulness": metrics["abstention"]["truthfulness"],
        }
    return breakdown


def bootstrap_intervals(
    records: Sequence[Record],
    paths: Sequence[str] = HEADLINE,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    statistic: Callable[[Sequence[Record]], dict[str, Any]] | None = None,
) -> dict[str, dict[str, float | None]]:
    """Percentile bootstrap 95% intervals, resampling whole questions with a fixed seed."""
    compute = statistic or (lambda sample: compute_metrics(sample, with_latency=False))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {path: [] for path in paths}
    n = len(records)
    for _ in range(resamples if n else 0):
        sample = [records[i] for i in rng.integers(0, n, n)]
        values = compute(sample)
        for path in paths:
            value = lookup(values, path)
            if value is not None:
                draws[path].append(float(value))
    point = compute(records) if n else {}
    intervals: dict[str, dict[str, float | None]] = {}
    for path in paths:
        value = lookup(point, path) if n else None
        samples = draws[path]
        intervals[path] = {
            "value": value,
            "low": percentile(samples, 2.5),
            "high": percentile(samples, 97.5),
        }
    return intervals
