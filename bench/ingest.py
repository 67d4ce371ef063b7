"""Ingest floor (the model's batched encode over exactly the texts the pipeline embeds) against
the in-process Ingestor into an empty index, and a second ingest of the unchanged corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import (
    BenchContext,
    Check,
    RecordingEmbedder,
    Section,
    ingest_into,
    scratch_dir,
    timed,
)

TARGET_RATIO = 1.25
TARGET_REINGEST = 0.03


def encode_floor(embedder: Any, texts: list[str]) -> float:  # a SentenceTransformerEmbedder
    """Seconds for the model's own `encode` over `texts`, same batch size and normalization."""
    seconds, _ = timed(
        lambda: embedder.model.encode(
            texts,
            batch_size=embedder.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    )
    return seconds


def count_tokens(embedder: Any, texts: list[str]) -> int:
    tokenizer = embedder.model.tokenizer
    return sum(len(ids) for ids in tokenizer(texts, truncation=True, max_length=256)["input_ids"])


def measure(ctx: BenchContext, corpus: Path) -> dict[str, Any]:
    """Best of `repeats` fresh ingests and floors, then one re-ingest of the unchanged corpus."""
    embedder = ctx.embedder
    ctx.torch_embedder.embed(["warm up"])  # a lazily loaded batch model must not be timed
    ingest_s, floor_s, texts, summary = [], [], [], None
    reingest_s = float("nan")
    for attempt in range(ctx.config.repeats + 1):  # cheap on the sample corpus: one more
        with scratch_dir("ingest-") as data_dir:
            recorder = RecordingEmbedder(embedder)
            seconds, summary = ingest_into(data_dir, [corpus], recorder)
            ingest_s.append(seconds)
            texts = recorder.texts
            floor_s.append(encode_floor(ctx.torch_embedder, texts))
            if attempt == 0:
                reingest_s, _ = ingest_into(data_dir, [corpus], embedder)
    return {
        "ingest_s": min(ingest_s),
        "floor_s": min(floor_s),
        "reingest_s": reingest_s,
        "texts": len(texts),
        "tokens": count_tokens(ctx.torch_embedder, texts),
        "summary": summary.to_dict() if summary is not None else {},
    }


def run(ctx: BenchContext) -> Section:
    result = measure(ctx, ctx.corpus())
    floor_s, ingest_s = result["floor_s"], result["ingest_s"]
    summary = result["summary"]
    section = Section(
        "ingest",
        "Ingest: floor vs newsdesk ingest (sample corpus)",
        columns=["path", "seconds", "x floor", "texts/s", "tokens/s"],
    )
    section.rows = [
        ["floor: model.encode(chunks + sentences)", floor_s, 1.0,
         result["texts"] / floor_s, result["tokens"] / floor_s],
        ["Ingestor.ingest into an empty index", ingest_s, ingest_s / floor_s,
         result["texts"] / ingest_s, result["tokens"] / ingest_s],
        ["second ingest, corpus unchanged", result["reingest_s"],
         result["reingest_s"] / floor_s, float("nan"), float("nan")],
    ]  # fmt: skip
    section.checks += [
        Check("ingest: wall time / floor", ingest_s / floor_s, TARGET_RATIO),
        Check(
            "ingest: unchanged re-ingest / first ingest",
            result["reingest_s"] / ingest_s * 100,
            TARGET_REINGEST * 100,
            unit="%",
        ),
    ]
    section.notes.append(
        f"{summary.get('documents')} documents, {summary.get('chunks')} chunks, "
        f"{result['texts']} embedded texts (chunks + sentences), {result['tokens']} tokens; "
        f"best of {ctx.config.repeats + 1} fresh runs each, interleaved; ingest time includes opening the store, "
        "parsing, segmenting, embedding and writing."
    )
    section.data = result
    return section
