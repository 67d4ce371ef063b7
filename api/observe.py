"""RequestObserver: a request id on every response, metrics and one access log line per request.

Pure ASGI (Starlette's BaseHTTPMiddleware would buffer the SSE stream). It is the outermost
middleware, so CORS preflights, 413s and errors carry the id too; an exception no handler
took is answered here as the standard 500, so even that response carries it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.metrics import Metrics

# The id of the request being served, for log lines written anywhere while serving it
# (anyio copies the context into worker threads). A ContextVar is per request, not shared.
REQUEST_ID: ContextVar[str] = ContextVar("newsdesk_request_id", default="-")
REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")  # nothing that could forge a log line
access_log = logging.getLogger("newsdesk.access")
log = logging.getLogger("newsdesk.api")


def request_id_from(headers: Headers) -> str:
    given = headers.get("x-request-id", "").strip()
    return given if _ACCEPTED_ID.match(given) else uuid.uuid4().hex


def route_label(scope: Scope) -> str:
    """The route's template (`/v1/sources/{name}`), never the raw path: bounded label values.

    FastAPI (>= 0.165) leaves the route of an included router in the scope with its path
    relative to the router; the prefix is the leading path segments the template lacks."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        return "unmatched"
    if isinstance(route, Mount) or ":path}" in template:
        return str(template)
    own = template.strip("/").split("/") if template.strip("/") else []
    given = str(scope.get("path", "")).strip("/").split("/")
    prefix = given[: max(0, len(given) - len(own))]
    return "/" + "/".join(prefix + own) if prefix or own else "/"


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope))
        token = REQUEST_ID.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = int(message["status"]), True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if response_started:
                raise  # mid-stream: the server closes the connection
            response = error_response(500, "internal_error", "internal server error")
            await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope)
            method = str(scope.get("method", ""))
            self.metrics.observe_request(method, route, status, seconds)
            access_log.info(
                '%s %s %d %.1f ms', method, scope.get("path", ""), status, seconds * 1000,
                extra={"method": method, "route": route, "path": scope.get("path", ""),
                       "status": status, "duration_ms": round(seconds * 1000, 2)},
            )  # fmt: skip
            REQUEST_ID.reset(token)
