"""Bounded work: a time budget per document, and a stop request (SIGINT/SIGTERM) that the
ingest checks between steps, so no input can pin a core or outlive Ctrl-C."""

from __future__ import annotations

import threading
import time

from ingest.errors import IngestError


class IngestInterrupted(BaseException):
    """A stop was requested. A BaseException, like KeyboardInterrupt, so the per-source
    `except Exception` that keeps one bad file from stopping the rest lets it through."""


class DocumentTimeout(IngestError):
    """One document used up its time budget; it is reported failed and the rest go on."""


class Budget:
    """Seconds one document may spend in segmentation and embedding (wall clock, charged
    step by step), checked between bounded steps; `check` also honours a stop request."""

    def __init__(self, seconds: float, label: str, stop: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.label = label
        self.stop = stop
        self.spent = 0.0
        self._since: float | None = None

    def start(self) -> Budget:
        self._since = time.monotonic()
        return self

    def pause(self) -> None:
        """Stop the clock (work on other documents is not charged to this one)."""
        if self._since is not None:
            self.spent += time.monotonic() - self._since
            self._since = None

    def charge(self, seconds: float) -> None:
        self.spent += seconds

    def elapsed(self) -> float:
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return self.spent + running

    @property
    def over(self) -> bool:
        return self.elapsed() > self.seconds

    def check(self, doing: str = "") -> None:
        if self.stop is not None and self.stop.is_set():
            raise IngestInterrupted
        if self.over:
            raise DocumentTimeout(self.message(doing))

    def message(self, doing: str = "") -> str:
        during = f" while {doing}" if doing else ""
        return (
            f"{self.label}: over its time budget of {self.seconds:g} s{during}; not indexed "
            "(raise NEWSDESK_DOCUMENT_TIMEOUT_S to index a document this large)"
        )


def check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise IngestInterrupted
