"""Document identity through the real CLI and a real `newsdesk serve`: id-less records never
collide, identical ones dedupe; ids that could not name a document are refused by name (the
CLI reports the record, HTTP answers 422 naming the field); a url that is not http(s) is
dropped and reported; the listing shows sources relative to their ingest root."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import cli_command, cli_env, running_serve

pytestmark = pytest.mark.slow

ADMIN = {"Authorization": "Bearer identity-admin"}


def mill(workers: int) -> dict[str, str]:
    return {"title": "Ardent Mills hires", "published": "2026-03-02",
            "text": f"Ardent Mills hired {workers} millers for its Duluth plant."}  # fmt: skip


RECORDS: list[dict[str, Any]] = [
    mill(40),  # record 0: no id, no url
    mill(55),  # record 1: no id, no url, other text: another document
    mill(40),  # record 2: the very same as record 0: one document
    {"id": "../../etc/passwd", "title": "Traversal", "text": "Path ids are refused."},
    {"id": "bell\x07id", "title": "Control", "text": "Control characters are refused."},
    {"id": "x" * 300, "title": "Long", "text": "Ids over the cap are refused."},
    {"id": "js-link", "url": "javascript:alert(1)", "title": "Script link",
     "text": "Kestrel Air added four routes from Tromso."},
    {"id": "data-link", "url": "data:text/html,<b>hi</b>", "title": "Data link",
     "text": "Kestrel Air retired two turboprops."},
    {"id": "good-link", "url": "https://example.test/kestrel", "title": "Kestrel fleet",
     "text": "Kestrel Air leased three jets for summer."},
]  # fmt: skip
NOTE = "---\ntitle: File link\nurl: file:///etc/passwd\n---\n\nOskar Freight opened a depot.\n"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Path]:
    workdir = tmp_path_factory.mktemp("identity")
    corpus = (workdir / "corpus").resolve()
    (corpus / "press").mkdir(parents=True)
    (corpus / "notes").mkdir()
    (corpus / "press" / "records.json").write_text(json.dumps(RECORDS))
    (corpus / "notes" / "file-link.md").write_text(NOTE)
    data = workdir / "data"
    done = subprocess.run(
        cli_command("ingest", str(corpus), "--data-dir", str(data), "--json"),
        cwd=workdir, env=cli_env(), capture_output=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr.decode()[-2000:]  # 1: some records failed
    return workdir, json.loads(done.stdout), data


@pytest.fixture(scope="module")
def server(ingested: tuple[Path, dict[str, Any], Path]) -> Iterator[str]:
    workdir, _, data = ingested
    env = cli_env(NEWSDESK_ADMIN_KEYS="identity-admin", NEWSDESK_RATE_LIMIT="100000/minute")
    with running_serve(workdir, env, data_dir=data) as (base_url, _):
        yield base_url


def test_cli_reports_bad_ids_by_name_and_drops_unsafe_urls(
    ingested: tuple[Path, dict[str, Any], Path],
) -> None:
    _, summary, _ = ingested
    failed = {f["error"].split(":")[0]: f["error"] for f in summary["failed"]}
    records = str(Path("press") / "records.json")
    assert all(f["source"].endswith(records) for f in summary["failed"]), summary["failed"]
    assert sorted(key.rsplit(" ", 1)[-1] for key in failed) == ["3", "4", "5"], failed
    assert "field 'id' contains a path separator" in failed[f"{failed_source(summary)} record 3"]
    assert "control" in failed[f"{failed_source(summary)} record 4"]
    assert "at most 200" in failed[f"{failed_source(summary)} record 5"]
    warned = " ".join(w["warning"] for w in summary["warnings"])
    assert len(summary["warnings"]) == 3, summary["warnings"]
    for fragment in ("record 6", "javascript:", "record 7", "data:", "file-link.md", "file:"):
        assert fragment in warned, (fragment, warned)
    # records 0 and 1 differ, record 2 is record 0 again; 6, 7, 8 and the note
    assert summary["added"] == summary["documents"] == 6, summary


def failed_source(summary: dict[str, Any]) -> str:
    return str(summary["failed"][0]["source"])


def test_listing_shows_relative_sources_and_no_unsafe_urls(server: str) -> None:
    listing = httpx.get(f"{server}/v1/documents", params={"limit": 100}, headers=ADMIN).json()
    by_title: dict[str, list[dict[str, Any]]] = {}
    for document in listing["documents"]:
        by_title.setdefault(document["title"], []).append(document)
        assert not document["source"].startswith("/") and "/tmp" not in document["source"]
        got = httpx.get(f"{server}/v1/documents/{document['doc_id']}", headers=ADMIN)
        assert got.status_code == 200, document  # every stored id can be read back
    assert {d["source"] for d in listing["documents"]} == {"press/records.json",
                                                           "notes/file-link.md"}  # fmt: skip
    assert len(by_title["Ardent Mills hires"]) == 2
    assert by_title["Script link"][0]["url"] is None and by_title["Data link"][0]["url"] is None
    assert by_title["File link"][0]["url"] is None
    assert by_title["Kestrel fleet"][0]["url"] == "https://example.test/kestrel"


def test_id_less_records_over_http_never_collide(server: str) -> None:
    first = {"title": "Pinewood Rail", "text": "Pinewood Rail ordered 12 trams for Leuven."}
    second = {"title": "Pinewood Rail", "text": "Pinewood Rail ordered 19 buses for Ghent."}

    def post(record: dict[str, str]) -> tuple[int, int, int]:
        response = httpx.post(f"{server}/v1/documents", json=[record], headers=ADMIN, timeout=120)
        assert response.status_code == 200, response.text
        body = response.json()
        return body["added"], body["updated"], body["unchanged"]

    assert post(first) == (1, 0, 0)
    assert post(second) == (1, 0, 0)  # one request each: they used to share "api#0"
    assert post(first) == (0, 0, 1)  # the very same record again: one document
    found = httpx.get(
        f"{server}/v1/search", params={"q": "Pinewood Rail ordered"}, headers=ADMIN
    ).json()
    texts = " ".join(hit["text"] for hit in found["results"])
    assert "12 trams" in texts and "19 buses" in texts


def test_bad_ids_over_http_are_422_naming_the_field(server: str) -> None:
    before = httpx.get(f"{server}/v1/stats", headers=ADMIN).json()["documents"]
    cases = [
        ({"documents": [{"id": "ok-1", "text": "Fine."}, {"id": "a/b", "text": "No."}]},
         "body.documents.1.id"),
        ([{"doc_id": "..", "text": "No."}], "body.0.doc_id"),
        ([{"id": "tab\tid", "text": "No."}], "body.0.id"),
        ([{"id": "y" * 201, "text": "No."}], "body.0.id"),
    ]  # fmt: skip
    for body, field in cases:
        response = httpx.post(f"{server}/v1/documents", json=body, headers=ADMIN)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_id" and error["message"].startswith(field), error
    assert (
        httpx.get(f"{server}/v1/stats", headers=ADMIN).json()["documents"] == before
    )  # nothing stored


def test_unsafe_url_over_http_is_dropped_and_reported(server: str) -> None:
    record = {"id": "vbscript-link", "url": "vbscript:msgbox(1)", "title": "Odd link",
              "text": "Larkspur Foods opened a bakery in Tartu."}  # fmt: skip
    response = httpx.post(f"{server}/v1/documents", json=[record], headers=ADMIN, timeout=120)
    assert response.status_code == 200 and response.json()["added"] == 1, response.text
    assert "vbscript:" in response.json()["warnings"][0]["warning"]
    assert httpx.get(f"{server}/v1/documents/vbscript-link", headers=ADMIN).json()["url"] is None
