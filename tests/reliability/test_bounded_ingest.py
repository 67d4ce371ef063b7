"""Pathological sizes through the real CLI: a 10 MB and a 3 MB one-line record and 300,000
one-word sentences each fail alone by name within their time budget while the rest is
indexed; SIGINT and SIGTERM stop an ingest within seconds, whatever it is doing, with every
write whole, and a rerun converges to what a clean ingest gives."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from rag.store import ChromaStore
from tests.reliability.conftest import check_consistent, settings_for, snapshot
from tests.reliability.hostile import _good_note, one_line_record, one_word_sentences
from tests.servers import cli_command, cli_env

# timing-sensitive: `make test` runs it alone, after the parallel pass
pytestmark = [pytest.mark.slow, pytest.mark.serial]

BUDGET_S = 8  # NEWSDESK_DOCUMENT_TIMEOUT_S for these runs (three documents use it up in one run)
RUN_LIMIT_S = 300  # before the bound, the 10 MB line alone took far longer (pysbd: > 40 min)
STOP_WITHIN_S = 30


def notes(corpus: Path, count: int = 20) -> set[str]:
    corpus.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (corpus / f"good-{number}.md").write_text(_good_note(number))
    return {f"good-{number}.md" for number in range(count)}


def ingest(corpus: Path, data: Path, budget_s: float, **popen: object) -> subprocess.Popen[bytes]:
    env = cli_env(NEWSDESK_DOCUMENT_TIMEOUT_S=str(budget_s), NEWSDESK_MAX_FILE_BYTES="12000000")
    return subprocess.Popen(
        cli_command("ingest", str(corpus), "--data-dir", str(data), "--json"),
        cwd=data.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen,
    )  # fmt: skip


def finished(process: subprocess.Popen[bytes], timeout_s: float) -> tuple[int, dict, str]:
    out, err = process.communicate(timeout=timeout_s)
    return process.returncode, json.loads(out or b"{}"), err.decode()[-3000:]


def test_huge_lines_and_sentence_floods_fail_alone_within_budget(tmp_path: Path) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    good = notes(corpus)
    (corpus / "line-10mb.json").write_text(json.dumps(one_line_record(10_000_000)))
    (corpus / "line-3mb.json").write_text(json.dumps(one_line_record(3_000_000)))
    # 300,000: on an idle 2-core machine 100,000 of them split in about 15 s, and the test then
    # depended on machine speed; this many take several budgets anywhere
    (corpus / "one-word.txt").write_text(one_word_sentences(300_000))
    started = time.monotonic()
    code, summary, err = finished(ingest(corpus, data, BUDGET_S), RUN_LIMIT_S)
    seconds = time.monotonic() - started
    assert code == 1, err
    failed = {Path(f["source"]).name: f["error"] for f in summary["failed"]}
    assert set(failed) == {"line-10mb.json", "line-3mb.json", "one-word.txt"}, failed
    for name, error in failed.items():
        assert f"time budget of {BUDGET_S} s" in error and name in error, error
    assert "'one-line-10000000'" in failed["line-10mb.json"]
    store = ChromaStore.from_settings(settings_for(data))
    assert {Path(i.source).name for i in store.all_document_infos()} == good
    check_consistent(snapshot(store))
    print(f"\nbounded ingest: 10 MB + 3 MB one-line records and 300,000 one-word sentences "
          f"failed by budget, {len(good)} notes indexed, in {seconds:.0f} s")  # fmt: skip


def test_signals_stop_cleanly_and_a_rerun_converges(tmp_path: Path) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    good = notes(corpus)
    # Sorted between the notes: some documents are pending or written when the signal comes.
    (corpus / "good-15-slow.json").write_text(json.dumps(one_line_record(2_000_000)))
    for signum in (signal.SIGINT, signal.SIGTERM):
        process = ingest(corpus, data, 600)
        time.sleep(12)  # the model is loaded; it is splitting or embedding the long line
        assert process.poll() is None, "the ingest ended before it could be interrupted"
        process.send_signal(signum)
        sent = time.monotonic()
        code, summary, err = finished(process, STOP_WITHIN_S)
        print(f"\n{signal.Signals(signum).name}: stopped {time.monotonic() - sent:.1f} s later")
        assert code == 128 + signum, err
        assert summary["interrupted"] is True and f"interrupted by {signum.name}" in err
        check_consistent(snapshot(ChromaStore.from_settings(settings_for(data))))
    code, rerun, err = finished(ingest(corpus, data, 5), RUN_LIMIT_S)
    assert code == 1 and [Path(f["source"]).name for f in rerun["failed"]] == ["good-15-slow.json"]
    resumed = snapshot(ChromaStore.from_settings(settings_for(data)))
    clean_data = tmp_path / "clean"
    code, clean, err = finished(ingest(corpus, clean_data, 5), RUN_LIMIT_S)
    assert code == 1, err
    fresh = snapshot(ChromaStore.from_settings(settings_for(clean_data)))
    assert resumed == fresh
    assert {Path(row[4]).name for row in fresh.documents.values()} == good
