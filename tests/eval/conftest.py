"""A tiny corpus written here, its eval set, and one real index over it (built once per module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.questions import EvalQuestion, load_set
from ingest.ids import path_doc_id
from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.store import ChromaStore
from rag.system import Newsdesk, build_newsdesk

ARTICLES = {
    "acme-solar.md": (
        "Acme Power switches on the Riverbend solar farm",
        "2025-02-10",
        "Acme Power has switched on the Riverbend solar farm in Nye County, Nevada. "
        "The farm has a capacity of 250 megawatts and cost $400 million to build. "
        "Construction started in 2023 and employed about 600 workers at its peak.",
    ),
    "borealis-funding.md": (
        "Borealis Robotics closes a Series B",
        "2025-05-03",
        "Warehouse robot maker Borealis Robotics has raised $75 million in a Series B round. "
        "The round was led by Northwind Ventures, with earlier backers joining. "
        "Borealis plans to hire 120 engineers over the next year.",
    ),
    "cobalt-chip.md": (
        "Cobalt Semiconductor unveils the K7 accelerator",
        "2025-09-21",
        "Cobalt Semiconductor introduced the K7, an inference accelerator built on a 3 nanometer "
        "process. The company said the K7 will ship to customers in the first quarter of 2026. "
        "Cobalt did not disclose pricing.",
    ),
    "delta-rail.md": (
        "Delta Rail to electrify the Orlen line",
        "2024-11-30",
        "Delta Rail will electrify 180 km of track between Orlen and Vesta by 2027. "
        "The regional operator expects electric trains to cut journey times by a fifth.",
    ),
}


def write_corpus(folder: Path) -> dict[str, str]:
    """Writes the articles; returns file name -> doc_id (the ingest rule for Markdown)."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = {}
    for name, (title, published, body) in ARTICLES.items():
        path = folder / name
        path.write_text(f'---\ntitle: "{title}"\npublished: {published}\n---\n\n{body}\n')
        ids[name] = path_doc_id(path, root=folder)
    return ids


def set_records(ids: dict[str, str]) -> list[dict[str, Any]]:
    def q(qid: str, text: str, answers: list[str], doc: str, kind: str) -> dict[str, Any]:
        return {
            "id": qid,
            "question": text,
            "answers": answers,
            "doc_ids": [ids[doc]],
            "type": kind,
        }

    return [
        q("t-num-1", "How large is the Riverbend solar farm?", ["250 megawatts", "250 MW"], "acme-solar.md", "number"),
        q("t-num-2", "How much did Borealis Robotics raise in its Series B?", ["$75 million"], "borealis-funding.md", "number"),
        q("t-ent-1", "Who led the Borealis Robotics funding round?", ["Northwind Ventures"], "borealis-funding.md", "entity"),
        q("t-date-1", "When will the K7 accelerator ship?", ["first quarter of 2026", "Q1 2026"], "cobalt-chip.md", "date"),
        q("t-num-3", "How many kilometres of track will Delta Rail electrify?", ["180 km"], "delta-rail.md", "number"),
        q("t-ent-2", "What did <b>Acme Power</b> switch on in Nevada?", ["Riverbend solar farm"], "acme-solar.md", "entity"),
        q("t-un-1", "What is the price of the Cobalt K7 accelerator?", [], "cobalt-chip.md", "unanswerable"),
    ]  # fmt: skip


class TinyCorpus:
    def __init__(self, root: Path, embedder: Any) -> None:
        self.corpus = root / "corpus"
        self.ids = write_corpus(self.corpus)
        self.set_path = root / "tiny.jsonl"
        lines = [json.dumps(record) for record in set_records(self.ids)]
        self.set_path.write_text("\n".join(lines) + "\n")
        self.questions: list[EvalQuestion] = load_set(self.set_path)
        self.data_dir = root / "data"
        self.settings = Settings(data_dir=self.data_dir, _env_file=None)  # type: ignore[call-arg]
        store = ChromaStore.from_settings(self.settings, dimension=embedder.dimension)
        summary = Ingestor(self.settings, store, embedder).ingest([self.corpus])
        assert summary.failed == [] and summary.added == len(ARTICLES)
        self.embedder = embedder

    def newsdesk(self, retriever: str = "hybrid") -> Newsdesk:
        settings = self.settings.model_copy(update={"retriever": retriever})
        return build_newsdesk(settings, embedder=self.embedder)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> TinyCorpus:
    return TinyCorpus(tmp_path_factory.mktemp("tiny"), embedder)
