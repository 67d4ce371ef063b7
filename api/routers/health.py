"""GET /healthz (the process is alive) and GET /readyz (index and model loaded)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import RuntimeDep
from api.errors import ApiError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(runtime: RuntimeDep) -> dict[str, Any]:
    """Always 200 while the process serves; says how many answer streams are running."""
    return {
        "status": "ok",
        "ready": runtime.newsdesk is not None,
        "streams_in_flight": runtime.streams_in_flight,
    }


@router.get("/readyz", responses={503: {"description": "still loading, or loading failed"}})
async def readyz(runtime: RuntimeDep) -> dict[str, Any]:
    """200 once the model is loaded and the index answers; 503 until then."""
    if runtime.newsdesk is None:
        message = runtime.load_error or "the index and model are still loading"
        raise ApiError(503, "not_ready", message, headers={"Retry-After": "2"})
    try:
        documents = await runtime.run(runtime.newsdesk.store.documents.count)
    except Exception as error:  # the index being unreachable is exactly what this reports
        raise ApiError(
            503, "not_ready", f"the index is unreachable: {type(error).__name__}"
        ) from error
    return {"status": "ready", "documents": documents}
