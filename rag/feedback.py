"""FeedbackLog: readers' thumbs up/down on answers, kept in Chroma with the rest of the state."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from rag.store import ChromaStore

Verdict = Literal["up", "down"]
PAGE = 1000


@dataclass
class Feedback:
    question: str
    answer: str
    verdict: Verdict
    citations: list[dict[str, Any]] = field(default_factory=list)
    comment: str = ""
    abstained: bool = False
    request_id: str = ""  # of the request that stored it, to find its log lines
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)

    @property
    def cited_doc_ids(self) -> list[str]:
        ids = (str(c.get("doc_id", "")) for c in self.citations if isinstance(c, dict))
        return list(dict.fromkeys(i for i in ids if i))

    def to_metadata(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "verdict": self.verdict,
            "citations": json.dumps(self.citations, ensure_ascii=False),
            "comment": self.comment,
            "abstained": self.abstained,
            "request_id": self.request_id,
            "created_at": self.created_at,
        }

    @classmethod
    def from_record(cls, record_id: str, question: str, meta: dict[str, Any]) -> Feedback:
        return cls(
            id=record_id,
            question=question,
            answer=str(meta.get("answer", "")),
            verdict="down" if meta.get("verdict") == "down" else "up",
            citations=json.loads(str(meta.get("citations") or "[]")),
            comment=str(meta.get("comment", "")),
            abstained=bool(meta.get("abstained", False)),
            request_id=str(meta.get("request_id", "")),
            created_at=float(meta.get("created_at", 0.0)),
        )


class FeedbackLog:
    """Append and read Feedback in the `<prefix>-feedback` collection."""

    def __init__(self, store: ChromaStore) -> None:
        self.store = store

    @property
    def _records(self) -> Any:
        return self.store.records("feedback")

    def add(self, feedback: Feedback) -> Feedback:
        self._records.add(
            ids=[feedback.id],
            embeddings=[[1.0]],
            documents=[feedback.question],
            metadatas=[feedback.to_metadata()],
        )
        return feedback

    def list(self, *, verdict: Verdict | None = None) -> list[Feedback]:
        """Oldest first, paged so a long history does not come back in one response."""
        where = {"verdict": verdict} if verdict else None
        found: list[Feedback] = []
        offset = 0
        while True:
            got = self._records.get(
                where=where, include=["metadatas", "documents"], offset=offset, limit=PAGE
            )
            for record_id, question, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                found.append(Feedback.from_record(record_id, question, meta))
            if len(got["ids"]) < PAGE:
                break
            offset += PAGE
        return sorted(found, key=lambda f: f.created_at)
