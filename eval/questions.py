"""Eval sets (DESIGN.md JSONL): load and validate, naming the file and line of any bad record."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TYPES = ("number", "date", "entity", "yes_no", "unanswerable", "multi_doc")


class SetError(ValueError):
    """A malformed eval set; the message names the file and line."""


@dataclass
class EvalQuestion:
    id: str
    question: str
    answers: list[str]
    doc_ids: list[str]
    type: str
    tags: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def _string_list(record: dict[str, Any], key: str, where: str) -> list[str]:
    value = record.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SetError(f"{where}: {key!r} must be a list of strings, got {value!r}")
    return list(value)


def parse_record(record: Any, where: str) -> EvalQuestion:
    if not isinstance(record, dict):
        raise SetError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for key in ("id", "question", "type"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise SetError(f"{where}: {key!r} must be a non-empty string")
    if record["type"] not in TYPES:
        raise SetError(f"{where}: 'type' must be one of {', '.join(TYPES)}, got {record['type']!r}")
    answers = _string_list(record, "answers", where)
    doc_ids = _string_list(record, "doc_ids", where)
    if record["type"] == "unanswerable" and answers:
        raise SetError(f"{where}: an unanswerable question must have answers == []")
    tags = record.get("tags") or []
    return EvalQuestion(
        id=record["id"],
        question=record["question"],
        answers=answers,
        doc_ids=doc_ids,
        type=record["type"],
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
    )


def load_set(path: Path) -> list[EvalQuestion]:
    """Every non-blank line is one question; ids must be unique."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SetError(f"{path}: cannot read eval set: {error}") from None
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise SetError(
                f"{where}: not valid JSON ({error.msg} at column {error.colno})"
            ) from None
        question = parse_record(record, where)
        if question.id in seen:
            raise SetError(
                f"{where}: duplicate id {question.id!r} (first on line {seen[question.id]})"
            )
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise SetError(f"{path}: the eval set has no questions")
    return questions
