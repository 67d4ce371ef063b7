"""Hybrid retrieval: filters, diversification, and a keyword index that follows Chroma."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rag.config import Settings
from rag.embedder import SentenceTransformerEmbedder
from rag.system import Newsdesk, build_newsdesk
from rag.types import Filters

from .conftest import make_document, put


def test_hybrid_search_ranks_the_right_document_first(newsdesk: Newsdesk) -> None:
    results = newsdesk.search("Abilene Texas campus Oracle", k=3)
    assert results[0].doc_id == "oracle-openai"
    assert results[0].keyword_rank is not None and results[0].dense_rank is not None
    assert results[0].document.title == "OpenAI and Oracle add a Texas campus"


def test_filters_restrict_by_date_and_document(newsdesk: Newsdesk) -> None:
    since = newsdesk.search("data center capacity", k=10, filters=Filters(since=date(2026, 1, 1)))
    assert since and all(r.document.published >= date(2026, 1, 1) for r in since)  # type: ignore[operator]
    only = newsdesk.search("capacity", k=10, filters=Filters(doc_ids=["mistral-round"]))
    assert {r.doc_id for r in only} == {"mistral-round"}
    none = newsdesk.search("capacity", k=10, filters=Filters(until=date(2000, 1, 1)))
    assert none == []


def test_one_long_document_does_not_crowd_out_others(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    system = build_newsdesk(Settings(data_dir=tmp_path, _env_file=None), embedder=embedder)  # type: ignore[call-arg]
    long_text = " ".join(
        f"Section {i}: the solar farm adds {i * 10} megawatts of capacity to the grid."
        for i in range(60)
    )
    put(system.store, embedder, make_document("long", "Solar farm", date(2025, 1, 1), long_text))
    put(
        system.store,
        embedder,
        make_document(
            "short", "Wind farm", date(2025, 2, 1), "A wind farm adds 300 megawatts of capacity."
        ),
    )
    results = system.search("megawatts of capacity added", k=3)
    assert [r.doc_id for r in results].count("long") <= 2
    assert "short" in {r.doc_id for r in results}


def test_keyword_index_follows_writes_from_another_process(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    reader = build_newsdesk(settings, embedder=embedder)
    writer = build_newsdesk(settings, embedder=embedder)  # a second worker on the same store
    assert reader.search("zeppelin hangar", k=3) == []
    put(
        writer.store,
        embedder,
        make_document(
            "zep",
            "Zeppelin hangar reopens",
            date(2025, 5, 5),
            "The zeppelin hangar reopens as a data hall.",
        ),
    )
    reader.refresh()
    found = reader.retriever.keyword.candidates("zeppelin hangar", 5, None)
    assert [c.hit.doc_id for c in found] == ["zep"]
    writer.store.delete_document("zep")
    reader.refresh()
    assert reader.retriever.keyword.candidates("zeppelin hangar", 5, None) == []
    assert reader.store.get_document("zep") is None


def test_keyword_index_is_persisted_and_reloaded(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    first = build_newsdesk(settings, embedder=embedder)
    put(
        first.store,
        embedder,
        make_document("a", "Alpha", None, "Alpha grid battery of 40 megawatts."),
    )
    first.refresh()
    saved = list((tmp_path / "keyword").rglob("chunks.json"))
    assert len(saved) == 1
    second = build_newsdesk(settings, embedder=embedder)
    index = second.retriever.keyword.index
    assert index.refresh() is True and index.chunk_ids == first.retriever.keyword.index.chunk_ids


def test_dense_search_is_broad_enough_to_be_exact_here(settings: Settings) -> None:
    """Collections search with SEARCH_EF, and one made with Chroma's narrower default is widened
    when opened, so the dense top 30 does not depend on how the graph was built."""
    import chromadb

    from rag.store import SEARCH_EF, ChromaStore

    path = Path(settings.data_dir) / "chroma"
    old = chromadb.PersistentClient(path=str(path))
    made = old.get_or_create_collection(
        "newsdesk-documents", embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
    assert made.configuration["hnsw"]["ef_search"] < SEARCH_EF
    store = ChromaStore.from_settings(settings)
    for collection in (store.documents, store.chunks, store.sentences):
        assert collection.configuration["hnsw"]["ef_search"] == SEARCH_EF
    assert store.documents.configuration["hnsw"]["space"] == "cosine"
