"""Against a real `newsdesk serve` on loopback: SSE streaming, disconnects, the official
openai client, and bounded concurrency."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest
import uvicorn

from api.app import create_app
from rag.system import Newsdesk
from rag.types import Answer
from tests.api.conftest import Server
from tests.api.test_endpoints import sse_events
from tests.servers import free_port

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How many electric trains did Metro Transit order?",
    "How much did Quanta Labs raise?",
    "When should the Helio Works farm deliver power?",
    "How many pallets fit in the Orchard Foods hub?",
]


def chat_body(question: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}], "stream": True}


def streams_in_flight(base_url: str) -> int:
    return int(httpx.get(f"{base_url}/healthz", timeout=5).json()["streams_in_flight"])


def test_sse_stream_from_real_server(server: Server) -> None:
    with httpx.stream(
        "POST",
        f"{server.base_url}/v1/chat",
        json=chat_body(QUESTIONS[0]),
        headers=server.headers(),
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.read().decode())
    names = [name for name, _ in events]
    assert names[0] == "delta" and names[-2:] == ["citations", "answer"]
    answer = events[-1][1]
    assert "42" in answer["answer"] and answer["citations"][0]["doc_id"] == "rail-order"
    assert "".join(d["text"] for n, d in events if n == "delta") == answer["answer"]


def test_disconnect_mid_stream_leaves_no_stream_running(server: Server) -> None:
    with httpx.stream(
        "POST",
        f"{server.base_url}/v1/chat",
        json=chat_body(QUESTIONS[2]),
        headers=server.headers(),
        timeout=60,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("event: delta"):
                break  # leave after the first piece; closing the stream drops the connection
    deadline = time.monotonic() + 10
    while streams_in_flight(server.base_url) != 0:
        assert time.monotonic() < deadline, "a stream kept running after the client left"
        time.sleep(0.1)
    after = httpx.post(
        f"{server.base_url}/v1/ask",
        json={"question": QUESTIONS[1]},
        headers=server.headers(),
        timeout=60,
    )
    assert after.status_code == 200 and "85 million" in after.json()["answer"]


def test_openai_client_plain_and_streaming(server: Server) -> None:
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.read_key, timeout=60)
    assert [m.id for m in client.models.list()] == ["newsdesk"]
    messages: Any = [{"role": "user", "content": QUESTIONS[1]}]
    completion = client.chat.completions.create(model="newsdesk", messages=messages)
    content = completion.choices[0].message.content or ""
    assert (
        "85 million" in content
        and "Sources:\n[1] Quanta Labs closes Series B (2025-06-18)" in content
    )
    extra = completion.model_extra or {}
    assert extra["newsdesk"]["citations"][0]["doc_id"] == "quanta-series-b"

    pieces: list[str] = []
    finish: list[Any] = []
    final: dict[str, Any] = {}
    for chunk in client.chat.completions.create(model="newsdesk", messages=messages, stream=True):
        assert chunk.object == "chat.completion.chunk"
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.choices and chunk.choices[0].finish_reason:
            finish.append(chunk.choices[0].finish_reason)
            final = (chunk.model_extra or {}).get("newsdesk", {})
    assert len(pieces) > 2 and finish == ["stop"]
    assert "".join(pieces) == content
    assert final["answer"] == extra["newsdesk"]["answer"]

    denied = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="wrong", timeout=30)
    with pytest.raises(openai.AuthenticationError):
        denied.chat.completions.create(model="newsdesk", messages=messages)


def test_concurrent_clients_all_succeed(server: Server) -> None:
    """200 requests from 16 clients: every one answered, none 5xx."""

    def worker(index: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=server.base_url, headers=server.headers(), timeout=120) as http:
            for n in range(index, 200, 16):
                if n % 4 == 3:
                    response = http.get("/v1/search", params={"q": QUESTIONS[n % 4], "k": 5})
                else:
                    response = http.post("/v1/ask", json={"question": QUESTIONS[n % 4]})
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = [s for batch in pool.map(worker, range(16)) for s in batch]
    assert len(statuses) == 200
    assert statuses.count(200) == 200, sorted(set(statuses))


class PacedAnswerer:
    """The real extractive answer, handed out one word at a time like a token stream."""

    def __init__(self, inner: Any, delay_s: float) -> None:
        self.inner, self.delay_s = inner, delay_s
        self.produced = 0
        self.total = 0
        self.closed = threading.Event()

    def answer(self, question: str, **kwargs: Any) -> Answer:
        return self.inner.answer(question, **kwargs)  # type: ignore[no-any-return]

    def stream(self, question: str, **kwargs: Any) -> Iterator[str | Answer]:
        final = self.inner.answer(question, **kwargs)
        words = final.answer.split(" ")
        self.total = len(words)
        try:
            for word in words:
                time.sleep(self.delay_s)
                self.produced += 1
                yield word + " "
            yield final
        finally:
            self.closed.set()


def test_disconnect_stops_a_paced_stream(newsdesk: Newsdesk) -> None:
    paced = PacedAnswerer(newsdesk.answerer(), delay_s=0.2)
    desk = Newsdesk(
        settings=newsdesk.settings,
        embedder=newsdesk.embedder,
        store=newsdesk.store,
        retriever=newsdesk.retriever,
        answerers={"extractive": paced},  # type: ignore[dict-item]
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(desk.settings, desk), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not uv.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with httpx.stream(
            "POST", f"{base_url}/v1/chat", json=chat_body(QUESTIONS[0]), timeout=30
        ) as response:
            for line in response.iter_lines():
                if line.startswith("data:") and json.loads(line[5:]).get("text"):
                    break
        assert paced.closed.wait(5), "the answer stream was not closed after the disconnect"
        assert paced.total > 4 and paced.produced < paced.total
        assert streams_in_flight(base_url) == 0
    finally:
        uv.should_exit = True
        thread.join(timeout=15)
