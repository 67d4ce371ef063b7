"""Watcher: polls due sources while this process holds the poller lease.

A hand-written loop, not APScheduler: the schedule (each source's next_run and backoff) has
to live in Chroma so whichever process takes the lease over continues it, and APScheduler's
job stores are SQL/MongoDB/Redis, not Chroma; what is left is one sleep loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ingest.pipeline import Ingestor
from ingest.poll import PollResult, SourcePoller, WriteLock
from rag.config import Settings
from rag.lease import ChromaLease
from rag.sources import Source, SourceRegistry
from rag.store import ChromaStore
from rag.types import Embedder

log = logging.getLogger("newsdesk.watch")
LEASE_NAME = "source-poller"
OnPoll = Callable[[PollResult], None]


class Watcher:
    """`tick()` polls what is due now; `start()` runs ticks (and the lease heartbeat) in
    background threads until `stop()`."""

    def __init__(
        self,
        registry: SourceRegistry,
        poller: SourcePoller,
        lease: ChromaLease,
        *,
        tick_s: float = 1.0,
        host_min_interval_s: float = 1.0,
        on_poll: OnPoll | None = None,
    ) -> None:
        self.registry = registry
        self.poller = poller
        self.lease = lease
        self.tick_s = tick_s
        self.host_min_interval_s = host_min_interval_s
        self.on_poll = on_poll
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def due(self, now: float) -> list[Source]:
        return sorted(
            (s for s in self.registry.list() if s.next_run <= now), key=lambda s: s.next_run
        )

    def tick(self) -> list[PollResult]:
        """Poll every due source once, oldest due first, if we hold the lease. A host polled
        less than `host_min_interval_s` ago (by anyone: the records say when) waits."""
        if not self.lease.held():
            return []
        sources = self.registry.list()
        last_by_host: dict[str, float] = {}
        for source in sources:
            if source.host and source.last_attempt is not None:
                last_by_host[source.host] = max(
                    last_by_host.get(source.host, 0.0), source.last_attempt
                )
        results = []
        for source in sorted(sources, key=lambda s: s.next_run):
            now = time.time()
            if source.next_run > now or self._stop.is_set() or not self.lease.held():
                continue
            host = source.host
            if host and now - last_by_host.get(host, 0.0) < self.host_min_interval_s:
                continue  # due, but its host was just polled; a later tick takes it
            fresh = self.registry.get(source.name)  # removed or polled meanwhile?
            if fresh is None or fresh.next_run > now:
                continue
            result = self.poller.poll(fresh)
            if host:
                last_by_host[host] = result.source.last_attempt or now
            results.append(result)
            if self.on_poll is not None:
                self.on_poll(result)
        return results

    # -- background threads ----------------------------------------------------------------

    def start(self) -> Watcher:
        self._stop.clear()
        self.lease.maintain()
        self._threads = [
            threading.Thread(target=self._heartbeat, name="newsdesk-lease", daemon=True),
            threading.Thread(target=self._loop, name="newsdesk-watch", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the threads to end (safe from a signal handler); `stop()` waits for them."""
        self._stop.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop after the poll in progress, and hand the lease back."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout_s)
        self._threads = []
        self.lease.release()
        self.poller.close()

    def wait(self) -> None:
        """Block until stopped (the `newsdesk watch` foreground)."""
        while not self._stop.wait(1.0):
            pass

    def _heartbeat(self) -> None:
        # The holder renews at a third of the lease; the others look every tick, so a dead
        # holder is replaced within the lease plus one tick.
        while not self._stop.wait(
            self.lease.renew_every_s
            if self.lease.held()
            else min(self.lease.renew_every_s, self.tick_s)
        ):
            was = self.lease.held()
            holds = self.lease.maintain()
            if holds != was:
                log.info("poller lease %s by %s", "taken" if holds else "lost", self.lease.holder)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # Chroma away for a moment: try again on the next tick
                log.exception("watch tick failed")
            self._stop.wait(self.tick_s)


def build_watcher(
    settings: Settings,
    store: ChromaStore,
    embedder: Embedder,
    *,
    write_lock: WriteLock | None = None,
    on_poll: OnPoll | None = None,
) -> Watcher:
    """The Watcher for `settings` over this store and embedder (shared with the API's)."""
    registry = SourceRegistry(store)
    poller = SourcePoller(settings, registry, Ingestor(settings, store, embedder),
                          write_lock=write_lock)  # fmt: skip
    return Watcher(
        registry,
        poller,
        ChromaLease(store, LEASE_NAME, ttl_s=settings.watch_lease_s),
        tick_s=settings.watch_tick_s,
        host_min_interval_s=settings.source_host_min_interval_s,
        on_poll=on_poll,
    )
