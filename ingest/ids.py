"""Stable document ids (DESIGN.md): the record's own id, else a hash of its url, guid or path."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePath


def stable_id(key: str) -> str:
    """16 hex chars of SHA-256: short enough for URLs, long enough never to collide here."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def path_doc_id(path: Path | str, root: Path | str | None) -> str:
    """doc_id of a Markdown/HTML/TXT file: hash of its path relative to the ingest root."""
    path = Path(path)
    if root is not None:
        try:
            relative: PurePath = path.resolve().relative_to(Path(root).resolve())
        except ValueError:
            relative = path
    else:
        relative = path
    return stable_id(relative.as_posix())


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_doc_id(guid: str | None, link: str | None, fallback: str) -> str:
    """doc_id of a feed entry: hash of its guid/id, else its link, else `fallback` (feed#index)."""
    return stable_id(guid or link or fallback)


def record_doc_id(record_id: str | None, url: str | None, fallback: str) -> str:
    """doc_id of a JSON record: its own `id` verbatim, else hash of its url, else of `fallback`."""
    if record_id is not None and str(record_id).strip():
        return str(record_id).strip()
    return stable_id(url or fallback)
