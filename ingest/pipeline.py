"""Ingestor: sources -> Documents -> sentences and chunks -> batched embeddings -> ChromaStore.

Incremental and idempotent: a manifest entry per source holds the hash of its bytes, so
an unchanged source is neither parsed nor embedded again. Documents are written before
their source's manifest entry, so a killed run simply redoes the unfinished sources.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ingest.errors import IngestError
from ingest.fetch import Fetched, fetch_url
from ingest.formats import EXTENSIONS, Parsed, SourceInput, parse_source, records_to_documents
from ingest.segment import build_chunks
from ingest.summary import IngestSummary
from rag.config import Settings
from rag.store import ChromaStore
from rag.types import Chunk, Document, Embedder

PARSER_VERSION = "2"  # bump when parsing changes, so every source is read again
FLUSH_TEXTS = 8192  # pending chunk + sentence texts before embedding and writing a batch
EMBED_CALL_TEXTS = 2048  # texts per embed() call: large batches, still a moving progress bar
__all__ = ["IngestSummary", "Ingestor", "safe_upload_name"]
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class _Pending:
    document: Document
    chunks: list[Chunk]
    is_new: bool


@dataclass
class _ManifestWrite:
    key: str
    source: str
    raw_hash: str
    doc_ids: list[str]


@dataclass
class _Run:
    """State of one ingest call."""

    summary: IngestSummary = field(default_factory=IngestSummary)
    pending: list[_Pending] = field(default_factory=list)
    manifests: list[_ManifestWrite] = field(default_factory=list)
    seen_doc_ids: set[str] = field(default_factory=set)
    seen_urls: dict[str, str] = field(default_factory=dict)
    seen_hashes: dict[str, str] = field(default_factory=dict)
    vanished: dict[str, list[str]] = field(default_factory=dict)  # manifest key -> doc_ids
    stale: list[str] = field(default_factory=list)  # doc_ids a changed source no longer has

    def pending_texts(self) -> int:
        return sum(len(p.chunks) + sum(len(c.sentences) for c in p.chunks) for p in self.pending)


def safe_upload_name(name: str) -> str:
    """The last path component with only harmless characters: never a path, never hidden."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")[:200]
    return cleaned or "upload"


def _is_url(value: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value))


def _kind_from_content_type(content_type: str) -> str:
    lowered = content_type.lower()
    if "rss" in lowered or "atom" in lowered or "xml" in lowered:
        return "feed"
    if "html" in lowered:
        return "html"
    if "ndjson" in lowered or "jsonl" in lowered:
        return "jsonl"
    if "json" in lowered:
        return "json"
    return ""


