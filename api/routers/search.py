"""GET /v1/search: the retrieved passages for a query, without answering."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import NewsdeskDep, RuntimeDep
from api.errors import ApiError
from api.schemas import FiltersIn, SearchHit, SearchResponse

router = APIRouter(tags=["search"])


def _listed(values: list[str] | None) -> list[str] | None:
    """Accept both `?sources=a&sources=b` and `?sources=a,b`."""
    if not values:
        return None
    items = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return items or None


@router.get("/search", response_model=SearchResponse)
async def search(
    runtime: RuntimeDep,
    newsdesk: NewsdeskDep,
    q: Annotated[str, Query(min_length=1, description="The query text.")],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    since: date | None = None,
    until: date | None = None,
    sources: Annotated[list[str] | None, Query()] = None,
    doc_ids: Annotated[list[str] | None, Query()] = None,
) -> SearchResponse:
    """Passages ranked by the configured retriever (dense, keyword or hybrid)."""
    limit = runtime.settings.max_question_chars
    if len(q) > limit:
        raise ApiError(422, "question_too_long", f"the query is over {limit} characters")
    try:
        filters = FiltersIn(
            since=since, until=until, sources=_listed(sources), doc_ids=_listed(doc_ids)
        ).to_filters()
    except ValueError as error:
        raise ApiError(422, "invalid_request", "since must not be after until") from error
    chunks = await runtime.run(lambda: newsdesk.search(q, k=k, filters=filters))
    return SearchResponse(
        results=[
            SearchHit(
                doc_id=chunk.doc_id,
                chunk_id=chunk.chunk_id,
                title=chunk.document.title,
                published=chunk.document.published.isoformat()
                if chunk.document.published
                else None,
                url=chunk.document.url,
                score=float(chunk.score),
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
            )
            for chunk in chunks
        ]
    )
