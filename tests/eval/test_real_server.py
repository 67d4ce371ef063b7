"""`newsdesk eval --url` against the real API app under uvicorn on loopback, with an API key."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from api.cli_eval import run_eval_command
from eval.runner import evaluate
from eval.targets import InProcessTarget
from tests.eval.conftest import TinyCorpus


@contextmanager
def real_server(tiny: TinyCorpus) -> Iterator[str]:
    import uvicorn

    from api.app import create_app

    settings = tiny.settings.model_copy(
        update={"api_keys": ["eval-key"], "rate_limit": "1000/minute"}
    )
    app = create_app(settings, newsdesk=tiny.newsdesk())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_eval_over_the_real_api(
    tiny: TinyCorpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = evaluate(InProcessTarget(tiny.newsdesk()), tiny.questions, {})
    with real_server(tiny) as url:
        code = run_eval_command(
            set_path=tiny.set_path, url=url, api_key="eval-key", out=tmp_path, as_json=True
        )
        remote: dict[str, Any] = json.loads(capsys.readouterr().out)
        run_eval_command(set_path=tiny.set_path, url=url, out=None, as_json=True)
        keyless: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 0 and remote["metrics"]["summary"]["errors"] == 0
    for section in ("retrieval", "answer", "citations", "abstention"):
        assert remote["metrics"][section] == local["metrics"][section], section
    assert remote["metrics"]["citations"]["quote_exactness"] == 1.0
    assert keyless["metrics"]["summary"]["errors"] == len(tiny.questions)
    assert "HTTP 401" in keyless["questions"][0]["error"]
