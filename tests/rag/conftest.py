"""A small dated corpus written for the rag tests, indexed once per module into real Chroma."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingest.ids import content_hash
from ingest.segment import build_chunks
from rag.config import Settings
from rag.embedder import SentenceTransformerEmbedder
from rag.store import ChromaStore
from rag.system import Newsdesk, build_newsdesk
from rag.types import Document

ARTICLES = [
    (
        "aws-anthropic",
        "Anthropic widens its compute pact with Amazon",
        date(2026, 4, 20),
        "Anthropic said on Monday that it has expanded its compute agreement with Amazon Web "
        "Services, reserving up to 5 gigawatts of capacity to train and serve its Claude models. "
        "The first tranche of that capacity starts coming online this quarter. Nearly 1 gigawatt "
        "is expected to be operational by the end of 2026, the company said. Amazon has put more "
        "than $4 billion into Anthropic through earlier funding rounds. Financial terms of the "
        "expanded agreement were not disclosed.",
    ),
    (
        "oracle-openai",
        "OpenAI and Oracle add a Texas campus",
        date(2025, 7, 2),
        "OpenAI and Oracle agreed to develop 4.5 gigawatts of additional data center capacity in "
        "the United States. The first site, in Abilene, Texas, is already running some workloads. "
        "Oracle expects the Abilene campus to be fully built by mid-2026.",
    ),
    (
        "mistral-round",
        "Mistral raises a new round",
        date(2025, 9, 9),
        "Paris-based Mistral AI closed a funding round of 1.7 billion euros. The round was led by "
        "ASML, which now holds about 11% of the company. Mistral said the money will pay for "
        "compute and hiring.",
    ),
    (
        "campus-early",
        "Early report: Northwind campus sized at 1.5 GW",
        date(2025, 2, 10),
        "The Northwind data center campus in Wyoming is planned at 1.5 gigawatts of power "
        "capacity, according to early permit filings.",
    ),
    (
        "campus-update",
        "Northwind campus grows to 2 GW",
        date(2025, 11, 3),
        "An updated filing shows the Northwind data center campus in Wyoming is now planned at "
        "2 gigawatts of power capacity, up from the earlier plan.",
    ),
    (
        "chips-launch",
        "Nvidia details its next accelerator",
        date(2026, 3, 18),
        "Nvidia introduced the Vera Rubin platform at its developer conference in San Jose. The "
        "company said systems based on the new chips will ship in the second half of 2026.",
    ),
]


def make_document(key: str, title: str, published: date | None, text: str) -> Document:
    return Document(
        doc_id=key,
        title=title,
        text=text,
        url=f"https://news.example/{key}",
        published=published,
        source=f"tests/{key}",
        content_hash=content_hash(text),
    )


def put(store: ChromaStore, embedder: SentenceTransformerEmbedder, document: Document) -> None:
    chunks = build_chunks(document.doc_id, document.text, max_chars=400)
    sentences = [s for c in chunks for s in c.sentences]
    store.put_document(
        document,
        chunks,
        embedder.embed([c.text for c in chunks]),
        embedder.embed([s.text for s in sentences]),
    )


@pytest.fixture(scope="module")
def newsdesk(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Newsdesk:
    data_dir: Path = tmp_path_factory.mktemp("rag-data")
    system = build_newsdesk(Settings(data_dir=data_dir, _env_file=None), embedder=embedder)  # type: ignore[call-arg]
    for key, title, published, text in ARTICLES:
        put(system.store, embedder, make_document(key, title, published, text))
    system.refresh()
    return system
