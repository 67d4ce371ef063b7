"""POST /v1/feedback: a reader's thumbs up or down on an answer (a read key suffices)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.deps import NewsdeskDep, RuntimeDep
from api.schemas import FeedbackIn, FeedbackOut
from rag.feedback import Feedback, FeedbackLog

router = APIRouter(tags=["feedback"])


@router.post("/feedback", status_code=201, response_model=FeedbackOut)
async def add_feedback(
    body: FeedbackIn, request: Request, runtime: RuntimeDep, newsdesk: NewsdeskDep
) -> dict[str, Any]:
    """Store the question, the answer it got, its citations, the verdict and a comment.
    `newsdesk feedback export --as-eval-set FILE` turns thumbs-down ones into eval questions."""
    feedback = Feedback(
        question=body.question,
        answer=body.answer,
        verdict=body.verdict,
        citations=[c.model_dump() for c in body.citations],
        comment=body.comment,
        abstained=body.abstained,
        request_id=str(getattr(request.state, "request_id", "")),
    )
    stored = await runtime.run(FeedbackLog(newsdesk.store).add, feedback)
    return {"id": stored.id, "verdict": stored.verdict}
