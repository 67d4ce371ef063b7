"""IngestSummary: what one ingest run did (DESIGN.md keys, plus a few extra ones)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    documents: int = 0  # documents seen in this run
    chunks: int = 0  # chunks embedded in this run
    failed: list[dict[str, str]] = field(default_factory=list)
    sentences: int = 0  # sentences embedded in this run
    duplicates: int = 0  # documents skipped because the same story is already stored
    seconds: float = 0.0
    # documents kept with something dropped (e.g. a url that is not http(s))
    warnings: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False  # stopped by a signal; a rerun finishes the rest

    def fail(self, source: str, error: str) -> None:
        self.failed.append({"source": source, "error": error})

    def warn(self, source: str, warning: str) -> None:
        self.warnings.append({"source": source, "warning": warning})

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "documents": self.documents,
            "chunks": self.chunks,
            "failed": list(self.failed),
            "sentences": self.sentences,
            "duplicates": self.duplicates,
            "seconds": round(self.seconds, 3),
            "warnings": list(self.warnings),
            "interrupted": self.interrupted,
        }
