"""Request dependencies: handlers declare these Annotated aliases and get what they need."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from filelock import FileLock

from api.errors import ApiError
from api.metrics import Metrics
from api.security import Access, KeyRing, RateLimiter
from ingest.watch import Watcher
from rag.chroma_client import is_store_changed
from rag.config import Settings
from rag.system import Newsdesk
from rag.tokens import TokenCounter
from rag.types import Answer

T = TypeVar("T")
log = logging.getLogger("newsdesk.api")
_END = object()
WORK_THREADS = 4  # concurrent model/Chroma calls per worker; more only queues on 2-16 cores


@dataclass
class Runtime:
    """What one worker process holds: its one Newsdesk, the keys, limits and locks."""

    settings: Settings
    keys: KeyRing
    rate: RateLimiter
    metrics: Metrics
    newsdesk: Newsdesk | None = None
    watcher: Watcher | None = None  # `serve --watch`: this worker's source scheduler
    load_error: str | None = None
    streams_in_flight: int = 0
    tokens: TokenCounter = field(default_factory=TokenCounter)  # loads on first count
    _work: anyio.CapacityLimiter | None = None
    _ingest_lock: anyio.Lock | None = None

    def start(self) -> None:
        """Create the loop-bound primitives (called inside the lifespan)."""
        self._work = anyio.CapacityLimiter(WORK_THREADS)
        self._ingest_lock = anyio.Lock()

    def desk(self) -> Newsdesk:
        if self.newsdesk is None:
            message = self.load_error or "the index and model are still loading"
            raise ApiError(503, "not_ready", message, headers={"Retry-After": "2"})
        return self.newsdesk

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Blocking work (model, Chroma) in the thread pool, after a cheap index refresh. If the
        store changed underneath (another process wrote it), reopen it and try once more."""
        desk = self.desk()

        def refreshed() -> T:
            desk.refresh()
            return function(*args)

        try:
            return await anyio.to_thread.run_sync(refreshed, limiter=self._work)
        except Exception as error:
            if not is_store_changed(error):
                raise
            log.warning("the index changed underneath this server (%s); reopening it", error)
            await anyio.to_thread.run_sync(desk.store.reopen, limiter=self._work)
        try:
            return await anyio.to_thread.run_sync(refreshed, limiter=self._work)
        except Exception as error:
            if not is_store_changed(error):
                raise
            raise ApiError(
                503,
                "index_changed",
                "the index is being rewritten; retry shortly",
                headers={"Retry-After": "1"},
            ) from error

    async def answer(self, produce: Callable[[], Answer]) -> Answer:
        """An answer made in the thread pool, counted in the metrics."""
        answer = await self.run(produce)
        self.metrics.observe_answer(answer)
        return answer

    async def iterate(self, start: Callable[[], Iterable[T]]) -> AsyncGenerator[T, None]:
        """Items of a blocking iterator, each produced in the thread pool. Closing this (as a
        client disconnect does) closes the iterator too, so no work is left running."""
        self.streams_in_flight += 1
        iterator: Any = None
        try:

            def begin() -> tuple[Any, Any]:
                # The first item is where the work happens: fetched under run()'s retry.
                started = iter(start())
                return started, next(started, _END)

            iterator, item = await self.run(begin)
            while item is not _END:
                yield cast(T, item)
                item = await anyio.to_thread.run_sync(next, iterator, _END, limiter=self._work)
        finally:
            self.streams_in_flight -= 1
            close = getattr(iterator, "close", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(close)

    async def answer_pieces(
        self, start: Callable[[], Iterable[str | Answer]]
    ) -> AsyncGenerator[str | Answer, None]:
        """A streamed answer: its text pieces, then the final Answer (always last)."""
        async with aclosing(self.iterate(start)) as pieces:
            async for piece in pieces:
                yield piece
                if isinstance(piece, Answer):
                    self.metrics.observe_answer(piece)
                    return
        raise RuntimeError("the answerer ended its stream without an answer")

    def write_lock(self) -> FileLock:
        """The lock every index write in this data dir takes (API workers, the source poller)."""
        lock_path = Path(self.settings.data_dir) / "ingest.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(lock_path))

    async def write(self, function: Callable[..., T], *args: Any) -> T:
        """Index writes one at a time: an in-process lock, plus a file lock for sibling workers."""
        desk = self.desk()

        def locked() -> T:
            with self.write_lock():
                desk.refresh()
                return function(*args)

        assert self._ingest_lock is not None, "Runtime.start() runs in the lifespan"
        async with self._ingest_lock:
            return await anyio.to_thread.run_sync(locked, limiter=self._work)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_newsdesk(runtime: RuntimeDep) -> Newsdesk:
    return runtime.desk()


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


NewsdeskDep = Annotated[Newsdesk, Depends(get_newsdesk)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def rate_limit(request: Request, runtime: RuntimeDep) -> None:
    """One hit per request against the caller's bucket: its key when valid, else its address."""
    caller = runtime.keys.identity(bearer_token(request))
    if caller is None:
        caller = "addr:" + (request.client.host if request.client else "unknown")
    retry_after = runtime.rate.hit(caller)
    if retry_after is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"rate limit {runtime.settings.rate_limit} exceeded; retry in {retry_after:.0f}s",
            headers={"Retry-After": str(int(retry_after))},
        )


READ_ONLY_MESSAGE = (
    "this server is read-only: API keys are configured (NEWSDESK_API_KEYS) but no admin key; "
    "set NEWSDESK_ADMIN_KEYS and send one of those keys to change documents"
)


def require_read(request: Request, runtime: RuntimeDep) -> Access:
    access = runtime.keys.access(bearer_token(request))
    if runtime.keys.is_open or access is not Access.ANONYMOUS:
        return access
    raise _unauthorized("a valid API key is required (Authorization: Bearer <key>)")


def require_admin(request: Request, runtime: RuntimeDep) -> Access:
    """Writes: open only when no key at all is configured; otherwise an admin key."""
    access = runtime.keys.access(bearer_token(request))
    if runtime.keys.is_open or access is Access.ADMIN:
        return access
    if access is Access.ANONYMOUS:
        raise _unauthorized("an admin API key is required (Authorization: Bearer <key>)")
    if runtime.keys.read_only:
        raise ApiError(403, "forbidden", READ_ONLY_MESSAGE)
    raise ApiError(403, "forbidden", "this key may read but not change documents")


ReadAccess = Annotated[Access, Depends(require_read)]
AdminAccess = Annotated[Access, Depends(require_admin)]


async def json_body(request: Request) -> Any:
    """The request's JSON, read by a route itself (after its key check): 400 when it isn't."""
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "the body is not valid JSON") from None
