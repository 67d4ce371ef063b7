"""Ingestor: sources -> Documents -> sentences and chunks -> batched embeddings -> ChromaStore.

Incremental and idempotent: a manifest entry per source holds the hash of its bytes, so
an unchanged source is neither parsed nor embedded again. Documents are written before
their source's manifest entry, so a killed or interrupted run simply redoes the unfinished
sources. Work is bounded: each document has a time budget, and a stop request (SIGINT,
SIGTERM in the CLI) ends the run between two steps with everything written so far intact.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ingest.budget import Budget, DocumentTimeout, IngestInterrupted, check_stop
from ingest.embedding import embed_documents
from ingest.errors import IngestError
from ingest.fetch import Fetched, fetch_url
from ingest.formats import EXTENSIONS, Parsed, SourceInput, parse_source, records_to_documents
from ingest.paths import is_url, safe_upload_name, source_files
from ingest.segment import build_chunks
from ingest.summary import IngestSummary
from rag.config import Settings
from rag.store import ChromaStore
from rag.types import Chunk, Document, Embedder

PARSER_VERSION = "2"  # bump when parsing changes, so every source is read again
FLUSH_TEXTS = 8192  # pending chunk + sentence texts before embedding and writing a batch
__all__ = ["IngestSummary", "Ingestor", "safe_upload_name", "source_files"]


@dataclass
class _Pending:
    document: Document
    chunks: list[Chunk]
    is_new: bool
    budget: Budget
    key: str | None  # the manifest key of its source (None: records sent directly)
    label: str  # how failures name it

    def texts(self) -> list[str]:
        return [c.text for c in self.chunks] + [s.text for c in self.chunks for s in c.sentences]


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
    incomplete: set[str] = field(default_factory=set)  # manifest keys with a failed document

    def pending_texts(self) -> int:
        return sum(len(p.chunks) + sum(len(c.sentences) for c in p.chunks) for p in self.pending)


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
        self,
        settings: Settings,
        store: ChromaStore,
        embedder: Embedder,
        *,
        progress: bool = False,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.progress = progress
        self.stop = stop  # set it (e.g. from a signal handler) to end the run between steps

    # -- public entry points -------------------------------------------------------------------

    def ingest(self, sources: Sequence[str | Path]) -> IngestSummary:
        """Ingest paths (files or folders, recursively) and http(s) URLs."""

        def work(run: _Run) -> None:
            for given in sources:
                text = str(given)
                if is_url(text):
                    self._guarded(run, text, partial(self._ingest_url, run, text))
                    continue
                path = Path(text)
                if path.is_dir():
                    self._ingest_folder(run, path)
                elif path.is_file():
                    ingest_one = partial(self._ingest_file, run, path, path.parent, text)
                    self._guarded(run, text, ingest_one)
                else:
                    run.summary.fail(text, f"{text}: no such file, folder or URL")

        return self._complete(work)

    def ingest_records(self, records: list[dict], *, source: str = "api") -> IngestSummary:
        """Ingest corpus records (DESIGN.md fields) given directly, e.g. in an HTTP request."""

        def work(run: _Run) -> None:
            try:
                parsed = records_to_documents(
                    records, SourceInput(source=source, data=b"", kind="json", path_key=source)
                )
            except IngestError as error:
                run.summary.fail(source, str(error))
                return
            self._report(run, source, parsed)
            self._consider(run, parsed.documents, source, None)

        return self._complete(work)

    def ingest_fetched(self, url: str, fetched: Fetched) -> IngestSummary:
        """Ingest what a (conditional) fetch of `url` returned, as `ingest([url])` would."""

        def work(run: _Run) -> None:
            self._guarded(run, url, partial(self._ingest_fetched, run, url, fetched))

        return self._complete(work)

    def ingest_upload(self, files: Sequence[tuple[str, bytes]]) -> IngestSummary:
        """Ingest uploaded files (name, bytes). Parsed in memory: nothing is written to disk."""

        def work(run: _Run) -> None:
            for name, data in files:
                safe = safe_upload_name(name)
                label = f"upload:{safe}"
                kind = EXTENSIONS.get(Path(safe).suffix.lower(), "")
                source = SourceInput(source=label, data=data, kind=kind, path_key=safe)
                self._guarded(run, label, partial(self._ingest_bytes, run, label, source))

        return self._complete(work)

    def _complete(self, work: Callable[[_Run], None]) -> IngestSummary:
        run, started = _Run(), time.perf_counter()
        try:
            work(run)
            self._finish(run)
        except IngestInterrupted:
            # Pending documents and their manifest entries are not written: a rerun redoes
            # exactly those sources. What was written is whole (documents before manifests).
            run.summary.interrupted = True
        run.summary.seconds = time.perf_counter() - started
        return run.summary

    # -- sources -----------------------------------------------------------------------------------

    def _guarded(self, run: _Run, label: str, work: Callable[[], None]) -> None:
        check_stop(self.stop)
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
        present = set()
        for path in source_files(folder):
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
            relative = path.name
        kind = EXTENSIONS.get(path.suffix.lower(), "")
        source = SourceInput(
            source=label, data=path.read_bytes(), kind=kind, path_key=relative, stored_as=relative
        )
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
        self._report(run, source.source, parsed)
        kept = self._consider(run, parsed.documents, source.source, key)
        if parsed.is_feed:  # entries roll off a feed; what it once carried stays indexed
            kept = list(dict.fromkeys(old_ids + kept))
        else:
            run.stale.extend(sorted(set(old_ids) - set(kept)))
        if not parsed.record_errors:  # with bad records, try the source again next time
            run.manifests.append(_ManifestWrite(key, source.source, raw_hash, kept))

    @staticmethod
    def _report(run: _Run, label: str, parsed: Parsed) -> None:
        for message in parsed.record_errors:
            run.summary.fail(label, message)
        for message in parsed.warnings:
            run.summary.warn(label, message)

    def _all_stored(self, doc_ids: list[str]) -> bool:
        return len(self.store.document_infos(doc_ids)) == len(set(doc_ids))

    # -- documents -----------------------------------------------------------------------------------

    def _consider(
        self, run: _Run, documents: list[Document], label: str, key: str | None
    ) -> list[str]:
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
            name = f"{label}: document {document.doc_id!r} ({document.title[:60]})"
            budget = Budget(self.settings.document_timeout_s, name, self.stop).start()
            try:
                chunks = build_chunks(
                    document.doc_id,
                    document.text,
                    max_chars=self.settings.chunk_max_chars,
                    check=partial(budget.check, f"splitting {len(document.text)} characters"),
                )
            except DocumentTimeout as error:
                self._drop(run, label, str(error), key)
                continue
            budget.pause()
            run.pending.append(_Pending(document, chunks, info is None, budget, key, label))
        return kept

    @staticmethod
    def _drop(run: _Run, label: str, error: str, key: str | None) -> None:
        """One document failed: reported by name; its source is read again next time."""
        run.summary.fail(label, error)
        if key is not None:
            run.incomplete.add(key)

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
        texts = [item.texts() for item in pending]
        vectors = embed_documents(
            self.embedder,
            texts,
            [item.budget for item in pending],
            progress=self.progress,
            stop=self.stop,
        )
        batch, embedded = [], []
        for item, own in zip(pending, vectors, strict=True):
            if own is None:
                self._drop(run, item.label, item.budget.message("embedding"), item.key)
                continue
            n_chunks = len(item.chunks)
            batch.append((item.document, item.chunks, own[:n_chunks], own[n_chunks:]))
            embedded.append(item)
        written = 0
        try:
            put_many = getattr(self.store, "put_documents", None)  # one bulk write when offered
            if put_many is not None:
                put_many(batch)
                written = len(batch)
            else:
                for document, chunks, chunk_vectors, sentence_vectors in batch:
                    self.store.put_document(document, chunks, chunk_vectors, sentence_vectors)
                    written += 1
        except Exception as error:  # e.g. the Chroma server went away: report, keep what's written
            for item in embedded[written:]:
                source = item.document.source
                run.summary.fail(source, f"{source}: {item.document.doc_id} not stored ({error})")
            embedded = embedded[:written]
            manifests = []
        for item in embedded:
            run.summary.chunks += len(item.chunks)
            run.summary.sentences += sum(len(c.sentences) for c in item.chunks)
            if item.is_new:
                run.summary.added += 1
            else:
                run.summary.updated += 1
        for write in manifests:
            if write.key not in run.incomplete:
                self.store.manifest_put(
                    write.key, content_hash=write.raw_hash, doc_ids=write.doc_ids
                )

    def _finish(self, run: _Run) -> None:
        self._flush(run)
        doomed = run.stale + [i for ids in run.vanished.values() for i in ids]
        for doc_id in dict.fromkeys(doomed):
            if doc_id not in run.seen_doc_ids and self.store.delete_document(doc_id):
                run.summary.removed += 1
        for key in run.vanished:
            self.store.manifest_delete(key)
