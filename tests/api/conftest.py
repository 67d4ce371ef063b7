"""API test helpers: sample records, one loaded Newsdesk per module, apps with chosen settings."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.config import Settings
from rag.system import Newsdesk, build_newsdesk
from tests.servers import cli_env, free_port, running_serve, wait_ready  # noqa: F401  (re-exported)

# Written for these tests: four short dated announcements with checkable figures.
RECORDS: list[dict[str, Any]] = [
    {
        "id": "solar-nevada",
        "title": "Helio Works picks Nevada for a solar farm",
        "url": "https://example.test/helio-nevada",
        "published": "2025-03-04",
        "text": (
            "Helio Works announced a 640 megawatt solar farm near Tonopah, Nevada. "
            "Construction starts this summer and the farm should deliver power by mid-2027. "
            "The project is budgeted at 1.1 billion dollars."
        ),
    },
    {
        "id": "quanta-series-b",
        "title": "Quanta Labs closes Series B",
        "url": "https://example.test/quanta-b",
        "published": "2025-06-18",
        "text": (
            "Quanta Labs has raised 85 million dollars in a Series B round led by Northwind Capital. "
            "The startup will use the money to triple its research staff to 150 people."
        ),
    },
    {
        "id": "rail-order",
        "title": "Metro Transit orders new trains",
        "url": "https://example.test/metro-trains",
        "published": "2024-11-02",
        "text": (
            "Metro Transit ordered 42 electric trains from Kestrel Rail. "
            "The first trains enter service in 2026, replacing cars built in the 1980s."
        ),
    },
    {
        "id": "undated-memo",
        "title": "Orchard Foods opens a cold-storage hub",
        "text": (
            "Orchard Foods opened a cold-storage hub in Fresno with room for 30,000 pallets. "
            "The hub employs 120 workers."
        ),
    },
]


def api_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None, **overrides)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def module_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api-data")


@pytest.fixture(scope="module")
def newsdesk(module_data: Path, embedder: Any) -> Newsdesk:
    """One Newsdesk per module on a fresh tmp index; the records go in through the API."""
    desk = build_newsdesk(api_settings(module_data), embedder=embedder)
    with TestClient(create_app(desk.settings, desk)) as client:
        response = client.post("/v1/documents", json={"documents": RECORDS})
        assert response.status_code == 200, response.text
        assert response.json()["added"] == len(RECORDS)
    return desk


@pytest.fixture
def make_client(newsdesk: Newsdesk) -> Callable[..., Any]:
    """`with make_client(api_keys=[...]) as client:` an app over the shared Newsdesk."""

    @contextmanager
    def factory(**overrides: Any) -> Iterator[TestClient]:
        settings = newsdesk.settings.model_copy(update=overrides)
        with TestClient(create_app(settings, newsdesk)) as client:
            yield client

    return factory


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Iterator[TestClient]:
    with make_client() as test_client:
        yield test_client


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    read_key: str
    admin_key: str

    def headers(self, *, admin: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key if admin else self.read_key}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `newsdesk serve` on a free loopback port with the records ingested over HTTP."""
    workdir = tmp_path_factory.mktemp("serve")
    env = cli_env(
        NEWSDESK_API_KEYS="read-key-1",
        NEWSDESK_ADMIN_KEYS="admin-key-1",
        NEWSDESK_RATE_LIMIT="100000/minute",
    )
    with running_serve(workdir, env, data_dir=workdir / "data") as (base_url, process):
        running = Server(base_url, process, "read-key-1", "admin-key-1")
        response = httpx.post(
            f"{base_url}/v1/documents",
            json=RECORDS,
            headers=running.headers(admin=True),
            timeout=60,
        )
        assert response.status_code == 200, response.text
        yield running
