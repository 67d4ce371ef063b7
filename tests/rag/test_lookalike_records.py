"""Look-alike records: many short generated releases of one template ("Kadrisen opened 223
clinics in Porto this spring. The company said the sites employ 210 people."), ingested from
JSON Lines as a feed would be, each asked its own fact. The answer sits beside a second figure
of the same kind, and every other record differs only by its name, city and figures. A reader
artifact can learn a preference that fails here while cross-validation on real news rises:
three retrains of one code (seeds 7, 11 and 13) got 169, 151 and 240 of these 240 right, most
misses refused, some answered with the employee count (eval/README, "twelfth round")."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.embedder import SentenceTransformerEmbedder
from rag.store import ChromaStore
from rag.system import build_newsdesk
from tests.reliability.conftest import fact_record, write_jsonl

RECORDS = 240
MIN_RIGHT = 0.95  # share answered right, with the record's own count and document


@pytest.mark.slow
def test_each_lookalike_record_answers_its_own_fact(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    rng = random.Random(20261203)
    pairs = [fact_record(rng, f"lookalike-{n:03d}") for n in range(RECORDS)]
    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "records.jsonl", [record for record, _ in pairs])
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
    assert not Ingestor(settings, store, embedder).ingest([corpus]).failed
    desk = build_newsdesk(settings, embedder=embedder)
    wrong = []
    for _, fact in pairs:
        answer = desk.ask(fact.question)
        cited = {c.doc_id for c in answer.citations}
        if (
            answer.abstained
            or str(fact.count) not in (answer.short_answer or "")
            or not any(fact.doc_id in doc for doc in cited)
        ):
            wrong.append((fact.question, answer.short_answer, sorted(cited)))
    right = len(pairs) - len(wrong)
    assert right >= MIN_RIGHT * len(pairs), (f"{right} of {len(pairs)} right", wrong[:10])
