"""Who may call what, against a real `newsdesk serve`: every route found in app.routes is
checked with no key, a read key and an admin key (a route missing from the table fails the
test, so a new one can't slip through); a server with read keys but no admin key is
read-only and says so at startup; /docs works with no network but the server's own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Mount

from api.app import create_app
from rag.config import Settings
from tests.api.conftest import RECORDS
from tests.servers import cli_env, running_serve

pytestmark = pytest.mark.slow

READ, ADMIN = "access-read-key", "access-admin-key"
OPEN, READS, WRITES = "open", "read", "write"
QUESTION = "How many electric trains did Metro Transit order?"
NEW_RECORD = {"id": "route-table-doc", "title": "Lumen Ferries adds a route",
              "published": "2026-01-05", "text": "Lumen Ferries added a route to Gotland."}  # fmt: skip


@dataclass(frozen=True)
class Row:
    """What a route is (open, read or write) and one request that succeeds when allowed."""

    access: str
    allowed: int = 200
    path: str | None = None  # the concrete path (path parameters, a file under a mount)
    request: dict[str, Any] = field(default_factory=dict)


# One row per (method, route path) of the app; rows run in this order (the POST adds the
# document the DELETE removes). A new route fails the test until it has a row here.
ROUTES: dict[tuple[str, str], Row] = {
    ("GET", "/healthz"): Row(OPEN),
    ("GET", "/readyz"): Row(OPEN),
    ("GET", "/openapi.json"): Row(OPEN),
    ("GET", "/docs"): Row(OPEN),
    ("GET", "/docs/oauth2-redirect"): Row(OPEN),
    ("GET", "/docs/assets"): Row(OPEN, path="/docs/assets/swagger-ui-bundle.js"),
    ("GET", "/redoc"): Row(OPEN),
    ("GET", "/widget.js"): Row(OPEN),
    ("GET", "/static"): Row(OPEN, path="/static/widget.js"),
    ("GET", "/"): Row(OPEN),
    ("POST", "/v1/ask"): Row(READS, request={"json": {"question": QUESTION}}),
    ("POST", "/v1/chat"): Row(
        READS, request={"json": {"messages": [{"role": "user", "content": QUESTION}]}}
    ),
    ("GET", "/v1/search"): Row(READS, request={"params": {"q": "trains"}}),
    ("GET", "/v1/documents"): Row(READS),
    ("GET", "/v1/documents/{doc_id}"): Row(READS, path="/v1/documents/rail-order"),
    ("GET", "/v1/stats"): Row(READS),
    ("GET", "/v1/models"): Row(READS),
    ("POST", "/v1/chat/completions"): Row(
        READS,
        request={
            "json": {"model": "newsdesk", "messages": [{"role": "user", "content": QUESTION}]}
        },
    ),  # fmt: skip
    ("POST", "/v1/documents"): Row(WRITES, request={"json": {"documents": [NEW_RECORD]}}),
    ("DELETE", "/v1/documents/{doc_id}"): Row(WRITES, path="/v1/documents/route-table-doc"),
    ("GET", "/metrics"): Row(OPEN),
    ("POST", "/v1/feedback"): Row(
        READS, allowed=201, request={"json": {"question": QUESTION, "verdict": "down"}}
    ),
    ("GET", "/v1/sources"): Row(READS),
    ("POST", "/v1/sources"): Row(
        WRITES,
        allowed=201,
        request={
            "json": {
                "url": "https://93.184.216.34/rt.xml",
                "name": "route-table-src",
                "every": "1h",
            }
        },
    ),  # fmt: skip
    ("POST", "/v1/sources/{name}/run"): Row(WRITES, path="/v1/sources/route-table-src/run"),
    ("DELETE", "/v1/sources/{name}"): Row(WRITES, path="/v1/sources/route-table-src"),
}
EXPECTED = {  # status by (access, key): None means the row's `allowed`
    OPEN: {"none": None, "wrong": None, "read": None, "admin": None},
    READS: {"none": 401, "wrong": 401, "read": None, "admin": None},
    WRITES: {"none": 401, "wrong": 401, "read": 403, "admin": None},
}
KEYS = {"none": None, "wrong": "not-a-key", "read": READ, "admin": ADMIN}


def every_route(routes: list[Any]) -> Iterator[Any]:
    """app.routes flattened: FastAPI >= 0.165 keeps included routers as one entry each."""
    for route in routes:
        nested = getattr(route, "effective_route_contexts", None)
        if nested is not None:
            yield from nested()
        else:
            yield route


def app_routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path) of every route and mount of the app `newsdesk serve` builds."""
    found = []
    for route in every_route(create_app(settings).routes):
        if isinstance(route, Mount):
            found.append(("GET", route.path))
            continue
        for method in sorted((getattr(route, "methods", None) or {"GET"}) - {"HEAD"}):
            found.append((method, route.path))
    return found


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("access")
    env = cli_env(NEWSDESK_API_KEYS=READ, NEWSDESK_ADMIN_KEYS=ADMIN,
                  NEWSDESK_RATE_LIMIT="100000/minute")  # fmt: skip
    with running_serve(workdir, env, data_dir=workdir / "data") as (base_url, _):
        added = httpx.post(f"{base_url}/v1/documents", json=RECORDS, timeout=120,
                           headers={"Authorization": f"Bearer {ADMIN}"})  # fmt: skip
        assert added.status_code == 200, added.text
        yield base_url


