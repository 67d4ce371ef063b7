"""Scale: generated corpora of growing size: ingest time, query median vs the floor, and the
serving process's peak RSS at the largest size; table and docs/scaling.png."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

from bench.common import (
    OUT_DIR,
    BenchContext,
    Check,
    Section,
    ingest_into,
    make_settings,
    median,
    scratch_dir,
)
from bench.gen_corpus import corpus_file, questions_for
from bench.query import measure
from bench.server import Server, load

TARGET_QUERY_RATIO = 1.5
TARGET_RSS_MB = 1536.0


def cache_from() -> int:
    """Sizes from this many records on reuse an index ingested by an earlier run (see notes)."""
    return int(os.environ.get("BENCH_SCALE_CACHE_FROM", "20000"))


def cached_index(ctx: BenchContext, n: int) -> tuple[Path, dict[str, Any]]:
    """An index of n generated records kept under bench/out/index/, with its ingest timing.

    Ingesting 20k chunks takes longer on two cores than `make bench` may; the timing of the
    ingest that built it is kept beside it. BENCH_SCALE_REBUILD=1 ingests it again."""
    from ingest.pipeline import PARSER_VERSION

    settings = make_settings(OUT_DIR)
    key = f"gen-{n}-s7-p{PARSER_VERSION}-c{settings.chunk_max_chars}"
    data_dir = OUT_DIR / "index" / key
    meta_path = data_dir / "bench-meta.json"
    if meta_path.exists() and os.environ.get("BENCH_SCALE_REBUILD") != "1":
        return data_dir, json.loads(meta_path.read_text())
    shutil.rmtree(data_dir, ignore_errors=True)
    meta = ingest_point(ctx, n, data_dir)
    meta["measured_at"] = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    meta_path.write_text(json.dumps({**meta, "cached": True}))  # true for every later run
    return data_dir, meta


def ingest_point(ctx: BenchContext, n: int, data_dir: Path) -> dict[str, Any]:
    ingest_s, summary = ingest_into(data_dir, [corpus_file(n)], ctx.embedder)
    if summary.failed:
        raise RuntimeError(f"scale ingest of {n} records failed: {summary.failed[:3]}")
    return {"records": n, "chunks": summary.chunks, "sentences": summary.sentences,
            "ingest_s": ingest_s, "cached": False}  # fmt: skip


def query_point(ctx: BenchContext, n: int, data_dir: Path) -> dict[str, Any]:
    newsdesk = ctx.newsdesk(data_dir)
    questions = questions_for(corpus_file(n), ctx.config.scale_questions)
    timings = measure(newsdesk, questions, ctx.config.warmup)
    return {
        "floor_ms": median(timings["floor"]),
        "ask_ms": median(timings["ask"]),
        "questions": questions,
    }


def serve_rss(data_dir: Path, questions: list[str], requests: int) -> float:
    with Server(data_dir, workers=1, timeout_s=600) as server:
        load(server.port, questions, clients=4, requests=requests)
        return server.peak_rss_mb()


def plot(points: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chunks = [p["chunks"] for p in points]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(chunks, [p["ingest_s"] for p in points], marker="o")
    left.set(xlabel="chunks", ylabel="ingest wall time (s)", title="Ingest into an empty index")
    right.plot(chunks, [p["ask_ms"] for p in points], marker="o", label="Newsdesk.ask")
    right.plot(chunks, [p["floor_ms"] for p in points], marker="s", label="floor (embed + top-k)")
    right.set(xlabel="chunks", ylabel="median latency (ms)", title="Query, warm, in-process")
    right.set_ylim(bottom=0)
    right.legend()
    for axis in (left, right):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run(ctx: BenchContext) -> Section:
    config = ctx.config
    section = Section(
        "scale",
        "Scale: generated corpora",
        columns=["records", "chunks", "embedded texts", "ingest s", "ms / chunk",
                 "floor median ms", "ask median ms", "x floor"],
    )  # fmt: skip
    points = []
    sizes = sorted(config.scale_sizes)
    for n in sizes:
        if n >= cache_from():
            data_dir, point = cached_index(ctx, n)
            point = {**point, "cached": point.get("cached", True), **query_point(ctx, n, data_dir)}
            if n == sizes[-1]:
                point["rss_mb"] = serve_rss(data_dir, point["questions"], config.rss_requests)
        else:
            with scratch_dir(f"scale-{n}-") as data_dir:
                point = ingest_point(ctx, n, data_dir)
                point.update(query_point(ctx, n, data_dir))
                if n == sizes[-1]:
                    point["rss_mb"] = serve_rss(data_dir, point["questions"], config.rss_requests)
        points.append(point)
        texts = point["chunks"] + point["sentences"]
        label = f"{n} (ingested {point['measured_at']})" if point["cached"] else n
        section.rows.append([label, point["chunks"], texts, point["ingest_s"],
                             point["ingest_s"] / point["chunks"] * 1000, point["floor_ms"],
                             point["ask_ms"], point["ask_ms"] / point["floor_ms"]])  # fmt: skip
    largest = points[-1]
    section.checks += [
        Check(
            f"scale: ask median / floor median at {largest['chunks']} chunks",
            largest["ask_ms"] / largest["floor_ms"],
            TARGET_QUERY_RATIO,
        ),
        Check(
            f"scale: serve peak RSS at {largest['chunks']} chunks",
            largest["rss_mb"],
            TARGET_RSS_MB,
            unit=" MB",
        ),
    ]
    figure = ctx.figures_dir / ("scaling.png" if not config.tiny else "scaling-tiny.png")
    plot(points, figure)
    section.notes += [
        "Records from bench/gen_corpus.py (seed 7: companies, amounts, units, dates), one chunk "
        "each; the corpus files are cached under bench/out/corpus/. Each size is ingested into "
        f"an empty index; {config.scale_questions} templated questions about the records, each "
        "asked once after warm-up. Sizes from BENCH_SCALE_CACHE_FROM (default 20000) records "
        "on reuse an index ingested by an earlier run (its ingest time and date in the row; "
        "BENCH_SCALE_REBUILD=1 ingests again): ingesting 20k chunks on two shared cores takes "
        "longer than `make bench` may. Query latency and RSS are always measured in this run.",
        f"Peak RSS: VmHWM of `newsdesk serve --workers 1` after {config.rss_requests} answers "
        "from 4 clients. Plot: " + figure.name + ".",
    ]
    section.data = {"points": [{k: v for k, v in p.items() if k != "questions"} for p in points]}
    return section
