"""API keys (kept only as SHA-256 digests), per-caller rate limits, and the declared-size guard."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Iterable
from enum import Enum

from limits import RateLimitItem, parse
from slowapi import Limiter
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response


class Access(Enum):
    ANONYMOUS = "anonymous"
    READ = "read"
    ADMIN = "admin"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    """Read and admin keys (DESIGN.md "Keys"). Admin keys also read. With no key of either kind
    everything is open; with any key, reads need a key and writes need an admin key, so keys
    configured without an admin key leave the index read-only."""

    def __init__(self, read_keys: Iterable[str], admin_keys: Iterable[str]) -> None:
        self._read = [_digest(k) for k in read_keys if k]
        self._admin = [_digest(k) for k in admin_keys if k]

    @property
    def is_open(self) -> bool:
        """No key configured: every route is open (a local or trusted deployment)."""
        return not self._read and not self._admin

    @property
    def read_only(self) -> bool:
        """Keys configured but none of them admin: nobody may write."""
        return bool(self._read) and not self._admin

    @staticmethod
    def _matches(digest: bytes, known: list[bytes]) -> bool:
        # Compare against every key (no early exit) so timing says nothing about which matched.
        found = False
        for candidate in known:
            found |= hmac.compare_digest(digest, candidate)
        return found

    def access(self, token: str | None) -> Access:
        if not token:
            return Access.ANONYMOUS
        digest = _digest(token)
        if self._matches(digest, self._admin):
            return Access.ADMIN
        if self._matches(digest, self._read):
            return Access.READ
        return Access.ANONYMOUS

    def identity(self, token: str | None) -> str | None:
        """A stable, non-secret name for a valid key (rate-limit bucket), else None."""
        if token and self.access(token) is not Access.ANONYMOUS:
            return "key:" + _digest(token).hex()[:16]
        return None


class RateLimiter:
    """Moving-window limit per caller, through slowapi's configured `limits` strategy.

    slowapi's own ASGI middleware re-sends `http.response.start` for every body chunk
    (breaking SSE), so the check runs as a FastAPI dependency on the /v1 routers instead.
    """

    def __init__(self, limit: str, *, storage_uri: str = "memory://") -> None:
        self.item: RateLimitItem = parse(limit)  # raises ValueError on a bad NEWSDESK_RATE_LIMIT
        self._limiter = Limiter(key_func=lambda: "", storage_uri=storage_uri)

    def hit(self, caller: str) -> float | None:
        """Count one request; None if allowed, else seconds until the caller may retry."""
        strategy = self._limiter.limiter
        if strategy.hit(self.item, caller):
            return None
        reset_at, _ = strategy.get_window_stats(self.item, caller)
        return max(1.0, math.ceil(reset_at - time.time()))


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body over {limit} bytes")


class BodySizeGuard:
    """Caps the request body: refused up front when Content-Length says so, else counted.

    Hand-written because FastAPI's own `max_body_size` answers in plain text; raising an
    HTTPException here lets the app's handler give the standard JSON error.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = error_response(413, "too_large", f"request body over {limit} bytes")
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)
