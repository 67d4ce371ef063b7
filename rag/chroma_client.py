"""Opening Chroma (embedded or a server), and opening it again when another process wrote an
embedded store: embedded Chroma keeps its vector index in this process's memory, so after a
foreign write it answers with ids it cannot find ("Error finding id") or rows without
metadata until the client is opened afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.config import Settings


class StoreChanged(RuntimeError):
    """The store changed underneath this process (rows vanished mid-read); reopen and retry."""


def connect(settings: Settings) -> Any:
    """A Chroma client for `settings`: an HttpClient for NEWSDESK_CHROMA_URL, else embedded."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        parsed = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=chroma_settings,
        )
    path = Path(settings.data_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def forget_shared_system(client: Any) -> Any:
    """Chroma shares one System per path inside a process, so a new PersistentClient would get
    the same stale one back: take it out of that cache. Returns it (stop it once no reader
    still uses it), or None."""
    from chromadb.api.shared_system_client import SharedSystemClient

    identifier = getattr(client, "_identifier", None)
    if identifier is None:
        return None
    SharedSystemClient._identifier_to_refcount.pop(identifier, None)
    return SharedSystemClient._identifier_to_system.pop(identifier, None)


def is_store_changed(error: BaseException) -> bool:
    """Errors that mean "the embedded index is stale", not a bug or bad input."""
    if isinstance(error, StoreChanged):
        return True
    try:
        from chromadb.errors import InternalError, NotFoundError
    except ImportError:  # pragma: no cover - chromadb is a dependency
        return False
    # InternalError: "Error executing plan: Internal error: Error finding id";
    # NotFoundError: a collection recreated by another process under a new id.
    return isinstance(error, InternalError | NotFoundError)
