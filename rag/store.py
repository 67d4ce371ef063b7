"""ChromaStore: all durable state (documents with full text, chunks, sentences, manifest) in Chroma."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from rag.chroma_client import StoreChanged, connect, forget_shared_system
from rag.config import Settings
from rag.reader.spans import SPANS_VERSION, dump_spans, find_spans, load_spans
from rag.store_rows import (
    UNKNOWN_DAY,
    ChunkHit,
    day_number,
    info_from_metadata,
    sentence_id,
    where_clause,
)
from rag.types import Chunk, Document, DocumentInfo, Filters, Sentence

# HNSW search breadth (Chroma's default is 100). With 100, two fresh builds of the training
# stores gave one of 1,452 training questions a different dense top 30 (a chunk at rank 24 in
# one build only), so `make train` depended on how the graph happened to be built; with 400 two
# builds agreed exactly. Query time at these sizes is ~1 ms per query either way.
SEARCH_EF = 400

STATE_ID = "__state__"
__all__ = ["STATE_ID", "UNKNOWN_DAY", "ChromaStore", "ChunkHit", "day_number", "where_clause"]


def _sentence(sentence_id: str, meta: dict[str, Any], text: str) -> Sentence:
    """A stored sentence record; spans stored by an older span finder are found again."""
    raw = meta.get("spans")
    current = raw is not None and str(meta.get("spans_version", "")) == SPANS_VERSION
    return Sentence(
        sentence_id,
        str(meta["doc_id"]),
        str(meta["chunk_id"]),
        int(meta["start"]),
        int(meta["end"]),
        text,
        load_spans(str(raw)) if current else find_spans(text),
    )


class ChromaStore:
    """Four collections: documents, chunks, sentences (embedded) and manifest (bookkeeping).

    Writes to a document go chunks -> sentences -> document record, after deleting the old
    ones, and every write bumps a generation token so derived indexes in other processes
    notice the change.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "newsdesk",
        dimension: int = 384,
        reconnect: Callable[[], Any] | None = None,
    ) -> None:
        self.client = client
        # Set for an embedded store: how to open it afresh after another process wrote it.
        self.reconnect = reconnect
        self._known_generation: str | None = None
        self._reopen_lock = threading.Lock()
        self._retired: Any = None  # the previous embedded System, stopped at the next reopen
        self.reopened = 0
        self.prefix = prefix
        self.dimension = dimension
        self._collections: dict[str, Any] = {}
        # Read cache of sentences and document metadata: dropped on every write made here, and
        # within `cache_check_s` of a write made by another process (the generation token).
        self.cache_check_s = 1.0
        self.local_version = 0
        self._cache_generation: str | None = None
        self._cache_checked = 0.0
        self._document_sentences: dict[str, tuple[list[Sentence], np.ndarray]] = {}
        self._info_cache: dict[str, DocumentInfo] = {}
        self._memo: dict[Any, Any] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, dimension: int = 384) -> ChromaStore:
        client = connect(settings)
        reconnect = None if settings.chroma_url else (lambda: connect(settings))
        return cls(
            client, prefix=settings.collection_prefix, dimension=dimension, reconnect=reconnect
        )

    # -- another process wrote an embedded store ----------------------------------------------

    def _state(self) -> dict[str, Any]:
        got = self.manifest.get(ids=[STATE_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return dict(metas[0]) if metas and metas[0] else {}

    def changed_elsewhere(self) -> bool:
        """An embedded store written by another process since we last looked (its writes
        carry their pid); a server store never is: the Chroma server sees every write."""
        if self.reconnect is None:
            return False
        state = self._state()
        generation = str(state.get("generation", ""))
        known, self._known_generation = self._known_generation, generation
        foreign = state.get("pid") != os.getpid()  # no pid: an older newsdesk wrote it
        return known is not None and generation != known and foreign

    def reopen(self) -> None:
        """Open the embedded store afresh (readers on the old client finish on it)."""
        if self.reconnect is None:
            return
        with self._reopen_lock:
            if self._retired is not None:
                self._retired.stop()
            self._retired = forget_shared_system(self.client)
            self.client = self.reconnect()
            self._collections = {}
            self.invalidate_cache()
            self.reopened += 1

    # -- collections ---------------------------------------------------------------------

    def _collection(self, name: str) -> Any:
        if name not in self._collections:
            collection = self.client.get_or_create_collection(
                f"{self.prefix}-{name}",
                embedding_function=None,  # we always pass our own embeddings
                metadata={"hnsw:space": "cosine", "hnsw:search_ef": SEARCH_EF},
            )
            hnsw = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
            if int(hnsw.get("ef_search") or 0) < SEARCH_EF:  # a collection made before
                collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
            self._collections[name] = collection
        return self._collections[name]

    def records(self, name: str) -> Any:
        """A bookkeeping collection of this index (sources, leases, feedback): plain records
        with a one-number placeholder vector, shared by every process like the documents."""
        return self._collection(name)

    @property
    def documents(self) -> Any:
        return self._collection("documents")

    @property
    def chunks(self) -> Any:
        return self._collection("chunks")

    @property
    def sentences(self) -> Any:
        return self._collection("sentences")

    @property
    def manifest(self) -> Any:
        return self._collection("manifest")

    def _batches(self, n: int) -> Iterator[slice]:
        size = max(1, min(5000, int(self.client.get_max_batch_size())))
        for begin in range(0, n, size):
            yield slice(begin, min(n, begin + size))

    # -- generation token ------------------------------------------------------------------

    def generation(self) -> str:
        return str(self._state().get("generation", ""))

    def invalidate_cache(self) -> None:
        self._document_sentences.clear()
        self._info_cache.clear()
        self._memo.clear()
        self._cache_generation = None

    def _sync_cache(self) -> None:
        now = time.monotonic()
        if self._cache_generation is not None and now - self._cache_checked < self.cache_check_s:
            return
        self._cache_checked = now
        generation = self.generation()
        if generation != self._cache_generation:
            self.invalidate_cache()
            self._cache_generation = generation
        if len(self._document_sentences) > 20_000:  # bound memory on huge indexes
            self._document_sentences.clear()
        if len(self._memo) > 200_000:
            self._memo.clear()

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """A value derived from stored text (stems, figures, dates of a sentence), kept until
        the store changes; callers read it through `sentences_for_documents`' cache window."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def bump_generation(self) -> str:
        self.local_version += 1
        self.invalidate_cache()
        token = uuid.uuid4().hex
        meta = {"generation": token, "updated_at": time.time(), "pid": os.getpid()}
        self.manifest.upsert(ids=[STATE_ID], embeddings=[[1.0]], metadatas=[meta], documents=[""])
        self._known_generation = token
        return token

    # -- documents ---------------------------------------------------------------------------

    def put_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        chunk_embeddings: np.ndarray,
        sentence_embeddings: np.ndarray,
    ) -> None:
        """Replace everything stored for `document.doc_id` with this version."""
        self.put_documents([(document, chunks, chunk_embeddings, sentence_embeddings)])

    def put_documents(
        self, items: Sequence[tuple[Document, Sequence[Chunk], np.ndarray, np.ndarray]]
    ) -> None:
        """Replace many documents in few Chroma calls: old parts deleted, then chunks, sentences
        and finally the document records, so a crash never leaves a record without its parts."""
        if not items:
            return
        chunk_rows: list[tuple[str, Any, str, dict[str, Any]]] = []
        sentence_rows: list[tuple[str, Any, str, dict[str, Any]]] = []
        doc_rows: list[tuple[str, Any, str, dict[str, Any]]] = []
        for document, chunks, chunk_embeddings, sentence_embeddings in items:
            sentences = [s for chunk in chunks for s in chunk.sentences]
            if len(chunk_embeddings) != len(chunks) or len(sentence_embeddings) != len(sentences):
                raise ValueError(f"embedding count mismatch for document {document.doc_id}")
            day = day_number(document.published)
            common = {"doc_id": document.doc_id, "published_day": day, "source": document.source}
            for chunk, vector in zip(chunks, chunk_embeddings, strict=True):
                meta = {**common, "index": chunk.index, "start": chunk.start, "end": chunk.end}
                chunk_rows.append((chunk.chunk_id, vector, chunk.text, meta))
            for sentence, vector in zip(sentences, sentence_embeddings, strict=True):
                meta = {**common, "chunk_id": sentence.chunk_id, "start": sentence.start}
                meta["end"] = sentence.end
                spans = find_spans(sentence.text) if sentence.spans is None else sentence.spans
                meta["spans"] = dump_spans(spans)
                meta["spans_version"] = SPANS_VERSION
                sentence_rows.append((sentence.sentence_id, vector, sentence.text, meta))
            doc_rows.append(
                (document.doc_id, self._centroid(chunk_embeddings), document.text,
                 self._document_metadata(document, len(chunks), len(sentences)))
            )  # fmt: skip
        # Parts of every incoming doc_id go, not only of stored documents: a run killed between
        # the parts and the record leaves parts behind, and Chroma's add() keeps their old text.
        doc_ids = [d.doc_id for d, *_ in items]
        for part in self._batches(len(doc_ids)):
            self.sentences.delete(where={"doc_id": {"$in": doc_ids[part]}})
            self.chunks.delete(where={"doc_id": {"$in": doc_ids[part]}})
        self._write(self.chunks, chunk_rows, upsert=False)
        self._write(self.sentences, sentence_rows, upsert=False)
        self._write(self.documents, doc_rows, upsert=True)
        self.bump_generation()

    def _write(
        self, collection: Any, rows: list[tuple[str, Any, str, dict[str, Any]]], *, upsert: bool
    ) -> None:
        for part in self._batches(len(rows)):
            batch = rows[part]
            write = collection.upsert if upsert else collection.add
            write(
                ids=[r[0] for r in batch],
                embeddings=np.asarray([r[1] for r in batch], dtype=np.float32),
                documents=[r[2] for r in batch],
                metadatas=[r[3] for r in batch],
            )

    def _centroid(self, chunk_embeddings: np.ndarray) -> np.ndarray:
        if len(chunk_embeddings):
            centroid = np.asarray(chunk_embeddings, dtype=np.float32).mean(axis=0)
            return centroid / (np.linalg.norm(centroid) or 1.0)
        unit = np.zeros(self.dimension, dtype=np.float32)
        unit[0] = 1.0
        return unit

    @staticmethod
    def _document_metadata(document: Document, n_chunks: int, n_sentences: int) -> dict[str, Any]:
        return {
            "title": document.title,
            "url": document.url or "",
            "published": document.published.isoformat() if document.published else "",
            "published_day": day_number(document.published),
            "source": document.source,
            "content_hash": document.content_hash,
            "guid": document.guid or "",
            "n_chunks": n_chunks,
            "n_sentences": n_sentences,
            "ingested_at": time.time(),
        }

    def _delete_parts(self, doc_id: str) -> None:
        self.sentences.delete(where={"doc_id": doc_id})
        self.chunks.delete(where={"doc_id": doc_id})

    def delete_document(self, doc_id: str) -> bool:
        existed = bool(self.documents.get(ids=[doc_id], include=[])["ids"])
        self.documents.delete(ids=[doc_id])
        self._delete_parts(doc_id)
        self.bump_generation()
        return existed

    def get_document(self, doc_id: str) -> tuple[DocumentInfo, str] | None:
        got = self.documents.get(ids=[doc_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        return info_from_metadata(doc_id, got["metadatas"][0]), got["documents"][0]

    def document_infos(self, doc_ids: Sequence[str]) -> dict[str, DocumentInfo]:
        self._sync_cache()
        wanted = list(dict.fromkeys(doc_ids))
        missing = [i for i in wanted if i not in self._info_cache]
        if missing:
            got = self.documents.get(ids=missing, include=["metadatas"])
            for doc_id, meta in zip(got["ids"], got["metadatas"]):
                self._info_cache[doc_id] = info_from_metadata(doc_id, meta)
        return {i: self._info_cache[i] for i in wanted if i in self._info_cache}

    def list_documents(self, *, offset: int = 0, limit: int = 50) -> list[DocumentInfo]:
        got = self.documents.get(include=["metadatas"], offset=offset, limit=limit)
        return [info_from_metadata(i, m) for i, m in zip(got["ids"], got["metadatas"])]

    def all_document_infos(self) -> list[DocumentInfo]:
        got = self.documents.get(include=["metadatas"])
        return [info_from_metadata(i, m) for i, m in zip(got["ids"], got["metadatas"])]

    def find_document(self, **equals: str) -> list[str]:
        """doc_ids whose metadata equals every given field (e.g. url=..., content_hash=...)."""
        conditions = [{key: value} for key, value in equals.items() if value]
        if not conditions:
            return []
        where = conditions[0] if len(conditions) == 1 else {"$and": conditions}
        return list(self.documents.get(where=where, include=[])["ids"])

    # -- chunks and sentences ----------------------------------------------------------------

    def query_chunks(
        self, embedding: np.ndarray, *, k: int, filters: Filters | None = None
    ) -> list[ChunkHit]:
        result = self.chunks.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32).tolist()],
            n_results=k,
            where=where_clause(filters),
            include=["metadatas", "documents", "distances"],
        )
        hits = []
        for chunk_id, meta, text, distance in zip(
            result["ids"][0], result["metadatas"][0], result["documents"][0], result["distances"][0]
        ):
            if meta is None or text is None:  # the vector index outlived the row
                raise StoreChanged(f"chunk {chunk_id} is in the vector index but not stored")
            hits.append(
                ChunkHit(
                    chunk_id=chunk_id,
                    doc_id=str(meta["doc_id"]),
                    start=int(meta["start"]),
                    end=int(meta["end"]),
                    text=text,
                    similarity=1.0 - float(distance),
                )
            )
        return hits

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[ChunkHit]:
        if not chunk_ids:
            return []
        got = self.chunks.get(ids=list(chunk_ids), include=["metadatas", "documents"])
        by_id = {
            i: ChunkHit(i, str(m["doc_id"]), int(m["start"]), int(m["end"]), t, 0.0)
            for i, m, t in zip(got["ids"], got["metadatas"], got["documents"])
        }
        return [by_id[i] for i in chunk_ids if i in by_id]

    def iter_chunks(self, *, page: int = 2000) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every chunk as (chunk_id, text, metadata), paged so memory stays flat."""
        offset = 0
        while True:
            got = self.chunks.get(include=["metadatas", "documents"], offset=offset, limit=page)
            if not got["ids"]:
                return
            yield from zip(got["ids"], got["documents"], got["metadatas"])
            offset += len(got["ids"])

    def sentences_for_documents(
        self, doc_ids: Sequence[str]
    ) -> dict[str, tuple[list[Sentence], np.ndarray]]:
        """Every stored sentence of these documents, in text order, with vectors and typed
        spans; cached until the store changes."""
        self._sync_cache()
        missing = [d for d in dict.fromkeys(doc_ids) if d not in self._document_sentences]
        if missing:
            rows_of: dict[str, list[tuple[str, dict[str, Any], str, Any]]] = {
                d: [] for d in missing
            }
            for row in self._document_sentence_rows(missing):
                rows_of.setdefault(str(row[1]["doc_id"]), []).append(row)
            for doc_id, rows in rows_of.items():
                rows.sort(key=lambda row: int(row[1]["start"]))
                sentences = [_sentence(i, meta, text) for i, meta, text, _ in rows]
                matrix = (
                    np.asarray([vector for *_, vector in rows], dtype=np.float32)
                    if rows
                    else np.zeros((0, self.dimension), dtype=np.float32)
                )
                self._document_sentences[doc_id] = (sentences, matrix)
        return {d: self._document_sentences[d] for d in doc_ids if d in self._document_sentences}

    def _document_sentence_rows(
        self, doc_ids: list[str]
    ) -> Iterator[tuple[str, dict[str, Any], str, Any]]:
        """(id, metadata, text, vector) of every sentence of these documents: by id where the
        document record says how many it has (a key lookup: about 5 ms against 25 ms for the
        filter at 70,000 sentences), by a `doc_id` filter for the rest (a record without a
        count)."""
        infos = self.document_infos(doc_ids)
        counted = {d for d in doc_ids if d in infos and infos[d].n_sentences > 0}
        ids = [
            sentence_id(d, n) for d in doc_ids if d in counted for n in range(infos[d].n_sentences)
        ]
        rest = [d for d in doc_ids if d not in counted]
        include = ["metadatas", "documents", "embeddings"]
        parts = [
            self.sentences.get(ids=ids[part], include=include) for part in self._batches(len(ids))
        ]
        if rest:
            parts.append(self.sentences.get(where={"doc_id": {"$in": rest}}, include=include))
        for got in parts:
            yield from zip(got["ids"], got["metadatas"], got["documents"], got["embeddings"])

    # -- manifest (source -> what it produced) -----------------------------------------------

    def manifest_get(self, key: str) -> dict[str, Any] | None:
        got = self.manifest.get(ids=[key], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def manifest_put(self, key: str, *, content_hash: str, doc_ids: Sequence[str]) -> None:
        self.manifest.upsert(
            ids=[key],
            embeddings=[[1.0]],
            documents=[""],
            metadatas=[
                {
                    "content_hash": content_hash,
                    "doc_ids": json.dumps(list(doc_ids)),
                    "updated_at": time.time(),
                }
            ],
        )

    def manifest_delete(self, key: str) -> None:
        self.manifest.delete(ids=[key])

    def manifest_keys(self) -> list[str]:
        return [i for i in self.manifest.get(include=[])["ids"] if i != STATE_ID]

    # -- stats ---------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        infos = self.all_document_infos()
        dates = sorted(i.published for i in infos if i.published)
        return {
            "documents": len(infos),
            "chunks": self.chunks.count(),
            "sentences": self.sentences.count(),
            "earliest": dates[0].isoformat() if dates else None,
            "latest": dates[-1].isoformat() if dates else None,
            "sources": len({i.source for i in infos}),
        }
