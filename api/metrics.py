"""Metrics: one app's Prometheus metrics (made in the app factory, never at import time).

Counters and histograms count what this process did. With several uvicorn workers
(`newsdesk serve --workers N`) the serve command points every worker at one
PROMETHEUS_MULTIPROC_DIR, and a scrape of any worker adds up all of them (prometheus-client's
multiprocess mode). Index size and source health are read from Chroma at scrape time, so
they are the same whichever process answers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.poll import PollResult
from ingest.summary import IngestSummary
from rag.sources import SourceRegistry
from rag.store import ChromaStore
from rag.types import Answer

log = logging.getLogger("newsdesk.api")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
StoreGetter = Callable[[], ChromaStore | None]


class IndexStateCollector(Collector):
    """Gauges read from Chroma when scraped: index size, watched and stalled sources."""

    def __init__(self, store: StoreGetter) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        store = self.store()
        if store is None:  # still loading
            return
        try:
            values = {
                "index_documents": store.documents.count(),
                "index_chunks": store.chunks.count(),
                "index_sentences": store.sentences.count(),
            }
            counts = SourceRegistry(store).counts()
        except Exception as error:  # the scrape still answers, saying the index is away
            log.warning("metrics: index unreachable: %s", error)
            yield GaugeMetricFamily("newsdesk_index_reachable", "1 if Chroma answered", value=0)
            return
        yield GaugeMetricFamily("newsdesk_index_reachable", "1 if Chroma answered", value=1)
        for name, value in values.items():
            what = name.removeprefix("index_")
            yield GaugeMetricFamily(f"newsdesk_{name}", f"Indexed {what}", value=value)
        yield GaugeMetricFamily(
            "newsdesk_sources", "Watched sources", value=counts["watched_sources"]
        )
        yield GaugeMetricFamily(
            "newsdesk_sources_stalled",
            "Watched sources failing too often in a row (see /v1/sources)",
            value=counts["stalled_sources"],
        )


class Metrics:
    def __init__(self, store: StoreGetter, *, multiproc_dir: str | None = None) -> None:
        self.multiproc_dir = multiproc_dir
        self.registry = CollectorRegistry()
        self.state = IndexStateCollector(store)
        by_request = ["method", "route", "status"]
        r = self.registry
        self.requests = Counter("newsdesk_http_requests", "HTTP requests", by_request, registry=r)
        self.latency = Histogram(
            "newsdesk_http_request_duration_seconds",
            "Time from request to the end of the response (a whole stream for SSE)",
            by_request,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.answers = Counter("newsdesk_answers", "Questions answered (abstentions included)",
                               registry=r)  # fmt: skip
        self.abstentions = Counter("newsdesk_abstentions", "Questions abstained on", registry=r)
        self.ingested = Counter(
            "newsdesk_ingest_documents",
            "Documents seen by ingests in this process, by result",
            ["result"],
            registry=r,
        )
        self.ingest_failures = Counter(
            "newsdesk_ingest_failures", "Sources or records that failed to ingest", registry=r
        )
        self.embedded = Counter(
            "newsdesk_ingest_embedded_texts", "Chunks and sentences embedded", registry=r
        )
        self.polls = Counter(
            "newsdesk_source_polls",
            "Polls of watched sources, by outcome (200, 304, scanned, error)",
            ["source", "outcome"],
            registry=r,
        )
        self.poll_seconds = Histogram(
            "newsdesk_source_poll_duration_seconds",
            "Time of one source poll",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        if multiproc_dir is None:
            self.registry.register(self.state)

    @classmethod
    def from_env(cls, store: StoreGetter) -> Metrics:
        return cls(store, multiproc_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def observe_answer(self, answer: Answer) -> None:
        self.answers.inc()
        if answer.abstained:
            self.abstentions.inc()

    def observe_ingest(self, summary: IngestSummary) -> None:
        for result in ("added", "updated", "unchanged", "removed"):
            count = getattr(summary, result)
            if count:
                self.ingested.labels(result).inc(count)
        if summary.failed:
            self.ingest_failures.inc(len(summary.failed))
        if summary.chunks or summary.sentences:
            self.embedded.inc(summary.chunks + summary.sentences)

    def observe_poll(self, result: PollResult) -> None:
        self.polls.labels(result.source.name, result.outcome).inc()
        self.poll_seconds.labels(result.outcome).observe(result.seconds)
        if result.summary is not None:
            self.observe_ingest(result.summary)

    def render(self) -> bytes:
        """The text exposition format; with workers, every worker's counts added up."""
        if self.multiproc_dir is None:
            return bytes(generate_latest(self.registry))
        from prometheus_client import multiprocess

        scrape = CollectorRegistry()
        multiprocess.MultiProcessCollector(scrape, path=self.multiproc_dir)
        scrape.register(self.state)
        return bytes(generate_latest(scrape))
