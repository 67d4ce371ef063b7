"""Fetch an http(s) URL safely: scheme check, no private addresses, timeout, size cap, few redirects."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlparse

import httpx

from ingest.errors import IngestError

MAX_REDIRECTS = 5


@dataclass
class Fetched:
    url: str  # final URL after redirects
    data: bytes
    content_type: str


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


def fetch_url(url: str, *, timeout_s: float, max_bytes: int, allow_private: bool) -> Fetched:
    """GET `url`, following up to MAX_REDIRECTS redirects, each target checked again."""
    timeout = httpx.Timeout(timeout_s)
    deadline = time.monotonic() + 3 * timeout_s  # a server trickling bytes can't hold us forever
    headers = {"User-Agent": "newsdesk-ingest/0.1", "Accept": "*/*"}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
            for _ in range(MAX_REDIRECTS + 1):
                check_url(url, allow_private=allow_private)
                with client.stream("GET", url) as response:
                    if response.is_redirect and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise IngestError(f"{url}: HTTP {response.status_code}")
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
                    content_type = response.headers.get("content-type", "")
                    return Fetched(
                        url=str(response.url), data=bytes(body), content_type=content_type
                    )
    except httpx.TimeoutException as error:
        raise IngestError(f"{url}: timed out after {timeout_s:g} s") from error
    except httpx.HTTPError as error:
        raise IngestError(f"{url}: fetch failed ({type(error).__name__}: {error})") from error
    raise IngestError(f"{url}: more than {MAX_REDIRECTS} redirects")
