"""Runs an eval set against a Target and scores every question (one JSON record each)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from eval.metrics import answer_scores, citation_scores, retrieval_scores, truthfulness
from eval.questions import EvalQuestion
from eval.targets import Target, TargetError

RETRIEVAL_K = 10
Judge = Callable[[EvalQuestion, dict[str, Any]], dict[str, Any] | None]


def is_correct(question: EvalQuestion, answer_part: dict[str, Any] | None, abstained: bool) -> bool:
    """Unanswerable: abstained. Answerable: containment or numeric match (yes/no for yes_no),
    and a short answer, when one is given, must itself be right."""
    if not question.answerable:
        return abstained
    if abstained or answer_part is None:
        return False
    if answer_part.get("short_answer_match") == 0.0:
        return False
    if question.type == "yes_no":
        return bool(answer_part["yes_no_match"])
    return bool(answer_part["containment"] or answer_part["numeric_match"])


def score_question(
    question: EvalQuestion,
    answer: dict[str, Any],
    retrieved: list[tuple[str, float]],
    target: Target,
    wall_ms: float,
) -> dict[str, Any]:
    abstained = bool(answer.get("abstained"))
    gold_docs = set(question.doc_ids)
    ranked = [doc_id for doc_id, _ in retrieved]
    scores: dict[str, Any] = {"retrieval": None, "answer": None}
    if question.answerable and gold_docs:
        scores["retrieval"] = retrieval_scores(ranked, gold_docs)
    if question.answerable:
        scores["answer"] = answer_scores(
            question.answers, answer.get("short_answer"), answer.get("answer") or "", question.type
        )
    cited_docs = {c["doc_id"] for c in answer.get("citations") or []}
    texts = {doc_id: target.document_text(doc_id) for doc_id in cited_docs}
    scores["citations"] = citation_scores(
        answer, gold_docs if question.answerable else set(), texts
    )
    correct = is_correct(question, scores["answer"], abstained)
    scores["correct"] = correct
    scores["truthfulness"] = truthfulness(question.answerable, abstained, correct)
    quotes_exact = scores["citations"]["quotes_exact"] == scores["citations"]["quotes"]
    return {
        "id": question.id,
        "type": question.type,
        "tags": question.tags,
        "question": question.question,
        "answerable": question.answerable,
        "gold_answers": question.answers,
        "gold_doc_ids": question.doc_ids,
        "answer": answer.get("answer") or "",
        "short_answer": answer.get("short_answer"),
        "abstained": abstained,
        "citations": answer.get("citations") or [],
        "retrieved_doc_ids": ranked,
        "retrieved_scores": [round(score, 6) for _, score in retrieved],
        "scores": scores,
        "pass": correct and quotes_exact,
        "timings_ms": {"wall": round(wall_ms, 3), **(answer.get("timings_ms") or {})},
        "error": answer.get("error"),
    }


def run_questions(
    target: Target,
    questions: Sequence[EvalQuestion],
    *,
    k: int = RETRIEVAL_K,
    judge: Judge | None = None,
    on_question: Callable[[EvalQuestion], None] | None = None,
) -> list[dict[str, Any]]:
    """Ask, search and score each question in order; a target error or a crash of the answerer
    fails that question only (recorded in its `error`, counted in `summary.errors`)."""
    records = []
    for question in questions:
        started = time.perf_counter()
        try:
            answer = target.ask(question.question)
        except TargetError as error:
            answer = {"answer": "", "abstained": False, "citations": [], "error": str(error)}
        except Exception as error:  # an in-process crash is that question's error; the run goes on
            answer = {
                "answer": "",
                "abstained": False,
                "citations": [],
                "error": f"{type(error).__name__}: {error}",
            }
        wall_ms = (time.perf_counter() - started) * 1000
        try:
            retrieved = target.search(question.question, k)
        except TargetError:
            retrieved = []
        record = score_question(question, answer, retrieved, target, wall_ms)
        if judge is not None:
            record["llm_judge"] = judge(question, answer)
        records.append(record)
        if on_question is not None:
            on_question(question)
    return records


def evaluate(
    target: Target,
    questions: Sequence[EvalQuestion],
    config: dict[str, Any],
    *,
    judge: Judge | None = None,
    on_question: Callable[[EvalQuestion], None] | None = None,
) -> dict[str, Any]:
    """Run the set and build the report (metrics, intervals, by_type, confusion, questions)."""
    from eval.report import build_report

    records = run_questions(target, questions, judge=judge, on_question=on_question)
    return build_report(records, {**config, "target": target.name, "judge": judge is not None})
