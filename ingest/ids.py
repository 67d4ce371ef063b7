"""Stable document ids (DESIGN.md): the record's own id, else a hash of its url, guid, path or
content; plus the checks a given id and a stored url must pass."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path, PurePath
from urllib.parse import urlsplit

MAX_ID_CHARS = 200  # ids travel in URLs (/v1/documents/{doc_id}) and Chroma ids
_SEPARATORS = ("/", "\\")


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


def id_problem(value: str) -> str | None:
    """Why `value` cannot be a document id, or None. An id names the document in URLs and
    paths of every client, so it has a length cap, no path separators and no control
    characters (a `../../etc/passwd` id could be stored but never read or deleted)."""
    if not value.strip():
        return "is empty"
    if len(value) > MAX_ID_CHARS:
        return f"is {len(value)} characters long (at most {MAX_ID_CHARS})"
    if any(separator in value for separator in _SEPARATORS):
        return "contains a path separator ('/' or '\\')"
    if value.strip() in (".", ".."):
        return "is a relative path ('.' or '..')"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        return "contains a control or invisible formatting character"
    return None


def record_doc_id(record_id: str | None, url: str | None, title: str, text: str) -> str:
    """doc_id of a JSON record: its own `id` verbatim, else hash of its url, else hash of its
    normalised title and text (two different id-less records never share an id; the very
    same record sent twice does). Callers check `record_id` with `id_problem` first."""
    if record_id is not None and str(record_id).strip():
        return str(record_id).strip()
    if url:
        return stable_id(url)
    return stable_id(f"content:{title}\n{text}")


def safe_url(value: str | None) -> str | None:
    """`value` if it is an absolute http(s) URL, else None: a stored url is shown as a link
    by the widget and every client, so javascript:, data: or file: never get that far."""
    if not value:
        return None
    url = value.strip()
    if re.search(r"[\x00-\x20\x7f]", url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
