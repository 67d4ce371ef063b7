"""OpenAI-compatible POST /v1/chat/completions and GET /v1/models (model id "newsdesk").

The reply's content is the cited answer followed by a "Sources:" list; the whole Answer
rides along under the non-standard `newsdesk` field. `usage` counts tokens with the bundled
model's tokenizer (rag/tokens.py): the request's messages in, the reply's content out.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from api.deps import NewsdeskDep, Runtime, RuntimeDep
from api.errors import ApiError, error_response
from api.routers.ask import check_answerer, split_conversation
from api.schemas import ChatCompletionRequest
from rag.system import Newsdesk
from rag.types import Answer

log = logging.getLogger("newsdesk.api")
router = APIRouter(tags=["openai"])
MODEL_ID = "newsdesk"
_CREATED = 1767225600  # fixed "created" for the model listing (2026-01-01)


def sources_block(answer: Answer) -> str:
    """'Sources:' then one line per citation: [n] title (date) url — "quote"."""
    if answer.abstained or not answer.citations:
        return ""
    lines = ["", "", "Sources:"]
    for citation in answer.citations:
        parts = [f"[{citation.id}] {citation.title} ({citation.published or 'undated'})"]
        if citation.url:
            parts.append(citation.url)
        lines.append(" ".join(parts) + f' — "{citation.quote}"')
    return "\n".join(lines)


def reply_text(answer: Answer) -> str:
    return answer.answer + sources_block(answer)


def usage(runtime: Runtime, body: ChatCompletionRequest, answer: Answer) -> dict[str, int]:
    prompt = sum(runtime.tokens.count(message.text()) for message in body.messages)
    completion = runtime.tokens.count(reply_text(answer))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def unsupported_n(n: int) -> JSONResponse:
    """OpenAI's error shape ({"error": {"message", "type", "param", "code"}}), which also
    carries our own `code` and `message`."""
    return error_response(
        400,
        "unsupported_value",
        f"n={n} is not supported: newsdesk gives one cited answer per question (use n=1)",
        type="invalid_request_error",
        param="n",
    )


def _message_pairs(body: ChatCompletionRequest) -> list[tuple[str, str]]:
    pairs = []
    for message in body.messages:
        if message.role in ("user", "assistant"):
            pairs.append((message.role, message.text()))
    return pairs


def _completion(
    answer: Answer, completion_id: str, created: int, tokens: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply_text(answer)},
                "finish_reason": "stop",
            }
        ],
        "usage": tokens,
        "newsdesk": answer.to_dict(),
    }


def _chunk(completion_id: str, created: int, delta: dict[str, Any] | None, **extra: Any) -> str:
    finish = extra.pop("finish_reason", None)
    choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta is not None else []
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": choices,
        **extra,
    }
    return json.dumps(body, ensure_ascii=False)


async def completion_chunks(
    runtime: Runtime,
    newsdesk: Newsdesk,
    body: ChatCompletionRequest,
    question: str,
    history: list[dict[str, str]],
) -> AsyncIterator[dict[str, str]]:
    """OpenAI's chunks; with stream_options.include_usage every chunk has `usage: null` and a
    last one with no choices carries the counts, as OpenAI sends them."""
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    with_usage = bool(body.stream_options and body.stream_options.include_usage)
    always: dict[str, Any] = {"usage": None} if with_usage else {}

    def chunk(delta: dict[str, Any], **extra: Any) -> str:
        return _chunk(completion_id, created, delta, **always, **extra)

    def start() -> Any:
        return newsdesk.stream(question, history=history)

    yield {"data": chunk({"role": "assistant", "content": ""})}
    final: Answer | None = None
    try:
        async with aclosing(runtime.answer_pieces(start)) as pieces:
            async for piece in pieces:
                if isinstance(piece, Answer):
                    final = piece
                else:
                    yield {"data": chunk({"content": piece})}
        assert final is not None  # answer_pieces ends with the Answer or raises
        if tail := sources_block(final):
            yield {"data": chunk({"content": tail})}
        yield {"data": chunk({}, finish_reason="stop", newsdesk=final.to_dict())}
        if with_usage:  # OpenAI's closing chunk: no choices, the counts
            counts = await anyio.to_thread.run_sync(usage, runtime, body, final)
            yield {"data": _chunk(completion_id, created, None, usage=counts)}
    except ApiError as error:
        yield {"data": json.dumps({"error": {"code": error.code, "message": error.message}})}
    except Exception:
        log.exception("streamed completion failed")
        error_body = {"code": "internal_error", "message": "answering failed"}
        yield {"data": json.dumps({"error": error_body})}
    yield {"data": "[DONE]"}


@router.get("/models")
async def list_models() -> dict[str, Any]:
    """The one model: newsdesk (answers cited to the indexed announcements)."""
    model = {"id": MODEL_ID, "object": "model", "created": _CREATED, "owned_by": "newsdesk"}
    return {"object": "list", "data": [model]}


@router.post(
    "/chat/completions",
    responses={200: {"content": {"text/event-stream": {}}, "description": "completion or chunks"}},
)
async def chat_completions(
    body: ChatCompletionRequest, runtime: RuntimeDep, newsdesk: NewsdeskDep
) -> Any:
    """OpenAI's chat completions: the last user message is answered, earlier ones are context."""
    if body.model != MODEL_ID:
        raise ApiError(404, "model_not_found", f"unknown model {body.model!r}; use {MODEL_ID!r}")
    if body.n is not None and body.n != 1:
        return unsupported_n(body.n)
    question, history = split_conversation(_message_pairs(body), runtime)
    check_answerer(newsdesk, None)
    if body.stream:
        chunks = completion_chunks(runtime, newsdesk, body, question, history)
        return EventSourceResponse(chunks, ping=15, sep="\n")
    answer = await runtime.answer(lambda: newsdesk.ask(question, history=history))
    counts = await anyio.to_thread.run_sync(usage, runtime, body, answer)
    return _completion(answer, f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), counts)
