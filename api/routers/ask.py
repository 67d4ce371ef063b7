"""POST /v1/ask and POST /v1/chat (JSON, or Server-Sent Events when `stream` is true)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from api.deps import NewsdeskDep, Runtime, RuntimeDep
from api.errors import ApiError
from api.schemas import AnswerOut, AskRequest, ChatRequest, FiltersIn
from rag.system import Newsdesk
from rag.types import Answer, Filters

log = logging.getLogger("newsdesk.api")
router = APIRouter(tags=["answers"])


def check_question(question: str, runtime: Runtime) -> str:
    text = question.strip()
    if not text:
        raise ApiError(422, "invalid_request", "the question is empty")
    limit = runtime.settings.max_question_chars
    if len(text) > limit:
        raise ApiError(422, "question_too_long", f"the question is over {limit} characters")
    return text


def check_answerer(newsdesk: Newsdesk, name: str | None) -> str | None:
    try:
        newsdesk.answerer(name)
    except KeyError:
        raise ApiError(
            400, "answerer_unavailable", f"answerer {name!r} is not configured"
        ) from None
    return name


def split_conversation(
    messages: Sequence[tuple[str, str]], runtime: Runtime
) -> tuple[str, list[dict[str, str]]]:
    """The last user message is the question; everything before it is history."""
    if not messages or messages[-1][0] != "user":
        raise ApiError(422, "invalid_request", "the last message must come from the user")
    question = check_question(messages[-1][1], runtime)
    history = [{"role": role, "content": content} for role, content in messages[:-1]]
    budget = runtime.settings.max_question_chars * 10
    if sum(len(m["content"]) for m in history) > budget:
        raise ApiError(422, "history_too_long", f"the conversation is over {budget} characters")
    return question, history


def to_filters(filters: FiltersIn | None) -> Filters | None:
    return filters.to_filters() if filters else None


def sse(event: str, data: dict[str, Any]) -> dict[str, str]:
    return {"event": event, "data": json.dumps(data, ensure_ascii=False)}


async def answer_events(
    runtime: Runtime,
    newsdesk: Newsdesk,
    question: str,
    *,
    filters: Filters | None,
    answerer: str | None,
    history: list[dict[str, str]],
) -> AsyncIterator[dict[str, str]]:
    """delta* -> citations -> answer, or error: the event contract the widget relies on."""

    def start() -> Any:
        return newsdesk.stream(question, filters=filters, answerer=answerer, history=history)

    final: Answer | None = None
    try:
        async with aclosing(runtime.answer_pieces(start)) as pieces:
            async for piece in pieces:
                if isinstance(piece, Answer):
                    final = piece
                else:
                    yield sse("delta", {"text": piece})
        assert final is not None  # answer_pieces ends with the Answer or raises
        data = final.to_dict()
        yield sse("citations", {"citations": data["citations"]})
        yield sse("answer", data)
    except ApiError as error:
        yield sse("error", {"error": {"code": error.code, "message": error.message}})
    except Exception:
        log.exception("streamed answer failed")
        yield sse("error", {"error": {"code": "internal_error", "message": "answering failed"}})


@router.post("/ask", response_model=AnswerOut)
async def ask(body: AskRequest, runtime: RuntimeDep, newsdesk: NewsdeskDep) -> dict[str, Any]:
    """Answer one question from the indexed announcements, every claim cited."""
    question = check_question(body.question, runtime)
    answerer = check_answerer(newsdesk, body.answerer)
    filters = to_filters(body.filters)
    answer = await runtime.answer(
        lambda: newsdesk.ask(question, filters=filters, answerer=answerer)
    )
    return answer.to_dict()


@router.post(
    "/chat",
    response_model=AnswerOut,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Answer JSON or SSE"}},
)
async def chat(body: ChatRequest, runtime: RuntimeDep, newsdesk: NewsdeskDep) -> Any:
    """A conversation: the last user message is answered in the light of the earlier ones.

    With `stream: true` the reply is Server-Sent Events: `delta` {"text"} pieces, then
    `citations` {"citations"}, then `answer` (the whole Answer), or `error` {"error"}.
    """
    question, history = split_conversation([(m.role, m.content) for m in body.messages], runtime)
    answerer = check_answerer(newsdesk, body.answerer)
    filters = to_filters(body.filters)
    if body.stream:
        events = answer_events(
            runtime, newsdesk, question, filters=filters, answerer=answerer, history=history
        )
        return EventSourceResponse(events, ping=15, sep="\n")
    answer = await runtime.answer(
        lambda: newsdesk.ask(question, filters=filters, answerer=answerer, history=history)
    )
    return answer.to_dict()
