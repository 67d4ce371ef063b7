"""GET /metrics: Prometheus text format, open like the probes (DESIGN.md "Keys")."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import RuntimeDep

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    """Requests and latency by route and status, answers and abstentions, ingests, source
    polls by outcome, stalled sources and index size. Names start `newsdesk_`."""
    # Not runtime.run: the scrape must work while the model is still loading.
    body = await anyio.to_thread.run_sync(runtime.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
