"""Keys, admin writes, rate limits, CORS, size limits and the error shape on every failure."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from rag.system import Newsdesk
from rag.types import Answer, Filters
from tests.api.conftest import RECORDS, api_settings

QUESTION = {"question": "How many trains did Metro Transit order?"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"code", "message"} and error["message"]
    if code:
        assert error["code"] == code
    assert "Traceback" not in response.text
    return error


def test_read_keys_guard_every_v1_endpoint(make_client: Any) -> None:
    with make_client(api_keys=["read-1"], admin_keys=["admin-1"]) as client:
        for method, path in [
            ("POST", "/v1/ask"),
            ("POST", "/v1/chat"),
            ("GET", "/v1/search?q=trains"),
            ("GET", "/v1/documents"),
            ("GET", "/v1/documents/rail-order"),
            ("GET", "/v1/stats"),
            ("GET", "/v1/models"),
            ("POST", "/v1/chat/completions"),
        ]:
            missing = client.request(method, path, json={})
            assert_error(missing, 401, "unauthorized")
            assert missing.headers["www-authenticate"] == "Bearer"
            assert_error(client.request(method, path, json={}, headers=bearer("nope")), 401)
        assert client.post("/v1/ask", json=QUESTION, headers=bearer("read-1")).status_code == 200
        assert client.get("/v1/stats", headers=bearer("admin-1")).status_code == 200
        # Public paths stay open.
        for path in ("/healthz", "/readyz", "/", "/docs", "/openapi.json"):
            assert client.get(path).status_code == 200, path
        assert client.get("/widget.js").status_code in (200, 404)
        assert client.get("/static/no-such-file.js").status_code == 404
        # Only digests are kept in memory.
        assert "read-1" not in repr(vars(client.app.state.runtime.keys))  # type: ignore[attr-defined]


def test_writes_need_an_admin_key(make_client: Any) -> None:
    record = [RECORDS[0]]
    with make_client(api_keys=["read-1"], admin_keys=["admin-1"]) as client:
        assert_error(client.post("/v1/documents", json=record), 401)
        assert_error(client.post("/v1/documents", json=record, headers=bearer("read-1")), 403)
        assert_error(client.delete("/v1/documents/x", headers=bearer("read-1")), 403, "forbidden")
        ok = client.post("/v1/documents", json=record, headers=bearer("admin-1"))
        assert ok.status_code == 200 and ok.json()["unchanged"] == 1
        assert_error(client.delete("/v1/documents/none", headers=bearer("admin-1")), 404)
    with make_client(admin_keys=["admin-1"]) as client:  # any key configured: reads need one
        assert_error(client.get("/v1/documents"), 401)
        assert client.get("/v1/documents", headers=bearer("admin-1")).status_code == 200
        assert_error(client.post("/v1/documents", json=record), 401)
    with make_client(api_keys=["read-1"]) as client:  # no admin key: nobody writes
        refused = assert_error(
            client.post("/v1/documents", json=record, headers=bearer("read-1")), 403, "forbidden"
        )
        assert "NEWSDESK_ADMIN_KEYS" in refused["message"]
        assert_error(client.delete("/v1/documents/rail-order", headers=bearer("read-1")), 403)
        assert client.get("/v1/documents/rail-order", headers=bearer("read-1")).status_code == 200


def test_rate_limit_per_key_with_retry_after(make_client: Any) -> None:
    with make_client(rate_limit="3/minute", api_keys=["k1", "k2"]) as client:
        for _ in range(3):
            assert client.get("/v1/models", headers=bearer("k1")).status_code == 200
        limited = client.get("/v1/models", headers=bearer("k1"))
        assert_error(limited, 429, "rate_limited")
        assert 0 < int(limited.headers["retry-after"]) <= 60
        assert client.get("/v1/models", headers=bearer("k2")).status_code == 200
        for _ in range(5):  # health checks are never limited
            assert client.get("/healthz").status_code == 200


def test_rate_limit_per_address_without_keys(make_client: Any) -> None:
    with make_client(rate_limit="2/minute") as client:
        assert [client.get("/v1/models").status_code for _ in range(3)] == [200, 200, 429]
        # An invented key does not buy a fresh bucket.
        assert client.get("/v1/models", headers=bearer("invented")).status_code == 429


def test_cors_preflight_allow_and_deny(make_client: Any) -> None:
    allowed = "https://news.example"
    with make_client(cors_origins=[allowed], api_keys=["k1"]) as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }
        ok = client.options("/v1/chat", headers={"Origin": allowed, **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        denied = client.options("/v1/chat", headers={"Origin": "https://evil.example", **preflight})
        assert denied.status_code == 400
        assert "access-control-allow-origin" not in denied.headers
        real = client.post("/v1/ask", json=QUESTION, headers={"Origin": allowed, **bearer("k1")})
        assert real.headers["access-control-allow-origin"] == allowed
        refused = client.post("/v1/ask", json=QUESTION, headers={"Origin": allowed})
        assert refused.status_code == 401  # errors still carry CORS headers for the browser
        assert refused.headers["access-control-allow-origin"] == allowed


def test_body_and_upload_limits_413(make_client: Any) -> None:
    with make_client(max_body_bytes=2000, max_upload_files=2, max_file_bytes=300) as client:
        big = {"question": "x" * 5000}
        assert_error(client.post("/v1/ask", json=big), 413, "too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the streamed size is counted
            yield b'{"question": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        streamed = client.post(
            "/v1/ask", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert_error(streamed, 413)
        three = [("files", (f"n{i}.txt", b"Short note.", "text/plain")) for i in range(3)]
        assert_error(client.post("/v1/documents", files=three), 413, "too_many_files")
        large = [("files", ("big.txt", b"Long note. " * 60, "text/plain"))]
        assert_error(client.post("/v1/documents", files=large), 413, "file_too_large")


def test_validation_errors_422_400_415(make_client: Any) -> None:
    with make_client(max_question_chars=60) as client:
        assert_error(client.post("/v1/ask", json={"question": "q" * 61}), 422, "question_too_long")
        assert_error(client.post("/v1/ask", json={"question": "   "}), 422)
        assert_error(client.post("/v1/ask", json={}), 422, "invalid_request")
        bad_dates = {**QUESTION, "filters": {"since": "2025-05-01", "until": "2025-01-01"}}
        assert_error(client.post("/v1/ask", json=bad_dates), 422)
        assert_error(client.post("/v1/ask", json={**QUESTION, "answerer": "oracle"}), 422)
        assert_error(client.post("/v1/ask", json={**QUESTION, "filters": {"since": "soon"}}), 422)
        last_assistant = {"messages": [{"role": "assistant", "content": "hi"}]}
        assert_error(client.post("/v1/chat", json=last_assistant), 422)
        assert_error(client.post("/v1/chat", json={"messages": []}), 422)
        assert_error(client.get("/v1/search", params={"q": "x", "k": 0}), 422)
        assert_error(client.get("/v1/documents", params={"offset": 2**32}), 422)  # found by fuzzing
        assert_error(
            client.get(
                "/v1/search", params={"q": "x", "since": "2025-02-01", "until": "2025-01-01"}
            ),
            422,
        )
        assert_error(
            client.post(
                "/v1/documents", content=b"{not json", headers={"Content-Type": "application/json"}
            ),
            400,
        )
        assert_error(client.post("/v1/documents", json={"url": "file:///etc/passwd"}), 422)
        assert_error(client.post("/v1/documents", json={"documents": []}), 422)
        assert_error(
            client.post("/v1/documents", content=b"hi", headers={"Content-Type": "text/plain"}),
            415,
        )
        assert_error(client.get("/v1/no-such-thing"), 404, "not_found")
        assert_error(client.get("/v1/documents/no-such-doc"), 404, "not_found")
        wrong_model = {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}
        assert_error(client.post("/v1/chat/completions", json=wrong_model), 404, "model_not_found")
        records_without_text = {"documents": [{"id": "empty-1", "title": "No body"}]}
        assert_error(client.post("/v1/documents", json=records_without_text), 422, "ingest_failed")


class FailingAnswerer:
    """Stands in for an answerer whose backend breaks mid-request."""

    def answer(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        history: Sequence[dict[str, str]] | None = None,
    ) -> Answer:
        raise RuntimeError("secret internal detail")

    def stream(self, question: str, **_: Any) -> Iterator[str | Answer]:
        yield "partial "
        raise RuntimeError("secret internal detail")


def test_unexpected_failures_are_500_without_details(newsdesk: Newsdesk) -> None:
    broken = Newsdesk(
        settings=newsdesk.settings,
        embedder=newsdesk.embedder,
        store=newsdesk.store,
        retriever=newsdesk.retriever,
        answerers={"extractive": FailingAnswerer()},  # type: ignore[dict-item]
    )
    app = create_app(newsdesk.settings, broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/ask", json=QUESTION)
        assert_error(response, 500, "internal_error")
        assert "secret" not in response.text
        body = {"messages": [{"role": "user", "content": QUESTION["question"]}], "stream": True}
        with client.stream("POST", "/v1/chat", json=body) as streamed:
            text = streamed.read().decode()
        assert "event: delta" in text and "event: error" in text and "secret" not in text
        assert "event: answer" not in text
        assert client.get("/healthz").json()["streams_in_flight"] == 0


def test_not_ready_until_loaded(tmp_path: Any) -> None:
    """Without a Newsdesk the lifespan loads one in the background; /readyz says when."""
    app = create_app(api_settings(tmp_path / "fresh"))
    with TestClient(app) as client:
        first = client.get("/readyz")
        assert client.get("/healthz").status_code == 200
        if first.status_code == 503:  # the model usually takes seconds to load
            assert_error(first, 503, "not_ready")
            assert_error(client.post("/v1/ask", json=QUESTION), 503, "not_ready")
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "never became ready"
            time.sleep(0.2)
        assert client.get("/readyz").json() == {"status": "ready", "documents": 0}
        empty = client.post("/v1/ask", json=QUESTION).json()
        assert empty["abstained"] and empty["citations"] == []
