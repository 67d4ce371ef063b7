"""kill -9 `newsdesk ingest` while it embeds and writes; the next ingest converges exactly.

Each trial starts from an index of an older version of the corpus (so the killed run adds,
updates and removes documents), kills the CLI after a seeded random delay counted from its
first write to Chroma, reruns the ingest, and compares every document, chunk, sentence and
manifest entry with a clean ingest of the same corpus.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.store import ChromaStore
from rag.system import build_newsdesk
from tests.reliability.conftest import (
    Fact,
    MemoEmbedder,
    check_consistent,
    copy_sample,
    fact_record,
    settings_for,
    snapshot,
    write_jsonl,
    write_note,
)
from tests.servers import cli_command, cli_env

pytestmark = pytest.mark.slow

SEED = 20260408
TRIALS = int(os.environ.get("NEWSDESK_CRASH_TRIALS", "10"))
KILL_WINDOW_S = 4.0  # the killed run's writes (adds, updates, removals) take about this long
QUIET_S = 1.0


def write_corpus(corpus: Path, version: int) -> list[Fact]:
    """Versions 0, 1 and 2 of one corpus at one path: 23 sample documents, 240 generated
    records and 20 notes. From 0 to 1, 22 documents appear, 22 vanish and 7 change; 2 also
    changes the figures of the 20 records that are new in 1 (a file edited after a crash).
    Returns the facts of the generated records in this version."""
    rng = random.Random(SEED)
    batches = [[fact_record(rng, f"gen-{b:02d}-{r:02d}") for r in range(20)] for b in range(13)]
    if not (corpus / "sample").exists():
        copy_sample(corpus)
    facts: list[Fact] = []
    for number, batch in enumerate(batches):
        path = corpus / "gen" / f"batch_{number:02d}.jsonl"
        present = number < 12 if version == 0 else number != 11
        changed = (number == 0 and version > 0) or (number == 12 and version == 2)
        for record, fact in batch[:5] if number == 0 else batch:
            if changed:
                bumped = fact.count + 1000 * (1 + (number == 12))
                record["text"] = record["text"].replace(f" {fact.count} ", f" {bumped} ")
                fact.count = bumped
        if present:
            write_jsonl(path, [record for record, _ in batch])
            facts.extend(fact for _, fact in batch)
        else:
            path.unlink(missing_ok=True)
    for number in range(22):
        path = corpus / "notes" / f"note_{number:02d}.md"
        if (version == 0 and number < 20) or (version > 0 and number >= 2):
            rewritten = version > 0 and number < 4
            write_note(path, random.Random(number + 100 * rewritten), number)
        else:
            path.unlink(missing_ok=True)
    return facts


def ingest_here(data_dir: Path, corpus: Path, embedder: MemoEmbedder) -> ChromaStore:
    settings = settings_for(data_dir)
    store = ChromaStore.from_settings(settings)
    summary = Ingestor(settings, store, embedder).ingest([corpus])
    assert not summary.failed, summary.failed
    return store


def sqlite_stamp(data_dir: Path) -> tuple[int, int]:
    stat = (data_dir / "chroma" / "chroma.sqlite3").stat()
    return stat.st_mtime_ns, stat.st_size


def wait_for_writes(process: subprocess.Popen[bytes], data_dir: Path) -> None:
    """Until the run starts writing: opening the store touches the file once at start, the
    writes come after a quiet spell (parsing, embedding)."""
    stamp, changed_at = sqlite_stamp(data_dir), time.monotonic()
    opened = False
    while process.poll() is None:
        now = time.monotonic()
        assert now - changed_at < 120, "the ingest never wrote"
        current = sqlite_stamp(data_dir)
        if current != stamp:
            if opened and now - changed_at > QUIET_S:
                return
            opened, stamp, changed_at = True, current, now
        time.sleep(0.005)


def run_and_kill(data_dir: Path, corpus: Path, delay_s: float) -> tuple[bool, float]:
    """Start the CLI; `delay_s` after its first write, SIGKILL it. (killed?, seconds run)."""
    started = time.monotonic()
    process = subprocess.Popen(
        cli_command("ingest", str(corpus), "--data-dir", str(data_dir), "--json"),
        cwd=data_dir.parent,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_writes(process, data_dir)
        time.sleep(delay_s)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode == -signal.SIGKILL, time.monotonic() - started


def test_killed_ingests_converge_to_a_clean_ingest(
    tmp_path: Path, memo_embedder: MemoEmbedder
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 0)
    base = tmp_path / "base" / "data"
    ingest_here(base, corpus, memo_embedder)
    references, facts = {}, {}
    for version in (2, 1):  # leave the corpus at version 1
        facts[version] = write_corpus(corpus, version)
        store = ingest_here(tmp_path / f"reference-{version}" / "data", corpus, memo_embedder)
        references[version] = snapshot(store)
        check_consistent(references[version])
        assert references[version].counts()["documents"] == 23 + len(facts[version]) + 20

    rng = random.Random(SEED)
    outcomes = []
    for trial in range(TRIALS):
        data_dir = tmp_path / f"trial-{trial}" / "data"
        shutil.copytree(base, data_dir)
        delay = rng.uniform(0.0, KILL_WINDOW_S)
        killed, seconds = run_and_kill(data_dir, corpus, delay)
        settings = settings_for(data_dir)
        store = ChromaStore.from_settings(settings)
        crashed = snapshot(store)
        version = 2 if trial % 2 else 1  # odd trials: the new records were edited meanwhile
        write_corpus(corpus, version)
        rerun = Ingestor(settings, store, memo_embedder).ingest([corpus])
        write_corpus(corpus, 1)
        assert not rerun.failed, rerun.failed
        state = snapshot(store)
        check_consistent(state)
        for part in ("documents", "chunks", "sentences", "manifest"):
            assert getattr(state, part) == getattr(references[version], part), (trial, part)
        desk = build_newsdesk(settings, embedder=memo_embedder)
        for fact in rng.sample(facts[version], 2):
            answer = desk.ask(fact.question)
            assert not answer.abstained, fact.question
            assert any(c.doc_id == fact.doc_id for c in answer.citations), fact.question
            for citation in answer.citations:
                found = store.get_document(citation.doc_id)
                assert found is not None
                assert found[1][citation.start : citation.end] == citation.quote
        outcomes.append(
            {"trial": trial, "delay_s": round(delay, 2), "killed": killed,
             "seconds": round(seconds, 1), "at_kill": crashed.counts(),
             "rerun": {k: rerun.to_dict()[k] for k in ("added", "updated", "removed")}}
        )  # fmt: skip
    print("\ncrash trials:", json.dumps(outcomes))
    killed_mid_run = sum(o["killed"] for o in outcomes)
    assert killed_mid_run >= TRIALS * 0.6, outcomes
    # The kills landed at different points of the run (not all before or after the writes).
    assert len({json.dumps(o["at_kill"]) for o in outcomes if o["killed"]}) >= 3, outcomes


def test_parts_left_by_a_killed_run_never_outlive_a_changed_document(
    tmp_path: Path, memo_embedder: MemoEmbedder
) -> None:
    """The state a kill between the parts and the record leaves (seen in the trials above:
    more chunks than documents account for), then the source changes before the rerun."""
    rng = random.Random(SEED)
    record, fact = fact_record(rng, "gen-edited")
    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "one.jsonl", [record])
    store = ingest_here(tmp_path / "data", corpus, memo_embedder)
    store.documents.delete(ids=[fact.doc_id])  # what the killed run had not written yet
    store.manifest_delete(next(iter(snapshot(store).manifest)))
    record["text"] = "Breaking: " + record["text"].replace(f" {fact.count} ", " 7 ")
    write_jsonl(corpus / "one.jsonl", [record])
    Ingestor(settings_for(tmp_path / "data"), store, memo_embedder).ingest([corpus])
    state = snapshot(store)
    check_consistent(state)
    assert state.documents[fact.doc_id][0] == record["text"]
