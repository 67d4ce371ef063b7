"""Source bytes -> normalized Documents, one reader per format (txt, md, html, json/jsonl, feeds)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ingest.dates import date_in_text, parse_date
from ingest.errors import IngestError
from ingest.html import fragment_blocks, page_from_html
from ingest.ids import content_hash, entry_doc_id, id_problem, record_doc_id, safe_url, stable_id
from ingest.text import decode_bytes, normalize_text
from rag.types import Document

EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
}
_TITLE_MAX = 200


@dataclass
class SourceInput:
    """One source's bytes and how to name what comes out of it."""

    source: str  # how messages name it: the path as given, the URL, or upload:<name>
    data: bytes
    kind: str  # a value of EXTENSIONS, or "" to detect from the content
    path_key: str  # path relative to the ingest root (doc_id of md/html/txt), or the URL
    url: str | None = None
    # Document.source: the path relative to the ingest root (never an absolute server path),
    # the URL, or upload:<name>; None = `source`
    stored_as: str | None = None

    @property
    def document_source(self) -> str:
        return self.stored_as or self.source


@dataclass
class Parsed:
    documents: list[Document]
    is_feed: bool = False
    record_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # kept documents, something dropped


def detect_kind(data: bytes) -> str:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"{", b"[")):
        return "json"
    if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
        return "feed"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<p>" in head:
        return "html"
    return "txt"


def _document(
    doc_id: str,
    *,
    title: str,
    text: str,
    source: SourceInput,
    url: str | None,
    published: date | None,
    guid: str | None = None,
    where: str = "",
    warnings: list[str] | None = None,
) -> Document:
    text = normalize_text(text)
    if not text:
        raise IngestError(f"{where or source.source}: no text to index")
    title = " ".join((title or "").split())[:_TITLE_MAX] or _title_from_text(text)
    return Document(
        doc_id=doc_id,
        title=title,
        text=text,
        url=checked_url(url, where or source.source, warnings),
        published=published or date_in_text(text),
        source=source.document_source,
        guid=guid,
        content_hash=content_hash(text),
    )


def checked_url(url: str | None, where: str, warnings: list[str] | None) -> str | None:
    """The url if it is http(s); anything else (javascript:, data:, file:) is dropped, and
    said so in `warnings` when given."""
    if not url:
        return None
    safe = safe_url(str(url))
    if safe is None and warnings is not None:
        warnings.append(f"{where}: url {str(url)[:100]!r} dropped (only http(s) URLs are stored)")
    return safe


