"""FeedServer: a real http.server on 127.0.0.1 serving a feed and pages that a test changes
between polls. It answers conditional GETs as a well-behaved origin does (ETag and
Last-Modified, 304 when unchanged), can fail, stall or ask for Retry-After, and records every
request so a test can count what the poller sent."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class Entry:
    guid: str
    title: str
    text: str
    published: str = "Mon, 02 Mar 2026 09:00:00 GMT"


def rss(entries: Sequence[Entry], *, title: str = "Newsroom") -> bytes:
    items = "".join(
        f"<item><guid>{escape(e.guid)}</guid><title>{escape(e.title)}</title>"
        f"<link>https://news.example.test/{escape(e.guid)}</link>"
        f"<pubDate>{e.published}</pubDate><description>{escape(e.text)}</description></item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://news.example.test/</link>"
        f"<description>Announcements</description>{items}</channel></rss>"
    ).encode()


@dataclass
class Resource:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: float | None
    status: int = 200
    delay_s: float = 0.0
    retry_after: str | None = None


@dataclass
class Hit:
    path: str
    at: float  # time.time() when the request arrived
    status: int
    if_none_match: str | None
    if_modified_since: str | None

    @property
    def conditional(self) -> bool:
        return bool(self.if_none_match or self.if_modified_since)


@dataclass
class FeedServer:
    resources: dict[str, Resource] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def put(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/rss+xml",
        *,
        etag: bool = True,
        last_modified: bool = True,
    ) -> None:
        """Serve `body` at `path` from now on, with fresh validators when it changed."""
        with self.lock:
            old = self.resources.get(path)
            if old is not None and old.body == body and old.status == 200:
                return
            stamp = time.time()
            if old is not None and old.last_modified is not None:
                stamp = max(stamp, old.last_modified + 1)  # HTTP dates have 1 s resolution
            self.resources[path] = Resource(
                body=body,
                content_type=content_type,
                etag=f'"{hashlib.sha1(body).hexdigest()[:16]}"' if etag else None,
                last_modified=stamp if last_modified else None,
            )

    def fail(self, path: str, status: int, *, retry_after: str | None = None) -> None:
        with self.lock:
            self.resources[path] = Resource(b"down", "text/plain", None, None, status=status,
                                            retry_after=retry_after)  # fmt: skip

    def stall(self, path: str, delay_s: float) -> None:
        with self.lock:
            self.resources[path] = Resource(rss([]), "application/rss+xml", None, None,
                                            delay_s=delay_s)  # fmt: skip

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def hits_for(self, path: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path]

    def respond(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?", 1)[0]
        inm = handler.headers.get("If-None-Match")
        ims = handler.headers.get("If-Modified-Since")
        arrived = time.time()
        with self.lock:
            resource = self.resources.get(path)
        if resource is not None and resource.delay_s:
            time.sleep(resource.delay_s)
        status = 404 if resource is None else resource.status
        if resource is not None and status == 200 and self._not_modified(resource, inm, ims):
            status = 304
        with self.lock:
            self.hits.append(Hit(path, arrived, status, inm, ims))
        handler.send_response(status)
        if resource is not None and resource.etag:
            handler.send_header("ETag", resource.etag)
        if resource is not None and resource.last_modified:
            handler.send_header("Last-Modified", formatdate(resource.last_modified, usegmt=True))
        if resource is not None and resource.retry_after:
            handler.send_header("Retry-After", resource.retry_after)
        body = b"" if status == 304 or resource is None else resource.body
        if status != 304:
            handler.send_header("Content-Type", resource.content_type if resource else "text/plain")
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if body:
            handler.wfile.write(body)

    @staticmethod
    def _not_modified(resource: Resource, inm: str | None, ims: str | None) -> bool:
        if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            return resource.etag is not None and inm == resource.etag
        if ims and resource.last_modified is not None:
            try:
                since = parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return int(resource.last_modified) <= since
        return False


class _Handler(BaseHTTPRequestHandler):
    feeds: FeedServer

    def do_GET(self) -> None:  # noqa: N802
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.feeds.respond(self)  # the poller may time out and hang up first

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    feeds = FeedServer()
    handler = type("Handler", (_Handler,), {"feeds": feeds})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    feeds.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feeds
    finally:
        server.shutdown()
        server.server_close()
