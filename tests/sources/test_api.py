"""/v1/sources, /v1/feedback, /metrics and X-Request-ID through the app (TestClient, real
Chroma, the real model), and the `sources` / `feedback export` commands on the same index."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from api.app import create_app
from api.cli_feedback import register as register_feedback
from api.cli_ingest import register as register_ingest
from api.cli_sources import register as register_sources
from eval.questions import load_set
from rag.system import Newsdesk, build_newsdesk
from tests.sources.conftest import ENTRIES, NEW_ENTRY, NEW_QUESTION, watch_settings
from tests.sources.feedserver import FeedServer, feed_server, rss

READ, ADMIN = "src-read-key", "src-admin-key"


@pytest.fixture(scope="module")
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sources-api") / "data"


@pytest.fixture(scope="module")
def desk(data_dir: Path, embedder: Any) -> Newsdesk:
    settings = watch_settings(data_dir, api_keys=[READ], admin_keys=[ADMIN])
    return build_newsdesk(settings, embedder=embedder)


@pytest.fixture
def client(desk: Newsdesk) -> Iterator[TestClient]:
    with TestClient(create_app(desk.settings, desk)) as test_client:
        yield test_client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def flat(output: str) -> str:
    """CLI output with rich's box drawing and line wrapping taken out."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", output)


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample, parsed by prometheus-client's own parser (it raises on bad format)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_sources_over_http_follow_the_keys(client: TestClient, feeds: FeedServer) -> None:
    feeds.put("/feed.xml", rss(ENTRIES))
    body = {"url": feeds.url("/feed.xml"), "every": "1h", "name": "newsroom"}
    assert client.post("/v1/sources", json=body).status_code == 401
    assert client.post("/v1/sources", json=body, headers=auth(READ)).status_code == 403
    assert client.get("/v1/sources").status_code == 401

    created = client.post("/v1/sources", json=body, headers=auth(ADMIN))
    assert created.status_code == 201, created.text
    record = created.json()
    contract = {"name", "url", "every_s", "last_success", "last_error", "next_run",
                "consecutive_failures", "stalled", "documents"}  # fmt: skip
    assert contract <= set(record) and record["every_s"] == 3600 and record["stalled"] is False

    again = client.post("/v1/sources", json={**body, "name": "other"}, headers=auth(ADMIN))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    for bad in ({**body, "every": "15 minutes"}, {**body, "url": "/etc/passwd"}):
        assert client.post("/v1/sources", json=bad, headers=auth(ADMIN)).status_code == 422

    listed = client.get("/v1/sources", headers=auth(READ)).json()
    assert [s["name"] for s in listed["sources"]] == ["newsroom"]

    assert client.post("/v1/sources/newsroom/run", headers=auth(READ)).status_code == 403
    run = client.post("/v1/sources/newsroom/run", headers=auth(ADMIN))
    assert run.status_code == 200, run.text
    assert run.json()["outcome"] == "200" and run.json()["summary"]["added"] == len(ENTRIES)
    again_run = client.post("/v1/sources/newsroom/run", headers=auth(ADMIN)).json()
    assert (again_run["outcome"], again_run["embedded"]) == ("304", 0)
    assert client.post("/v1/sources/nope/run", headers=auth(ADMIN)).status_code == 404


def test_private_addresses_are_refused_unless_allowed(desk: Newsdesk) -> None:
    strict = desk.settings.model_copy(update={"allow_private_urls": False})
    with TestClient(create_app(strict, desk)) as strict_client:
        refused = strict_client.post(
            "/v1/sources", json={"url": "http://127.0.0.1:9/x.xml"}, headers=auth(ADMIN)
        )
    assert refused.status_code == 422 and "private or local" in refused.json()["error"]["message"]


def test_stats_count_stalled_sources(client: TestClient, feeds: FeedServer) -> None:
    feeds.fail("/down.xml", 500)
    body = {"url": feeds.url("/down.xml"), "every": "5s", "name": "down"}
    assert client.post("/v1/sources", json=body, headers=auth(ADMIN)).status_code == 201
    for _ in range(3):  # NEWSDESK_SOURCE_STALL_AFTER is 3 here
        result = client.post("/v1/sources/down/run", headers=auth(ADMIN)).json()
    assert result["source"]["stalled"] and "HTTP 500" in result["source"]["last_error"]
    stats = client.get("/v1/stats", headers=auth(READ)).json()
    assert stats["stalled_sources"] == 1 and stats["watched_sources"] == 2
    assert {"documents", "chunks", "sentences", "earliest", "latest"} <= set(stats)
    listed = {s["name"]: s for s in client.get("/v1/sources", headers=auth(READ)).json()["sources"]}
    assert listed["down"]["stalled"] and not listed["newsroom"]["stalled"]
    assert client.delete("/v1/sources/down", headers=auth(READ)).status_code == 403
    assert client.delete("/v1/sources/down", headers=auth(ADMIN)).json() == {"deleted": "down"}
    assert client.delete("/v1/sources/down", headers=auth(ADMIN)).status_code == 404


