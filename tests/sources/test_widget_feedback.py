"""A real `newsdesk serve --watch` (JSON logs, on a `chroma run`) and the widget in Chromium:
a new feed entry is answered without a restart, a reader's thumbs down with a comment is
stored and exported as an eval question, and the log lines carry request ids."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.chroma_sidecar import ChromaSidecar
from eval.questions import load_set
from tests.servers import cli_command, cli_env, free_port, stop, wait_ready
from tests.sources.conftest import ENTRIES, NEW_ENTRY, NEW_QUESTION
from tests.sources.feedserver import FeedServer, feed_server, rss
from tests.widget.conftest import CHROMIUM_ARGS
from tests.widget.test_widget import widget_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HOST = "newsdesk-widget"
ADMIN = {"Authorization": "Bearer fresh-admin"}
READ = {"Authorization": "Bearer fresh-widget"}  # the public key a site's page carries


@dataclass
class Served:
    base_url: str
    env: dict[str, str]
    log: Path
    workdir: Path


@pytest.fixture(scope="module")
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, feeds: FeedServer) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("fresh")
    sidecar = ChromaSidecar(workdir / "chroma", start_timeout_s=60).start()
    env = cli_env(
        NEWSDESK_CHROMA_URL=sidecar.url,
        NEWSDESK_DATA_DIR=str(workdir / "data"),
        NEWSDESK_API_KEYS="fresh-widget",
        NEWSDESK_ADMIN_KEYS="fresh-admin",
        NEWSDESK_CORS_ORIGINS=feeds.base_url,  # the site embedding the widget
        NEWSDESK_RATE_LIMIT="1000000/minute",
        NEWSDESK_ALLOW_PRIVATE_URLS="true",
        NEWSDESK_WATCH_TICK_S="0.2",
        NEWSDESK_LOG_FORMAT="json",
    )
    port = free_port()
    log = workdir / "serve.log"
    command = cli_command("serve", "--watch", "--host", "127.0.0.1", "--port", str(port))
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=workdir, env=env, stderr=sink)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        yield Served(f"http://127.0.0.1:{port}", env, log, workdir)
    finally:
        stop(process)
        sidecar.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    import shutil

    if not shutil.which("chromium"):
        pytest.skip("Debian chromium not installed (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def sources(served: Served) -> list[dict[str, Any]]:
    listing = httpx.get(f"{served.base_url}/v1/sources", headers=READ, timeout=10).json()
    return list(listing["sources"])


def test_new_entry_answered_in_the_widget_and_a_thumbs_down_becomes_an_eval_question(
    served: Served, feeds: FeedServer, browser: Any, tmp_path: Path
) -> None:
    feeds.put("/feed.xml", rss(ENTRIES))
    body = {"url": feeds.url("/feed.xml"), "every": "1s", "name": "wire"}
    added = httpx.post(f"{served.base_url}/v1/sources", json=body, headers=ADMIN)
    assert added.status_code == 201, added.text
    deadline = time.monotonic() + 60
    while not sources(served)[0]["last_success"]:  # the first poll ingested the feed
        assert time.monotonic() < deadline, "the source was never polled"
        time.sleep(0.1)
    assert sources(served)[0]["documents"] == len(ENTRIES)

    # The new entry arrives; /v1/ask answers it without a restart.
    feeds.put("/feed.xml", rss([NEW_ENTRY, *ENTRIES]))
    changed_at = time.monotonic()
    while True:
        asked = httpx.post(f"{served.base_url}/v1/ask", json={"question": NEW_QUESTION},
                           headers={**READ, "X-Request-ID": "fresh-ask-1"}, timeout=30)  # fmt: skip
        assert asked.headers["x-request-id"] == "fresh-ask-1"
        if "77 megawatts" in asked.json()["answer"]:
            break
        assert time.monotonic() - changed_at < 30, asked.json()
        time.sleep(0.1)
    print(f"\nfeed change -> answerable over HTTP: {time.monotonic() - changed_at:.2f} s")

    # ... and so does the widget on a site's page with a read key, where the reader says the
    # answer was wrong.
    site = (f'<!doctype html><title>site</title><script src="{served.base_url}/widget.js" '
            f'data-api-key="{READ["Authorization"].split()[1]}" defer></script>')  # fmt: skip
    feeds.put("/site.html", site.encode(), "text/html; charset=utf-8")
    with widget_page(browser, feeds.url("/site.html")) as page:
        page.locator(f"{HOST} .launch").click()
        page.locator(f"{HOST} textarea").fill(NEW_QUESTION)
        page.locator(f"{HOST} textarea").press("Enter")
        bot = page.locator(f"{HOST} .bot").last
        bot.locator(".fb").wait_for()
        assert "77 megawatts" in bot.inner_text()
        bot.locator(".vote.down").click()
        assert bot.locator(".vote.down").get_attribute("aria-pressed") == "true"
        bot.locator(".fbc textarea").fill("It should say when the reactor starts")
        bot.locator(".fbc .sendfb").click()
        bot.locator(".fbs", has_text="Thanks for your feedback.").wait_for()
        assert bot.locator(".vote").count() == 0  # one verdict per answer

    exported = tmp_path / "from-readers.jsonl"
    done = subprocess.run(
        [*cli_command("feedback", "export", "--as-eval-set", str(exported)), "--json"],
        cwd=served.workdir, env=served.env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    [question] = load_set(exported)
    assert question.question == NEW_QUESTION and question.answers == []
    record = json.loads(exported.read_text())
    assert record["feedback"]["comment"] == "It should say when the reactor starts"
    assert "77 megawatts" in record["feedback"]["answer"] and record["feedback"]["request_id"]

    # JSON log lines: the access line of our request carries its id, route, status, timing.
    lines = [
        json.loads(line) for line in served.log.read_text().splitlines() if line.startswith("{")
    ]
    ours = [
        e
        for e in lines
        if e.get("request_id") == "fresh-ask-1" and e["logger"] == "newsdesk.access"
    ]
    assert ours and all(e["route"] == "/v1/ask" and e["status"] == 200 for e in ours)
    assert all(e["duration_ms"] > 0 and "time" in e for e in ours)
    feedback_line = [e for e in lines if e.get("request_id") == record["feedback"]["request_id"]]
    assert feedback_line and feedback_line[0]["route"] == "/v1/feedback"
    assert feedback_line[0]["status"] == 201
    polls = [e for e in lines if e["logger"] == "newsdesk.watch" and e.get("source") == "wire"]
    assert polls and {"outcome", "duration_ms", "embedded"} <= set(polls[-1])
