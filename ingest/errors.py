"""IngestError: a source that cannot be ingested; its message names what was wrong."""

from __future__ import annotations


class IngestError(Exception):
    """Raised for one bad source; the pipeline records it in `failed` and moves on."""
