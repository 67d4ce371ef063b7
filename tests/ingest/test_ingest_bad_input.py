"""Bad sources are reported by name in `failed`; everything else is still ingested and nothing is lost."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.store import ChromaStore

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>x</title>
<description>&lol3;</description></item></channel></rss>"""

GOOD_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>
<item><title>Nu raises $5 million</title><guid>nu-1</guid><link>https://nu.example.com/1</link>
<description>Nu raised $5 million in seed funding on Oct. 2, 2025.</description></item>
</channel></rss>"""


def test_each_bad_file_fails_alone(tmp_path: Path, ingestor: Ingestor, store: ChromaStore) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.md").write_text("# Good\n\nOmicron doubled output in 2025.\n")
    (corpus / "latin.txt").write_bytes(
        "Société Générale annonce un café à Zürich, ouvert le 3 mars 2025.".encode("latin-1")
    )
    (corpus / "utf16.txt").write_bytes("Rho sells 12 ferries to Malmö.".encode("utf-16"))
    (corpus / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "truncated.json").write_text('[{"id": "t1", "text": "Sigma wi')
    (corpus / "malformed.xml").write_text("<rss><channel><item><title>x</item>")
    (corpus / "bomb.rss").write_text(BOMB)
    (corpus / "half.html").write_text("<html><body><p>Tau opened a depot in Kiel. More soon")
    with (corpus / "huge.txt").open("wb") as big:
        big.truncate(50 * 1024 * 1024)  # 50 MB: refused from its size, never read
    started = time.perf_counter()
    summary = ingestor.ingest([corpus, tmp_path / "missing.md"])
    assert time.perf_counter() - started < 20
    errors = {Path(f["source"]).name: f["error"] for f in summary.failed}
    assert set(errors) == {
        "binary.txt",
        "empty.md",
        "truncated.json",
        "malformed.xml",
        "bomb.rss",
        "huge.txt",
        "missing.md",
    }
    for name, error in errors.items():
        assert name in error
    assert "binary" in errors["binary.txt"] and "empty" in errors["empty.md"]
    assert "malformed JSON" in errors["truncated.json"]
    assert "malformed XML" in errors["malformed.xml"] and "unsafe XML" in errors["bomb.rss"]
    assert "too large" in errors["huge.txt"]
    assert summary.added == 4
    texts = " ".join(store.get_document(i.doc_id)[1] for i in store.all_document_infos())  # type: ignore[index]
    assert "Société Générale annonce un café à Zürich" in texts
    assert "Rho sells 12 ferries to Malmö." in texts and "Tau opened a depot in Kiel" in texts


def test_a_source_gone_bad_keeps_what_was_indexed(
    tmp_path: Path, ingestor: Ingestor, store: ChromaStore
) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    records = [{"id": "p1", "text": "Pi grew 3%."}, {"id": "p2", "text": "Pi hired 9."}]
    (corpus / "recs.json").write_text(json.dumps(records))
    assert ingestor.ingest([corpus]).added == 2
    (corpus / "recs.json").write_text(json.dumps(records)[:-5])  # truncated on a later edit
    summary = ingestor.ingest([corpus])
    assert len(summary.failed) == 1 and summary.removed == 0
    assert {i.doc_id for i in store.all_document_infos()} == {"p1", "p2"}


def test_urls_pages_feeds_and_failures(
    ingestor: Ingestor, store: ChromaStore, http_server: object
) -> None:
    server = http_server
    page = server.add(  # type: ignore[attr-defined]
        "/news/xi.html",
        "<html><head><title>Xi builds a bridge</title></head><body><article>"
        "<p>Xi Construction will build a 2.4 km bridge in Porto, finished by 2028.</p>"
        "<p>Published on 14 August 2025.</p></article></body></html>",
    )
    feed = server.add("/feed", GOOD_FEED, content_type="application/rss+xml")  # type: ignore[attr-defined]
    slow = server.add("/slow", "<p>late</p>", delay_s=3.0)  # type: ignore[attr-defined]
    missing = server.base_url + "/nothing-here"  # type: ignore[attr-defined]
    bomb = server.add("/bomb.xml", BOMB, content_type="application/xml")  # type: ignore[attr-defined]
    started = time.perf_counter()
    summary = ingestor.ingest([page, feed, slow, missing, bomb, "ftp://example.com/x"])
    assert time.perf_counter() - started < 10
    errors = {f["source"]: f["error"] for f in summary.failed}
    assert set(errors) == {slow, missing, bomb, "ftp://example.com/x"}
    assert "timed out" in errors[slow] and "404" in errors[missing]
    assert "unsafe XML" in errors[bomb] and "http(s)" in errors["ftp://example.com/x"]
    infos = {i.title: i for i in store.all_document_infos()}
    assert infos["Xi builds a bridge"].url == page and infos["Xi builds a bridge"].source == page
    assert str(infos["Xi builds a bridge"].published) == "2025-08-14"
    assert infos["Nu raises $5 million"].url == "https://nu.example.com/1"
    again = ingestor.ingest([page, feed])
    assert (again.unchanged, again.chunks, again.failed) == (2, 0, [])


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "http://[::1]/", "http://169.254.169.254/"]
)
def test_private_addresses_are_refused_by_default(ingestor: Ingestor, url: str) -> None:
    ingestor.settings = ingestor.settings.model_copy(update={"allow_private_urls": False})
    summary = ingestor.ingest([url])
    assert len(summary.failed) == 1 and "private or local" in summary.failed[0]["error"]
