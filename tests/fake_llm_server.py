"""A scripted OpenAI-compatible chat server on 127.0.0.1 for tests: the real wire protocol
(JSON completions, SSE chunks, /v1/models) over a real socket, replies decided by the test."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Given the request's messages (and the whole JSON body), say what the model replies.
Script = Callable[[list[dict[str, Any]], dict[str, Any]], "str | Reply"]


@dataclass
class Reply:
    text: str = ""
    status: int = 200  # anything else is sent as an OpenAI-style error body
    delay_s: float = 0.0  # before the first byte (a slow or hung model)
    chunk_delay_s: float = 0.0  # between streamed chunks (a model still generating)
    headers: dict[str, str] = field(default_factory=dict)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hung reply must not hold up teardown

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # clients that time out hang up mid-reply; that is the point of those tests


@dataclass
class FakeLLMServer:
    script: Script
    model: str = "fake-model"
    requests: list[dict[str, Any]] = field(default_factory=list)
    _httpd: _QuietServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeLLMServer:
        handler = type("BoundHandler", (_Handler,), {"fake": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reply_for(self, body: dict[str, Any]) -> Reply:
        self.requests.append(body)
        result = self.script(list(body.get("messages", [])), body)
        return result if isinstance(result, Reply) else Reply(text=result)


def _pieces(text: str) -> Iterator[str]:
    """Stream in small pieces the way real servers do (a few characters per chunk)."""
    word = ""
    for char in text:
        word += char
        if char.isspace():
            yield word
            word = ""
    if word:
        yield word


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": self.fake.model, "object": "model", "created": 0, "owned_by": "tests"}
            self._send_json(200, {"object": "list", "data": [model]}, {})
        else:
            self._send_json(404, {"error": {"message": "not found"}}, {})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": "not found"}}, {})
            return
        reply = self.fake.reply_for(body)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status != 200:
            error = {"message": reply.text or "scripted failure", "type": "server_error"}
            self._send_json(reply.status, {"error": error}, reply.headers)
            return
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        if body.get("stream"):
            self._stream(completion_id, reply)
            return
        message = {"role": "assistant", "content": reply.text}
        payload = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.fake.model),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
        self._send_json(200, payload, reply.headers)

    def _stream(self, completion_id: str, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def event(delta: dict[str, Any], finish: str | None) -> None:
            chunk = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": self.fake.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""}, None)
        for piece in _pieces(reply.text):
            event({"content": piece}, None)
            time.sleep(reply.chunk_delay_s)
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
