"""Serving: POST /v1/ask over HTTP at 1 and 16 clients against `newsdesk serve --workers 1|2`."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

from bench.common import BenchContext, Check, Section, median, percentile, varied_questions
from bench.server import Server, load

TARGET_EXTRA_MS = 5.0
TARGET_SCALING = 1.6


def paired_one_client(
    newsdesk: Any, port: int, questions: list[str], warmup: int
) -> tuple[list[float], list[float]]:
    """In-process ask and HTTP ask of the same question back to back, so both see the same load."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    local_ms, http_ms = [], []
    try:
        for index, question in enumerate(questions):
            started = time.perf_counter()
            newsdesk.ask(question)
            local = (time.perf_counter() - started) * 1000
            body = json.dumps({"question": question})
            started = time.perf_counter()
            connection.request("POST", "/v1/ask", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            remote = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise RuntimeError(f"POST /v1/ask -> {response.status}")
            if index >= warmup:
                local_ms.append(local)
                http_ms.append(remote)
    finally:
        connection.close()
    return local_ms, http_ms


def run(ctx: BenchContext) -> Section:
    config = ctx.config
    data_dir = ctx.sample_index()
    newsdesk = ctx.newsdesk(data_dir)
    questions = varied_questions(newsdesk, max(config.questions, config.serve_requests_16))
    section = Section(
        "serve",
        "Serving: POST /v1/ask over HTTP (sample corpus)",
        columns=["workers", "clients", "requests", "p50 ms", "p95 ms", "req/s", "errors"],
    )
    throughput: dict[int, float] = {}
    local_ms: list[float] = []
    http_ms: list[float] = []
    for workers in config.serve_workers:
        with Server(data_dir, workers=workers) as server:
            load(server.port, questions, clients=1, requests=config.warmup)  # warm every path
            if workers == 1:
                local_ms, http_ms = paired_one_client(
                    newsdesk, server.port, questions[: config.serve_requests_1 + config.warmup],
                    config.warmup,
                )  # fmt: skip
            for clients, requests in ((1, config.serve_requests_1),
                                      (config.serve_clients, config.serve_requests_16)):  # fmt: skip
                result = load(server.port, questions, clients=clients, requests=requests)
                section.rows.append([workers, clients, requests, median(result.latencies_ms),
                                     percentile(result.latencies_ms, 95), result.rps, result.errors])  # fmt: skip
                if clients > 1:
                    throughput[workers] = result.rps
    if local_ms:
        section.rows += [
            ["1 (paired)", 1, len(http_ms), median(http_ms), percentile(http_ms, 95),
             1000 / median(http_ms), 0],
            ["in-process (paired)", 1, len(local_ms), median(local_ms), percentile(local_ms, 95),
             1000 / median(local_ms), 0],
        ]  # fmt: skip
        section.checks.append(
            Check(
                "serve: HTTP median - in-process median, 1 client, 1 worker",
                median(http_ms) - median(local_ms),
                TARGET_EXTRA_MS,
                unit=" ms",
            )
        )
    if 1 in throughput and 2 in throughput:
        section.checks.append(
            Check(
                f"serve: req/s at {config.serve_clients} clients, 2 workers / 1 worker",
                throughput[2] / throughput[1],
                TARGET_SCALING,
                higher_is_better=True,
                note=f"{ctx.machine_cores()} cores shared by the workers, the Chroma sidecar "
                "and the load client",
            )
        )
    section.notes.append(
        "Real `newsdesk serve` subprocesses on free 127.0.0.1 ports, rate limit lifted; "
        "clients are threads with one keep-alive connection each; --workers 2 serves through "
        "the Chroma sidecar (`chroma run`), as the product does. The paired rows ask each "
        "question in-process and then over HTTP, back to back, so both see the same machine load."
    )
    section.data = {
        "in_process_ms": median(local_ms) if local_ms else float("nan"),
        "http_ms": median(http_ms) if http_ms else float("nan"),
        "rps": throughput,
    }
    return section
