"""Fits the extractive answerer's sentence-ranking weights and answerability model on a set.

    python -m eval.calibrate --set eval/sets/announcements.jsonl --corpus examples/announcements

Two logistic regressions over the evidence features of rag.evidence.FEATURES:
1. ranking: does this retrieved sentence hold a gold answer (and come from a gold document)?
2. answerability: with the re-ranked best sentence, is the question answerable and does that
   sentence hold a gold answer? Its probability is what the answerer compares with the
   abstention threshold; the threshold maximises CRAG truthfulness on the set while keeping
   the false-refusal rate at or below --max-false-refusal.
It prints the fitted constants to paste into rag/evidence.py and rag/answer_extractive.py,
and the per-threshold table. Nothing is fitted per question: only these few weights.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer_extractive import ExtractiveAnswerer, merge_time_filters, passes_gates
from rag.evidence import FEATURES, Evidence, gather_evidence, rank_score
from rag.question import analyse
from rag.system import Newsdesk


def normalise(text: str) -> str:
    text = text.lower().replace(",", "")
    return " ".join(re.sub(r"[^a-z0-9$%.€£ ]", " ", text).split())


@dataclass
class Sample:
    question: dict[str, Any]
    evidence: list[Evidence]


def holds_gold(evidence: Evidence, question: dict[str, Any]) -> bool:
    if not question["answers"]:
        return False
    gold_docs = set(question.get("doc_ids") or [])
    if gold_docs and evidence.doc_id not in gold_docs:
        return False
    text = normalise(evidence.sentence.text)
    return any(normalise(g) and normalise(g) in text for g in question["answers"])


def collect(newsdesk: Newsdesk, questions: list[dict[str, Any]], top_k: int) -> list[Sample]:
    samples = []
    for question in questions:
        analysis = analyse(question["question"])
        vector = newsdesk.embedder.embed([analysis.text])[0]
        chunks = newsdesk.retriever.retrieve(
            analysis.text, vector, k=top_k, filters=merge_time_filters(None, analysis)
        )
        evidence = gather_evidence(analysis, vector, chunks, newsdesk.store)
        samples.append(Sample(question, evidence))
    return samples


def features(evidence: Evidence) -> list[float]:
    return [float(getattr(evidence, name)) for name in FEATURES]


def fit(x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(x, y)
    weights = {name: round(float(w), 3) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
    return round(float(model.intercept_[0]), 3), weights


def calibrate(
    newsdesk: Newsdesk, questions: list[dict[str, Any]], *, top_k: int, max_false_refusal: float
) -> dict[str, Any]:
    samples = collect(newsdesk, questions, top_k)
    rows, labels = [], []
    for sample in samples:
        if sample.question.get("type") == "multi_doc":
            continue  # computed answers rarely appear verbatim in one sentence
        for evidence in sample.evidence:
            rows.append(features(evidence))
            labels.append(int(holds_gold(evidence, sample.question)))
    _, raw_weights = fit(np.asarray(rows), np.asarray(labels))
    # Only the ordering matters for ranking: scale to sum 1 so margins stay comparable.
    total = sum(abs(w) for w in raw_weights.values()) or 1.0
    rank_weights = {name: round(w / total, 4) for name, w in raw_weights.items()}
    best_rows, best_labels = [], []
    for sample in samples:
        if not sample.evidence or sample.question.get("type") == "multi_doc":
            continue
        analysis = analyse(sample.question["question"])
        ranked = sorted(sample.evidence, key=lambda e: -rank_score(e, rank_weights))
        passing = [e for e in ranked if passes_gates(e, analysis)]
        if not passing:
            continue  # the answerer abstains on these before its model is consulted
        best = passing[0]
        best_rows.append(features(best))
        best_labels.append(int(holds_gold(best, sample.question)))
    bias, answer_weights = fit(np.asarray(best_rows), np.asarray(best_labels))
    answer_weights = {"bias": bias, **answer_weights}
    return {"rank_weights": rank_weights, "answerable_weights": answer_weights}


def answered(result: tuple[bool, bool, float, bool], threshold: float) -> bool:
    return not result[3] and result[2] >= threshold


def sweep(
    newsdesk: Newsdesk, questions: list[dict[str, Any]], threshold_grid: list[float]
) -> list[dict[str, float]]:
    """Runs the real answerer once with abstention off, then scores each threshold."""
    answerer = newsdesk.answerer("extractive")
    assert isinstance(answerer, ExtractiveAnswerer)
    saved = answerer.threshold
    answerer.threshold = 0.0
    results = []
    try:
        for question in questions:
            answer = answerer.answer(question["question"])
            text = normalise(f"{answer.short_answer or ''} || {answer.answer}")
            correct = any(normalise(g) in text for g in question["answers"])
            results.append(
                (bool(question["answers"]), correct, float(answer.extra.get("confidence", 0.0)),
                 answer.abstained)
            )  # fmt: skip
    finally:
        answerer.threshold = saved
    table = []
    answerable = [r for r in results if r[0]]
    unanswerable = [r for r in results if not r[0]]
    for threshold in threshold_grid:
        right = sum(1 for r in answerable if answered(r, threshold) and r[1])
        wrong = sum(1 for r in answerable if answered(r, threshold) and not r[1])
        refused = sum(1 for r in answerable if not answered(r, threshold))
        abstained = sum(1 for r in unanswerable if not answered(r, threshold))
        table.append(
            {
                "threshold": threshold,
                "answer_accuracy": right / max(1, len(answerable)),
                "false_refusal_rate": refused / max(1, len(answerable)),
                "unanswerable_abstained": abstained / max(1, len(unanswerable)),
                "truthfulness": (right + abstained - wrong - (len(unanswerable) - abstained))
                / max(1, len(results)),
            }
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", required=True, type=Path)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--max-false-refusal", type=float, default=0.08)
    parser.add_argument("--apply", action="store_true", help="use the fitted weights for the sweep")
    args = parser.parse_args()

    from ingest.pipeline import Ingestor  # noqa: PLC0415  (a dev tool composing like the CLI)
    from rag.config import Settings
    from rag.system import build_newsdesk

    questions = [json.loads(line) for line in args.set.read_text().splitlines() if line.strip()]
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), _env_file=None)  # type: ignore[call-arg]
    newsdesk = build_newsdesk(settings)
    Ingestor(settings, newsdesk.store, newsdesk.embedder).ingest([args.corpus])
    newsdesk.refresh()
    fitted = calibrate(
        newsdesk, questions, top_k=args.top_k, max_false_refusal=args.max_false_refusal
    )
    print(json.dumps(fitted, indent=2))
    if args.apply:
        import rag.answer_extractive as answer_module
        import rag.evidence as evidence_module

        evidence_module.RANK_WEIGHTS.update(fitted["rank_weights"])
        answer_module.ANSWERABLE_WEIGHTS.update(fitted["answerable_weights"])
    table = sweep(newsdesk, questions, [t / 20 for t in range(1, 20)])
    eligible = [row for row in table if row["false_refusal_rate"] <= args.max_false_refusal]
    chosen = max(eligible or table, key=lambda row: (row["truthfulness"], -row["threshold"]))
    for row in table:
        mark = " <-" if row is chosen else ""
        print(" ".join(f"{k}={v:.3f}" for k, v in row.items()) + mark)


if __name__ == "__main__":
    main()
