"""SourcePoller: one poll of one watched source, and what it means for the source's health.

A URL is fetched conditionally (the ETag / Last-Modified of its last 200 go back as
If-None-Match / If-Modified-Since): a 304 is neither parsed nor embedded, a 200 goes
through the Ingestor, whose manifest hash and per-document hashes leave unchanged entries
alone. A local path is re-scanned; the Ingestor compares each file's content hash.
Failures push `next_run` back exponentially with jitter (never sooner than Retry-After);
`stall_after` failures in a row mark the source stalled until it succeeds again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import httpx

from ingest.errors import IngestError
from ingest.fetch import FetchError, fetch_url, http_client
from ingest.pipeline import Ingestor
from ingest.summary import IngestSummary
from rag.config import Settings
from rag.sources import Source, SourceRegistry

log = logging.getLogger("newsdesk.watch")
WriteLock = Callable[[], AbstractContextManager[object]]


@dataclass
class PollResult:
    source: Source  # the record as stored after this poll
    outcome: str  # "200" | "304" | "scanned" | "error"
    summary: IngestSummary | None  # None for a 304 and for failures before ingesting
    error: str | None
    seconds: float

    @property
    def embedded(self) -> int:
        """Texts (chunks and sentences) this poll embedded."""
        return self.summary.chunks + self.summary.sentences if self.summary else 0

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source.to_dict(),
            "outcome": self.outcome,
            "error": self.error,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 4),
            "summary": self.summary.to_dict() if self.summary else None,
        }


class PollFailed(IngestError):
    pass


def backoff_s(
    every_s: float, failures: int, *, cap_s: float, rng: random.Random | None = None
) -> float:
    """Wait after `failures` failures in a row: the interval doubled per failure, capped, with
    "equal jitter" (half fixed, half random) so many failing sources don't retry in step."""
    ceiling = max(every_s, cap_s)
    delay = min(ceiling, every_s * 2 ** max(0, failures - 1))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


class SourcePoller:
    def __init__(
        self,
        settings: Settings,
        registry: SourceRegistry,
        ingestor: Ingestor,
        *,
        write_lock: WriteLock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.ingestor = ingestor
        self.write_lock: WriteLock = write_lock or nullcontext
        self.rng = rng or random.Random()
        self._client: httpx.Client | None = None  # one for all polls: TLS setup is costly
        # Polls of different sources may run at once (the Watcher's workers): fetches
        # overlap, ingests take turns, so one process never writes two feeds together.
        self._ingesting = threading.Lock()
        self._client_lock = threading.Lock()

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def poll(self, source: Source) -> PollResult:
        """Poll now (whatever `next_run` says), store the outcome on the record, return it."""
        started, clock = time.time(), time.perf_counter()
        source.last_attempt = started
        source.polls += 1
        summary: IngestSummary | None = None
        try:
            if source.is_url:
                outcome, summary = self._poll_url(source)
            else:
                outcome, summary = (
                    "scanned",
                    self._ingest(lambda: self.ingestor.ingest([source.url])),
                )
            if summary is not None and summary.failed and not summary.documents:
                raise PollFailed(summary.failed[0]["error"])
        except Exception as error:  # any failure is this source's, never the poller's
            message = str(error) if isinstance(error, IngestError) else repr(error)
            retry_after = error.retry_after_s if isinstance(error, FetchError) else None
            self._failed(source, message, started, retry_after)
            result = PollResult(source, "error", summary, message, time.perf_counter() - clock)
        else:
            self._succeeded(source, outcome, summary, started)
            result = PollResult(source, outcome, summary, None, time.perf_counter() - clock)
        source.last_poll_ms = result.seconds * 1000
        self.registry.save(source)
        log.info(
            "polled %s: %s in %.0f ms, %d embedded%s",
            source.name, result.outcome, source.last_poll_ms, result.embedded,
            f" ({result.error})" if result.error else "",
            extra={"source": source.name, "outcome": result.outcome,
                   "duration_ms": round(source.last_poll_ms, 1), "embedded": result.embedded},
        )  # fmt: skip
        return result

    def _ingest(self, work: Callable[[], IngestSummary]) -> IngestSummary:
        with self._ingesting, self.write_lock():
            return work()

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = http_client()
            return self._client

    def _poll_url(self, source: Source) -> tuple[str, IngestSummary | None]:
        fetched = fetch_url(
            source.url,
            timeout_s=self.settings.fetch_timeout_s,
            max_bytes=self.settings.max_file_bytes,
            allow_private=self.settings.allow_private_urls,
            etag=source.etag,
            last_modified=source.last_modified,
            client=self._http(),
        )
        if fetched.status == 304:
            return "304", None
        summary = self._ingest(lambda: self.ingestor.ingest_fetched(source.url, fetched))
        if not (summary.failed and not summary.documents):
            # Validators only after the content is in: a failed ingest fetches in full again.
            source.etag, source.last_modified = fetched.etag, fetched.last_modified
        return "200", summary

    def _succeeded(
        self, source: Source, outcome: str, summary: IngestSummary | None, now: float
    ) -> None:
        source.last_success = now
        source.last_outcome = outcome
        source.consecutive_failures = 0
        source.stalled = False
        source.next_run = now + source.every_s
        source.last_embedded = summary.chunks + summary.sentences if summary else 0
        if summary is not None:
            source.documents = summary.documents
            if summary.failed:  # some entries were bad; the rest are in
                source.last_error = summary.failed[0]["error"]
                source.last_error_at = now

    def _failed(self, source: Source, message: str, now: float, retry_after: float | None) -> None:
        source.last_outcome = "error"
        source.last_error = message[:2000]
        source.last_error_at = now
        source.last_embedded = 0
        source.consecutive_failures += 1
        source.stalled = source.consecutive_failures >= self.settings.source_stall_after
        delay = backoff_s(
            source.every_s,
            source.consecutive_failures,
            cap_s=self.settings.source_backoff_max_s,
            rng=self.rng,
        )
        if retry_after is not None:
            delay = max(delay, retry_after)
        source.next_run = now + delay
