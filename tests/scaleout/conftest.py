"""A real Chroma server and API processes pointed at it (the scale-out deployment)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.chroma_sidecar import ChromaSidecar
from tests.servers import cli_command, cli_env, free_port, stop, wait_ready

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "scale-admin-key"
READ_KEY = "scale-read-key"


@dataclass
class ApiProcess:
    base_url: str
    process: subprocess.Popen[bytes]
    data_dir: Path

    def headers(self, *, admin: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_KEY if admin else READ_KEY}"}


def start_api(workdir: Path, chroma_url: str, *, name: str) -> ApiProcess:
    """`newsdesk serve` with its own data dir (its keyword index) on the shared Chroma."""
    port = free_port()
    data_dir = workdir / name
    env = cli_env(
        NEWSDESK_CHROMA_URL=chroma_url,
        NEWSDESK_DATA_DIR=str(data_dir),
        NEWSDESK_API_KEYS=READ_KEY,
        NEWSDESK_ADMIN_KEYS=ADMIN_KEY,
        NEWSDESK_RATE_LIMIT="1000000/minute",
    )
    command = cli_command("serve", "--host", "127.0.0.1", "--port", str(port))
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, cwd=workdir, env=env)  # cwd outside the repo: no .env
    return ApiProcess(f"http://127.0.0.1:{port}", process, data_dir)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run --path TMP --host 127.0.0.1 --port FREE`, once its heartbeat answers."""
    sidecar = ChromaSidecar(tmp_path_factory.mktemp("chroma-server"), start_timeout_s=60).start()
    try:
        assert httpx.get(f"{sidecar.url}/api/v2/heartbeat", timeout=5).status_code == 200
        yield sidecar.url
    finally:
        sidecar.stop()


@pytest.fixture(scope="module")
def two_apis(
    chroma_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    workdir = tmp_path_factory.mktemp("apis")
    first = start_api(workdir, chroma_server, name="api-a")
    second = start_api(workdir, chroma_server, name="api-b")
    try:
        for api in (first, second):
            wait_ready(api.base_url, api.process)
        yield first, second
    finally:
        stop(first.process)
        stop(second.process)
