"""`python -m eval.train` end to end without the devset: examples from the shipped set over the
sample corpus, the reader fitted on them, the artifact written, read back and answering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.train import main
from rag.config import Settings
from rag.reader.model import load_model
from rag.reader.reader import EXPECTED_FEATURES, KIND_INPUTS
from rag.reader.spans import KINDS
from rag.system import build_newsdesk

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_train_writes_an_artifact_the_reader_loads(
    tmp_path: Path, embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # .newsdesk-train/ goes here
    sets = tmp_path / "sets.json"
    sets.write_text(json.dumps({"sets": [{
        "name": "announcements", "set": str(ROOT / "eval/sets/announcements.jsonl"),
        "corpus": str(ROOT / "examples/announcements"), "report": True}]}))  # fmt: skip
    out = tmp_path / "model.json"
    assert main(["--sets", str(sets), "--out", str(out)]) == 0
    model = load_model(out)
    model.check(EXPECTED_FEATURES, KINDS, KIND_INPUTS)
    assert model.meta["sets"] == {"announcements": 101}
    assert 0.0 <= model.threshold("answerable") <= 1.0
    settings = Settings(data_dir=tmp_path / "index", _env_file=None)  # type: ignore[call-arg]
    desk = build_newsdesk(settings, embedder=embedder, model=model)  # type: ignore[arg-type]
    from ingest.pipeline import Ingestor

    Ingestor(settings, desk.store, desk.embedder).ingest([ROOT / "examples/announcements"])
    desk.refresh()
    answer = desk.ask("How much capacity comes online by the end of 2026?")
    assert not answer.abstained and answer.short_answer and "1 gigawatt" in answer.short_answer
