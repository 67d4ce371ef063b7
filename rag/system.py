"""build_newsdesk: the one composition function wiring Settings into embedder, store,
retrieval, the question pipeline, the reader and the answerers (no half-built object)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.store import ChromaStore
from rag.types import Answer, Answerer, Embedder, Filters, ScoredChunk

if TYPE_CHECKING:
    from rag.reader.model import ReaderModel


@dataclass
class Newsdesk:
    """Everything a caller (CLI, API, eval) needs, built once and passed down."""

    settings: Settings
    embedder: Embedder
    store: ChromaStore
    retriever: Any
    answerers: dict[str, Answerer] = field(default_factory=dict)

    def answerer(self, name: str | None = None) -> Answerer:
        key = name or self.settings.answerer
        if key not in self.answerers:
            raise KeyError(f"unknown answerer {key!r}; configured: {sorted(self.answerers)}")
        return self.answerers[key]

    def ask(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        answerer: str | None = None,
        history: Sequence[dict[str, str]] | None = None,
    ) -> Answer:
        return self.answerer(answerer).answer(question, filters=filters, history=history)

    def stream(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        answerer: str | None = None,
        history: Sequence[dict[str, str]] | None = None,
    ) -> Iterator[str | Answer]:
        """Text pieces as they are produced, then the final Answer as the last item."""
        return self.answerer(answerer).stream(question, filters=filters, history=history)

    def search(
        self, query: str, *, k: int = 10, filters: Filters | None = None
    ) -> list[ScoredChunk]:
        vector = self.embedder.embed([query])[0]
        return list(self.retriever.retrieve(query, vector, k=k, filters=filters))

    def refresh(self) -> None:
        """Reload derived indexes (keyword index, caches) if Chroma changed underneath us, and
        reopen an embedded store another process wrote (its vector index would be stale)."""
        if self.store.changed_elsewhere():
            self.store.reopen()
        refresh = getattr(self.retriever, "refresh", None)
        if refresh is not None:
            refresh()


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedder, warmed up (NEWSDESK_EMBED_BACKEND, batch size, threads)."""
    from rag.embedder import embedder_for

    model = embedder_for(
        settings.embed_backend,
        batch_size=settings.embed_batch_size,
        threads=settings.embed_threads,
        cache_dir=settings.onnx_cache_dir,
    )
    model.warm_up()
    return model


def keyword_index_dir(settings: Settings) -> Path:
    # Saved indexes are named by the store's generation token (unique to one state of one
    # store), so every process of a data dir can share the folder, whichever Chroma it uses.
    return Path(settings.data_dir) / "keyword" / settings.collection_prefix


def build_retriever(settings: Settings, store: ChromaStore) -> Any:
    from rag.keyword import BM25KeywordIndex
    from rag.retrieve import BM25KeywordRetriever, ChromaDenseRetriever, HybridRetriever

    dense = ChromaDenseRetriever(store)
    if settings.retriever == "dense":
        return dense
    keyword = BM25KeywordRetriever(store, BM25KeywordIndex(store, keyword_index_dir(settings)))
    if settings.retriever == "keyword":
        return keyword
    return HybridRetriever(dense, keyword)


def build_newsdesk(
    settings: Settings, *, embedder: Embedder | None = None, model: ReaderModel | None = None
) -> Newsdesk:
    """Wire the configured backends. `embedder` may be passed to share one loaded model,
    `model` to read with another reader artifact than NEWSDESK_READER_MODEL / the shipped one."""
    from rag.answer_extractive import ExtractiveAnswerer
    from rag.pipeline import QuestionPipeline
    from rag.reader.model import load_model
    from rag.reader.reader import ExtractiveReader

    if embedder is None:
        embedder = build_embedder(settings)
    store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
    retriever = build_retriever(settings, store)
    pipeline = QuestionPipeline(embedder=embedder, retriever=retriever, top_k=settings.top_k)
    reader = ExtractiveReader(
        store,
        model if model is not None else load_model(settings.reader_model),
        threshold=settings.abstain_threshold,
    )
    reader.warm_up()
    extractive = ExtractiveAnswerer(pipeline=pipeline, reader=reader, store=store)
    answerers: dict[str, Answerer] = {"extractive": extractive}
    try:
        from rag.answer_llm import OpenAILikeAnswerer
    except ImportError:  # the LLM backend is optional
        pass
    else:
        answerers["llm"] = OpenAILikeAnswerer(
            settings=settings, pipeline=pipeline, store=store, fallback=extractive
        )
    return Newsdesk(settings, embedder, store, retriever, answerers)
