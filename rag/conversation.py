"""Follow-up rewriting for the extractive answerer: "and what about Brightwater?" -> a standalone question.

Hand-written: no offline library rewrites questions without a language model; the LLM
answerer asks its model instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.reader.lexicon import default_lexicon
from rag.reader.question import question_names

FOLLOW_UP_RE = re.compile(
    r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<subject>.+?)\s*\??\s*$|^\s*and\s+(?P<bare>.+?)\s*\?\s*$",
    re.IGNORECASE,
)
QUESTION_WORD_RE = re.compile(
    r"\b(who|what|when|which|where|why|how|is|are|was|were|did|does|do)\b", re.I
)


def last_user_question(history: Sequence[dict[str, str]]) -> str | None:
    for message in reversed(history):
        if message.get("role") == "user" and message.get("content", "").strip():
            return message["content"].strip()
    return None


def standalone_question(question: str, history: Sequence[dict[str, str]] | None) -> str:
    """Rewrite a follow-up using the previous user question; standalone questions pass through."""
    previous = last_user_question(history or [])
    if (
        not previous
        or question_names(question, default_lexicon())
        and not FOLLOW_UP_RE.match(question)
    ):
        return question
    old_entities = question_names(previous, default_lexicon())
    match = FOLLOW_UP_RE.match(question)
    subject = (match.group("subject") or match.group("bare") or "").strip() if match else ""
    if subject and not QUESTION_WORD_RE.search(subject) and len(subject.split()) <= 5:
        if old_entities:
            # Swap the previous question's main subject for the new one.
            return re.sub(re.escape(old_entities[0]), subject, previous, count=1)
        return f"{previous.rstrip('?')} for {subject}?"
    if old_entities:
        body = re.sub(r"^\s*and\s+", "", question, flags=re.I).rstrip("?").strip()
        body = body[0].upper() + body[1:] if body else body
        return f"{body} ({', '.join(old_entities)})?"
    return question
