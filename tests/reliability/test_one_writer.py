"""One writer per embedded store, against a real `newsdesk serve`: a second `newsdesk ingest`
fails fast (exit 2) saying how to add documents instead; `newsdesk ingest --server` adds them
through the running server; and a store written underneath the server anyway (a process that
ignores the lock) never makes it answer 500: it reopens the store and answers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.writer_lock import WriterLock
from ingest.ids import path_doc_id
from tests.api.conftest import RECORDS
from tests.servers import cli_command, cli_env, free_port, running_serve

pytestmark = pytest.mark.slow

READ, ADMIN = "writer-read", "writer-admin"
QUESTIONS = ["How many electric trains did Metro Transit order?",
             "How much did Quanta Labs raise?"]  # fmt: skip

# Writes the data dir directly, ignoring the lock, as a script or an older newsdesk might;
# with --traceless it puts the generation stamp back, so only a failed read can tell.
BYPASS_WRITER = """
import json, sys
from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.embedder import SentenceTransformerEmbedder
from rag.store import STATE_ID, ChromaStore
settings = Settings(data_dir=sys.argv[1], _env_file=None)
store = ChromaStore.from_settings(settings)
state = store.manifest.get(ids=[STATE_ID], include=["metadatas"])["metadatas"][0]
sources = [a for a in sys.argv[3:] if not a.startswith("--")]
summary = Ingestor(settings, store, SentenceTransformerEmbedder()).ingest(sources)
for doc_id in json.loads(sys.argv[2]):
    store.delete_document(doc_id)
if "--traceless" in sys.argv:
    store.manifest.upsert(ids=[STATE_ID], embeddings=[[1.0]], metadatas=[state], documents=[""])
