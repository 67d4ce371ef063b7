"""Two real `newsdesk serve --watch` processes on one `chroma run`: they poll as one, a feed
change is answerable from the process that did not poll, and after a kill -9 of the poller
the other one takes over within the lease."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.chroma_sidecar import ChromaSidecar
from tests.servers import cli_command, cli_env, free_port, stop, wait_ready
from tests.sources.conftest import ENTRIES, NEW_ENTRY, NEW_QUESTION
from tests.sources.feedserver import Entry, FeedServer, feed_server, rss
from tests.sources.test_api import metric_samples

# timing-sensitive: `make test` runs it alone, after the parallel pass
pytestmark = [pytest.mark.slow, pytest.mark.serial]
LEASE_S = 3.0
EVERY_S = 1.0
ADMIN = {"Authorization": "Bearer watch-admin"}
SECOND_ENTRY = Entry(
    "harbor-crane",
    "Port of Elmstead buys six cranes",
    "The Port of Elmstead bought six electric cranes for 48 million euros.",
    published="Wed, 04 Mar 2026 09:00:00 GMT",
)


@dataclass
class Api:
    base_url: str
    process: subprocess.Popen[bytes]

    def polls(self) -> float:
        text = httpx.get(f"{self.base_url}/metrics", timeout=10).text
        samples = metric_samples(text)
        return sum(v for (name, _), v in samples.items() if name == "newsdesk_source_polls_total")

    def ask(self, question: str) -> dict[str, object]:
        response = httpx.post(f"{self.base_url}/v1/ask", json={"question": question},
                              headers=ADMIN, timeout=30)  # fmt: skip
        response.raise_for_status()
        return dict(response.json())

    def poller(self) -> dict[str, object] | None:
        listing = httpx.get(f"{self.base_url}/v1/sources", headers=ADMIN, timeout=10).json()
        return listing["poller"]


def serve_watch(workdir: Path, chroma_url: str, name: str) -> Api:
    port = free_port()
    env = cli_env(
        NEWSDESK_CHROMA_URL=chroma_url,
        NEWSDESK_DATA_DIR=str(workdir / name),
        NEWSDESK_ADMIN_KEYS="watch-admin",
        NEWSDESK_RATE_LIMIT="1000000/minute",
        NEWSDESK_ALLOW_PRIVATE_URLS="true",
        NEWSDESK_WATCH_LEASE_S=str(LEASE_S),
        NEWSDESK_WATCH_TICK_S="0.2",
        NEWSDESK_SOURCE_HOST_MIN_INTERVAL_S="0",
    )
    command = cli_command("serve", "--watch", "--host", "127.0.0.1", "--port", str(port))
    process = subprocess.Popen([*command, "--log-level", "warning"], cwd=workdir, env=env)
    return Api(f"http://127.0.0.1:{port}", process)


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> float:
    """Seconds until `condition()` is truthy, checked every 50 ms."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, (
            f"timed out waiting for {what} ({condition!r})"
        )
        time.sleep(0.05)
    return time.monotonic() - started


@dataclass
class Answers:
    """A condition: `api` answers `question` with `fact`; keeps the last answer for failures."""

    api: Api
    question: str
    fact: str
    last: object = None

    def __call__(self) -> bool:
        answer = self.api.ask(self.question)
        self.last = answer
        return not answer["abstained"] and self.fact in str(answer["answer"])

    def __repr__(self) -> str:
        return f"last answer: {self.last}"


@pytest.fixture(scope="module")
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


@pytest.fixture(scope="module")
def apis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Api]]:
    workdir = tmp_path_factory.mktemp("watchers")
    sidecar = ChromaSidecar(workdir / "chroma", start_timeout_s=60).start()
    first = serve_watch(workdir, sidecar.url, "api-a")
    second = serve_watch(workdir, sidecar.url, "api-b")
    try:
        for api in (first, second):
            wait_ready(api.base_url, api.process)
        yield first, second
    finally:
        stop(first.process)
        stop(second.process)
        sidecar.stop()


def holder_pid(api: Api) -> int:
    poller = api.poller()
    assert poller is not None, "nobody holds the poller lease"
    match = re.match(r"^[^:]*:(\d+):", str(poller["holder"]))
    assert match, poller
    return int(match.group(1))


def test_two_watchers_poll_as_one_and_the_other_takes_over(
    apis: tuple[Api, Api], feeds: FeedServer
) -> None:
    first, second = apis
    feeds.put("/feed.xml", rss(ENTRIES))
    body = {"url": feeds.url("/feed.xml"), "every": f"{EVERY_S:g}s", "name": "newsroom"}
    assert httpx.post(f"{first.base_url}/v1/sources", json=body, headers=ADMIN).status_code == 201
    wait_for(lambda: len(feeds.hits_for("/feed.xml")) >= 4, 30, "the first polls")

    # One lease holder; only its poll counter moves, and it accounts for every request.
    pid = holder_pid(first)
    assert pid == holder_pid(second) and pid in (first.process.pid, second.process.pid)
    holder, standby = (first, second) if pid == first.process.pid else (second, first)
    time.sleep(3)
    before = len(feeds.hits_for("/feed.xml"))
    polled = holder.polls()
    after = len(feeds.hits_for("/feed.xml"))
    assert standby.polls() == 0
    assert before <= polled <= after  # every request to the feed came from the holder
    assert {h.status for h in feeds.hits_for("/feed.xml")[1:]} == {304}

    # A feed change is answerable from the process that did not poll, without a restart.
    assert standby.ask(NEW_QUESTION)["abstained"]
    feeds.put("/feed.xml", rss([NEW_ENTRY, *ENTRIES]))
    fresh_s = wait_for(
        Answers(standby, NEW_QUESTION, "77 megawatts"), 30, "the new entry to be answerable"
    )
    print(
        f"\nfeed change -> answerable from the other process: {fresh_s:.2f} s (every {EVERY_S:g} s)"
    )

    # kill -9 the poller: the standby takes the lease over within it.
    killed_at = time.time()
    os.kill(holder.process.pid, signal.SIGKILL)
    holder.process.wait(timeout=10)
    dead_at = time.time()  # a request of the killed process may still arrive before this
    wait_for(lambda: any(h.at > dead_at for h in feeds.hits_for("/feed.xml")),
             LEASE_S + 10, "another process to poll")  # fmt: skip
    takeover_s = min(h.at for h in feeds.hits_for("/feed.xml") if h.at > dead_at) - killed_at
    print(
        f"poller killed -> next poll by the other process: {takeover_s:.2f} s (lease {LEASE_S:g} s)"
    )
    assert takeover_s <= LEASE_S + EVERY_S + 1.0
    assert holder_pid(standby) == standby.process.pid
    assert standby.polls() > 0

    feeds.put("/feed.xml", rss([SECOND_ENTRY, NEW_ENTRY, *ENTRIES]))
    question = "How much did the Port of Elmstead pay for its electric cranes?"
    wait_for(Answers(standby, question, "48 million euros"), 30, "the new poller to ingest")
    [source] = httpx.get(f"{standby.base_url}/v1/sources", headers=ADMIN).json()["sources"]
    assert source["documents"] == len(ENTRIES) + 2 and not source["stalled"]