def call(base_url: str, method: str, row: Row, route: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = base_url + (row.path or route)
    response = httpx.request(method, url, headers=headers, timeout=120, **row.request)
    if response.status_code in (401, 403):
        assert response.json()["error"]["message"], response.text
    return response.status_code


def test_every_route_against_no_key_a_read_key_and_an_admin_key(keyed: str, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, api_keys=[READ], admin_keys=[ADMIN])  # type: ignore[call-arg]
    routes = app_routes(settings)
    unknown = sorted(set(routes) - set(ROUTES))
    assert not unknown, f"routes without a row in ROUTES (open, read or write?): {unknown}"
    stale = sorted(set(ROUTES) - set(routes))
    assert not stale, f"rows for routes the app no longer has: {stale}"
    table = ["| method | route | access | no key | wrong key | read key | admin key |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for (method, route), row in ROUTES.items():
        got = {name: call(keyed, method, row, route, key) for name, key in KEYS.items()}
        want = {name: status or row.allowed for name, status in EXPECTED[row.access].items()}
        assert got == want, (method, route, got)
        table.append(f"| {method} | {route} | {row.access} | " + " | ".join(
            str(got[name]) for name in KEYS) + " |")  # fmt: skip
    print("\n" + "\n".join(table))


def test_keys_without_an_admin_key_make_a_read_only_server(
    tmp_path: Path,
) -> None:
    env = cli_env(NEWSDESK_API_KEYS="widget-key", NEWSDESK_RATE_LIMIT="100000/minute")
    log = tmp_path / "serve.log"
    with running_serve(tmp_path, env, data_dir=tmp_path / "data", log=log) as (base_url, _):
        widget = {"Authorization": "Bearer widget-key"}
        refused = httpx.post(f"{base_url}/v1/documents", json=RECORDS[:1], headers=widget)
        assert refused.status_code == 403
        assert "NEWSDESK_ADMIN_KEYS" in refused.json()["error"]["message"]
        assert (
            httpx.delete(f"{base_url}/v1/documents/rail-order", headers=widget).status_code == 403
        )
        assert httpx.post(f"{base_url}/v1/documents", json=RECORDS[:1]).status_code == 401
        assert httpx.get(f"{base_url}/v1/stats", headers=widget).json()["documents"] == 0
        asked = httpx.post(f"{base_url}/v1/ask", json={"question": QUESTION}, headers=widget,
                           timeout=60)  # fmt: skip
        assert asked.status_code == 200
    warning = [line for line in log.read_text().splitlines() if "NEWSDESK_ADMIN_KEYS" in line]
    assert warning and "403" in warning[0], log.read_text()[-2000:]


def test_docs_load_only_from_the_server(keyed: str) -> None:
    for page in ("/docs", "/redoc"):
        html = httpx.get(keyed + page).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        assert assets, html
        for asset in assets:
            assert asset.startswith("/"), (page, asset)  # never a CDN
            response = httpx.get(keyed + asset)
            assert response.status_code == 200 and len(response.content) > 1000, asset
        assert "cdn" not in html and "https://" not in html, html


@pytest.mark.browser
def test_swagger_ui_renders_with_every_other_host_blocked(keyed: str) -> None:
    import shutil

    from tests.widget.conftest import CHROMIUM, CHROMIUM_ARGS

    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium not installed (make chromium)")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()

        def only_the_server(route: Any) -> None:
            if route.request.url.startswith(keyed):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_server)
        page.goto(f"{keyed}/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        assert "newsdesk" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/v1/ask" in path for path in paths), paths
        browser.close()
    assert outside == [], outside
