"""build_newsdesk: the one composition function wiring Settings into embedder, store, retrieval, answerers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.config import Settings
from rag.store import ChromaStore
from rag.types import Answer, Answerer, Embedder, Filters, ScoredChunk


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


def build_newsdesk(settings: Settings, *, embedder: Embedder | None = None) -> Newsdesk:
    """Wire the configured backends. `embedder` may be passed to share one loaded model."""
    from rag.wiring import build_answerers, build_retriever

    if embedder is None:
        embedder = build_embedder(settings)
    store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
    retriever = build_retriever(settings, store)
    newsdesk = Newsdesk(settings=settings, embedder=embedder, store=store, retriever=retriever)
    newsdesk.answerers = build_answerers(settings, newsdesk)
    return newsdesk
