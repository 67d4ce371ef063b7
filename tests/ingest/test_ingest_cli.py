"""`newsdesk ingest` and `newsdesk stats` through Typer's CliRunner: output shapes and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli_ingest import register

SUMMARY_KEYS = {"added", "updated", "unchanged", "removed", "documents", "chunks", "failed"}


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)
    return application


def test_ingest_then_stats(tmp_path: Path, app: typer.Typer) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ndate: 2025-02-01\n---\n# Alpha\n\nAlpha grew 7%.\n")
    (corpus / "b.txt").write_text("Beta\nMarch 9, 2026\n\nBeta shrank 1%.\n")
    data = ["--data-dir", str(tmp_path / "data")]
    runner = CliRunner()

    first = runner.invoke(app, ["ingest", str(corpus), *data, "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert set(summary) >= SUMMARY_KEYS and summary["added"] == 2 and summary["chunks"] >= 2

    second = json.loads(runner.invoke(app, ["ingest", str(corpus), *data, "--json"]).stdout)
    assert (second["added"], second["unchanged"], second["chunks"]) == (0, 2, 0)

    broken = corpus / "broken.json"
    broken.write_text("{not json")
    partial = runner.invoke(
        app, ["ingest", str(corpus), str(tmp_path / "nope.txt"), *data, "--json"]
    )
    assert partial.exit_code == 1
    failed = {f["source"] for f in json.loads(partial.stdout)["failed"]}
    assert failed == {str(broken), str(tmp_path / "nope.txt")}

    stats = runner.invoke(app, ["stats", *data, "--json"])
    assert stats.exit_code == 0
    assert json.loads(stats.stdout) | {"sources": 0} == {
        "documents": 2,
        "chunks": summary["chunks"],
        "sentences": summary["sentences"],
        "earliest": "2025-02-01",
        "latest": "2026-03-09",
        "sources": 0,
        "watched_sources": 0,
        "stalled_sources": 0,
    }
    human = runner.invoke(app, ["ingest", str(corpus / "a.md"), *data])
    assert human.exit_code == 0 and "unchanged" in human.stdout


def test_usage_errors_exit_2(tmp_path: Path, app: typer.Typer) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "--data-dir", str(tmp_path)]).exit_code == 2
    assert runner.invoke(app, ["ingest", "x", "--no-such-flag"]).exit_code == 2
