"""Names of sources: which files a folder ingest reads, and safe names for uploads."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.formats import EXTENSIONS

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
_UPLOAD_DEPTH = 8  # folders kept in an upload's name


def safe_upload_name(name: str) -> str:
    """An upload's name as a relative path of harmless parts: no '..', no absolute or hidden
    part, no backslash, at most 8 folders deep. Nothing is written under it; it names the
    source and gives the document the same doc_id as a local ingest of that relative path."""
    without_drive = re.sub(r"^[A-Za-z]:(?=[\\/])", "", name or "")
    parts = [
        _UNSAFE_NAME.sub("_", part).strip(" .")[:120] for part in re.split(r"[\\/]", without_drive)
    ]
    kept = [part for part in parts if part][-(_UPLOAD_DEPTH + 1) :]
    return "/".join(kept) or "upload"


def source_files(folder: Path) -> list[Path]:
    """The files a folder ingest reads: known extensions, recursively, skipping hidden paths
    and README/LICENSE/CHANGELOG files."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix.lower() in EXTENSIONS
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and not path.name.lower().startswith(("readme.", "license.", "changelog."))
    )


def is_url(value: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value))
