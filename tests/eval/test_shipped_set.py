"""Gate: the shipped set over the sample corpus, in-process, against the bounds in eval/gates.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.draws import gated_values, misses
from eval.questions import load_set
from eval.runner import evaluate
from eval.targets import InProcessTarget
from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.store import ChromaStore
from rag.system import build_newsdesk
from tests.conftest import REPO_ROOT

GATES = REPO_ROOT / "eval" / "gates.json"


GATED_SETS = json.loads(GATES.read_text())["sets"]


@pytest.mark.slow
@pytest.mark.parametrize("gates", GATED_SETS, ids=[g["name"] for g in GATED_SETS])
def test_shipped_set_meets_its_gates(tmp_path: Path, embedder: Any, gates: dict[str, Any]) -> None:
    questions = load_set(REPO_ROOT / gates["set"])
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
    summary = Ingestor(settings, store, embedder).ingest([REPO_ROOT / gates["corpus"]])
    assert summary.failed == []
    newsdesk = build_newsdesk(settings, embedder=embedder)
    report = evaluate(InProcessTarget(newsdesk), questions, {"set": gates["set"]})
    metrics = report["metrics"]
    assert metrics["summary"]["questions"] == len(questions)
    missed = misses({gates["name"]: gated_values(metrics, gates)}, [gates])
    failing = [q["id"] for q in report["questions"] if not q["pass"]]
    assert not missed, f"gates missed: {missed}; failing: {failing}"
