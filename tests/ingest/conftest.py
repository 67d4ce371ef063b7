"""Ingest test helpers: an embedder wrapper that counts calls, an Ingestor on real Chroma, a loopback server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.store import ChromaStore


class CountingEmbedder:
    """The real embedder, counting how often and how much it is asked to embed."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.dimension = inner.dimension  # type: ignore[attr-defined]
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts, show_progress=show_progress)  # type: ignore[attr-defined]

    def reset(self) -> None:
        self.calls = self.texts = 0


@pytest.fixture
def counting(embedder: object) -> CountingEmbedder:
    return CountingEmbedder(embedder)


@pytest.fixture
def ingestor(settings: Settings, store: ChromaStore, counting: CountingEmbedder) -> Ingestor:
    settings = settings.model_copy(update={"allow_private_urls": True, "fetch_timeout_s": 0.5})
    return Ingestor(settings, store, counting)


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay_s: float = 0.0


@dataclass
class LoopbackServer:
    base_url: str
    routes: dict[str, Route] = field(default_factory=dict)

    def add(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        delay_s: float = 0.0,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, content_type, status, delay_s)
        return self.base_url + path


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A real http.server on 127.0.0.1 serving whatever routes the test puts in it."""
    server_state = LoopbackServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            route = server_state.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            time.sleep(route.delay_s)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()
