"""Raising the floor: the same model on ONNX Runtime (fp32 and int8) against sentence-transformers
on torch: tokens/s over the texts ingest embeds, one-question latency, and the shipped eval's
retrieval and answer metrics with each backend (a backend qualifies if none moves by 1 point)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.common import (
    EVAL_SET,
    OUT_DIR,
    SAMPLE_CORPUS,
    BenchContext,
    Check,
    Section,
    ingest_into,
    make_settings,
    median,
    scratch_dir,
)

METRICS = (("retrieval", "hit@5"), ("retrieval", "mrr@10"), ("retrieval", "ndcg@10"),
           ("answer", "exact_match"), ("answer", "f1"), ("answer", "containment"),
           ("answer", "numeric_match"))  # fmt: skip
TARGET_POINTS = 1.0
QUESTION = "How much capacity comes online by the end of 2026?"


def backends(ctx: BenchContext) -> dict[str, Any]:
    from rag.embedder import OnnxRuntimeEmbedder

    cache = OUT_DIR / "onnx"  # exported here from the bundled weights, never downloaded
    threads = ctx.config.threads
    return {
        "torch (sentence-transformers)": ctx.torch_embedder,
        "onnxruntime fp32": OnnxRuntimeEmbedder(cache_dir=cache, threads=threads),
        "onnxruntime int8": OnnxRuntimeEmbedder(quantized=True, cache_dir=cache, threads=threads),
    }


def ingest_texts(data_dir: Path) -> list[str]:
    """Exactly what ingest embedded: every chunk text and every sentence text in the index."""
    from rag.store import ChromaStore

    store = ChromaStore.from_settings(make_settings(data_dir))
    chunks = store.chunks.get(include=["documents"])["documents"]
    sentences = store.sentences.get(include=["documents"])["documents"]
    return [str(t) for t in chunks + sentences]


def throughput(embedders: dict[str, Any], texts: list[str], repeats: int) -> dict[str, float]:
    """Best seconds per backend over `repeats` rounds, backends interleaved within each round."""
    best = {name: float("inf") for name in embedders}
    for _ in range(repeats):
        for name, embedder in embedders.items():
            started = time.perf_counter()
            embedder.embed(texts)
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def one_question_ms(embedder: Any, n: int = 30) -> float:
    embedder.embed([QUESTION])
    timings = []
    for index in range(n):
        started = time.perf_counter()
        embedder.embed([f"{QUESTION} ({index})"])
        timings.append((time.perf_counter() - started) * 1000)
    return median(timings)


def eval_metrics(ctx: BenchContext, embedder: Any) -> dict[str, float]:
    from eval.questions import load_set
    from eval.runner import evaluate
    from eval.targets import InProcessTarget
    from rag.system import build_newsdesk

    with scratch_dir("onnx-eval-") as data_dir:
        ingest_into(data_dir, [SAMPLE_CORPUS], embedder)
        newsdesk = build_newsdesk(make_settings(data_dir), embedder=embedder)
        newsdesk.refresh()
        report = evaluate(InProcessTarget(newsdesk), load_set(EVAL_SET), {"bench": "onnx"})
    metrics = report["metrics"]
    return {f"{group}.{name}": float(metrics[group][name]) for group, name in METRICS}


def run(ctx: BenchContext) -> Section:
    from tokenizers import Tokenizer

    from rag.embedder import bundled_model_path

    embedders = backends(ctx)
    for embedder in embedders.values():
        embedder.warm_up()
    texts = ingest_texts(ctx.sample_index())
    if ctx.config.onnx_texts:
        texts = texts[: ctx.config.onnx_texts]
    tokenizer = Tokenizer.from_file(f"{bundled_model_path()}/tokenizer.json")
    tokenizer.no_padding()  # count the tokens the model reads, not the padding
    tokens = sum(len(e.ids) for e in tokenizer.encode_batch(texts))
    seconds = throughput(embedders, texts, ctx.config.repeats)
    reference = "torch (sentence-transformers)"
    evals = (
        {name: eval_metrics(ctx, e) for name, e in embedders.items()}
        if ctx.config.onnx_eval
        else {}
    )
    section = Section(
        "onnx",
        "Raising the floor: ONNX Runtime backends",
        columns=["backend", "tokens/s", "x torch", "1-question ms", "max eval delta (points)"],
    )
    for name, embedder in embedders.items():
        delta = float("nan")
        if evals:
            delta = max(abs(evals[name][k] - evals[reference][k]) * 100 for k in evals[name])
        section.rows.append([name, tokens / seconds[name], seconds[reference] / seconds[name],
                             one_question_ms(embedder), delta])  # fmt: skip
        if name != reference and evals:
            section.checks.append(
                Check(
                    f"floor option {name}: largest eval metric move",
                    delta,
                    TARGET_POINTS,
                    unit=" pt",
                    note=f"{seconds[reference] / seconds[name]:.2f}x torch's tokens/s",
                )  # fmt: skip
            )
    if evals:
        keys = list(evals[reference])
        section.notes.append(
            "Eval metrics (shipped set, hybrid retrieval, extractive answers), each backend "
            "ingesting the sample corpus itself: "
            + "; ".join(
                f"{name}: " + ", ".join(f"{k.split('.')[1]} {evals[name][k]:.3f}" for k in keys)
                for name in evals
            )  # fmt: skip
        )
    section.notes.append(
        f"{len(texts)} texts ({tokens} tokens): every chunk and sentence of the sample corpus; "
        f"best of {ctx.config.repeats} interleaved rounds; {ctx.config.threads} threads each. "
        "ONNX files are exported from the bundled weights under bench/out/onnx/ (int8: dynamic, "
        "per-channel weights)."
    )
    section.data = {"seconds": seconds, "tokens": tokens, "evals": evals}
    return section
