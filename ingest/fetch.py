"""Fetch an http(s) URL safely: scheme check, no private addresses, timeout, size cap, few
redirects; conditionally (ETag / Last-Modified) when validators from an earlier fetch are given."""

from __future__ import annotations

import ipaddress
import socket
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlparse

import httpx

from ingest.errors import IngestError

MAX_REDIRECTS = 5
MAX_RETRY_AFTER_S = 86400.0


@dataclass
class Fetched:
    url: str  # final URL after redirects
    data: bytes
    content_type: str
    status: int = 200  # 304: not modified since the validators given (data is empty)
    etag: str = ""
    last_modified: str = ""


class FetchError(IngestError):
    """A fetch that failed; `status` is the HTTP status if one came, `retry_after_s` what the
    server's Retry-After asked for."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: either delay-seconds or an HTTP date (RFC 9110)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delay = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, delay), MAX_RETRY_AFTER_S)


def retry_after_s(response: httpx.Response) -> float | None:
    """How long a 429/503 asks a client to wait (1 s when it does not say); None otherwise."""
    if response.status_code not in (429, 503):
        return None
    wait = retry_after_seconds(response.headers.get("retry-after"))
    return 1.0 if wait is None else wait


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse non-http(s) schemes and hosts resolving to private, loopback or link-local addresses."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise IngestError(f"{url}: only http(s) URLs can be fetched")
    if not parsed.hostname:
        raise IngestError(f"{url}: URL has no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 0, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise IngestError(f"{url}: cannot resolve host ({error})") from error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise IngestError(f"{url}: refusing to fetch a private or local address ({address})")


def http_client() -> httpx.Client:
    """The client fetches use: no automatic redirects (each hop is checked), our User-Agent."""
    headers = {"User-Agent": "newsdesk-ingest/0.1", "Accept": "*/*"}
    return httpx.Client(follow_redirects=False, headers=headers)


def fetch_url(
    url: str,
    *,
    timeout_s: float,
    max_bytes: int,
    allow_private: bool,
    etag: str = "",
    last_modified: str = "",
    client: httpx.Client | None = None,
) -> Fetched:
    """GET `url`, following up to MAX_REDIRECTS redirects, each target checked again. With
    `etag` / `last_modified` from an earlier 200 the GET is conditional, and an unchanged
    resource comes back as status 304 with no body. A poller passes its own long-lived
    `client` (from `http_client()`): making one costs more than a whole 304 round trip."""
    timeout = httpx.Timeout(timeout_s)
    deadline = time.monotonic() + 3 * timeout_s  # a server trickling bytes can't hold us forever
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with nullcontext(client) if client is not None else http_client() as session:
            for _ in range(MAX_REDIRECTS + 1):
                check_url(url, allow_private=allow_private)
                session.cookies.clear()  # nothing one source set travels to the next fetch
                with session.stream("GET", url, headers=headers, timeout=timeout) as response:
                    if response.is_redirect and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code == 304:
                        return Fetched(str(response.url), b"", "", 304, etag, last_modified)
                    if response.status_code >= 400:
                        raise FetchError(
                            f"{url}: HTTP {response.status_code}",
                            status=response.status_code,
                            retry_after_s=retry_after_seconds(response.headers.get("retry-after")),
                        )
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise IngestError(f"{url}: too large ({declared} bytes > {max_bytes})")
                    body = bytearray()
                    for piece in response.iter_bytes():
                        body.extend(piece)
                        if time.monotonic() > deadline:
                            raise IngestError(f"{url}: timed out while downloading")
                        if len(body) > max_bytes:
                            raise IngestError(f"{url}: too large (over {max_bytes} bytes)")
                    return Fetched(
                        url=str(response.url),
                        data=bytes(body),
                        content_type=response.headers.get("content-type", ""),
                        etag=response.headers.get("etag", ""),
                        last_modified=response.headers.get("last-modified", ""),
                    )
    except httpx.TimeoutException as error:
        raise FetchError(f"{url}: timed out after {timeout_s:g} s") from error
    except httpx.HTTPError as error:
        raise FetchError(f"{url}: fetch failed ({type(error).__name__}: {error})") from error
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
