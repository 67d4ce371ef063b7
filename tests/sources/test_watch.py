"""The Watcher loop and the poller lease on real Chroma: failing sources back off and stall
while the others keep polling, one host is never polled too often, one lease holder at a time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ingest.sources import new_source
from ingest.watch import LEASE_NAME, Watcher
from rag.lease import ChromaLease
from rag.sources import SourceRegistry
from tests.sources.conftest import ENTRIES, Desk, make_desk, watch_settings
from tests.sources.feedserver import FeedServer, rss

# timing-sensitive (gaps between polls within 50 ms): `make test` runs it alone, after the
# parallel pass
pytestmark = pytest.mark.serial


def watcher_for(desk: Desk, **options: Any) -> Watcher:
    lease = ChromaLease(desk.store, LEASE_NAME, ttl_s=desk.settings.watch_lease_s)
    options.setdefault("tick_s", desk.settings.watch_tick_s)
    options.setdefault("host_min_interval_s", desk.settings.source_host_min_interval_s)
    return Watcher(desk.registry, desk.poller, lease, **options)


def run_for(watcher: Watcher, seconds: float) -> None:
    watcher.start()
    try:
        time.sleep(seconds)
    finally:
        watcher.stop()


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


def test_failing_sources_back_off_and_stall_while_another_keeps_polling(
    desk: Desk, feeds: FeedServer
) -> None:
    feeds.put("/good.xml", rss(ENTRIES))
    feeds.fail("/broken.xml", 500)
    feeds.stall("/slow.xml", 3.0)  # answers after the 0.5 s fetch timeout
    for path in ("/good.xml", "/broken.xml", "/slow.xml"):
        desk.registry.add(new_source(desk.settings, feeds.url(path), every="1s", name=path[1:-4]))

    run_for(watcher_for(desk), 7.0)

    sources = {s.name: s for s in desk.registry.list()}
    for name, error in (("broken", "HTTP 500"), ("slow", "timed out")):
        assert sources[name].stalled, sources[name]
        assert sources[name].consecutive_failures >= 3
        assert error in (sources[name].last_error or "")
    broken_times = [h.at for h in feeds.hits_for("/broken.xml")]
    assert len(broken_times) >= 3
    # Backing off: the n-th wait is 2^(n-1) intervals with half of it random, so no wait is
    # shorter than the one before (give or take a tick) and the second is at least 1 s.
    waits = gaps(broken_times)
    assert waits[1] >= 1.0 - 0.05, waits
    assert all(later >= earlier - 0.15 for earlier, later in zip(waits, waits[1:])), waits
    good = sources["good"]
    assert not good.stalled and good.consecutive_failures == 0
    good_hits = feeds.hits_for("/good.xml")
    assert len(good_hits) >= 4, "the healthy source stopped polling"
    assert good_hits[-1].at > broken_times[2]  # still polled after the others stalled
    assert {h.status for h in good_hits[1:]} == {304}
    assert desk.registry.counts() == {"watched_sources": 3, "stalled_sources": 2}

    feeds.put("/broken.xml", rss(ENTRIES[:1]))  # it recovers: the next success clears the stall
    healed = desk.poller.poll(desk.registry.require("broken"))
    assert healed.outcome == "200" and not healed.source.stalled
    assert desk.registry.counts()["stalled_sources"] == 1


def test_a_hanging_feed_holds_only_its_own_worker_and_is_never_polled_twice_at_once(
    tmp_path: Path, embedder: Any, feeds: FeedServer
) -> None:
    desk = make_desk(watch_settings(tmp_path / "data", fetch_timeout_s=5.0), embedder)
    feeds.stall("/hanging.xml", 2.5)  # answers within the timeout, but slowly
    feeds.put("/good.xml", rss(ENTRIES[:1]))
    for path in ("/hanging.xml", "/good.xml"):
        desk.registry.add(new_source(desk.settings, feeds.url(path), every="1s", name=path[1:-4]))

    run_for(watcher_for(desk, workers=2), 3.2)

    hanging = [h.at for h in feeds.hits_for("/hanging.xml")]
    # due again on every tick while it hangs, but asked again only once the answer is in
    assert all(gap >= 2.5 - 0.05 for gap in gaps(hanging)), hanging
    good = feeds.hits_for("/good.xml")
    assert len(good) >= 3, "a hanging feed held up the others"
    assert good[1].at < hanging[0] + 2.5  # polled again while the hanging fetch waited
    assert desk.registry.require("hanging").last_outcome == "200"


def test_watcher_workers_must_be_positive(desk: Desk) -> None:
    with pytest.raises(ValueError, match="workers"):
        watcher_for(desk, workers=0)


def test_one_host_is_never_polled_more_often_than_its_minimum(
    tmp_path: Path, embedder: Any, feeds: FeedServer
) -> None:
    desk = make_desk(watch_settings(tmp_path / "data", source_host_min_interval_s=1.5), embedder)
    for index in range(3):  # three feeds on one host, each due every second
        feeds.put(f"/f{index}.xml", rss(ENTRIES[index : index + 1]))
        desk.registry.add(new_source(desk.settings, feeds.url(f"/f{index}.xml"), every="1s"))

    run_for(watcher_for(desk), 6.0)

    times = sorted(h.at for h in feeds.hits)
    assert len(times) >= 3
    assert min(gaps(times)) >= 1.5 - 0.05, gaps(times)
    assert {h.path for h in feeds.hits} == {"/f0.xml", "/f1.xml", "/f2.xml"}  # all get turns


def test_the_watcher_polls_only_while_it_holds_the_lease(desk: Desk, feeds: FeedServer) -> None:
    feeds.put("/feed.xml", rss(ENTRIES))
    desk.registry.add(new_source(desk.settings, feeds.url("/feed.xml"), every="1s"))
    other = ChromaLease(desk.store, LEASE_NAME, ttl_s=30, holder="another-process")
    assert other.maintain()

    watcher = watcher_for(desk)
    run_for(watcher, 1.5)
    assert feeds.hits == [] and not watcher.lease.held()

    other.release()  # a clean shutdown hands the lease over at once
    run_for(watcher, 1.5)
    assert feeds.hits, "the watcher did not take the released lease"
    assert other.current() is not None and other.current().holder == watcher.lease.holder  # type: ignore[union-attr]


def test_lease_one_holder_and_takeover_after_expiry(desk: Desk) -> None:
    first = ChromaLease(desk.store, "poller-test", ttl_s=1.0, holder="first")
    second = ChromaLease(desk.store, "poller-test", ttl_s=1.0, holder="second")
    assert first.maintain() and first.held()
    assert not second.maintain() and not second.held()
    assert first.maintain()  # renewal

    time.sleep(1.1)  # `first` stops renewing, as a killed process would
    assert not first.held(), "a holder must stop acting before its lease can be taken"
    assert second.maintain() and second.held()
    term = second.current()
    assert term is not None and (term.holder, term.term) == ("second", 2)
    assert not first.maintain()  # the old holder sees the newer term and stays out


def test_racing_claims_have_one_winner(desk: Desk) -> None:
    import threading

    leases = [ChromaLease(desk.store, "race", ttl_s=5.0, holder=f"h{i}") for i in range(4)]
    won: list[bool] = []
    barrier = threading.Barrier(len(leases))

    def claim(lease: ChromaLease) -> None:
        barrier.wait()
        won.append(lease.maintain())

    threads = [threading.Thread(target=claim, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False, False, False, True]


def test_removed_sources_are_not_polled_or_resurrected(desk: Desk, feeds: FeedServer) -> None:
    feeds.put("/feed.xml", rss(ENTRIES))
    source = desk.registry.add(new_source(desk.settings, feeds.url("/feed.xml"), every="1s"))
    assert desk.registry.remove(source.name)
    desk.poller.poll(source)  # a poll that was already under way when it was removed
    assert desk.registry.list() == []
    assert not SourceRegistry(desk.store).remove(source.name)


@pytest.mark.parametrize("text, seconds", [("5s", 5), ("15m", 900), ("1h", 3600), ("1h30m", 5400),
                                           ("90", 90), ("1d", 86400)])  # fmt: skip
def test_intervals(text: str, seconds: float) -> None:
    from rag.interval import format_interval, parse_interval

    assert parse_interval(text) == seconds
    assert parse_interval(format_interval(seconds)) == seconds


@pytest.mark.parametrize("bad", ["15 minutes", "", "0s", "-5s", "5x", "400d"])
def test_bad_intervals_are_refused(bad: str) -> None:
    from rag.interval import parse_interval

    with pytest.raises(ValueError):
        parse_interval(bad)
