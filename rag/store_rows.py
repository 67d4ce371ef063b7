"""How Chroma rows look: chunk hits, sentence ids, day numbers, `where` clauses from Filters,
and document metadata read back into DocumentInfo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rag.types import DocumentInfo, Filters

UNKNOWN_DAY = -1  # published_day of an undated document (Chroma metadata can't hold None)
__all__ = [
    "UNKNOWN_DAY", "ChunkHit", "day_number", "info_from_metadata", "sentence_id", "where_clause",
]  # fmt: skip


@dataclass
class ChunkHit:
    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    similarity: float


def sentence_id(doc_id: str, number: int) -> str:
    """The id of a document's `number`-th sentence (0-based, in text order): ingest writes it,
    and the reader reads a document's sentences by these ids (a primary-key lookup) rather than
    by a metadata filter, which Chroma answers by scanning."""
    return f"{doc_id}:s{number}"


def day_number(published: date | None) -> int:
    return published.toordinal() if published else UNKNOWN_DAY


def where_clause(filters: Filters | None, *, doc_field: str = "doc_id") -> dict[str, Any] | None:
    """Translate Filters into a Chroma `where`; undated documents never pass a date bound."""
    if filters is None or filters.is_empty():
        return None
    clauses: list[dict[str, Any]] = []
    if filters.since:
        clauses.append({"published_day": {"$gte": filters.since.toordinal()}})
    if filters.until:
        clauses.append({"published_day": {"$lte": filters.until.toordinal()}})
        clauses.append({"published_day": {"$gte": 0}})
    if filters.doc_ids:
        clauses.append({doc_field: {"$in": list(filters.doc_ids)}})
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def info_from_metadata(doc_id: str, meta: dict[str, Any]) -> DocumentInfo:
    published = meta.get("published") or None
    return DocumentInfo(
        doc_id=doc_id,
        title=str(meta.get("title", "")),
        url=meta.get("url") or None,
        published=date.fromisoformat(published) if published else None,
        source=str(meta.get("source", "")),
        content_hash=str(meta.get("content_hash", "")),
        guid=meta.get("guid") or None,
        n_chunks=int(meta.get("n_chunks", 0)),
        n_sentences=int(meta.get("n_sentences", 0)),
    )
