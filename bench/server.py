"""A real `newsdesk serve` subprocess on a free loopback port, and a bounded HTTP load client."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def newsdesk_command() -> str:
    beside = Path(sys.executable).with_name("newsdesk")
    return str(beside) if beside.exists() else "newsdesk"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        NEWSDESK_DATA_DIR=str(data_dir),
        NEWSDESK_RATE_LIMIT="1000000/minute",  # measure the service, not the limiter
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    env.pop("NEWSDESK_CHROMA_URL", None)
    return env


def get_status(port: int, path: str, timeout: float = 2.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return 0
    finally:
        connection.close()


def tree_peak_rss_mb(pid: int) -> float:
    """Sum of VmHWM (peak resident set) over a process and its descendants, in MB."""
    total_kb = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        stack.extend(int(c) for c in children)
    return total_kb / 1024


class Server:
    """`newsdesk serve --workers N` until stopped; `ready_s` is spawn to the first ready answer."""

    def __init__(self, data_dir: Path, *, workers: int = 1, timeout_s: float = 180.0) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.timeout_s = timeout_s
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_s = float("nan")

    def __enter__(self) -> Server:
        command = [newsdesk_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(self.workers), "--log-level", "warning"]  # fmt: skip
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            env=server_env(self.data_dir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # stop the whole group: uvicorn workers and the Chroma sidecar
        )
        deadline = started + self.timeout_s
        # Fresh connections land on any worker: several ready answers in a row mean all are up.
        wanted, streak = 4 * self.workers - 3, 0
        while streak < wanted:
            if self.process.poll() is not None:
                error = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RuntimeError(f"newsdesk serve exited at start: {error[-2000:]}")
            if time.perf_counter() > deadline:
                self.stop()
                raise RuntimeError(f"newsdesk serve not ready after {self.timeout_s:.0f} s")
            if get_status(self.port, "/readyz") == 200:
                if streak == 0 and self.ready_s != self.ready_s:
                    self.ready_s = time.perf_counter() - started
                streak += 1
            else:
                streak = 0
                time.sleep(0.05)
        return self

    def peak_rss_mb(self) -> float:
        return tree_peak_rss_mb(self.process.pid) if self.process else float("nan")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass
class LoadResult:
    latencies_ms: list[float]
    wall_s: float
    errors: int

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else float("nan")


def load(port: int, questions: Sequence[str], *, clients: int, requests: int) -> LoadResult:
    """`requests` POST /v1/ask spread over `clients` threads, each on one keep-alive connection."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for index in counter:  # next() on a shared range iterator is atomic under the GIL
                body = json.dumps({"question": questions[index % len(questions)]})
                started = time.perf_counter()
                connection.request("POST", "/v1/ask", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if response.status == 200:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(latencies, time.perf_counter() - started, errors[0])
