"""create_app(settings, newsdesk=None): the FastAPI app; the lifespan loads one Newsdesk per worker."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api.deps import Runtime, rate_limit, require_read
from api.errors import install_error_handlers
from api.metrics import Metrics
from api.observe import REQUEST_ID_HEADER, RequestObserver
from api.routers import (
    ask,
    documents,
    feedback,
    health,
    metrics,
    openai_compat,
    search,
    sources,
    static,
)
from api.schemas import ErrorOut
from api.security import BodySizeGuard, KeyRing, RateLimiter
from rag.config import Settings
from rag.system import Newsdesk

log = logging.getLogger("newsdesk.api")
DOCS_ASSETS = "/docs/assets"  # Swagger UI and ReDoc files, served from the fastapi-offline package

# Documented so generated clients (and schemathesis) know every status a /v1 call may answer.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "malformed body",
        401: "missing or unknown API key",
        403: "the key may not do this",
        404: "no such document or source",
        409: "a source with that name or URL already exists",
        413: "body, file or upload count over the limits",
        415: "unsupported content type",
        422: "invalid request",
        429: "rate limited (see Retry-After)",
        500: "internal error",
        503: "still loading, or the index is unreachable",
    }.items()
}


def _load(runtime: Runtime) -> None:
    """Build the Newsdesk (model + index) off the event loop; /readyz says when it is done."""
    from rag.system import build_newsdesk

    try:
        newsdesk = build_newsdesk(runtime.settings)
        newsdesk.refresh()  # build the keyword index now, not on the first question
    except Exception as error:
        log.exception("loading the index and model failed")
        runtime.load_error = f"loading failed: {type(error).__name__}: {error}"
        return
    runtime.newsdesk = newsdesk
    _start_watcher(runtime)


def _start_watcher(runtime: Runtime) -> None:
    """`serve --watch`: poll due sources in this process while it holds the poller lease."""
    if not runtime.settings.watch or runtime.newsdesk is None or runtime.watcher is not None:
        return
    from ingest.watch import build_watcher

    desk = runtime.newsdesk
    runtime.watcher = build_watcher(
        runtime.settings,
        desk.store,
        desk.embedder,
        write_lock=runtime.write_lock,
        on_poll=runtime.metrics.observe_poll,
    ).start()


def _lifespan(runtime: Runtime):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        if runtime.keys.read_only:
            log.warning(
                "NEWSDESK_API_KEYS is set but NEWSDESK_ADMIN_KEYS is not: every write "
                "(POST/DELETE /v1/documents, /v1/sources) is refused with 403 until an admin key "
                "is configured"
            )
        try:
            async with anyio.create_task_group() as tasks:
                if runtime.newsdesk is None:
                    # Serve /healthz (and 503 from /readyz) while the model loads.
                    tasks.start_soon(anyio.to_thread.run_sync, _load, runtime)
                else:
                    _start_watcher(runtime)
                yield
                tasks.cancel_scope.cancel()
        finally:
            if runtime.watcher is not None:  # hand the lease back: another poller goes on now
                await anyio.to_thread.run_sync(runtime.watcher.stop)
                runtime.watcher = None

    return lifespan


def _v1_router() -> APIRouter:
    v1 = APIRouter(
        prefix="/v1",
        dependencies=[Depends(rate_limit), Depends(require_read)],
        responses=ERROR_RESPONSES,
    )
    v1.include_router(ask.router)
    v1.include_router(search.router)
    v1.include_router(documents.router)
    v1.include_router(openai_compat.router)
    v1.include_router(sources.router)
    v1.include_router(feedback.router)
    return v1


def create_app(settings: Settings, newsdesk: Newsdesk | None = None) -> FastAPI:
    """The app for `settings`; pass `newsdesk` to share an already loaded one (tests, embedding)."""
    runtime = Runtime(
        settings=settings,
        keys=KeyRing(settings.api_keys, settings.admin_keys),
        rate=RateLimiter(settings.rate_limit),
        metrics=Metrics.from_env(lambda: runtime.newsdesk.store if runtime.newsdesk else None),
        newsdesk=newsdesk,
    )
    # /docs and /redoc load their scripts from this app, never from a CDN (works offline).
    app = FastAPIOffline(
        title="newsdesk",
        summary="Answers about announcements, every claim cited to a dated source.",
        version="1",
        lifespan=_lifespan(runtime),
        static_url=DOCS_ASSETS,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(_v1_router())
    app.include_router(static.router)
    if static.STATIC_DIR.is_dir():  # the widget's files may not be built yet
        app.mount("/static", StaticFiles(directory=static.STATIC_DIR), name="static")
    app.add_middleware(BodySizeGuard, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=["Retry-After", REQUEST_ID_HEADER],
            max_age=600,
        )
    app.add_middleware(RequestObserver, metrics=runtime.metrics)  # outermost: sees every response
    return app


def app_from_env() -> FastAPI:
    """uvicorn factory (`--factory api.app:app_from_env`): Settings from NEWSDESK_* and .env."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return create_app(Settings())  # type: ignore[call-arg]