def test_request_ids_metrics_and_feedback(client: TestClient, feeds: FeedServer) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    fresh = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(fresh) == 3
    for forged in ('x" level=error msg="forged', "x" * 300):  # would fake or flood log lines
        answered = client.get("/healthz", headers={"X-Request-ID": forged})
        assert answered.headers["x-request-id"] not in (forged, "")
    assert client.get("/nowhere").headers["x-request-id"]  # errors carry one too
    assert client.get("/v1/stats").headers["x-request-id"]  # so do refusals (401)

    feeds.put("/feed.xml", rss([NEW_ENTRY, *ENTRIES]))
    assert client.post("/v1/sources/newsroom/run", headers=auth(ADMIN)).json()["outcome"] == "200"
    answer = client.post("/v1/ask", json={"question": NEW_QUESTION}, headers=auth(READ)).json()
    assert not answer["abstained"] and "77 megawatts" in answer["answer"]
    refused = client.post(
        "/v1/ask", json={"question": "What did the moon mining consortium pay for helium?"},
        headers=auth(READ),
    ).json()  # fmt: skip
    assert refused["abstained"]

    verdict = {"question": NEW_QUESTION, "answer": answer["answer"],
               "citations": answer["citations"], "verdict": "down", "comment": "wrong year"}  # fmt: skip
    assert client.post("/v1/feedback", json=verdict).status_code == 401
    stored = client.post("/v1/feedback", json=verdict, headers=auth(READ))
    assert stored.status_code == 201 and stored.json()["verdict"] == "down"
    bad = client.post("/v1/feedback", json={**verdict, "verdict": "meh"}, headers=auth(READ))
    assert bad.status_code == 422

    scraped = client.get("/metrics")  # open, like the probes
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    samples = metric_samples(scraped.text)
    assert all(name.startswith("newsdesk_") for name, _ in samples if "python" not in name)
    ask_ok = (("method", "POST"), ("route", "/v1/ask"), ("status", "200"))
    assert samples[("newsdesk_http_requests_total", ask_ok)] == 2
    assert samples[("newsdesk_http_request_duration_seconds_count", ask_ok)] == 2
    refused_stats = (("method", "GET"), ("route", "/v1/stats"), ("status", "401"))
    assert samples[("newsdesk_http_requests_total", refused_stats)] == 1
    assert samples[("newsdesk_answers_total", ())] == 2
    assert samples[("newsdesk_abstentions_total", ())] == 1
    polled = (("outcome", "200"), ("source", "newsroom"))
    assert samples[("newsdesk_source_polls_total", polled)] == 1
    assert samples[("newsdesk_ingest_documents_total", (("result", "added"),))] == 1
    assert samples[("newsdesk_index_documents", ())] == len(ENTRIES) + 1
    assert samples[("newsdesk_sources_stalled", ())] == 0
    assert samples[("newsdesk_sources", ())] == 1


def test_cli_sources_and_feedback_export(
    client: TestClient, data_dir: Path, feeds: FeedServer, tmp_path: Path, monkeypatch: Any
) -> None:
    """After the HTTP tests above: the same registry and feedback, read by the commands."""
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE_URLS", "true")
    app = typer.Typer()
    for register in (register_ingest, register_sources, register_feedback):
        register(app)
    runner = CliRunner()
    data = ["--data-dir", str(data_dir)]

    listed = runner.invoke(app, ["sources", "list", *data, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [s["name"] for s in json.loads(listed.stdout)["sources"]] == ["newsroom"]

    feeds.put("/page.html", b"<html><title>Quay</title><body><p>The quay opened.</p></body></html>",
              "text/html")  # fmt: skip
    added = runner.invoke(app, ["sources", "add", feeds.url("/page.html"), "--every", "15m",
                                "--name", "quay", *data, "--json"])  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["every_s"] == 900
    duplicate = runner.invoke(app, ["sources", "add", feeds.url("/page.html"), *data])
    assert duplicate.exit_code == 2 and "already watched" in flat(duplicate.output)
    bad = runner.invoke(app, ["sources", "add", feeds.url("/x.xml"), "--every", "soon", *data])
    assert bad.exit_code == 2
    assert runner.invoke(app, ["sources", "remove", "quay", *data]).exit_code == 0
    assert runner.invoke(app, ["sources", "remove", "quay", *data]).exit_code == 2
    stats = json.loads(runner.invoke(app, ["stats", *data, "--json"]).stdout)
    assert stats["watched_sources"] == 1 and stats["stalled_sources"] == 0

    out = tmp_path / "from-readers.jsonl"
    exported = runner.invoke(app, ["feedback", "export", "--as-eval-set", str(out), *data,
                                   "--json"])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["questions"] == 1
    [question] = load_set(out)  # a valid eval set, as `newsdesk eval --set` reads it
    assert question.question == NEW_QUESTION and question.answers == [] and question.doc_ids == []
    assert question.type == "number" and "needs-answers" in question.tags
    record = json.loads(out.read_text())
    assert record["feedback"]["comment"] == "wrong year" and record["feedback"]["cited_doc_ids"]
