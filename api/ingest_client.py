"""`newsdesk ingest --server URL`: files, folders and URLs added through a running server's
POST /v1/documents, so the server stays the one writer of its index.

Files are uploaded in batches under their path relative to the folder given (the same
doc_ids a local ingest gives them); a batch the server finds too large is split, a single
file it refuses is reported by name; 429 and 503 are retried after their Retry-After.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ingest.budget import IngestInterrupted
from ingest.fetch import retry_after_s
from ingest.paths import is_url, safe_upload_name, source_files

COUNTS = ("added", "updated", "unchanged", "removed", "documents", "chunks", "sentences",
          "duplicates")  # fmt: skip
MAX_BATCH_FILES = 50  # the server's default NEWSDESK_MAX_UPLOAD_FILES
MAX_BATCH_BYTES = 4_000_000  # under the default NEWSDESK_MAX_BODY_BYTES (5 MB) with overhead
RETRIES = 5
MAX_RETRY_WAIT_S = 60.0


class ServerRefused(Exception):
    """The server refused us as a whole (bad key, read-only, unreachable): a usage error."""


@dataclass
class _Upload:
    name: str  # the name sent (relative path)
    label: str  # the path as given, for messages
    path: Path  # read when its batch is sent, so a large corpus is never all in memory
    size: int


@dataclass
class ServerSummary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    def merge(self, body: dict[str, Any], labels: dict[str, str]) -> None:
        for key in COUNTS:
            self.counts[key] += int(body.get(key) or 0)
        for failure in body.get("failed") or []:
            source = labels.get(str(failure.get("source")), str(failure.get("source")))
            self.failed.append({"source": source, "error": str(failure.get("error"))})
        for warning in body.get("warnings") or []:
            source = labels.get(str(warning.get("source")), str(warning.get("source")))
            self.warnings.append({"source": source, "warning": str(warning.get("warning"))})

    def to_dict(self) -> dict[str, Any]:
        return {**self.counts, "failed": self.failed, "warnings": self.warnings,
                "interrupted": self.interrupted, "seconds": round(self.seconds, 3)}  # fmt: skip


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return str(error.get("message") or response.text[:300])
    except ValueError:
        return response.text[:300] or response.reason_phrase


class ServerIngest:
    """Sends sources to `client` (base_url = the server, headers = the key)."""

    def __init__(self, client: httpx.Client, *, stop: threading.Event | None = None) -> None:
        self.client = client
        self.stop = stop
        self.summary = ServerSummary()

    def run(self, sources: list[str]) -> ServerSummary:
        started = time.monotonic()
        try:
            uploads: list[_Upload] = []
            for given in sources:
                if is_url(given):
                    self._post({"json": {"url": given}}, {given: given}, [given])
                elif Path(given).is_dir():
                    folder = Path(given)
                    for path in source_files(folder):
                        name = safe_upload_name(path.relative_to(folder).as_posix())
                        uploads.append(_Upload(name, str(path), path, path.stat().st_size))
                elif Path(given).is_file():
                    path = Path(given)
                    name = safe_upload_name(path.name)
                    uploads.append(_Upload(name, given, path, path.stat().st_size))
                else:
                    self.summary.failed.append(
                        {"source": given, "error": f"{given}: no such file, folder or URL"}
                    )
            for batch in _batches(uploads):
                self._upload(batch)
        except (_Stopped, IngestInterrupted):  # the counts so far stay in the summary
            self.summary.interrupted = True
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _upload(self, batch: list[_Upload]) -> None:
        files = [
            ("files", (u.name, u.path.read_bytes(), "application/octet-stream")) for u in batch
        ]
        labels = {f"upload:{u.name}": u.label for u in batch}
        response = self._post({"files": files}, labels, [u.label for u in batch])
        if response is not None and response.status_code == 413:
            if len(batch) > 1:
                half = len(batch) // 2
                self._upload(batch[:half])
                self._upload(batch[half:])
            else:
                self._fail(batch[0].label, _error_message(response))

    def _post(
        self, content: dict[str, Any], labels: dict[str, str], names: list[str]
    ) -> httpx.Response | None:
        """POST /v1/documents; merges the summary, reports failures by the names given.
        Returns the response when it is a 413 (the caller splits the batch)."""
        for _ in range(RETRIES + 1):
            if self.stop is not None and self.stop.is_set():
                raise _Stopped
            try:
                response = self.client.post("/v1/documents", **content)
            except httpx.HTTPError as error:
                raise ServerRefused(
                    f"cannot reach {self.client.base_url}: {type(error).__name__}: {error}"
                ) from None
            wait = retry_after_s(response)
            if wait is None or wait > MAX_RETRY_WAIT_S:
                break
            _sleep(wait, self.stop)
        if response.status_code in (401, 403):
            raise ServerRefused(
                f"{self.client.base_url} refused the upload (HTTP {response.status_code}): "
                f"{_error_message(response)}"
            )
        if response.status_code == 200:
            self.summary.merge(response.json(), labels)
        elif response.status_code == 413:
            return response
        elif response.status_code == 422 and response.json().get("error", {}).get("details"):
            details = response.json()["error"]["details"]
            if all("source" in d for d in details):
                self.summary.merge({"failed": details}, labels)
            else:  # a request-level 422 (e.g. an invalid id): every file of the batch failed
                for name in names:
                    self._fail(name, _error_message(response))
        else:
            for name in names:
                self._fail(name, f"HTTP {response.status_code}: {_error_message(response)}")
        return None

    def _fail(self, source: str, error: str) -> None:
        message = error if error.startswith(source) else f"{source}: {error}"
        self.summary.failed.append({"source": source, "error": message})


class _Stopped(Exception):
    pass


def _sleep(seconds: float, stop: threading.Event | None) -> None:
    if stop is None:
        time.sleep(seconds)
    elif stop.wait(seconds):
        raise _Stopped


def _batches(uploads: list[_Upload]) -> list[list[_Upload]]:
    batches: list[list[_Upload]] = []
    size = 0
    for upload in uploads:
        if (
            not batches
            or len(batches[-1]) >= MAX_BATCH_FILES
            or size + upload.size > MAX_BATCH_BYTES
        ):
            batches.append([])
            size = 0
        batches[-1].append(upload)
        size += upload.size
    return batches
