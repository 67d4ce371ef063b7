"""new_source: a checked Source record from what a person typed (`sources add`, POST /v1/sources)."""

from __future__ import annotations

import time
from pathlib import Path

from ingest.errors import IngestError
from ingest.fetch import check_url
from rag.config import Settings
from rag.interval import parse_interval
from rag.sources import Source, default_name, is_url


def new_source(
    settings: Settings,
    location: str,
    *,
    every: str | float | None = None,
    name: str | None = None,
    allow_paths: bool = True,
) -> Source:
    """A Source due now. URLs pass the same checks as `ingest` (http(s), no private hosts unless
    allowed); paths must exist and are stored absolute. Raises IngestError or ValueError."""
    text = location.strip()
    if is_url(text):
        check_url(text, allow_private=settings.allow_private_urls)
    elif not allow_paths:
        raise IngestError(f"{text}: only http(s) URLs can be watched from here")
    else:
        path = Path(text).expanduser()
        if not path.exists():
            raise IngestError(f"{text}: no such file, folder or URL")
        text = str(path.resolve())
    every_s = parse_interval(settings.source_every if every is None else every)
    return Source(name=name or default_name(text), url=text, every_s=every_s, next_run=time.time())
