"""/v1/sources: watched feeds and pages (list with read access; add, remove, run with admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.deps import NewsdeskDep, RuntimeDep, json_body, require_admin
from api.errors import ApiError
from api.schemas import ErrorOut, SourceIn, SourceList, SourceOut, SourceRunOut
from ingest.errors import IngestError
from ingest.pipeline import Ingestor
from ingest.poll import SourcePoller
from ingest.sources import new_source
from ingest.watch import LEASE_NAME
from rag.lease import ChromaLease
from rag.sources import DuplicateSource, Source, SourceError, SourceRegistry

router = APIRouter(tags=["sources"])
SourceName = Annotated[str, Path(min_length=1, max_length=64)]
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "a source with that name or URL already exists"}
}


def _known(registry: SourceRegistry, name: str) -> Source:
    found = registry.get(name)
    if found is None:
        raise ApiError(404, "not_found", f"no source named {name!r}")
    return found


async def _source_body(request: Request) -> SourceIn:
    """The body, read only after the key check (a read key gets 403 whatever it sends)."""
    payload = await json_body(request)
    try:
        return SourceIn.model_validate(payload)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


@router.get("/sources", response_model=SourceList)
async def list_sources(runtime: RuntimeDep, newsdesk: NewsdeskDep) -> dict[str, Any]:
    """Every watched source with its health (`stalled`, `last_error`, `next_run`) and which
    process polls them."""

    def listing() -> dict[str, Any]:
        lease = ChromaLease(newsdesk.store, LEASE_NAME, ttl_s=runtime.settings.watch_lease_s)
        term = lease.current()
        return {
            "sources": [s.to_dict() for s in SourceRegistry(newsdesk.store).list()],
            "poller": term.to_dict() if term else None,
        }

    return await runtime.run(listing)


@router.post(
    "/sources",
    status_code=201,
    response_model=SourceOut,
    dependencies=[Depends(require_admin)],
    responses=_CONFLICT,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SourceIn.model_json_schema()}},
        }
    },
)
async def add_source(
    request: Request, runtime: RuntimeDep, newsdesk: NewsdeskDep
) -> dict[str, Any]:
    """Watch a feed or page: it is polled now and then every `every` (conditional GETs)."""
    body = await _source_body(request)

    def add() -> Source:
        try:
            source = new_source(
                runtime.settings, body.url, every=body.every, name=body.name, allow_paths=False
            )
            return SourceRegistry(newsdesk.store).add(source)
        except DuplicateSource as error:
            raise ApiError(409, "conflict", str(error)) from None
        except (IngestError, SourceError) as error:
            raise ApiError(422, "invalid_source", str(error)) from None

    return (await runtime.run(add)).to_dict()


@router.delete("/sources/{name}", dependencies=[Depends(require_admin)])
async def remove_source(
    name: SourceName, runtime: RuntimeDep, newsdesk: NewsdeskDep
) -> dict[str, Any]:
    """Stop watching a source. What it brought in stays indexed (DELETE /v1/documents/...)."""
    if not await runtime.run(SourceRegistry(newsdesk.store).remove, name):
        raise ApiError(404, "not_found", f"no source named {name!r}")
    return {"deleted": name}


@router.post(
    "/sources/{name}/run",
    response_model=SourceRunOut,
    dependencies=[Depends(require_admin)],
)
async def run_source(name: SourceName, runtime: RuntimeDep, newsdesk: NewsdeskDep) -> Any:
    """Poll one source now, in this process, and say what came of it."""
    registry = SourceRegistry(newsdesk.store)
    source = await runtime.run(_known, registry, name)
    ingestor = Ingestor(runtime.settings, newsdesk.store, newsdesk.embedder)
    poller = SourcePoller(runtime.settings, registry, ingestor, write_lock=runtime.write_lock)
    try:
        result = await runtime.run(poller.poll, source)
    finally:
        poller.close()
    runtime.metrics.observe_poll(result)
    return result.to_dict()
