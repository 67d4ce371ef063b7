"""`newsdesk watch`, `newsdesk watch --once` and `newsdesk sources run` as real processes on a
`chroma run`: the standalone poller polls, stops cleanly on SIGTERM and hands its lease back."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.chroma_sidecar import ChromaSidecar
from ingest.sources import new_source
from ingest.watch import LEASE_NAME
from rag.lease import ChromaLease
from rag.sources import SourceRegistry
from rag.store import ChromaStore
from tests.servers import cli_command, cli_env
from tests.sources.conftest import ENTRIES, watch_settings
from tests.sources.feedserver import FeedServer, rss

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sidecar = ChromaSidecar(tmp_path_factory.mktemp("watch-cli"), start_timeout_s=60).start()
    try:
        yield sidecar.url
    finally:
        sidecar.stop()


def test_watch_polls_stops_on_sigterm_and_once_polls_what_is_due(
    chroma_url: str, feeds: FeedServer, tmp_path: Path
) -> None:
    settings = watch_settings(tmp_path / "data", chroma_url=chroma_url)
    store = ChromaStore.from_settings(settings)
    registry = SourceRegistry(store)
    feeds.put("/feed.xml", rss(ENTRIES))
    registry.add(new_source(settings, feeds.url("/feed.xml"), every="1s", name="wire"))
    env = cli_env(
        NEWSDESK_CHROMA_URL=chroma_url,
        NEWSDESK_DATA_DIR=str(tmp_path / "data"),
        NEWSDESK_ALLOW_PRIVATE_URLS="true",
        NEWSDESK_WATCH_TICK_S="0.2",
        NEWSDESK_WATCH_LEASE_S="5",
    )

    watcher = subprocess.Popen(cli_command("watch"), cwd=tmp_path, env=env)
    try:
        deadline = time.monotonic() + 90
        while len(feeds.hits_for("/feed.xml")) < 3:
            assert watcher.poll() is None, "newsdesk watch exited"
            assert time.monotonic() < deadline, "newsdesk watch never polled"
            time.sleep(0.1)
        term = ChromaLease(store, LEASE_NAME, ttl_s=5).current()
        assert term is not None and f":{watcher.pid}:" in term.holder and not term.expired_now()
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=30) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
    released = ChromaLease(store, LEASE_NAME, ttl_s=5).current()
    assert released is not None and released.expired_now()  # the next poller need not wait
    source = registry.require("wire")
    assert source.documents == len(ENTRIES) and source.last_outcome == "304"

    time.sleep(1.0)  # due again
    once = subprocess.run([*cli_command("watch", "--once")], cwd=tmp_path, env=env,
                          capture_output=True, timeout=120)  # fmt: skip
    assert once.returncode == 0, once.stderr.decode()[-2000:]
    assert "polled 1 source" in once.stdout.decode()

    ran = subprocess.run([*cli_command("sources", "run", "wire", "--json")], cwd=tmp_path,
                         env=env, capture_output=True, timeout=120)  # fmt: skip
    assert ran.returncode == 0, ran.stderr.decode()[-2000:]
    [result] = json.loads(ran.stdout)
    assert (result["outcome"], result["embedded"]) == ("304", 0)
    assert registry.require("wire").polls == source.polls + 2
