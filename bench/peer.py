"""Peer: llama-index's default pipeline (SentenceSplitter, HuggingFaceEmbedding, ChromaVectorStore,
VectorStoreIndex retriever) on the same documents, beside ours: ingest time, retrieval latency,
and document-level hit@5 / MRR@10 on the shipped eval set."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    EVAL_SET,
    REPO_ROOT,
    SAMPLE_CORPUS,
    BenchContext,
    Section,
    eval_questions,
    ingest_into,
    median,
    percentile,
    scratch_dir,
)

CHUNKS_PER_DOC = 3  # as eval.targets: several chunks often come from one document


def peer_documents(newsdesk: Any) -> list[Any]:
    """Our normalized documents (same text, same doc_ids) as llama-index Documents."""
    from llama_index.core import Document

    documents = []
    for info in newsdesk.store.all_document_infos():
        found = newsdesk.store.get_document(info.doc_id)
        if found is None:
            continue
        metadata = {"title": info.title, "published": str(info.published or "")}
        documents.append(Document(text=found[1], id_=info.doc_id, metadata=metadata))
    return documents


def build_peer(documents: list[Any], data_dir: Path, model_path: str, tokenizer: Any) -> Any:
    """llama-index's defaults, with the model and tokenizer passed in (no global Settings)."""
    import chromadb
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    embed_model = HuggingFaceEmbedding(model_name=model_path, device="cpu")
    client = chromadb.PersistentClient(path=str(data_dir / "chroma"))
    collection = client.get_or_create_collection("peer", metadata={"hnsw:space": "cosine"})
    storage = StorageContext.from_defaults(
        vector_store=ChromaVectorStore(chroma_collection=collection)
    )
    # The default splitter counts tokens with tiktoken (a download); the model's own tokenizer
    # needs none and counts the tokens the model actually sees.
    splitter = SentenceSplitter(
        tokenizer=lambda text: tokenizer.encode(text, add_special_tokens=False)
    )
    return VectorStoreIndex.from_documents(
        documents, storage_context=storage, embed_model=embed_model, transformations=[splitter]
    )


def ranked_docs(doc_ids: Sequence[str], k: int) -> list[str]:
    return list(dict.fromkeys(doc_ids))[:k]


def quality(
    search: Callable[[str], list[str]], questions: list[dict[str, Any]]
) -> dict[str, float]:
    from eval.metrics import hit_at, mrr_at

    hits, mrrs, latencies = [], [], []
    for question in questions:
        started = time.perf_counter()
        ranked = search(question["question"])
        latencies.append((time.perf_counter() - started) * 1000)
        gold = set(question["doc_ids"])
        hits.append(hit_at(ranked, gold, 5))
        mrrs.append(mrr_at(ranked, gold, 10))
    return {
        "hit@5": sum(hits) / len(hits),
        "mrr@10": sum(mrrs) / len(mrrs),
        "median_ms": median(latencies),
        "p95_ms": percentile(latencies, 95),
    }


SETS = (
    ("announcements", SAMPLE_CORPUS, EVAL_SET),
    ("holdout", REPO_ROOT / "eval" / "sets" / "holdout" / "corpus",
     REPO_ROOT / "eval" / "sets" / "holdout" / "questions.jsonl"),
)  # fmt: skip


def compare(
    ctx: BenchContext, corpus: Path, questions: list[dict[str, Any]]
) -> tuple[list[list[Any]], int]:
    """Rows (pipeline, ingest s, chunks, latency, quality) for one corpus and question set."""
    from rag.embedder import bundled_model_path

    with scratch_dir("ours-") as ours_dir, scratch_dir("peer-") as peer_dir:
        ours_s, _ = ingest_into(ours_dir, [corpus], ctx.embedder)
        hybrid = ctx.newsdesk(ours_dir)
        dense = ctx.newsdesk(ours_dir, retriever="dense")
        started = time.perf_counter()
        index = build_peer(
            peer_documents(hybrid),
            peer_dir,
            bundled_model_path(),
            ctx.torch_embedder.model.tokenizer,
        )
        peer_s = time.perf_counter() - started
        retriever = index.as_retriever(similarity_top_k=10 * CHUNKS_PER_DOC)
        peer_chunks = len(index.vector_store._collection.get(include=[])["ids"])
        ours_chunks = hybrid.store.stats()["chunks"]
        indexed = {info.doc_id for info in hybrid.store.all_document_infos()}
        # Only questions whose documents are all indexed (tiny runs index a few files).
        questions = [q for q in questions if set(q["doc_ids"]) <= indexed] or questions

        def ours(newsdesk: Any) -> Callable[[str], list[str]]:
            return lambda q: ranked_docs([h.doc_id for h in newsdesk.search(q, k=30)], 10)

        def peer(question: str) -> list[str]:
            return ranked_docs([n.node.ref_doc_id for n in retriever.retrieve(question)], 10)

        pipelines = (
            ("newsdesk (hybrid)", ours(hybrid), ours_s, ours_chunks),
            ("newsdesk (dense)", ours(dense), ours_s, ours_chunks),
            ("llama-index default", peer, peer_s, peer_chunks),
        )
        rows = []
        for name, search, ingest_s, chunks in pipelines:
            search(questions[0]["question"])  # warm the path
            result = quality(search, questions)
            rows.append([name, ingest_s, chunks, result["median_ms"], result["p95_ms"],
                         result["hit@5"], result["mrr@10"]])  # fmt: skip
        return rows, len(questions)


def run(ctx: BenchContext) -> Section:
    section = Section(
        "peer",
        "Peer: llama-index default pipeline on the same documents",
        columns=["set", "pipeline", "ingest s", "chunks", "retrieve median ms", "p95 ms",
                 "hit@5", "MRR@10"],
    )  # fmt: skip
    for name, corpus, set_path in SETS:
        if name not in ctx.config.peer_sets:
            continue
        questions = [q for q in eval_questions(set_path) if q["answers"] and q["doc_ids"]]
        if name == "announcements":
            corpus = ctx.corpus()  # tiny runs: a few files of it
        if ctx.config.peer_questions:
            questions = questions[: ctx.config.peer_questions]
        if not questions or not corpus.is_dir():
            continue
        rows, asked = compare(ctx, corpus, questions)
        section.rows += [[f"{name} ({asked} q)", *row] for row in rows]
    section.notes += [
        "Answerable questions of each eval set, document level (eval.metrics.hit_at / mrr_at); "
        "every pipeline ranks 30 chunks and keeps the first 10 documents.",
        "Same model (the bundled all-MiniLM-L6-v2) on both sides. Our ingest time includes "
        "parsing the files and embedding every sentence as well; the peer starts from our "
        "parsed documents (SentenceSplitter at its defaults, 1024 tokens, overlap 200).",
    ]
    return section
