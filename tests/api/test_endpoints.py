"""Every endpoint through TestClient (lifespan running) on a real index filled via the API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import RECORDS


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def assert_citations_exact(client: TestClient, answer: dict[str, Any]) -> None:
    for citation in answer["citations"]:
        document = client.get(f"/v1/documents/{citation['doc_id']}").json()
        assert document["text"][citation["start"] : citation["end"]] == citation["quote"]
        assert f"[{citation['id']}]" in answer["answer"]


def test_ask_answers_with_exact_citations(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": "How much did Quanta Labs raise?"})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) >= {"question", "answer", "short_answer", "abstained", "citations"}
    assert set(answer["timings_ms"]) >= {"retrieve", "answer", "total"}
    assert not answer["abstained"]
    assert "85 million" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == "quanta-series-b"
    assert answer["citations"][0]["published"] == "2025-06-18"
    assert_citations_exact(client, answer)


def test_ask_filters_restrict_sources(client: TestClient) -> None:
    question = {"question": "How much did Quanta Labs raise?"}
    only_trains = {**question, "filters": {"doc_ids": ["rail-order"]}}
    answer = client.post("/v1/ask", json=only_trains).json()
    assert all(c["doc_id"] == "rail-order" for c in answer["citations"])
    before = {**question, "filters": {"until": "2025-01-01"}}
    answer = client.post("/v1/ask", json=before).json()
    assert all(c["published"] and c["published"] <= "2025-01-01" for c in answer["citations"])


def test_chat_json_uses_last_user_message(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "Tell me about Metro Transit."},
        {"role": "assistant", "content": "Metro Transit ordered trains."},
        {"role": "user", "content": "How many electric trains did Metro Transit order?"},
    ]
    response = client.post("/v1/chat", json={"messages": messages})
    assert response.status_code == 200
    answer = response.json()
    assert answer["question"] == messages[-1]["content"]
    assert "42" in answer["answer"]
    assert_citations_exact(client, answer)


def test_chat_stream_event_contract(client: TestClient) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "When should the Helio Works farm deliver power?"}
        ],
        "stream": True,
    }
    with client.stream("POST", "/v1/chat", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.read().decode())
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "answer"]
    assert set(names[:-2]) == {"delta"}
    answer = events[-1][1]
    assert "".join(data["text"] for _, data in events[:-2]) == answer["answer"]
    assert events[-2][1]["citations"] == answer["citations"]
    assert answer["citations"] and "2027" in answer["answer"]


def test_search_returns_spans_and_honours_filters(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": "solar farm Nevada", "k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["doc_id"] == "solar-nevada"
    keys = {"doc_id", "chunk_id", "title", "published", "url", "score", "text", "start", "end"}
    assert all(set(hit) >= keys for hit in results)
    text = client.get("/v1/documents/solar-nevada").json()["text"]
    assert text[results[0]["start"] : results[0]["end"]] == results[0]["text"]
    since = client.get("/v1/search", params={"q": "solar farm", "since": "2025-05-01"}).json()
    assert since["results"] and all(h["published"] >= "2025-05-01" for h in since["results"])
    listed = client.get(
        "/v1/search", params={"q": "trains", "doc_ids": "rail-order,quanta-series-b"}
    )
    assert {h["doc_id"] for h in listed.json()["results"]} <= {"rail-order", "quanta-series-b"}


def test_documents_list_is_paged(client: TestClient) -> None:
    first = client.get("/v1/documents", params={"limit": 3}).json()
    second = client.get("/v1/documents", params={"offset": 3, "limit": 3}).json()
    assert first["total"] == second["total"] >= len(RECORDS)
    ids = [d["doc_id"] for d in first["documents"] + second["documents"]]
    assert len(ids) == len(set(ids)) == first["total"]
    undated = next(
        d for d in first["documents"] + second["documents"] if d["doc_id"] == "undated-memo"
    )
    assert undated["published"] is None and undated["title"].startswith("Orchard")


def test_get_document_returns_full_text(client: TestClient) -> None:
    document = client.get("/v1/documents/rail-order").json()
    assert document["text"] == RECORDS[2]["text"]
    assert document["published"] == "2024-11-02" and document["url"].endswith("metro-trains")


def test_reingest_is_unchanged_and_stats_count(client: TestClient) -> None:
    summary = client.post("/v1/documents", json=RECORDS[:2]).json()
    assert summary["unchanged"] == 2 and summary["added"] == 0 and summary["failed"] == []
    stats = client.get("/v1/stats").json()
    assert stats["documents"] >= len(RECORDS) and stats["chunks"] >= stats["documents"]
    assert stats["earliest"] == "2024-11-02"


def test_upload_then_delete_removes_from_every_index(client: TestClient) -> None:
    markdown = (
        "---\ntitle: Lumen Bikes recalls e-bikes\ndate: 2025-09-09\n---\n\n"
        "Lumen Bikes recalled 7,400 cargo e-bikes after reports of a faulty brake lever.\n"
    )
    files = [("files", ("lumen-recall.md", markdown.encode(), "text/markdown"))]
    summary = client.post("/v1/documents", files=files)
    assert summary.status_code == 200, summary.text
    assert summary.json()["added"] == 1
    hits = client.get("/v1/search", params={"q": "cargo e-bike brake recall", "k": 1}).json()
    doc_id = hits["results"][0]["doc_id"]
    assert client.get(f"/v1/documents/{doc_id}").json()["title"] == "Lumen Bikes recalls e-bikes"
    answer = client.post("/v1/ask", json={"question": "How many e-bikes did Lumen Bikes recall?"})
    assert "7,400" in answer.json()["answer"]

    deleted = client.delete(f"/v1/documents/{doc_id}")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": doc_id}
    assert client.get(f"/v1/documents/{doc_id}").status_code == 404
    again = client.get("/v1/search", params={"q": "cargo e-bike brake recall", "k": 10}).json()
    assert doc_id not in {h["doc_id"] for h in again["results"]}
    assert client.delete(f"/v1/documents/{doc_id}").status_code == 404


@pytest.fixture
def page_server() -> Iterator[str]:
    page = (
        b"<html><head><title>Tern Air adds a route</title>"
        b'<meta property="article:published_time" content="2025-10-01"></head><body><article>'
        b"<h1>Tern Air adds a route</h1><p>Tern Air will fly daily between Oslo and Reykjavik "
        b"from April, using two leased A220 jets.</p></article></body></html>"
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/tern-air"
    httpd.shutdown()
    httpd.server_close()


def test_url_ingest_over_loopback(make_client: Any, page_server: str) -> None:
    with make_client(allow_private_urls=True) as client:
        summary = client.post("/v1/documents", json={"url": page_server})
        assert summary.status_code == 200, summary.text
        assert summary.json()["added"] == 1
    with make_client() as client:  # private addresses are refused by default
        refused = client.post("/v1/documents", json={"url": page_server + "?again"})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "ingest_failed"


def test_openai_shapes_in_process(client: TestClient) -> None:
    models = client.get("/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["newsdesk"]
    body = {
        "model": "newsdesk",
        "messages": [
            {"role": "user", "content": "How many workers does the Orchard Foods hub employ?"}
        ],
    }
    completion = client.post("/v1/chat/completions", json=body).json()
    content = completion["choices"][0]["message"]["content"]
    assert "120" in content and "\n\nSources:\n[1] Orchard Foods" in content
    assert "(undated)" in content
    assert completion["newsdesk"]["citations"][0]["doc_id"] == "undated-memo"


def test_health_ready_docs_and_static(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["streams_in_flight"] == 0
    assert client.get("/readyz").json()["status"] == "ready"
    schema = client.get("/openapi.json").json()
    assert {"/v1/ask", "/v1/chat", "/v1/search", "/v1/documents", "/v1/chat/completions"} <= set(
        schema["paths"]
    )
    assert client.get("/docs").status_code == 200
    home = client.get("/")
    assert home.status_code == 200 and "text/html" in home.headers["content-type"]
    widget = client.get("/widget.js")
    assert widget.status_code in (200, 404)
    if widget.status_code == 200:
        assert "javascript" in widget.headers["content-type"]
        assert client.get("/static/widget.js").content == widget.content
    else:
        assert widget.json()["error"]["code"] == "not_found"
