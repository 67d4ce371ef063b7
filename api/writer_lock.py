"""One writer per embedded data dir (DESIGN.md "Data dir").

Embedded Chroma keeps its vector index in the memory of the process that opened it; a second
process writing the same folder leaves the first one answering from a stale index. So the
process that writes (a running `newsdesk serve`, or one `newsdesk ingest`) holds an OS file
lock on `<data dir>/writer.lock` for as long as it runs, and says who it is in
`<data dir>/writer.json`; another writer fails fast with a message saying what to do
instead. The OS drops the lock when its holder dies, so a crash never leaves it stuck.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

LOCK_NAME = "writer.lock"
INFO_NAME = "writer.json"


class DataDirBusy(Exception):
    """Another process holds the data dir; the message says how to add documents anyway."""


def local_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server bound to host:port."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class WriterLock:
    """`with WriterLock(data_dir, role="serve", url=...):` or raises DataDirBusy."""

    def __init__(self, data_dir: Path, *, role: str, url: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.role = role
        self.url = url
        self._lock = FileLock(str(self.data_dir / LOCK_NAME), timeout=0)

    @property
    def info_path(self) -> Path:
        return self.data_dir / INFO_NAME

    def acquire(self) -> WriterLock:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise DataDirBusy(busy_message(self.data_dir, self._holder())) from None
        info = {"pid": os.getpid(), "role": self.role, "url": self.url, "since": time.time()}
        self.info_path.write_text(json.dumps(info))
        return self

    def release(self) -> None:
        if not self._lock.is_locked:
            return
        if self._holder().get("pid") == os.getpid():
            self.info_path.unlink(missing_ok=True)
        self._lock.release()

    def _holder(self) -> dict[str, Any]:
        try:
            holder = json.loads(self.info_path.read_text())
        except (OSError, ValueError):
            return {}
        return holder if isinstance(holder, dict) else {}

    def __enter__(self) -> WriterLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def busy_message(data_dir: Path, holder: dict[str, Any]) -> str:
    pid = holder.get("pid", "unknown")
    if holder.get("role") == "serve":
        url = holder.get("url") or "http://127.0.0.1:8000"
        return (
            f"the index in {data_dir} is held by a running `newsdesk serve` (pid {pid}, {url}): "
            "it is the index's one writer, and a second one would leave the server answering "
            "from a stale index.\n"
            "Add documents through the running server instead:\n"
            f"    newsdesk ingest --server {url} --api-key ADMIN_KEY PATH_OR_URL...\n"
            "(or POST /v1/documents), or keep the index in a Chroma server that both can share: "
            "`chroma run --path DIR --port 8001` and NEWSDESK_CHROMA_URL=http://127.0.0.1:8001 "
            "for every newsdesk process (docs/deploy.md)."
        )
    return (
        f"the index in {data_dir} is being written by another `newsdesk {holder.get('role', 'process')}` "
        f"(pid {pid}); wait for it to finish and run this again."
    )