def _title_from_text(text: str) -> str:
    first = text.split("\n", 1)[0].strip().lstrip("#").strip()
    return first if len(first) <= _TITLE_MAX else first[: _TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"


def _read_txt(source: SourceInput, text: str) -> Parsed:
    doc_id = stable_id(source.path_key)
    parsed = Parsed([])
    parsed.documents.append(
        _document(
            doc_id, title="", text=text, source=source, url=source.url, published=None,
            warnings=parsed.warnings,
        )
    )  # fmt: skip
    return parsed


def _read_markdown(source: SourceInput, text: str) -> Parsed:
    import frontmatter
    from markdown_it import MarkdownIt

    try:
        post = frontmatter.loads(text)
        meta, body = dict(post.metadata), post.content
    except Exception as error:  # YAML errors come in many types
        raise IngestError(f"{source.source}: bad front matter ({error})") from error
    blocks = fragment_blocks(MarkdownIt("commonmark").enable("table").render(body))
    title = str(meta.get("title") or "")
    if not title:
        headings = [line for line in body.splitlines() if line.startswith("#")]
        title = headings[0].lstrip("#").strip() if headings else ""
    published = parse_date(_first(meta, "published", "date", "published_at", "pubDate"))
    url = _first(meta, "url", "link", "canonical_url", "canonical")
    doc_id = stable_id(source.path_key)
    text_out = "\n\n".join(blocks)
    parsed = Parsed([])
    document = _document(
        doc_id,
        title=title,
        text=text_out,
        source=source,
        url=str(url) if url else source.url,
        published=published,
        warnings=parsed.warnings,
    )
    parsed.documents.append(document)
    return parsed


def _read_html(source: SourceInput, text: str) -> Parsed:
    page = page_from_html(text, url=source.url)
    doc_id = stable_id(source.path_key)
    parsed = Parsed([])
    document = _document(
        doc_id,
        title=page.title,
        text=page.text,
        source=source,
        url=page.url,
        published=page.published,
        warnings=parsed.warnings,
    )
    parsed.documents.append(document)
    return parsed


def _first(record: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = record.get(key)
        if value not in (None, ""):
            return value
    return None


def record_to_document(
    record: Any, index: int, source: SourceInput, warnings: list[str] | None = None
) -> Document:
    """One corpus record (DESIGN.md fields and aliases) -> Document."""
    where = f"{source.source} record {index}"
    if not isinstance(record, dict):
        raise IngestError(f"{where}: not a JSON object")
    body = _first(record, "text", "content", "body")
    if not isinstance(body, str) or not body.strip():
        raise IngestError(f"{where}: no text (expected 'text', 'content' or 'body')")
    if body.lstrip().startswith("<"):
        body = "\n\n".join(fragment_blocks(body))
    record_id = _first(record, "id", "doc_id")
    if record_id is not None:
        field_name = "id" if record.get("id") not in (None, "") else "doc_id"
        problem = id_problem(str(record_id))
        if problem:
            raise IngestError(f"{where}: field '{field_name}' {problem}")
    given_url = _first(record, "url", "link")
    url = checked_url(str(given_url) if given_url else None, where, warnings)
    title = str(record.get("title") or "")
    document = _document(
        "",  # the id of an id-less, url-less record hashes its normalised text (below)
        title=title,
        text=body,
        source=source,
        url=url,
        published=parse_date(_first(record, "published", "date", "published_at")),
        guid=str(record["guid"]) if record.get("guid") else None,
        where=where,
    )
    document.doc_id = record_doc_id(
        str(record_id) if record_id is not None else None, url, document.title, document.text
    )
    return document


def _records_from_json(source: SourceInput, text: str, kind: str) -> list[Any]:
    if kind == "jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise IngestError(
                        f"{source.source}: malformed JSON on line {number} ({error.msg})"
                    ) from error
        return records
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as error:
        raise IngestError(
            f"{source.source}: malformed JSON at line {error.lineno} column {error.colno} ({error.msg})"
        ) from error
    if isinstance(loaded, dict):
        for wrapper in ("records", "documents", "items", "articles"):
            if isinstance(loaded.get(wrapper), list):
                return list(loaded[wrapper])
        return [loaded]
    if isinstance(loaded, list):
        return loaded
    raise IngestError(f"{source.source}: JSON must be an object or an array of objects")


def records_to_documents(records: Iterable[Any], source: SourceInput) -> Parsed:
    parsed = Parsed([])
    for index, record in enumerate(records):
        try:
            parsed.documents.append(record_to_document(record, index, source, parsed.warnings))
        except IngestError as error:
            parsed.record_errors.append(str(error))
    if not parsed.documents and not parsed.record_errors:
        raise IngestError(f"{source.source}: no records")
    return parsed


def _check_xml_is_safe(source: SourceInput) -> None:
    """defusedxml refuses entity expansion (billion laughs) and external entities before
    feedparser, whose parser would otherwise expand them."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree
    from defusedxml import DefusedXmlException

    try:
        defusedxml.ElementTree.fromstring(source.data)
    except DefusedXmlException as error:
        raise IngestError(
            f"{source.source}: unsafe XML refused ({type(error).__name__})"
        ) from error
    except ParseError as error:
        raise IngestError(f"{source.source}: malformed XML ({error})") from error


def _read_feed(source: SourceInput) -> Parsed:
    import feedparser

    _check_xml_is_safe(source)
    feed = feedparser.parse(source.data)
    if not feed.get("version") and not feed.entries:
        raise IngestError(f"{source.source}: not an RSS or Atom feed")
    parsed = Parsed([], is_feed=True)
    for index, entry in enumerate(feed.entries):
        guid = entry.get("id") or None
        link = entry.get("link") or None
        contents = entry.get("content") or []
        html = contents[0].get("value", "") if contents else entry.get("summary", "")
        published = parse_date(entry.get("published_parsed") or entry.get("updated_parsed"))
        try:
            parsed.documents.append(
                _document(
                    entry_doc_id(guid, link, f"{source.path_key}#{index}"),
                    title=entry.get("title", ""),
                    text="\n\n".join(fragment_blocks(html)),
                    source=source,
                    url=link,
                    published=published or parse_date(entry.get("published")),
                    guid=guid,
                    where=f"{source.source} entry {index}",
                    warnings=parsed.warnings,
                )
            )
        except IngestError as error:
            parsed.record_errors.append(str(error))
    return parsed


def parse_source(source: SourceInput) -> Parsed:
    """Every Document in one source; raises IngestError when the source as a whole is bad."""
    kind = source.kind or detect_kind(source.data)
    if kind == "feed" or (kind not in ("txt", "md") and detect_kind(source.data) == "feed"):
        return _read_feed(source)
    text = decode_bytes(source.data, name=source.source)
    if kind in ("json", "jsonl"):
        return records_to_documents(_records_from_json(source, text, kind), source)
    if kind == "md":
        return _read_markdown(source, text)
    if kind == "html":
        return _read_html(source, text)
    return _read_txt(source, text)
