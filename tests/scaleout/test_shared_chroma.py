"""Two `newsdesk serve` processes on one Chroma server: what one writes, the other serves.

Each process keeps its own derived keyword index (in its own data dir); the generation
token in Chroma tells it to rebuild, so a write through one API shows up in the other's
dense search, keyword search and answers within a few seconds.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SAMPLE_CORPUS
from tests.scaleout.conftest import ApiProcess

pytestmark = pytest.mark.slow

RARE_WORD = "Quillfeather"
RECORD = {
    "id": "scale-ferry-order",
    "title": "Lakeside Ferries orders hybrid boats",
    "url": "https://example.test/lakeside-ferries",
    "published": "2025-09-09",
    "text": (
        f"Lakeside Ferries ordered 7 hybrid passenger boats from the {RARE_WORD} shipyard. "
        "The boats carry 300 passengers each and enter service in 2027."
    ),
}
QUESTION = "How many hybrid boats did Lakeside Ferries order?"


def eventually(check: Callable[[], bool], *, within_s: float = 5.0) -> float:
    """Seconds until `check()` held; fails after `within_s`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within_s, f"not true within {within_s} s"
        time.sleep(0.1)
    return time.monotonic() - started


def search_ids(api: ApiProcess, query: str) -> list[str]:
    response = httpx.get(
        f"{api.base_url}/v1/search", params={"q": query, "k": 5}, headers=api.headers(), timeout=30
    )
    assert response.status_code == 200, response.text
    return [hit["doc_id"] for hit in response.json()["results"]]


def keyword_index_chunk_ids(api: ApiProcess) -> set[str]:
    """Chunk ids of the keyword index this process saved last (named by the generation)."""
    saved = sorted(
        (p for p in (api.data_dir / "keyword").glob("*/*/chunks.json")),
        key=lambda p: p.stat().st_mtime,
    )
    return set(json.loads(saved[-1].read_text())["ids"]) if saved else set()


def ask(api: ApiProcess, question: str) -> dict[str, Any]:
    response = httpx.post(
        f"{api.base_url}/v1/ask", json={"question": question}, headers=api.headers(), timeout=60
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def document_text(api: ApiProcess, doc_id: str) -> str | None:
    response = httpx.get(f"{api.base_url}/v1/documents/{doc_id}", headers=api.headers(), timeout=30)
    assert response.status_code in (200, 404), response.text
    return str(response.json()["text"]) if response.status_code == 200 else None


def test_a_write_through_one_api_is_served_by_the_other(
    two_apis: tuple[ApiProcess, ApiProcess],
) -> None:
    writer, reader = two_apis
    doc_id = RECORD["id"]
    assert document_text(reader, doc_id) is None
    added = httpx.post(
        f"{writer.base_url}/v1/documents",
        json={"documents": [RECORD]},
        headers=writer.headers(admin=True),
        timeout=120,
    )
    assert added.status_code == 200 and added.json()["added"] == 1, added.text

    eventually(lambda: document_text(reader, doc_id) == RECORD["text"])
    eventually(lambda: doc_id in search_ids(reader, RARE_WORD))  # the rare word: keyword side
    eventually(lambda: doc_id in search_ids(reader, "passenger vessels bought by a ferry line"))
    assert f"{doc_id}:c0" in keyword_index_chunk_ids(reader)
    answer = ask(reader, QUESTION)
    cited = [c for c in answer["citations"] if c["doc_id"] == doc_id]
    assert not answer["abstained"] and cited and "7" in answer["answer"]
    for citation in cited:
        assert RECORD["text"][citation["start"] : citation["end"]] == citation["quote"]

    deleted = httpx.delete(
        f"{writer.base_url}/v1/documents/{doc_id}", headers=writer.headers(admin=True), timeout=60
    )
    assert deleted.status_code == 200, deleted.text
    eventually(lambda: document_text(reader, doc_id) is None)
    eventually(lambda: doc_id not in search_ids(reader, RARE_WORD))
    assert f"{doc_id}:c0" not in keyword_index_chunk_ids(reader)
    after = ask(reader, QUESTION)
    assert all(c["doc_id"] != doc_id for c in after["citations"])


def _asks_per_second(apis: list[ApiProcess], questions: list[str], seconds: float) -> dict:
    """`clients` threads asking in a loop for `seconds`, spread over `apis` round-robin."""
    clients = 8
    deadline = time.monotonic() + seconds

    def client(index: int) -> tuple[int, int]:
        api = apis[index % len(apis)]
        done = errors = 0
        with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as http:
            while time.monotonic() < deadline:
                question = questions[(index + done) % len(questions)]
                response = http.post("/v1/ask", json={"question": question})
                done += 1
                errors += response.status_code != 200
        return done, errors

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    elapsed = time.monotonic() - started
    served = sum(done for done, _ in results)
    return {
        "api_processes": len(apis),
        "clients": clients,
        "requests": served,
        "errors": sum(errors for _, errors in results),
        "seconds": round(elapsed, 2),
        "asks_per_s": round(served / elapsed, 2),
    }


def test_ask_throughput_with_one_and_two_api_processes(
    two_apis: tuple[ApiProcess, ApiProcess], tmp_path: Path
) -> None:
    """A bounded load run (NEWSDESK_SCALE_SECONDS each, default 8) for docs/deploy.md."""
    first, second = two_apis
    files = [("files", (p.name, p.read_bytes())) for p in sorted(SAMPLE_CORPUS.iterdir())]
    files = [f for f in files if not f[1][0].lower().startswith("readme")]
    added = httpx.post(
        f"{first.base_url}/v1/documents",
        files=files,
        headers=first.headers(admin=True),
        timeout=300,
    )
    assert added.status_code == 200 and not added.json()["failed"], added.text
    questions = [
        "How much capacity comes online by the end of 2026?",
        "Who led the funding round?",
        "What did Microsoft sign for Three Mile Island?",
        "How many megawatts of reactors did Google order?",
    ]
    eventually(lambda: bool(search_ids(second, questions[3])), within_s=10)
    seconds = float(os.environ.get("NEWSDESK_SCALE_SECONDS", "8"))
    one = _asks_per_second([first], questions, seconds)
    two = _asks_per_second([first, second], questions, seconds)
    report = {"one": one, "two": two, "cpus": os.cpu_count()}
    print("\nthroughput on one Chroma server:", json.dumps(report))
    out = os.environ.get("NEWSDESK_SCALE_REPORT")
    if out:
        Path(out).write_text(json.dumps(report, indent=2))
    for run in (one, two):
        assert run["errors"] == 0 and run["requests"] > 0
