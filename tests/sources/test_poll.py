"""Polling one source against a real loopback server: conditional GETs, only new entries
embedded, 304s that cost nothing, pages and folders, Retry-After."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx

from ingest.fetch import retry_after_s, retry_after_seconds
from ingest.poll import backoff_s
from ingest.sources import new_source
from rag.sources import Source
from tests.sources.conftest import ENTRIES, NEW_ENTRY, Desk
from tests.sources.feedserver import Entry, FeedServer, rss


def add(desk: Desk, url: str, every: str = "1s", name: str | None = None) -> Source:
    return desk.registry.add(new_source(desk.settings, url, every=every, name=name))


def test_add_a_feed_and_poll_it(desk: Desk, feeds: FeedServer) -> None:
    feeds.put("/feed.xml", rss(ENTRIES))
    source = add(desk, feeds.url("/feed.xml"), name="newsroom")
    assert desk.registry.get("newsroom") is not None

    result = desk.poller.poll(source)

    assert result.outcome == "200" and result.error is None
    assert result.summary is not None and result.summary.added == len(ENTRIES)
    stored = desk.registry.require("newsroom")
    assert stored.documents == len(ENTRIES) and stored.consecutive_failures == 0
    assert stored.last_success is not None and stored.next_run >= stored.last_success + 1.0
    assert stored.etag and stored.last_modified  # validators kept for the next poll
    titles = {info.title for info in desk.store.all_document_infos()}
    assert titles == {e.title for e in ENTRIES}
    assert feeds.hits_for("/feed.xml")[0].conditional is False


def test_a_changed_feed_embeds_only_its_new_entry(desk: Desk, feeds: FeedServer) -> None:
    feeds.put("/feed.xml", rss(ENTRIES))
    source = add(desk, feeds.url("/feed.xml"))
    desk.poller.poll(source)
    desk.embedder.texts.clear()

    feeds.put("/feed.xml", rss([NEW_ENTRY, *ENTRIES]))
    result = desk.poller.poll(desk.registry.require(source.name))

    assert result.outcome == "200"
    assert result.summary is not None
    assert (result.summary.added, result.summary.unchanged) == (1, len(ENTRIES))
    # Every text embedded is a chunk or sentence of the new entry, and nothing else was.
    assert desk.embedder.texts and all(t in NEW_ENTRY.text for t in desk.embedder.texts)
    assert result.embedded == len(desk.embedder.texts)
    hit = feeds.hits_for("/feed.xml")[-1]
    assert hit.conditional and hit.status == 200


def test_an_unchanged_feed_is_a_304_that_embeds_nothing(desk: Desk, feeds: FeedServer) -> None:
    """The cost figure of the issue: polling an unchanged 50-entry feed."""
    entries = [
        Entry(f"item-{i}", f"Plant {i} expands", f"Plant {i} adds {i + 10} jobs in Year {i}.")
        for i in range(50)
    ]
    feeds.put("/big.xml", rss(entries))
    source = add(desk, feeds.url("/big.xml"))
    assert desk.poller.poll(source).summary.added == 50  # type: ignore[union-attr]
    desk.embedder.texts.clear()

    timings, with_record = [], []
    for _ in range(10):
        started = time.perf_counter()
        result = desk.poller.poll(desk.registry.require(source.name))
        with_record.append((time.perf_counter() - started) * 1000)
        assert result.outcome == "304" and result.embedded == 0
        timings.append(result.seconds * 1000)
    assert desk.embedder.texts == []
    hits = feeds.hits_for("/big.xml")
    assert [h.status for h in hits[1:]] == [304] * 10
    assert all(h.if_none_match and h.if_modified_since for h in hits[1:])
    stored = desk.registry.require(source.name)
    assert stored.last_outcome == "304" and stored.documents == 50 and stored.polls == 11
    print(
        f"\nunchanged 50-entry feed: conditional GET and decision median "
        f"{statistics.median(timings):.1f} ms (max {max(timings):.1f}), with the source record "
        f"written to Chroma {statistics.median(with_record):.1f} ms, 0 embeddings"
    )


def test_last_modified_alone_is_used_when_there_is_no_etag(desk: Desk, feeds: FeedServer) -> None:
    feeds.put("/dated.xml", rss(ENTRIES), etag=False)
    source = add(desk, feeds.url("/dated.xml"))
    desk.poller.poll(source)
    result = desk.poller.poll(desk.registry.require(source.name))
    hit = feeds.hits_for("/dated.xml")[-1]
    assert hit.if_none_match is None and hit.if_modified_since
    assert result.outcome == "304" and hit.status == 304


def test_a_server_without_validators_is_still_not_re_embedded(
    desk: Desk, feeds: FeedServer
) -> None:
    """No ETag, no Last-Modified: every poll is a 200, and the content hash stops the work."""
    feeds.put("/plain.xml", rss(ENTRIES), etag=False, last_modified=False)
    source = add(desk, feeds.url("/plain.xml"))
    desk.poller.poll(source)
    desk.embedder.texts.clear()
    result = desk.poller.poll(desk.registry.require(source.name))
    assert result.outcome == "200" and result.embedded == 0 and desk.embedder.texts == []
    assert result.summary is not None and result.summary.unchanged == len(ENTRIES)


def test_a_page_whose_text_changes_is_updated(desk: Desk, feeds: FeedServer) -> None:
    page = "<html><head><title>Harbor update</title></head><body><article><h1>Harbor update</h1><p>{}</p></article></body></html>"
    feeds.put("/page.html", page.format("The harbor handled 12 ships.").encode(), "text/html")
    source = add(desk, feeds.url("/page.html"))
    first = desk.poller.poll(source)
    assert first.outcome == "200" and first.summary and first.summary.added == 1

    assert desk.poller.poll(desk.registry.require(source.name)).outcome == "304"
    feeds.put("/page.html", page.format("The harbor handled 19 ships.").encode(), "text/html")
    changed = desk.poller.poll(desk.registry.require(source.name))
    assert changed.outcome == "200" and changed.summary and changed.summary.updated == 1
    [info] = desk.store.all_document_infos()
    assert "19 ships" in (desk.store.get_document(info.doc_id) or ("", ""))[1]


def test_a_local_folder_is_rescanned_by_content_hash(desk: Desk, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.md").write_text("# Alder opens a depot\n\nAlder opened a depot in Ghent.\n")
    (folder / "b.md").write_text("# Birch hires\n\nBirch hired 12 people in Porto.\n")
    source = add(desk, str(folder))
    assert source.url == str(folder.resolve()) and not source.is_url
    first = desk.poller.poll(source)
    assert first.outcome == "scanned" and first.summary and first.summary.added == 2

    desk.embedder.texts.clear()
    same = desk.poller.poll(desk.registry.require(source.name))
    assert same.embedded == 0 and desk.embedder.texts == []

    (folder / "b.md").write_text("# Birch hires\n\nBirch hired 31 people in Porto.\n")
    changed = desk.poller.poll(desk.registry.require(source.name))
    assert changed.summary and (changed.summary.updated, changed.summary.unchanged) == (1, 1)
    assert all("Alder" not in t for t in desk.embedder.texts)


def test_retry_after_pushes_the_next_poll_back(desk: Desk, feeds: FeedServer) -> None:
    feeds.fail("/busy.xml", 503, retry_after="120")
    source = add(desk, feeds.url("/busy.xml"))
    before = time.time()
    result = desk.poller.poll(source)
    assert result.outcome == "error" and "503" in (result.error or "")
    stored = desk.registry.require(source.name)
    assert stored.next_run >= before + 120  # far beyond the 1 s interval's backoff
    assert stored.consecutive_failures == 1 and not stored.stalled

    later = datetime.now(UTC) + timedelta(seconds=90)
    assert 80 <= (retry_after_seconds(format_datetime(later, usegmt=True)) or 0) <= 90
    assert retry_after_seconds("soon") is None and retry_after_seconds("7") == 7.0


def test_clients_wait_what_a_429_or_503_asks() -> None:
    """The eval and ingest clients' wait: the header's seconds or date, 1 s when it says none."""
    request = httpx.Request("GET", "http://127.0.0.1/")

    def wait(status: int, header: str | None = None) -> float | None:
        headers = {"retry-after": header} if header is not None else {}
        return retry_after_s(httpx.Response(status, headers=headers, request=request))

    assert wait(200, "5") is None and wait(404) is None
    assert wait(429) == 1.0 and wait(503, "soon") == 1.0
    assert wait(429, "7") == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 20 <= (wait(503, later) or 0) <= 30


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    for failures, (low, high) in {1: (30, 60), 2: (60, 120), 3: (120, 240)}.items():
        waits = [backoff_s(60, failures, cap_s=3600) for _ in range(200)]
        assert low <= min(waits) and max(waits) <= high
        assert len({round(w, 3) for w in waits}) > 100  # jittered, not in step
    assert max(backoff_s(60, 30, cap_s=3600) for _ in range(50)) <= 3600
    assert backoff_s(7200, 3, cap_s=3600) >= 3600  # a long interval is never shortened
