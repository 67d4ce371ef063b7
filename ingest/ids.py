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
