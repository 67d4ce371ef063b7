"""With several uvicorn workers, /metrics from any one of them adds up all of them
(prometheus-client's multiprocess mode, switched on by `serve --workers N`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api.metrics import Metrics
from tests.servers import REPO_ROOT, cli_env
from tests.sources.test_api import metric_samples

WORKER = """
from api.metrics import Metrics
metrics = Metrics(lambda: None)
metrics.observe_request("POST", "/v1/ask", 200, 0.02)
metrics.polls.labels("wire", "304").inc()
"""


def test_every_worker_is_counted(tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = cli_env(PROMETHEUS_MULTIPROC_DIR=str(shared))
    for _ in range(2):  # two worker processes, each counting in its own files
        subprocess.run([sys.executable, "-c", WORKER], env=env, cwd=REPO_ROOT, check=True,
                       timeout=120)  # fmt: skip
    samples = metric_samples(Metrics(lambda: None, multiproc_dir=str(shared)).render().decode())
    ask = (("method", "POST"), ("route", "/v1/ask"), ("status", "200"))
    assert samples[("newsdesk_http_requests_total", ask)] == 2
    assert samples[("newsdesk_http_request_duration_seconds_count", ask)] == 2
    assert samples[("newsdesk_source_polls_total", (("outcome", "304"), ("source", "wire")))] == 2
