"""SourceRegistry: watched feeds, pages and folders, one Chroma record each.

The registry lives in the index's Chroma like the documents, so every process (API workers,
`newsdesk watch`, the CLI) sees one list, and a poller that takes over continues where the
previous one stopped: each record carries its schedule (`next_run`) and its health.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rag.store import ChromaStore

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Fields whose "not yet" is None; Chroma metadata can't hold None, so they are stored as -1/"".
_OPTIONAL_TIMES = ("last_success", "last_error_at", "last_attempt")


class SourceError(ValueError):
    """A registry request that cannot be done; the message says why."""


class DuplicateSource(SourceError):
    pass


class UnknownSource(SourceError):
    pass


def is_url(location: str) -> bool:
    return bool(re.match(r"^https?://", location, re.I))


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def default_name(location: str) -> str:
    """A readable name from a URL (host and path) or a path (its last parts)."""
    if is_url(location):
        parsed = urlparse(location)
        raw = f"{parsed.hostname or 'source'}{parsed.path}"
    else:
        raw = "-".join(Path(location).parts[-2:])
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-._")[:64].strip("-._")
    return slug or "source"


@dataclass
class Source:
    """One watched source and its health. Times are Unix seconds."""

    name: str
    url: str  # an http(s) URL, or an absolute local path (a file or a folder)
    every_s: float
    last_success: float | None = None
    last_error: str | None = None
    next_run: float = 0.0
    consecutive_failures: int = 0
    stalled: bool = False
    documents: int = 0
    # extras (the contract's fields stay as above)
    created_at: float = field(default_factory=time.time)
    last_attempt: float | None = None
    last_error_at: float | None = None
    last_outcome: str = ""  # "200" | "304" | "error" | "scanned" (a local path)
    last_embedded: int = 0  # texts embedded by the last successful poll
    last_poll_ms: float = 0.0
    polls: int = 0
    etag: str = ""  # validators from the last successful 200, sent back as conditions
    last_modified: str = ""

    @property
    def is_url(self) -> bool:
        return is_url(self.url)

    @property
    def host(self) -> str | None:
        return (urlparse(self.url).hostname or None) if self.is_url else None

    def to_metadata(self) -> dict[str, Any]:
        meta = asdict(self)
        for key in _OPTIONAL_TIMES:
            meta[key] = -1.0 if meta[key] is None else float(meta[key])
        meta["last_error"] = meta["last_error"] or ""
        return meta

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Source:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in meta.items() if k in known}
        for key in _OPTIONAL_TIMES:
            if float(values.get(key, -1.0)) < 0:
                values[key] = None
        values["last_error"] = values.get("last_error") or None
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The public record (DESIGN.md "Sources"), times as ISO 8601 UTC."""
        return {
            "name": self.name,
            "url": self.url,
            "every_s": self.every_s,
            "last_success": iso(self.last_success),
            "last_error": self.last_error,
            "next_run": iso(self.next_run),
            "consecutive_failures": self.consecutive_failures,
            "stalled": self.stalled,
            "documents": self.documents,
            "kind": "url" if self.is_url else "path",
            "last_attempt": iso(self.last_attempt),
            "last_error_at": iso(self.last_error_at),
            "last_outcome": self.last_outcome or None,
            "last_embedded": self.last_embedded,
            "last_poll_ms": round(self.last_poll_ms, 1),
            "polls": self.polls,
        }


class SourceRegistry:
    """Add, list, update and remove Sources in the `<prefix>-sources` collection."""

    def __init__(self, store: ChromaStore) -> None:
        self.store = store

    @property
    def _records(self) -> Any:
        return self.store.records("sources")

    def _write(self, source: Source, *, insert: bool = False) -> None:
        # add() keeps an existing id untouched, so the first of two racing adds wins.
        write = self._records.add if insert else self._records.upsert
        write(ids=[source.name], embeddings=[[1.0]], documents=[source.url],
              metadatas=[source.to_metadata()])  # fmt: skip

    def add(self, source: Source) -> Source:
        if not NAME_RE.match(source.name):
            raise SourceError(
                f"source name {source.name!r}: use 1-64 letters, digits, '.', '_' or '-'"
            )
        if self.get(source.name) is not None:
            raise DuplicateSource(f"a source named {source.name!r} already exists")
        for other in self.list():
            if other.url == source.url:
                raise DuplicateSource(f"{source.url} is already watched as {other.name!r}")
        self._write(source, insert=True)
        stored = self.get(source.name)
        if stored is None or stored.url != source.url:
            raise DuplicateSource(f"a source named {source.name!r} already exists")
        return stored

    def get(self, name: str) -> Source | None:
        got = self._records.get(ids=[name], include=["metadatas"])
        return Source.from_metadata(got["metadatas"][0]) if got["ids"] else None

    def require(self, name: str) -> Source:
        found = self.get(name)
        if found is None:
            raise UnknownSource(f"no source named {name!r}")
        return found

    def list(self) -> list[Source]:
        got = self._records.get(include=["metadatas"])
        return sorted((Source.from_metadata(m) for m in got["metadatas"]), key=lambda s: s.name)

    def save(self, source: Source) -> None:
        """Store a poll's outcome, unless the source was removed meanwhile: Chroma's update()
        leaves a missing id missing, in one call."""
        self._records.update(ids=[source.name], metadatas=[source.to_metadata()])

    def remove(self, name: str) -> bool:
        existed = bool(self._records.get(ids=[name], include=[])["ids"])
        self._records.delete(ids=[name])
        return existed

    def counts(self) -> dict[str, int]:
        """For /v1/stats: how many sources are watched and how many are stalled."""
        sources = self.list()
        return {"watched_sources": len(sources), "stalled_sources": sum(s.stalled for s in sources)}
