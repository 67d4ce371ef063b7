"""`newsdesk eval` through Typer's CliRunner: --corpus ingests into a fresh index, --compare
runs the three retrievers, exit codes, and a set error that names its file and line."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli_eval import register
from tests.eval.conftest import TinyCorpus


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    application.command("noop")(lambda: None)  # keep `eval` a sub-command, as in the real app
    register(application)
    return application


@pytest.mark.slow
def test_compare_over_a_fresh_corpus(
    app: typer.Typer, tiny: TinyCorpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = CliRunner().invoke(
        app,
        ["eval", "--set", str(tiny.set_path), "--corpus", str(tiny.corpus), "--compare",
         "--out", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)["compare"]
    assert set(reports) == {"dense", "keyword", "hybrid"}
    for name, report in reports.items():
        assert report["config"]["retriever"] == name
        assert report["metrics"]["citations"]["quote_exactness"] == 1.0
        assert (out / name / "report.html").exists()
    assert list(scratch.iterdir()) == []  # the temporary index is gone

    human = CliRunner().invoke(
        app, ["eval", "--set", str(tiny.set_path), "--data-dir", str(tiny.data_dir),
              "--out", str(tmp_path / "h"), "--fail-under", "summary.pass_rate=1.01"],
    )  # fmt: skip
    assert human.exit_code == 1
    assert "retrieval.hit@5" in human.stdout and "summary.pass_rate" in human.stderr


def test_bad_set_line_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "question": "Q?", "answers": [], "doc_ids": [], "type": "entity"}\n{oops\n'
    )
    result = CliRunner().invoke(app, ["eval", "--set", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2: not valid JSON" in result.stderr
