"""/v1/documents: add (records, uploads, a URL), list, read and delete; /v1/stats."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import NewsdeskDep, RuntimeDep, json_body, require_admin
from api.errors import ApiError
from api.schemas import (
    DocumentOut,
    DocumentPage,
    DocumentSummary,
    IngestSummaryOut,
    RecordsIn,
    StatsOut,
    UrlIn,
)
from ingest.ids import id_problem
from rag.sources import SourceRegistry
from rag.types import DocumentInfo

router = APIRouter(tags=["documents"])

_BODY_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/RecordsIn"},
                        {"type": "array", "items": {"type": "object"}, "minItems": 1},
                        {"$ref": "#/components/schemas/UrlIn"},
                    ]
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                    "required": ["files"],
                }
            },
        },
    }
}
_RECORDS = TypeAdapter(RecordsIn | list[dict[str, Any]] | UrlIn)


def shown_source(source: str) -> str:
    """Sources are stored relative to their ingest root; one stored by an older version as an
    absolute server path is shown by its file name only."""
    if source.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", source):
        return PurePath(source).name
    return source


def summary_of(info: DocumentInfo) -> DocumentSummary:
    return DocumentSummary(
        doc_id=info.doc_id,
        title=info.title,
        url=info.url,
        published=info.published.isoformat() if info.published else None,
        source=shown_source(info.source),
        n_chunks=info.n_chunks,
        n_sentences=info.n_sentences,
    )


async def _uploaded_files(
    request: Request, max_files: int, max_bytes: int
) -> list[tuple[str, bytes]]:
    try:
        form = await request.form(max_files=max_files, max_fields=max_files + 10)
    except StarletteHTTPException as error:
        if "Too many files" in str(error.detail):
            raise ApiError(413, "too_many_files", f"at most {max_files} files per upload") from None
        raise ApiError(400, "bad_request", str(error.detail)) from None
    files: list[tuple[str, bytes]] = []
    try:
        for item in form.getlist("files"):
            if not isinstance(item, UploadFile):
                raise ApiError(422, "invalid_request", "`files` must be file parts")
            data = await item.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise ApiError(413, "file_too_large", f"{item.filename}: over {max_bytes} bytes")
            files.append((item.filename or "upload", data))
    finally:
        await form.close()
    if not files:
        raise ApiError(422, "invalid_request", "no `files` in the multipart body")
    return files


async def _json_body(request: Request) -> RecordsIn | list[dict[str, Any]] | UrlIn:
    payload = await json_body(request)
    try:
        return _RECORDS.validate_python(payload)
    except ValidationError:
        raise ApiError(
            422,
            "invalid_request",
            'expected {"documents": [records]}, a non-empty array of records, or {"url": "http(s)://..."}',
        ) from None


def check_record_ids(records: list[dict[str, Any]], where: str) -> None:
    """422 naming the field when a record's id could not name a document (ingest.ids)."""
    problems = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            continue
        field = next((f for f in ("id", "doc_id") if record.get(f) not in (None, "")), None)
        problem = id_problem(str(record[field])) if field else None
        if field and problem:
            problems.append({"loc": f"{where}.{index}.{field}", "msg": f"{field} {problem}"})
    if problems:
        first = problems[0]
        raise ApiError(422, "invalid_id", f"{first['loc']}: {first['msg']}", details=problems[:20])


@router.post(
    "/documents",
    response_model=IngestSummaryOut,
    dependencies=[Depends(require_admin)],
    openapi_extra=_BODY_SCHEMA,
)
async def add_documents(request: Request, runtime: RuntimeDep, newsdesk: NewsdeskDep) -> Any:
    """Index records (JSON), uploaded files (multipart field `files`) or one URL.

    Re-sending an unchanged source is a no-op (`unchanged`); a changed one replaces it.
    """
    from ingest.pipeline import Ingestor

    settings = runtime.settings
    ingestor = Ingestor(settings, newsdesk.store, newsdesk.embedder)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        files = await _uploaded_files(request, settings.max_upload_files, settings.max_file_bytes)
        summary = await runtime.write(ingestor.ingest_upload, files)
    elif content_type.startswith("application/json") or not content_type:
        body = await _json_body(request)
        if isinstance(body, UrlIn):
            summary = await runtime.write(ingestor.ingest, [body.url])
        else:
            records = body.documents if isinstance(body, RecordsIn) else body
            check_record_ids(records, "body.documents" if isinstance(body, RecordsIn) else "body")
            summary = await runtime.write(ingestor.ingest_records, records)
    else:
        raise ApiError(
            415, "unsupported_media_type", "send application/json or multipart/form-data"
        )
    runtime.metrics.observe_ingest(summary)
    result = summary.to_dict()
    if result["failed"] and not result["documents"]:
        raise ApiError(
            422, "ingest_failed", result["failed"][0]["error"], details=result["failed"][:20]
        )
    return result


@router.get("/documents", response_model=DocumentPage)
async def list_documents(
    runtime: RuntimeDep,
    newsdesk: NewsdeskDep,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DocumentPage:
    """A page of indexed documents (titles, dates, sources) and the total count."""

    def page() -> tuple[list[DocumentInfo], int]:
        return newsdesk.store.list_documents(
            offset=offset, limit=limit
        ), newsdesk.store.documents.count()

    infos, total = await runtime.run(page)
    return DocumentPage(
        documents=[summary_of(i) for i in infos], total=total, offset=offset, limit=limit
    )


@router.get("/documents/{doc_id}", response_model=DocumentOut)
async def get_document(doc_id: str, runtime: RuntimeDep, newsdesk: NewsdeskDep) -> DocumentOut:
    """One document's metadata and its full `text`, the text citation offsets index into."""
    found = await runtime.run(newsdesk.store.get_document, doc_id)
    if found is None:
        raise ApiError(404, "not_found", f"no document {doc_id!r}")
    info, text = found
    return DocumentOut(**summary_of(info).model_dump(), text=text, content_hash=info.content_hash)


@router.delete("/documents/{doc_id}", status_code=200, dependencies=[Depends(require_admin)])
async def delete_document(
    doc_id: str, runtime: RuntimeDep, newsdesk: NewsdeskDep
) -> dict[str, Any]:
    """Remove a document, its chunks and sentences from every index."""

    def delete() -> bool:
        if newsdesk.store.get_document(doc_id) is None:
            return False
        return newsdesk.store.delete_document(doc_id)

    if not await runtime.write(delete):
        raise ApiError(404, "not_found", f"no document {doc_id!r}")
    return {"deleted": doc_id}


@router.get("/stats", response_model=StatsOut, tags=["stats"])
async def stats(runtime: RuntimeDep, newsdesk: NewsdeskDep) -> dict[str, Any]:
    """Counts and the date range of what is indexed, and how many watched sources are stalled."""

    def counts() -> dict[str, Any]:
        return {**newsdesk.store.stats(), **SourceRegistry(newsdesk.store).counts()}

    return await runtime.run(counts)
