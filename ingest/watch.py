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
from concurrent.futures import Future, ThreadPoolExecutor

from ingest.pipeline import Ingestor
from ingest.poll import PollResult, SourcePoller, WriteLock
from rag.config import Settings
from rag.lease import ChromaLease
from rag.sources import SourceRegistry
from rag.store import ChromaStore
from rag.types import Embedder

log = logging.getLogger("newsdesk.watch")
LEASE_NAME = "source-poller"
OnPoll = Callable[[PollResult], None]


class Watcher:
    """`tick()` polls what is due now; `start()` runs ticks (and the lease heartbeat) in
    background threads until `stop()`.

    Polls run on a small pool (`workers` at once), so one slow or hanging source holds up
    only its own slot: the others keep their schedule. A source is never polled twice at
    once, and a host with `host_min_interval_s > 0` gets one request at a time, started at
    least that far apart."""

    def __init__(
        self,
        registry: SourceRegistry,
        poller: SourcePoller,
        lease: ChromaLease,
        *,
        tick_s: float = 1.0,
        host_min_interval_s: float = 1.0,
        workers: int = 4,
        on_poll: OnPoll | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.registry = registry
        self.poller = poller
        self.lease = lease
        self.tick_s = tick_s
        self.host_min_interval_s = host_min_interval_s
        self.workers = workers
        self.on_poll = on_poll
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()  # over the two maps below
        self._running: dict[str, Future[PollResult | None]] = {}  # source name -> its poll
        self._host_started: dict[str, float] = {}  # host -> when we last sent it a request

    def tick(self) -> list[PollResult]:
        """Poll every due source once (oldest due first, `workers` at a time) if we hold the
        lease, and return when those polls are done."""
        futures = self.dispatch()
        return [r for r in (f.result() for f in futures) if r is not None]

    def dispatch(self) -> list[Future[PollResult | None]]:
        """Start polls of the due sources that are not being polled, on free workers, and
        return without waiting. A host polled less than `host_min_interval_s` ago (by anyone:
        the records say when) or, when that minimum is set, being polled now, waits for a
        later tick; so does a due source when all workers are busy."""
        if self._stop.is_set() or not self.lease.held():
            return []
        sources = self.registry.list()
        started: list[Future[PollResult | None]] = []
        with self._guard:
            last_by_host = dict(self._host_started)
            for source in sources:
                if source.host and source.last_attempt is not None:
                    last_by_host[source.host] = max(
                        last_by_host.get(source.host, 0.0), source.last_attempt
                    )
            busy_hosts = {s.host for s in sources if s.name in self._running and s.host}
            for source in sorted(sources, key=lambda s: s.next_run):
                now = time.time()
                if len(self._running) >= self.workers:
                    break
                if source.next_run > now or source.name in self._running:
                    continue
                host = source.host
                if (
                    host
                    and self.host_min_interval_s > 0
                    and (
                        host in busy_hosts
                        or now - last_by_host.get(host, 0.0) < self.host_min_interval_s
                    )
                ):
                    continue  # due, but its host was just polled; a later tick takes it
                if host:
                    last_by_host[host] = self._host_started[host] = now
                    busy_hosts.add(host)
                future = self._executor().submit(self._poll, source.name)
                self._running[source.name] = future
                started.append(future)
        for future in started:
            future.add_done_callback(self._finished)
        return started

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="newsdesk-poll")
        return self._pool

    def _poll(self, name: str) -> PollResult | None:
        try:
            if self._stop.is_set() or not self.lease.held():
                return None
            fresh = self.registry.get(name)  # removed or polled meanwhile?
            if fresh is None or fresh.next_run > time.time():
                return None
            return self.poller.poll(fresh)
        finally:
            with self._guard:
                self._running.pop(name, None)

    def _finished(self, future: Future[PollResult | None]) -> None:
        if future.cancelled() or future.exception() is not None:
            if not future.cancelled():
                log.error("poll failed", exc_info=future.exception())
            return
        result = future.result()
        if result is not None and self.on_poll is not None:
            try:
                self.on_poll(result)
            except Exception:  # a metrics hook must not end the poll thread's work
                log.exception("on_poll hook failed")

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
        """Stop after the polls in progress (polls not yet begun are dropped), and hand the
        lease back."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout_s)
        self._threads = []
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
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
                self.dispatch()
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
        workers=settings.watch_workers,
        on_poll=on_poll,
    )
