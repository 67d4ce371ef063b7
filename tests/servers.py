"""Real `newsdesk serve` processes on loopback for the tests: start, wait until ready, stop."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(**settings: str) -> dict[str, str]:
    """The environment for a `newsdesk` subprocess: offline, no inherited NEWSDESK_* settings,
    plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(REPO_ROOT))
    env.update(ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    env.update(settings)
    return env


def cli_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", *arguments]


def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_serve(
    workdir: Path,
    env: dict[str, str],
    *,
    data_dir: Path | None = None,
    port: int | None = None,
    log: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`newsdesk serve` on a free loopback port, ready when entered, stopped on exit. It runs
    in `workdir`, outside the repo, so no stray .env is read. `log` collects its output."""
    port = port or free_port()
    command = cli_command("serve", "--host", "127.0.0.1", "--port", str(port))
    command += ["--log-level", "warning"]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    with contextlib.ExitStack() as files:
        output = files.enter_context(log.open("wb")) if log is not None else None
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT if log else None
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base_url, process)
            yield base_url, process
        finally:
            stop(process)
