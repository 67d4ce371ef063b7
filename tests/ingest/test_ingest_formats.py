"""Every format through the real pipeline into real Chroma: metadata, dates, ids, exact offsets."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from ingest.ids import path_doc_id, stable_id
from ingest.pipeline import Ingestor
from rag.store import ChromaStore

MARKDOWN = """---
title: Acme opens its St. Louis plant
date: 2026-03-04
url: https://news.example.com/acme-plant
---
# Acme opens its St. Louis plant

Acme Inc. said the plant will deliver nearly 1 gigawatt by the end of 2026.
The U.S. Department of Energy backs it with a **$4.5 billion** loan.

## Numbers

- 400 jobs
- Solar and [battery storage](https://example.com/batteries)
"""

HTML = """<!doctype html><html><head><title>Beta wins contract | Beta Newsroom</title>
<meta property="og:title" content="Beta wins rail contract">
<meta property="article:published_time" content="2025-11-20T08:00:00Z"></head>
<body><nav><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/jobs">Careers</a></nav>
<article><h1>Beta wins rail contract</h1>
<p>Beta Corp. has won a contract worth $1.2 billion to supply 80 trains to the city of Springfield.
Deliveries start in 2027 and finish by the end of 2029.</p>
<p>Dr. Ana Ruiz, chief executive, said the order was the largest in the company's history.</p>
</article><footer>Copyright 2025 Beta Corp. All rights reserved. Privacy | Terms | Cookies</footer>
<script>var tracking = "do not index me";</script></body></html>"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Gamma news</title><link>https://gamma.example.com</link>
<description>Announcements</description>
<item><title>Gamma opens a lab in Austin</title><link>https://gamma.example.com/lab</link>
<guid isPermaLink="false">gamma-2026-001</guid><pubDate>Mon, 02 Feb 2026 09:00:00 GMT</pubDate>
<description>&lt;p&gt;Gamma will open a research lab in Austin with 120 staff.&lt;/p&gt;&lt;p&gt;It opens in June.&lt;/p&gt;</description></item>
<item><title>Gamma hires a CFO</title><link>https://gamma.example.com/cfo</link>
<pubDate>Tue, 13 Jan 2026 09:00:00 GMT</pubDate>
<description>Gamma named Jo Park as chief financial officer, effective March 1.</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Delta</title><id>urn:delta</id>
<updated>2025-06-01T00:00:00Z</updated>
<entry><title>Delta expands to Lisbon</title><id>urn:delta:42</id>
<link href="https://delta.example.com/lisbon"/><published>2025-05-30T10:00:00Z</published>
<updated>2025-05-31T10:00:00Z</updated>
<content type="html">&lt;p&gt;Delta will open an office in Lisbon employing 60 people.&lt;/p&gt;</content></entry>
</feed>"""

RECORDS = [
    {
        "id": "eps-1",
        "title": "Epsilon raises prices",
        "url": "https://eps.example.com/1",
        "published": "2025-02-10",
        "text": "Epsilon will raise prices by 4.5% from April.",
    },
    {
        "title": "Epsilon buys Zeta",
        "link": "https://eps.example.com/2",
        "date": "2025-03-11T12:00:00",
        "content": "Epsilon agreed to buy Zeta for $300 million.",
    },
    {
        "title": "Epsilon opens depot",
        "published_at": "2025-04-01",
        "body": "Epsilon opened a depot in Leeds.",
    },
]


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def assert_offsets_exact(store: ChromaStore) -> int:
    """Every stored chunk and sentence is exactly document_text[start:end]; returns #sentences."""
    total = 0
    for info in store.all_document_infos():
        _, text = store.get_document(info.doc_id)  # type: ignore[misc]
        chunks = store.chunks.get(where={"doc_id": info.doc_id}, include=["metadatas", "documents"])
        sentences = store.sentences.get(
            where={"doc_id": info.doc_id}, include=["metadatas", "documents"]
        )
        assert len(chunks["ids"]) == info.n_chunks and len(sentences["ids"]) == info.n_sentences
        spans = {}
        for chunk_id, meta, chunk_text in zip(
            chunks["ids"], chunks["metadatas"], chunks["documents"]
        ):
            assert text[meta["start"] : meta["end"]] == chunk_text
            spans[chunk_id] = (meta["start"], meta["end"])
        for meta, sentence_text in zip(sentences["metadatas"], sentences["documents"]):
            assert text[meta["start"] : meta["end"]] == sentence_text
            chunk_start, chunk_end = spans[meta["chunk_id"]]
            assert chunk_start <= meta["start"] < meta["end"] <= chunk_end
        expected = {f"{info.doc_id}:s{i}" for i in range(info.n_sentences)}
        assert set(sentences["ids"]) == expected
        total += info.n_sentences
    return total


def test_every_format_in_a_folder(tmp_path: Path, ingestor: Ingestor, store: ChromaStore) -> None:
    corpus = tmp_path / "corpus"
    _write(corpus / "acme.md", MARKDOWN)
    _write(corpus / "web" / "beta.html", HTML)
    _write(corpus / "feeds" / "gamma.rss", FEED)
    _write(corpus / "feeds" / "delta.xml", ATOM)
    _write(corpus / "records.json", json.dumps(RECORDS))
    _write(corpus / "more.jsonl", json.dumps({"id": "j1", "text": "Eta ships v2 on May 5."}) + "\n")
    _write(corpus / "note.txt", "Theta update\nJune 9, 2025\n\nTheta cut its debt by 12%.\n")
    _write(corpus / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00")  # unsupported: skipped
    _write(corpus / ".hidden" / "x.md", "secret")

    summary = ingestor.ingest([corpus])
    assert summary.failed == []
    assert (summary.added, summary.documents) == (10, 10)
    assert summary.chunks == store.chunks.count() >= 10
    infos = {i.title: i for i in store.all_document_infos()}

    acme = infos["Acme opens its St. Louis plant"]
    assert acme.doc_id == path_doc_id(corpus / "acme.md", corpus)
    assert acme.published == date(2026, 3, 4)
    assert acme.url == "https://news.example.com/acme-plant"
    assert acme.source == "acme.md"  # relative to the ingest root, never an absolute path
    _, acme_text = store.get_document(acme.doc_id)  # type: ignore[misc]
    assert "**" not in acme_text and "](" not in acme_text and "---" not in acme_text
    assert "$4.5 billion loan" in acme_text and "battery storage" in acme_text

    beta = infos["Beta wins rail contract"]
    assert beta.doc_id == stable_id("web/beta.html") and beta.published == date(2025, 11, 20)
    _, beta_text = store.get_document(beta.doc_id)  # type: ignore[misc]
    assert "80 trains" in beta_text and "Dr. Ana Ruiz" in beta_text
    assert "tracking" not in beta_text and "Careers" not in beta_text

    lab = infos["Gamma opens a lab in Austin"]
    assert lab.doc_id == stable_id("gamma-2026-001") and lab.guid == "gamma-2026-001"
    assert lab.url == "https://gamma.example.com/lab" and lab.published == date(2026, 2, 2)
    cfo = infos["Gamma hires a CFO"]  # no guid: feedparser falls back to the link
    assert cfo.doc_id == stable_id("https://gamma.example.com/cfo")
    lisbon = infos["Delta expands to Lisbon"]
    assert lisbon.doc_id == stable_id("urn:delta:42") and lisbon.published == date(2025, 5, 30)

    assert infos["Epsilon raises prices"].doc_id == "eps-1"
    assert infos["Epsilon buys Zeta"].doc_id == stable_id("https://eps.example.com/2")
    assert infos["Epsilon buys Zeta"].published == date(2025, 3, 11)
    assert infos["Epsilon opens depot"].published == date(2025, 4, 1)
    assert infos["Eta ships v2 on May 5."].published is None  # no year: never invented

    theta = infos["Theta update"]
    assert theta.published == date(2025, 6, 9) and theta.url is None
    assert assert_offsets_exact(store) == summary.sentences


def test_batched_embedding_is_one_call_for_a_small_corpus(
    tmp_path: Path, ingestor: Ingestor, counting: object
) -> None:
    for number in range(5):
        _write(tmp_path / "c" / f"n{number}.txt", f"Item {number}. It has {number} parts.\n")
    summary = ingestor.ingest([tmp_path / "c"])
    assert summary.added == 5
    assert counting.calls == 1  # type: ignore[attr-defined]
    assert counting.texts == summary.chunks + summary.sentences  # type: ignore[attr-defined]


def test_records_and_uploads(tmp_path: Path, ingestor: Ingestor, store: ChromaStore) -> None:
    summary = ingestor.ingest_records(RECORDS + [{"title": "no text"}], source="api")
    assert summary.added == 3 and len(summary.failed) == 1
    assert "no text" in summary.failed[0]["error"]

    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    uploads = [
        ("../../etc/evil.md", b"# Upload one\n\nIota opens a store in Cork on July 1, 2025."),
        ("C:\\temp\\page.html", HTML.replace("Beta", "Kappa").encode()),
    ]
    summary = ingestor.ingest_upload(uploads)
    assert summary.failed == [] and summary.added == 2
    sources = {i.source for i in store.all_document_infos()}
    # Folders stay in the name (a/x.md and b/x.md are two documents), '..' and drives never.
    assert {"upload:etc/evil.md", "upload:temp/page.html"} <= sources
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "data" not in p.parts)
    assert after == [p for p in before if "data" not in p.parts]
    assert assert_offsets_exact(store) > 0


def test_the_sample_corpus(ingestor: Ingestor, store: ChromaStore, counting: object) -> None:
    corpus = Path(__file__).resolve().parents[2] / "examples" / "announcements"
    summary = ingestor.ingest([corpus])
    assert summary.failed == [] and summary.added == summary.documents >= 10
    infos = store.all_document_infos()
    assert all(i.title and i.source for i in infos)
    assert sum(i.published is not None for i in infos) >= len(infos) - 2
    assert assert_offsets_exact(store) == summary.sentences
    counting.reset()  # type: ignore[attr-defined]
    again = ingestor.ingest([corpus])
    assert (again.unchanged, again.chunks, counting.calls) == (summary.documents, 0, 0)  # type: ignore[attr-defined]
