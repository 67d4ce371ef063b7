"""What the runner evaluates: a Target answers, searches and hands back document texts.

InProcessTarget wraps a Newsdesk; HttpTarget speaks the HTTP API (POST /v1/ask,
GET /v1/search, GET /v1/documents/{doc_id}). Both return plain JSON-shaped values.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

    from rag.system import Newsdesk

# chunk hits fetched per wanted document: several chunks often come from one document
CHUNKS_PER_DOC = 3
MAX_SEARCH_K = 100
RETRIES = 6  # per request, on 429 / 503
MAX_RETRY_WAIT_S = 30.0  # a longer Retry-After is not waited for: the question errors


class TargetError(RuntimeError):
    """The target could not answer (server down, bad status, malformed reply)."""


class Target(Protocol):
    name: str

    def ask(self, question: str) -> dict[str, Any]:
        """The Answer JSON of DESIGN.md."""
        ...

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """Up to k (doc_id, score) pairs, ranked, one per document."""
        ...

    def document_text(self, doc_id: str) -> str | None: ...


def _top_documents(hits: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
    best: dict[str, float] = {}
    for doc_id, score in hits:
        best.setdefault(doc_id, score)  # hits are ranked: the first is the document's best
    return list(best.items())[:k]


class InProcessTarget:
    """A Newsdesk in this process (the default: `--corpus` / `--data-dir`)."""

    def __init__(self, newsdesk: Newsdesk, *, answerer: str | None = None) -> None:
        self.newsdesk = newsdesk
        self.answerer = answerer
        self.name = f"in-process ({newsdesk.settings.retriever})"
        self._texts: dict[str, str | None] = {}

    def ask(self, question: str) -> dict[str, Any]:
        return self.newsdesk.ask(question, answerer=self.answerer).to_dict()

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        hits = self.newsdesk.search(question, k=min(k * CHUNKS_PER_DOC, MAX_SEARCH_K))
        return _top_documents([(h.doc_id, float(h.score)) for h in hits], k)

    def document_text(self, doc_id: str) -> str | None:
        if doc_id not in self._texts:
            found = self.newsdesk.store.get_document(doc_id)
            self._texts[doc_id] = found[1] if found else None
        return self._texts[doc_id]


class HttpTarget:
    """A running `newsdesk serve` (`--url`). Rate limits (429) and "not ready" (503) are
    waited out as their Retry-After says, a bounded number of times."""

    def __init__(
        self, client: httpx.Client, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.client = client
        self.name = str(client.base_url).rstrip("/")
        self.sleep = sleep
        self.retries = 0  # requests repeated after a 429/503, over the whole run
        self._texts: dict[str, str | None] = {}

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise TargetError(
                f"{response.request.method} {response.request.url} -> "
                f"HTTP {response.status_code}: {response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError:
            raise TargetError(f"{response.request.url} did not return JSON") from None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        from ingest.fetch import retry_after_s

        for attempt in range(RETRIES + 1):
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.HTTPError as error:
                raise TargetError(
                    f"{method} {self.client.base_url}{path} failed: {error}"
                ) from None
            wait = retry_after_s(response)
            if wait is None or wait > MAX_RETRY_WAIT_S or attempt == RETRIES:
                return response
            self.retries += 1
            self.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns on its last attempt

    def ask(self, question: str) -> dict[str, Any]:
        answer = self._json(self._send("POST", "/v1/ask", json={"question": question}))
        if not isinstance(answer, dict) or "answer" not in answer:
            raise TargetError(f"/v1/ask returned no Answer: {str(answer)[:200]}")
        return answer

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        params = {"q": question, "k": min(k * CHUNKS_PER_DOC, MAX_SEARCH_K)}
        body = self._json(self._send("GET", "/v1/search", params=params))
        results = body.get("results", []) if isinstance(body, dict) else []
        hits = [(str(r["doc_id"]), float(r.get("score") or 0.0)) for r in results]
        return _top_documents(hits, k)

    def document_text(self, doc_id: str) -> str | None:
        if doc_id not in self._texts:
            response = self._send("GET", f"/v1/documents/{quote(doc_id, safe='')}")
            if response.status_code == 404:
                self._texts[doc_id] = None
            else:
                text = self._json(response).get("text")
                self._texts[doc_id] = text if isinstance(text, str) else None
        return self._texts[doc_id]
