"""HttpTarget over a real socket, and the optional LLM judge against an OpenAI-style server.

No `newsdesk serve` existed when this was written, so the server here is a small stdlib
http.server speaking the three endpoints the runner uses, backed by the real Newsdesk.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import httpx
import pytest

from api.cli_eval import run_eval_command
from eval.runner import evaluate
from eval.targets import HttpTarget, InProcessTarget
from rag.system import Newsdesk
from tests.eval.conftest import TinyCorpus

Route = Callable[[BaseHTTPRequestHandler, str, dict[str, Any] | None], tuple[int, Any]]


@contextmanager
def serve(route: Route) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: dict[str, Any] | None) -> None:
            status, payload = route(self, self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._reply(json.loads(self.rfile.read(length) or b"{}"))

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def newsdesk_routes(
    newsdesk: Newsdesk, *, broken_question: str = "", hidden_doc: str = ""
) -> Route:
    def route(handler: Any, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        url = urlparse(path)
        if url.path == "/v1/ask" and body is not None:
            if body["question"] == broken_question:
                return 500, {"detail": "boom"}
            return 200, newsdesk.ask(body["question"]).to_dict()
        if url.path == "/v1/search":
            params = parse_qs(url.query)
            hits = newsdesk.search(params["q"][0], k=int(params["k"][0]))
            return 200, {
                "results": [{"doc_id": h.doc_id, "score": h.score, "text": h.text} for h in hits]
            }
        if url.path.startswith("/v1/documents/"):
            doc_id = unquote(url.path.rsplit("/", 1)[1])
            found = newsdesk.store.get_document(doc_id)
            if found is None or doc_id == hidden_doc:
                return 404, {"detail": "not found"}
            return 200, {"doc_id": doc_id, "title": found[0].title, "text": found[1]}
        return 404, {"detail": "no route"}

    return route


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report["metrics"].items() if k != "latency_ms"}


def test_http_target_scores_like_in_process(tiny: TinyCorpus) -> None:
    newsdesk = tiny.newsdesk()
    local = evaluate(InProcessTarget(newsdesk), tiny.questions, {})
    with serve(newsdesk_routes(newsdesk)) as url, httpx.Client(base_url=url, timeout=30) as client:
        remote = evaluate(HttpTarget(client), tiny.questions, {})
    assert comparable(remote) == comparable(local)
    assert remote["config"]["target"] == url
    assert [q["retrieved_doc_ids"] for q in remote["questions"]] == [
        q["retrieved_doc_ids"] for q in local["questions"]
    ]


def test_http_failures_fail_only_their_question(tiny: TinyCorpus) -> None:
    newsdesk = tiny.newsdesk()
    broken = tiny.questions[0]
    hidden = tiny.questions[1].doc_ids[0]
    routes = newsdesk_routes(newsdesk, broken_question=broken.question, hidden_doc=hidden)
    with serve(routes) as url, httpx.Client(base_url=url, timeout=30) as client:
        report = evaluate(HttpTarget(client), tiny.questions, {})
    first = report["questions"][0]
    assert "HTTP 500" in first["error"] and not first["pass"]
    assert report["metrics"]["summary"]["errors"] == 1
    # the hidden document's quotes cannot be checked: they count as inexact
    assert report["metrics"]["citations"]["quote_exactness"] < 1.0


def test_cli_url_target(
    tiny: TinyCorpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(newsdesk_routes(tiny.newsdesk())) as url:
        code = run_eval_command(set_path=tiny.set_path, url=url, out=tmp_path, as_json=True)
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["config"]["target"] == url
    assert report["metrics"]["citations"]["quote_exactness"] == 1.0
    assert (tmp_path / "report.html").exists()


def test_llm_judge_only_when_configured(
    tiny: TinyCorpus,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prompts: list[dict[str, Any]] = []

    def chat(handler: Any, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        assert path == "/v1/chat/completions" and body is not None
        prompts.append(body)
        declined = "(declined)" in body["messages"][0]["content"]
        verdict = {"faithfulness": 1.0, "correctness": 0.0 if declined else 1.0}
        if "Borealis" in body["messages"][0]["content"]:
            return 200, {"choices": [{"message": {"role": "assistant", "content": "no idea"}}]}
        return 200, {
            "choices": [{"message": {"role": "assistant", "content": json.dumps(verdict)}}]
        }

    run_eval_command(set_path=tiny.set_path, data_dir=tiny.data_dir, embedder=tiny.embedder,
                     out=None, as_json=True)  # fmt: skip
    assert "llm_judge" not in json.loads(capsys.readouterr().out)["metrics"]

    with serve(chat) as url:
        monkeypatch.setenv("NEWSDESK_LLM_BASE_URL", url + "/v1")
        monkeypatch.setenv("NEWSDESK_LLM_MODEL", "judge-model")
        run_eval_command(set_path=tiny.set_path, data_dir=tiny.data_dir, embedder=tiny.embedder,
                         out=None, as_json=True)  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert len(prompts) == len(tiny.questions)
    assert {p["model"] for p in prompts} == {"judge-model"}
    unjudged = [q["id"] for q in report["questions"] if q["llm_judge"] is None]
    assert unjudged == [q.id for q in tiny.questions if "Borealis" in q.question]
    judged = [q for q in report["questions"] if q["llm_judge"]]
    abstained = sum(q["abstained"] for q in judged)
    assert report["metrics"]["llm_judge"] == {
        "faithfulness": 1.0,
        "correctness": pytest.approx(1 - abstained / len(judged)),
        "judged": len(judged),
    }
