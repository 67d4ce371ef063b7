"""Query floor (embed + one Chroma top-k) against warm in-process `Newsdesk.ask` (extractive)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bench.common import (
    BenchContext,
    Check,
    Section,
    floor_query,
    median,
    percentile,
    varied_questions,
)

TARGET_RATIO = 3.0  # issue 13: warm ask median at most 3x the floor, the trained reader included


def measure(newsdesk: Any, questions: Sequence[str], warmup: int) -> dict[str, list[float]]:
    """Per-question latencies in ms, floor and ask interleaved so both see the same load."""
    for question in questions[:warmup]:
        floor_query(newsdesk, question)
        newsdesk.ask(question)
    floor_ms, ask_ms, retrieve_ms, read_ms = [], [], [], []
    for question in questions:
        started = time.perf_counter()
        floor_query(newsdesk, question)
        floor_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answer = newsdesk.ask(question)
        ask_ms.append((time.perf_counter() - started) * 1000)
        retrieve_ms.append(answer.timings_ms["retrieve"])
        read_ms.append(answer.timings_ms["answer"])  # the reader's own cost, composing included
    return {"floor": floor_ms, "ask": ask_ms, "retrieve": retrieve_ms, "read": read_ms}


def latency_row(label: str, values: Sequence[float], floor_median: float) -> list[Any]:
    mid = median(values)
    return [label, mid, percentile(values, 95), mid / floor_median]


def run(ctx: BenchContext) -> Section:
    config = ctx.config
    newsdesk = ctx.newsdesk(ctx.sample_index())
    questions = varied_questions(newsdesk, config.questions)
    timings = measure(newsdesk, questions, config.warmup)
    floor_median = median(timings["floor"])
    section = Section(
        "query",
        "Query: floor vs warm in-process ask",
        columns=["path", "median ms", "p95 ms", "x floor"],
    )
    section.rows = [
        latency_row("floor: embed + Chroma top-k", timings["floor"], floor_median),
        latency_row("Newsdesk.ask (extractive, hybrid)", timings["ask"], floor_median),
        latency_row(
            "  of which rewrite + embed + hybrid retrieval", timings["retrieve"], floor_median
        ),
        latency_row(
            "  of which the reader (features, 7 models, compose)", timings["read"], floor_median
        ),
    ]
    ratio = median(timings["ask"]) / floor_median
    section.checks.append(
        Check("query: ask median / floor median", ratio, TARGET_RATIO, note="sample corpus")
    )
    section.notes.append(
        f"{len(questions)} varied questions (eval set + title templates), each asked once "
        f"after {config.warmup} warm-up questions; top_k={newsdesk.settings.top_k}; the floor "
        f"embeds with the Newsdesk's own embedder ({ctx.backend})."
    )
    section.data = {
        "floor_median_ms": floor_median,
        "ask_median_ms": median(timings["ask"]),
        "ask_p95_ms": percentile(timings["ask"], 95),
        "retrieve_median_ms": median(timings["retrieve"]),
        "reader_median_ms": median(timings["read"]),
        "questions": len(questions),
    }
    return section
