"""ChromaLease: one holder at a time across processes, with an expiry, stored in Chroma.

Chroma has no compare-and-set, but its `add()` leaves an existing id untouched, so among
processes adding the same id the first one wins and every reader sees that winner. The
lease is a series of terms: record `<name>:<term>` names the holder of that term. The
holder renews its own record's expiry; when the newest term has expired (its holder died
or lost contact), contenders add term + 1 and the first add wins. A holder that sees a
newer term, or whose own renewal is overdue on its monotonic clock, stops at once.

Expiries are wall-clock times: hosts sharing a Chroma server need clocks synchronized to
well within the lease (NTP does that).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from rag.sources import iso
from rag.store import ChromaStore

log = logging.getLogger("newsdesk.lease")
TERM_DIGITS = 12


def holder_id() -> str:
    """Who holds a lease: host and pid for people reading it, a random tail for uniqueness."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Term:
    name: str
    term: int
    holder: str
    expires_at: float
    acquired_at: float

    def expired_now(self) -> bool:
        return self.expires_at <= time.time()

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "term": self.term,
            "acquired_at": iso(self.acquired_at),
            "expires_at": iso(self.expires_at),
            "expired": self.expired_now(),
        }


class ChromaLease:
    """`maintain()` takes or renews the lease; `held()` says whether to act on it now."""

    def __init__(
        self, store: ChromaStore, name: str, *, ttl_s: float, holder: str | None = None
    ) -> None:
        self.store = store
        self.name = name
        self.ttl_s = ttl_s
        self.holder = holder or holder_id()
        # Act only until a fraction of the lease short of its expiry, by our own clock: a
        # renewal that is late (Chroma unreachable, process paused) stops us before a
        # contender may take over.
        self._held_until = 0.0
        self._lock = threading.Lock()

    @property
    def _records(self) -> Any:
        return self.store.records("leases")

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 3

    def current(self) -> Term | None:
        got = self._records.get(where={"name": self.name}, include=["metadatas"])
        terms = [Term(**{k: m[k] for k in Term.__dataclass_fields__}) for m in got["metadatas"]]
        return max(terms, key=lambda t: t.term, default=None)

    def held(self) -> bool:
        return time.monotonic() < self._held_until

    def maintain(self) -> bool:
        """Take the lease if it is free or expired, renew it if ours; True while we hold it."""
        with self._lock:
            started = time.monotonic()
            try:
                won = self._maintain()
            except Exception as error:  # Chroma unreachable: we can't know, so we don't hold
                log.warning("lease %s: %s: %s", self.name, type(error).__name__, error)
                won = False
            self._held_until = started + 0.8 * self.ttl_s if won else 0.0
            return won

    def _maintain(self) -> bool:
        current = self.current()
        now = time.time()
        if current is None:
            return self._claim(1)
        if current.holder == self.holder and current.expires_at > now and self.held():
            self._write(current.term, current.acquired_at, upsert=True)
            newest = self.current()  # a contender may have claimed the next term meanwhile
            return newest is not None and newest.term == current.term
        if current.expires_at <= now:
            return self._claim(current.term + 1)
        return False

    def _claim(self, term: int) -> bool:
        self._write(term, time.time(), upsert=False)
        got = self._records.get(ids=[self._id(term)], include=["metadatas"])
        won = bool(got["ids"]) and got["metadatas"][0]["holder"] == self.holder
        if won:
            log.info("lease %s: term %d taken by %s", self.name, term, self.holder)
            old = [self._id(t) for t in range(max(1, term - 50), term - 1)]
            if old:
                self._records.delete(ids=old)  # keep the last two terms for the record
        return won

    def release(self) -> None:
        """Give the lease up now (a clean shutdown), so another process need not wait."""
        with self._lock:
            self._held_until = 0.0
            try:
                current = self.current()
                if current is not None and current.holder == self.holder:
                    self._write(current.term, current.acquired_at, upsert=True, expires_at=0.0)
            except Exception as error:
                log.warning("lease %s: release failed: %s", self.name, error)

    def _id(self, term: int) -> str:
        return f"{self.name}:{term:0{TERM_DIGITS}d}"

    def _write(
        self, term: int, acquired_at: float, *, upsert: bool, expires_at: float | None = None
    ) -> None:
        meta = {
            "name": self.name,
            "term": term,
            "holder": self.holder,
            "expires_at": time.time() + self.ttl_s if expires_at is None else expires_at,
            "acquired_at": acquired_at,
        }
        write = self._records.upsert if upsert else self._records.add
        write(ids=[self._id(term)], embeddings=[[1.0]], documents=[""], metadatas=[meta])