print(json.dumps(summary.to_dict()))
"""


@dataclass
class Running:
    url: str
    data: Path
    workdir: Path

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {READ}"}
        return httpx.get(self.url + path, headers=headers, timeout=120, **kwargs)

    def ask(self, question: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {READ}"}
        body = {"question": question}
        return httpx.post(f"{self.url}/v1/ask", json=body, headers=headers, timeout=120)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("one-writer")
    env = cli_env(NEWSDESK_API_KEYS=READ, NEWSDESK_ADMIN_KEYS=ADMIN,
                  NEWSDESK_RATE_LIMIT="100000/minute")  # fmt: skip
    with running_serve(workdir, env, data_dir=workdir / "data") as (url, _):
        added = httpx.post(f"{url}/v1/documents", json=RECORDS, timeout=120,
                           headers={"Authorization": f"Bearer {ADMIN}"})  # fmt: skip
        assert added.status_code == 200, added.text
        yield Running(url, workdir / "data", workdir)


def newsdesk(*arguments: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        cli_command(*arguments), cwd=cwd, env=cli_env(**env), capture_output=True, timeout=300
    )


def test_a_second_writer_fails_fast_saying_how_to_add_documents(running: Running) -> None:
    records = running.workdir / "more.json"
    records.write_text(json.dumps([{"id": "late", "text": "Vela Mining hired 30 drillers."}]))
    before = running.get("/v1/stats").json()
    started = time.monotonic()
    done = newsdesk("ingest", str(records), "--data-dir", str(running.data), cwd=running.workdir)
    seconds = time.monotonic() - started
    message = done.stderr.decode()
    assert done.returncode == 2, message
    assert f"newsdesk ingest --server {running.url} --api-key" in message
    assert "NEWSDESK_CHROMA_URL" in message and "newsdesk serve" in message
    assert seconds < 30  # before the model loads
    assert running.get("/v1/stats").json() == before
    print(f"\nsecond writer: exit {done.returncode} after {seconds:.1f} s\n{message}")


def test_ingest_through_the_running_server(running: Running) -> None:
    corpus = running.workdir / "corpus"
    for folder, crew in (("north", 12), ("south", 17)):  # the same file name in two folders
        (corpus / folder).mkdir(parents=True)
        (corpus / folder / "crew.md").write_text(
            f"---\ntitle: Alder Ferries {folder} crew\ndate: 2026-02-0{crew % 9}\n---\n\n"
            f"Alder Ferries hired {crew} deckhands for its {folder} routes.\n"
        )
    (corpus / "records.json").write_text(
        json.dumps([{"id": "alder-fleet", "text": "Alder Ferries bought two hybrid ferries."}])
    )
    missing = str(running.workdir / "no-such-file.md")
    args = ("ingest", str(corpus), missing, "--server", running.url, "--json")
    done = newsdesk(*args, cwd=running.workdir, NEWSDESK_API_KEY=ADMIN)
    assert done.returncode == 1, done.stderr.decode()  # 1: the missing file
    summary = json.loads(done.stdout)
    assert summary["added"] == 3 and summary["failed"][0]["source"] == missing, summary
    for folder in ("north", "south"):  # the doc_ids a local ingest of the folder gives
        doc_id = path_doc_id(corpus / folder / "crew.md", corpus)
        document = running.get(f"/v1/documents/{doc_id}").json()
        assert folder in document["text"] and document["source"] == f"upload:{folder}/crew.md"
    answer = running.ask("How many deckhands did Alder Ferries hire for its south routes?")
    assert "17" in answer.json()["answer"], answer.text

    again = newsdesk("ingest", str(corpus), "--server", running.url, "--api-key", ADMIN,
                     "--json", cwd=running.workdir)  # fmt: skip
    assert again.returncode == 0 and json.loads(again.stdout)["unchanged"] == 3, again.stdout
    as_reader = newsdesk("ingest", str(corpus), "--server", running.url, "--api-key", READ,
                         cwd=running.workdir)  # fmt: skip
    assert as_reader.returncode == 2 and "403" in as_reader.stderr.decode()


def bypass(running: Running, delete: list[str], *sources: Path, traceless: bool = False) -> None:
    command = [sys.executable, "-c", BYPASS_WRITER, str(running.data), json.dumps(delete)]
    command += [str(s) for s in sources] + (["--traceless"] if traceless else [])
    done = subprocess.run(command, cwd=running.workdir, env=cli_env(), capture_output=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def all_reads_answer(running: Running, questions: list[str]) -> None:
    for question in questions:
        assert running.ask(question).status_code == 200, question
    assert running.get("/v1/search", params={"q": "hired engineers"}).status_code == 200
    listing = running.get("/v1/documents", params={"limit": 500})
    assert listing.status_code == 200
    for document in listing.json()["documents"]:
        assert running.get(f"/v1/documents/{document['doc_id']}").status_code == 200


def test_a_store_written_underneath_the_server_is_reopened(running: Running) -> None:
    """The writer's generation stamp (another pid) tells the server before its next read."""
    batch = running.workdir / "makers.json"
    records = [{"id": f"maker-{n}", "title": f"Maker {n} hires",
                "text": f"Maker {n} hired {11 * n + 5} engineers in Bergen."}
               for n in range(40)]  # fmt: skip
    batch.write_text(json.dumps(records))
    all_reads_answer(running, QUESTIONS)  # the server holds its (soon stale) index in memory
    bypass(running, ["undated-memo"], batch)
    all_reads_answer(running, QUESTIONS)
    answer = running.ask("How many engineers did Maker 7 hire?").json()
    assert "82" in answer["answer"] and answer["citations"][0]["doc_id"] == "maker-7", answer
    assert running.get("/v1/documents/undated-memo").status_code == 404


def test_a_traceless_write_underneath_never_gives_500(running: Running) -> None:
    """No stamp to go by: the stale read itself fails, and the server reopens and answers."""
    all_reads_answer(running, QUESTIONS)
    bypass(running, ["quanta-series-b", "solar-nevada"], traceless=True)
    questions = [*QUESTIONS, "How large is the Helio Works solar farm?"]
    all_reads_answer(running, questions)
    assert running.get("/v1/documents/quanta-series-b").status_code == 404


def test_serve_refuses_a_data_dir_another_ingest_is_writing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with WriterLock(data, role="ingest"):
        started = time.monotonic()
        done = newsdesk("serve", "--port", str(free_port()), "--data-dir", str(data), cwd=tmp_path)
        assert done.returncode == 2, done.stderr.decode()
        assert "being written by another `newsdesk ingest`" in done.stderr.decode()
        assert time.monotonic() - started < 30
