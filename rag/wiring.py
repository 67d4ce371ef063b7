"""Builds the configured retriever and answerers from Settings (the one composition point)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.keyword import BM25KeywordIndex
from rag.retrieve import BM25KeywordRetriever, ChromaDenseRetriever, HybridRetriever
from rag.store import ChromaStore
from rag.types import Answerer

if TYPE_CHECKING:
    from rag.system import Newsdesk


def keyword_index_dir(settings: Settings) -> Path:
    # Saved indexes are named by the store's generation token (unique to one state of one
    # store), so every process of a data dir can share the folder, whichever Chroma it uses.
    return Path(settings.data_dir) / "keyword" / settings.collection_prefix


def build_retriever(settings: Settings, store: ChromaStore) -> Any:
    dense = ChromaDenseRetriever(store)
    if settings.retriever == "dense":
        return dense
    keyword = BM25KeywordRetriever(store, BM25KeywordIndex(store, keyword_index_dir(settings)))
    if settings.retriever == "keyword":
        return keyword
    return HybridRetriever(dense, keyword)


def build_answerers(settings: Settings, newsdesk: Newsdesk) -> dict[str, Answerer]:
    from rag.answer_extractive import ExtractiveAnswerer

    extractive = ExtractiveAnswerer(
        embedder=newsdesk.embedder,
        store=newsdesk.store,
        retriever=newsdesk.retriever,
        top_k=settings.top_k,
        threshold=settings.abstain_threshold,
    )
    answerers: dict[str, Answerer] = {"extractive": extractive}
    try:
        from rag.answer_llm import OpenAILikeAnswerer
    except ImportError:  # the LLM backend is optional
        return answerers
    answerers["llm"] = OpenAILikeAnswerer(
        settings=settings,
        embedder=newsdesk.embedder,
        store=newsdesk.store,
        retriever=newsdesk.retriever,
        fallback=extractive,
    )
    return answerers
