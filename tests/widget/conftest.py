"""Widget fixtures: one real `newsdesk serve` per module over the sample corpus (ingested with
`newsdesk ingest`), two tiny static servers on other origins, and Debian's headless Chromium."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port, running_serve

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CORPUS = REPO_ROOT / "examples" / "announcements"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RATE_LIMIT = 40  # per minute per address; the rate-limit test spends what is left of it

# Written for these tests: a source whose text and title carry markup that must stay inert,
# and whose url is a javascript: link the widget must not turn into a link.
HOSTILE_RECORD: dict[str, Any] = {
    "id": "xss-probe",
    "title": 'Harbor Robotics <img src=x onerror="window.__xss=3"> opens a Lisbon lab'
    " <script>window.__xss=4</script>",
    "url": "javascript:window.__xss=5",
    "published": "2026-02-03",
    "text": (
        "Harbor Robotics opened a robotics lab in Lisbon on Tuesday. "
        "The Lisbon lab <script>window.__xss=1</script> employs 45 engineers "
        '<img src=x onerror="window.__xss=2"> who build warehouse robots. '
        "The company plans to hire 20 more people next year."
    ),
}


@dataclass
class Origins:
    api: str  # the newsdesk server (serves /, /widget.js, /v1/...)
    allowed: str  # a third-party site listed in NEWSDESK_CORS_ORIGINS
    foreign: str  # a third-party site that is not


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def _static_site(directory: Path, port: int) -> ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    site = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pages of the third-party sites (the tests write them)."""
    return tmp_path_factory.mktemp("sites")


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory, site_dir: Path) -> Iterator[Origins]:
    workdir = tmp_path_factory.mktemp("widget-serve")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "PYTHONPATH": str(REPO_ROOT),
    }
    data_dir = workdir / "data"
    hostile = workdir / "harbor-robotics.json"
    hostile.write_text(json.dumps(HOSTILE_RECORD), encoding="utf-8")
    ingest = [sys.executable, "-m", "api.cli", "ingest", str(SAMPLE_CORPUS), str(hostile)]
    done = subprocess.run(
        [*ingest, "--data-dir", str(data_dir), "--json"],
        cwd=workdir,  # outside the repo: no stray .env is read
        env=env,
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert json.loads(done.stdout)["documents"] >= 2

    allowed_port, foreign_port, api_port = free_port(), free_port(), free_port()
    allowed = _static_site(site_dir, allowed_port)
    foreign = _static_site(site_dir, foreign_port)
    env["NEWSDESK_CORS_ORIGINS"] = f"http://127.0.0.1:{allowed_port}"
    env["NEWSDESK_RATE_LIMIT"] = f"{RATE_LIMIT}/minute"
    try:
        with running_serve(workdir, env, data_dir=data_dir, port=api_port) as (api, _):
            yield Origins(
                api, f"http://127.0.0.1:{allowed_port}", f"http://127.0.0.1:{foreign_port}"
            )
    finally:
        for site in (allowed, foreign):
            site.shutdown()
            site.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium not installed (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """docs/ when NEWSDESK_SCREENSHOT_DIR says so (to refresh the README images), else tmp."""
    chosen = os.environ.get("NEWSDESK_SCREENSHOT_DIR")
    return Path(chosen) if chosen else tmp_path
