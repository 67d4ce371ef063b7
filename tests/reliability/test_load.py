"""16 clients ask for NEWSDESK_LOAD_SECONDS (default 15) against a real `newsdesk serve`
while another thread keeps ingesting batches through the API: no failed request, and
every citation is its document's text at its offsets."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.api.conftest import RECORDS
from tests.reliability.conftest import Fact, fact_record
from tests.servers import cli_env, running_serve

# timing-sensitive: `make test` runs it alone, after the parallel pass
pytestmark = [pytest.mark.slow, pytest.mark.serial]

SECONDS = float(os.environ.get("NEWSDESK_LOAD_SECONDS", "15"))
CLIENTS = 16
KEY = "load-admin-key"
QUESTIONS = [
    "How many electric trains did Metro Transit order?",
    "How much did Quanta Labs raise?",
    "When should the Helio Works farm deliver power?",
    "How many pallets fit in the Orchard Foods hub?",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("load")
    env = cli_env(NEWSDESK_ADMIN_KEYS=KEY, NEWSDESK_RATE_LIMIT="1000000/minute")
    with running_serve(workdir, env, data_dir=workdir / "data") as (base_url, _):
        yield base_url


def test_asking_while_ingesting(server: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    http = httpx.Client(base_url=server, headers=headers, timeout=120)
    assert http.post("/v1/documents", json=RECORDS).status_code == 200
    stop = threading.Event()
    ingested: list[Fact] = []
    ingest_errors: list[str] = []
    batches = 0

    def ingest_loop() -> None:
        nonlocal batches
        rng = random.Random(5)
        while not stop.is_set():
            pairs = [fact_record(rng, f"load-{batches:03d}-{n}") for n in range(5)]
            response = http.post("/v1/documents", json={"documents": [r for r, _ in pairs]})
            if response.status_code != 200 or response.json()["failed"]:
                ingest_errors.append(f"{response.status_code} {response.text[:200]}")
            else:
                ingested.extend(fact for _, fact in pairs)
            batches += 1
            stop.wait(0.5)

    def client(index: int) -> dict[str, Any]:
        rng = random.Random(index)
        texts: dict[str, str] = {}
        tally: dict[str, Any] = {"requests": 0, "errors": [], "citations": 0}
        with httpx.Client(base_url=server, headers=headers, timeout=120) as own:
            while not stop.is_set():
                facts = list(ingested)
                if facts and rng.random() < 0.5:
                    question = rng.choice(facts).question
                else:
                    question = rng.choice(QUESTIONS)
                tally["requests"] += 1
                try:
                    response = own.post("/v1/ask", json={"question": question})
                except httpx.HTTPError as error:
                    tally["errors"].append(f"{question}: {type(error).__name__}")
                    continue
                if response.status_code != 200:
                    tally["errors"].append(f"{question}: {response.status_code}")
                    continue
                for citation in response.json()["citations"]:
                    doc_id = citation["doc_id"]
                    if doc_id not in texts:
                        texts[doc_id] = own.get(f"/v1/documents/{doc_id}").json()["text"]
                    span = texts[doc_id][citation["start"] : citation["end"]]
                    tally["citations"] += 1
                    if span != citation["quote"]:
                        tally["errors"].append(f"{question}: quote is not its span")
        return tally

    writer = threading.Thread(target=ingest_loop, daemon=True)
    writer.start()
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client, n) for n in range(CLIENTS)]
        time.sleep(SECONDS)
        stop.set()
        tallies = [f.result() for f in futures]
    writer.join(timeout=120)
    elapsed = time.monotonic() - started
    requests = sum(t["requests"] for t in tallies)
    errors = [e for t in tallies for e in t["errors"]]
    citations = sum(t["citations"] for t in tallies)
    print(f"\nload: {requests} asks ({requests / elapsed:.1f}/s) from {CLIENTS} clients in "
          f"{elapsed:.0f} s, {citations} citations checked, {len(errors)} errors; "
          f"{batches} ingest batches ({len(ingested)} documents), "
          f"{len(ingest_errors)} ingest errors")  # fmt: skip
    assert not errors, errors[:10]
    assert not ingest_errors, ingest_errors[:5]
    assert requests >= CLIENTS and citations > 0 and len(ingested) >= 5
    doc_count = http.get("/v1/stats").json()["documents"]
    assert doc_count == len(RECORDS) + len(ingested)
