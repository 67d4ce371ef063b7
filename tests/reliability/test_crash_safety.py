"""kill -9 `newsdesk ingest` while it embeds and writes; the next ingest converges exactly.

Each trial starts from an index of an older version of the corpus (so the killed run adds,
updates and removes documents), kills the CLI after a seeded random delay counted from the
start of its writes to Chroma, reruns the ingest, and compares every document, chunk,
sentence and manifest entry with a clean ingest of the same corpus, and two questions' answers
with the clean ingest's answers.
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
from rag.types import Answer
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

# timing-sensitive: `make test` runs it alone, after the parallel pass
pytestmark = [pytest.mark.slow, pytest.mark.serial]

SEED = 20260408
TRIALS = int(os.environ.get("NEWSDESK_CRASH_TRIALS", "5"))  # 8 took 3.5 min of `make test`
QUIET_S = 0.5  # a gap between the store's changes this long ends the opening: writes follow


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


def outcome(answer: Answer) -> tuple[bool, str | None, list[tuple[str, int, int]]]:
    """What an answer says and cites, for comparing two stores' answers to one question."""
    cited = [(c.doc_id, c.start, c.end) for c in answer.citations]
    return answer.abstained, answer.short_answer, cited


def store_stamp(data_dir: Path) -> tuple[int, int]:
    """(newest mtime, total size) of the store's files: any write changes it."""
    stats = []
    for path in (data_dir / "chroma").rglob("*"):
        try:
            stats.append(path.stat())
        except FileNotFoundError:  # a journal comes and goes with each transaction
            continue
    return max((s.st_mtime_ns for s in stats), default=0), sum(s.st_size for s in stats)


def run_and_kill(
    data_dir: Path, corpus: Path, kill_after_s: float, quiet_s: float | None = None
) -> tuple[bool, float, list[float], float | None]:
    """Start the CLI and SIGKILL it `kill_after_s` seconds after its writes begin (never, for
    inf): after the first change to the store that follows a quiet spell of `quiet_s` seconds
    (the parsing and embedding between opening the store and writing to it), or, without
    `quiet_s`, after the first change. Counting from the writes, not from the start, keeps the
    kills inside them when a run parses or embeds faster or slower than another. Returns
    (killed?, seconds run, when (since the start) the store's files changed, when the writes
    began or None)."""
    started = time.monotonic()
    process = subprocess.Popen(
        cli_command("ingest", str(corpus), "--data-dir", str(data_dir), "--json"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
        cwd=data_dir.parent,
    )
    changes: list[float] = []
    writes_from: float | None = None
    try:
        stamp = store_stamp(data_dir)
        while process.poll() is None:
            now = time.monotonic() - started
            assert now < 180, "the ingest took too long"
            current = store_stamp(data_dir)
            if current != stamp:
                stamp = current
                if writes_from is None and (
                    quiet_s is None or (bool(changes) and now - changes[-1] >= quiet_s)
                ):
                    writes_from = now
                changes.append(now)
            if writes_from is not None and now - writes_from >= kill_after_s:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    killed = process.returncode == -signal.SIGKILL
    return killed, time.monotonic() - started, changes, writes_from


def test_killed_ingests_converge_to_a_clean_ingest(
    tmp_path: Path, memo_embedder: MemoEmbedder
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 0)
    base = tmp_path / "base" / "data"
    ingest_here(base, corpus, memo_embedder)
    references, facts, reference_dirs, reference_desks = {}, {}, {}, {}
    for version in (2, 1):  # leave the corpus at version 1
        facts[version] = write_corpus(corpus, version)
        reference_dirs[version] = tmp_path / f"reference-{version}" / "data"
        store = ingest_here(reference_dirs[version], corpus, memo_embedder)
        references[version] = snapshot(store)
        check_consistent(references[version])
        assert references[version].counts()["documents"] == 23 + len(facts[version]) + 20

    # How long the run's writes (adds, updates, removals) last on this machine: kills are spread
    # over that window, counted from the writes' start, so they land in the middle of the
    # writes however fast the parsing and embedding before them are.
    calibration = tmp_path / "calibration" / "data"
    shutil.copytree(base, calibration)
    _, _, changes, writes_from = run_and_kill(calibration, corpus, float("inf"), QUIET_S)
    assert changes, "the calibration run never wrote"
    # Opening the store touches it (here 4 changes within 0.1 s), then a quiet spell (parsing,
    # embedding, about 1.2 s) precedes the writes: they start at the first change after a gap
    # of QUIET_S, which the load of the machine can stretch or shrink but not bring down to the
    # opening's own gaps. Each trial finds that start the same way.
    quiet = writes_from is not None
    first = writes_from if writes_from is not None else changes[0]
    last = changes[-1]
    rng = random.Random(SEED)
    outcomes = []
    for trial in range(TRIALS):
        data_dir = tmp_path / f"trial-{trial}" / "data"
        shutil.copytree(base, data_dir)
        delay = rng.uniform(0.0, 0.9 * (last - first))
        killed, seconds, _, _ = run_and_kill(data_dir, corpus, delay, QUIET_S if quiet else None)
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
        # the recovered store answers as a clean ingest of the same corpus does (the reader's
        # own quality is not under test here: both desks read with the same artifact), and it
        # answers: at least one of the two facts asked, with the fact's document cited
        desk = build_newsdesk(settings, embedder=memo_embedder)
        if version not in reference_desks:  # one desk per clean store, opened on first use
            reference_desks[version] = build_newsdesk(
                settings_for(reference_dirs[version]), embedder=memo_embedder
            )
        reference = reference_desks[version]
        answered = 0
        for fact in rng.sample(facts[version], 2):
            answer = desk.ask(fact.question)
            assert outcome(answer) == outcome(reference.ask(fact.question)), (trial, fact.question)
            answered += any(c.doc_id == fact.doc_id for c in answer.citations)
            for citation in answer.citations:
                found = store.get_document(citation.doc_id)
                assert found is not None
                assert found[1][citation.start : citation.end] == citation.quote
        assert answered, (trial, "neither fact was answered from its document")
        outcomes.append(
            {"trial": trial, "delay_s": round(delay, 2), "killed": killed,
             "seconds": round(seconds, 1), "at_kill": crashed.counts(),
             "rerun": {k: rerun.to_dict()[k] for k in ("added", "updated", "removed")}}
        )  # fmt: skip
    print(f"\nwrites from {first:.2f} s to {last:.2f} s; crash trials:", json.dumps(outcomes))
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