class Ingestor:
    """Turns files, folders, URLs, records and uploads into indexed documents."""

    def __init__(
        self, settings: Settings, store: ChromaStore, embedder: Embedder, *, progress: bool = False
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.progress = progress

    # -- public entry points -------------------------------------------------------------------

    def ingest(self, sources: Sequence[str | Path]) -> IngestSummary:
        """Ingest paths (files or folders, recursively) and http(s) URLs."""
        run, started = _Run(), time.perf_counter()
        for given in sources:
            text = str(given)
            if _is_url(text):
                self._guarded(run, text, partial(self._ingest_url, run, text))
                continue
            path = Path(text)
            if path.is_dir():
                self._ingest_folder(run, path)
            elif path.is_file():
                self._guarded(run, text, partial(self._ingest_file, run, path, path.parent, text))
            else:
                run.summary.fail(text, f"{text}: no such file, folder or URL")
        return self._finish(run, started)

    def ingest_records(self, records: list[dict], *, source: str = "api") -> IngestSummary:
        """Ingest corpus records (DESIGN.md fields) given directly, e.g. in an HTTP request."""
        run, started = _Run(), time.perf_counter()
        try:
            parsed = records_to_documents(
                records, SourceInput(source=source, data=b"", kind="json", path_key=source)
            )
        except IngestError as error:
            run.summary.fail(source, str(error))
        else:
            for message in parsed.record_errors:
                run.summary.fail(source, message)
            self._consider(run, parsed.documents)
        return self._finish(run, started)

    def ingest_fetched(self, url: str, fetched: Fetched) -> IngestSummary:
        """Ingest what a (conditional) fetch of `url` returned, as `ingest([url])` would."""
        run, started = _Run(), time.perf_counter()
        self._guarded(run, url, partial(self._ingest_fetched, run, url, fetched))
        return self._finish(run, started)

    def ingest_upload(self, files: Sequence[tuple[str, bytes]]) -> IngestSummary:
        """Ingest uploaded files (name, bytes). Parsed in memory: nothing is written to disk."""
        run, started = _Run(), time.perf_counter()
        for name, data in files:
            safe = safe_upload_name(name)
            label = f"upload:{safe}"
            kind = EXTENSIONS.get(Path(safe).suffix.lower(), "")
            source = SourceInput(source=label, data=data, kind=kind, path_key=safe)
            self._guarded(run, label, partial(self._ingest_bytes, run, label, source))
        return self._finish(run, started)

    # -- sources -----------------------------------------------------------------------------------

    def _guarded(self, run: _Run, label: str, work: Callable[[], None]) -> None:
        try:
            work()
        except IngestError as error:
            run.summary.fail(label, str(error))
        except Exception as error:  # one bad source must never stop the others
            run.summary.fail(label, f"{label}: {type(error).__name__}: {error}")
        if run.pending_texts() >= FLUSH_TEXTS:
            self._flush(run)

    def _ingest_folder(self, run: _Run, folder: Path) -> None:
        root = folder.resolve()
        files = sorted(
            path
            for path in folder.rglob("*")
            if path.is_file()
            and path.suffix.lower() in EXTENSIONS
            and not any(part.startswith(".") for part in path.relative_to(folder).parts)
            and not path.name.lower().startswith(("readme.", "license.", "changelog."))
        )
        present = set()
        for path in files:
            label = str(folder / path.relative_to(folder))
            present.add(self._file_key(path))
            self._guarded(run, label, partial(self._ingest_file, run, path, folder, label))
        prefix = f"file:{root.as_posix()}/"
        for key in self.store.manifest_keys():
            if key.startswith(prefix) and key not in present:
                entry = self.store.manifest_get(key) or {}
                run.vanished[key] = json.loads(str(entry.get("doc_ids", "[]")))

    @staticmethod
    def _file_key(path: Path) -> str:
        return f"file:{path.resolve().as_posix()}"

    def _ingest_file(self, run: _Run, path: Path, root: Path, label: str) -> None:
        size = path.stat().st_size
        if size > self.settings.max_file_bytes:
            raise IngestError(f"{label}: too large ({size} bytes > {self.settings.max_file_bytes})")
        if size == 0:
            raise IngestError(f"{label}: empty file")
        try:
            relative = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            relative = path.as_posix()
        kind = EXTENSIONS.get(path.suffix.lower(), "")
        source = SourceInput(source=label, data=path.read_bytes(), kind=kind, path_key=relative)
        self._ingest_bytes(run, self._file_key(path), source)

    def _ingest_url(self, run: _Run, url: str) -> None:
        fetched = fetch_url(
            url,
            timeout_s=self.settings.fetch_timeout_s,
            max_bytes=self.settings.max_file_bytes,
            allow_private=self.settings.allow_private_urls,
        )
        self._ingest_fetched(run, url, fetched)

    def _ingest_fetched(self, run: _Run, url: str, fetched: Fetched) -> None:
        kind = _kind_from_content_type(fetched.content_type)
        source = SourceInput(
            source=url, data=fetched.data, kind=kind, path_key=url, url=fetched.url
        )
        self._ingest_bytes(run, f"url:{url}", source)

    def _raw_hash(self, data: bytes) -> str:
        digest = hashlib.sha256(data)
        digest.update(f"|{PARSER_VERSION}|{self.settings.chunk_max_chars}".encode())
        return digest.hexdigest()

    def _ingest_bytes(self, run: _Run, key: str, source: SourceInput) -> None:
        if len(source.data) > self.settings.max_file_bytes:
            raise IngestError(
                f"{source.source}: too large ({len(source.data)} bytes > {self.settings.max_file_bytes})"
            )
        if not source.data.strip():
            raise IngestError(f"{source.source}: empty file")
        raw_hash = self._raw_hash(source.data)
        entry = self.store.manifest_get(key)
        old_ids: list[str] = json.loads(str(entry.get("doc_ids", "[]"))) if entry else []
        if entry and entry.get("content_hash") == raw_hash and self._all_stored(old_ids):
            run.summary.unchanged += len(old_ids)
            run.summary.documents += len(old_ids)
            run.seen_doc_ids.update(old_ids)
            return
        parsed: Parsed = parse_source(source)
        for message in parsed.record_errors:
            run.summary.fail(source.source, message)
        kept = self._consider(run, parsed.documents)
        if parsed.is_feed:  # entries roll off a feed; what it once carried stays indexed
            kept = list(dict.fromkeys(old_ids + kept))
        else:
            run.stale.extend(sorted(set(old_ids) - set(kept)))
        if not parsed.record_errors:  # with bad records, try the source again next time
            run.manifests.append(_ManifestWrite(key, source.source, raw_hash, kept))

    def _all_stored(self, doc_ids: list[str]) -> bool:
        return len(self.store.document_infos(doc_ids)) == len(set(doc_ids))

    # -- documents -----------------------------------------------------------------------------------

    def _consider(self, run: _Run, documents: list[Document]) -> list[str]:
        """Queue new and changed documents; returns the doc_ids this source now accounts for."""
        existing = self.store.document_infos([d.doc_id for d in documents])
        kept: list[str] = []
        summary = run.summary
        for document in documents:
            if document.doc_id in run.seen_doc_ids:
                kept.append(document.doc_id)
                continue  # the same document twice in one run (e.g. in two feeds)
            info = existing.get(document.doc_id)
            unchanged = info is not None and (
                (info.content_hash, info.title, info.url, info.published, info.source)
                == (
                    document.content_hash,
                    document.title,
                    document.url,
                    document.published,
                    document.source,
                )
            )
            summary.documents += 1
            if not unchanged and self._duplicate_of(run, document):
                summary.duplicates += 1
                continue
            run.seen_doc_ids.add(document.doc_id)
            kept.append(document.doc_id)
            if document.url:
                run.seen_urls.setdefault(document.url, document.doc_id)
            run.seen_hashes.setdefault(document.content_hash, document.doc_id)
            if unchanged:
                summary.unchanged += 1
                continue
            chunks = build_chunks(
                document.doc_id, document.text, max_chars=self.settings.chunk_max_chars
            )
            run.pending.append(_Pending(document, chunks, is_new=info is None))
        return kept

    def _duplicate_of(self, run: _Run, document: Document) -> bool:
        """The same story under another doc_id: same URL or the very same text."""
        own = document.doc_id
        if document.url and run.seen_urls.get(document.url, own) != own:
            return True
        if run.seen_hashes.get(document.content_hash, own) != own:
            return True
        for field_name, value in (("url", document.url), ("content_hash", document.content_hash)):
            if value and any(i != own for i in self.store.find_document(**{field_name: value})):
                return True
        return False

    # -- embedding and writing -------------------------------------------------------------------

    def _flush(self, run: _Run) -> None:
        pending, manifests = run.pending, run.manifests
        run.pending, run.manifests = [], []
        written = 0
        try:
            vectors = self._embed_all(pending)
            batch, offset = [], 0
            for item in pending:
                n_chunks = len(item.chunks)
                n_sentences = sum(len(c.sentences) for c in item.chunks)
                chunk_vectors = vectors[offset : offset + n_chunks]
                sentence_vectors = vectors[offset + n_chunks : offset + n_chunks + n_sentences]
                offset += n_chunks + n_sentences
                batch.append((item.document, item.chunks, chunk_vectors, sentence_vectors))
            put_many = getattr(self.store, "put_documents", None)  # one bulk write when offered
            if put_many is not None:
                put_many(batch)
                written = len(batch)
            else:
                for document, chunks, chunk_vectors, sentence_vectors in batch:
                    self.store.put_document(document, chunks, chunk_vectors, sentence_vectors)
                    written += 1
        except Exception as error:  # e.g. the Chroma server went away: report, keep what's written
            for item in pending[written:]:
                source = item.document.source
                run.summary.fail(source, f"{source}: {item.document.doc_id} not stored ({error})")
            pending = pending[:written]
            manifests = []
        for item in pending:
            run.summary.chunks += len(item.chunks)
            run.summary.sentences += sum(len(c.sentences) for c in item.chunks)
            if item.is_new:
                run.summary.added += 1
            else:
                run.summary.updated += 1
        for write in manifests:
            self.store.manifest_put(write.key, content_hash=write.raw_hash, doc_ids=write.doc_ids)

    def _embed_all(self, pending: list[_Pending]) -> Any:
        import numpy as np

        texts: list[str] = []
        for item in pending:
            texts.extend(chunk.text for chunk in item.chunks)
            texts.extend(s.text for chunk in item.chunks for s in chunk.sentences)
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        calls = range(0, len(texts), EMBED_CALL_TEXTS)
        if not self.progress or len(texts) <= EMBED_CALL_TEXTS:
            return np.concatenate(
                [self.embedder.embed(texts[i : i + EMBED_CALL_TEXTS]) for i in calls]
            )
        from rich.progress import Progress

        parts = []
        with Progress(transient=True) as bar:
            task = bar.add_task("Embedding", total=len(texts))
            for begin in calls:
                parts.append(self.embedder.embed(texts[begin : begin + EMBED_CALL_TEXTS]))
                bar.advance(task, len(parts[-1]))
        return np.concatenate(parts)

    def _finish(self, run: _Run, started: float) -> IngestSummary:
        self._flush(run)
        doomed = run.stale + [i for ids in run.vanished.values() for i in ids]
        for doc_id in dict.fromkeys(doomed):
            if doc_id not in run.seen_doc_ids and self.store.delete_document(doc_id):
                run.summary.removed += 1
        for key in run.vanished:
            self.store.manifest_delete(key)
        run.summary.seconds = time.perf_counter() - started
        return run.summary
