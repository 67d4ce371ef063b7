"""Every benchmark section runs end to end in its tiny configuration (no timing assertions)."""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import BenchConfig, BenchContext, Section
from bench.report import console_text, write_markdown
from bench.run import SECTIONS


@pytest.fixture(scope="module")
def context(embedder, tmp_path_factory) -> Iterator[BenchContext]:  # type: ignore[no-untyped-def]
    ctx = BenchContext(BenchConfig.tiny_config(), figures_dir=tmp_path_factory.mktemp("figures"))
    ctx._embedder = embedder  # the session's one loaded model
    yield ctx
    ctx.close()


@pytest.mark.parametrize("name", SECTIONS)
def test_section_runs_and_reports(name: str, context: BenchContext, tmp_path: Path) -> None:
    section = importlib.import_module(f"bench.{name}").run(context)
    assert isinstance(section, Section) and section.name == name
    assert section.rows, f"{name} measured nothing"
    assert all(len(row) == len(section.columns) for row in section.rows)
    for check in section.checks:
        assert math.isfinite(check.value), f"{check.name} is not a number"
        assert check.line().startswith(("PASS", "FAIL"))
    assert section.title in console_text(section)
    out = tmp_path / "benchmarks.md"
    write_markdown(out, [section], {"nproc": 2, "cpu": "test", "ram_gib": 1.0}, command="test")
    text = out.read_text()
    assert f"## {section.title}" in text and "| " + section.columns[0] in text


def test_scale_corpus_is_deterministic(tmp_path: Path) -> None:
    from bench.gen_corpus import records, write

    first = write(tmp_path / "a.jsonl", 30, seed=3).read_text()
    assert first == write(tmp_path / "b.jsonl", 30, seed=3).read_text()
    assert first != write(tmp_path / "c.jsonl", 30, seed=4).read_text()
    rows = list(records(30, seed=3))
    assert len({r["id"] for r in rows}) == 30
    assert all(r["published"] and "$" in r["text"] for r in rows)


def test_onnx_embedder_matches_the_torch_model(embedder) -> None:  # type: ignore[no-untyped-def]
    from bench.common import OUT_DIR
    from rag.embedder import embedder_for

    texts = [
        "How much capacity comes online by the end of 2026?",
        "Short.",
        "The company said revenue rose 32% to $436 million in 2025, ahead of its forecast. " * 4,
    ]
    reference = embedder.embed(texts)
    fp32 = embedder_for("onnx", cache_dir=OUT_DIR / "onnx", threads=2).embed(texts)
    int8 = embedder_for("onnx-int8", cache_dir=OUT_DIR / "onnx", threads=2).embed(texts)
    assert fp32.shape == reference.shape == int8.shape
    assert (fp32 * reference).sum(axis=1).min() > 0.999  # the same model, the same pooling
    assert (int8 * reference).sum(axis=1).min() > 0.95  # quantised weights move vectors a little
    with pytest.raises(ValueError):
        embedder_for("tpu")
