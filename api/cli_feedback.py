"""`newsdesk feedback export --as-eval-set FILE`: readers' thumbs-down questions as an eval-set
skeleton, so real failures become test questions once a person writes their answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_ingest import DataDirOption, JsonOption, _settings
from rag.feedback import Feedback

feedback_app = typer.Typer(help="What readers said about answers (the widget's thumbs).",
                           no_args_is_help=True)  # fmt: skip
EVAL_TYPES = {"number", "date", "entity", "yes_no"}


def eval_skeleton(feedback: Feedback) -> dict[str, Any]:
    """One eval-set record (DESIGN.md): `answers` and `doc_ids` are left empty for a person to
    fill in; the type is guessed from the question; what the reader saw rides along."""
    from rag.reader.lexicon import default_lexicon
    from rag.reader.question import analyse, guessed_type

    guessed = guessed_type(analyse(feedback.question, default_lexicon())) or ""
    return {
        "id": f"feedback-{feedback.id[:12]}",
        "question": feedback.question,
        "answers": [],
        "doc_ids": [],
        "type": guessed if guessed in EVAL_TYPES else "entity",
        "tags": ["feedback", "needs-answers"] + ([] if guessed in EVAL_TYPES else ["type-guessed"]),
        "feedback": {
            "answer": feedback.answer,
            "abstained": feedback.abstained,
            "comment": feedback.comment,
            "cited_doc_ids": feedback.cited_doc_ids,
            "request_id": feedback.request_id,
            "created_at": feedback.created_at,
        },
    }


@feedback_app.command("export")
def export_command(
    as_eval_set: Annotated[
        Path, typer.Option("--as-eval-set", help="JSONL file to write (an eval-set skeleton).")
    ],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write every thumbs-down question once (its latest feedback) as an eval-set record."""
    from rag.feedback import FeedbackLog
    from rag.store import ChromaStore

    store = ChromaStore.from_settings(_settings(data_dir))
    down = FeedbackLog(store).list(verdict="down")
    latest: dict[str, Feedback] = {}
    for item in down:  # oldest first, so the newest of one question wins
        latest[" ".join(item.question.lower().split())] = item
    records = [eval_skeleton(item) for item in latest.values()]
    as_eval_set.parent.mkdir(parents=True, exist_ok=True)
    with as_eval_set.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    summary = {"questions": len(records), "thumbs_down": len(down), "file": str(as_eval_set)}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"wrote {len(records)} question(s) from {len(down)} thumbs-down to {as_eval_set}; "
            "fill in `answers` and `doc_ids` (answers == [] means it should abstain)"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")
