"""Against a real `newsdesk serve`: press releases whose figures carry footnote markers ("[3]")
are answered (never a 500), with every [n] a citation and every quote exact; `newsdesk eval
--url` over them records no error, waits out a rate limit's Retry-After, and exits 1 with the
count when questions still error; the OpenAI-compatible endpoint fills `usage` (also in the
last stream chunk) and refuses n > 1 in OpenAI's error shape."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from rag.tokens import TokenCounter
from tests.reliability.hostile import FOOTNOTE_QUESTIONS, FOOTNOTED_RELEASES
from tests.servers import cli_command, cli_env, running_serve

pytestmark = pytest.mark.slow

READ, ADMIN = "footnote-read", "footnote-admin"
AUTH = {"Authorization": f"Bearer {READ}"}
MARKER = re.compile(r"\[(\d+)\]")


def serve_footnotes(workdir: Path, rate_limit: str) -> Any:
    workdir.mkdir(parents=True, exist_ok=True)
    env = cli_env(NEWSDESK_API_KEYS=READ, NEWSDESK_ADMIN_KEYS=ADMIN,
                  NEWSDESK_RATE_LIMIT=rate_limit)  # fmt: skip
    return running_serve(workdir, env, data_dir=workdir / "data")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("footnotes")
    with serve_footnotes(workdir, "100000/minute") as (base_url, _):
        added = httpx.post(f"{base_url}/v1/documents", json=FOOTNOTED_RELEASES, timeout=120,
                           headers={"Authorization": f"Bearer {ADMIN}"})  # fmt: skip
        assert added.status_code == 200 and added.json()["added"] == 3, added.text
        yield base_url


@pytest.fixture(scope="module")
def eval_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("footnote-set") / "set.jsonl"
    lines = [json.dumps({"id": f"fn-{n}", "question": q, "answers": [gold], "doc_ids": [doc],
                         "type": "number"})
             for n, (q, gold, doc) in enumerate(FOOTNOTE_QUESTIONS)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def check_answer(base_url: str, answer: dict[str, Any]) -> None:
    ids = {c["id"] for c in answer["citations"]}
    assert {int(n) for n in MARKER.findall(answer["answer"])} <= ids, answer
    for citation in answer["citations"]:
        text = httpx.get(f"{base_url}/v1/documents/{citation['doc_id']}", headers=AUTH).json()
        assert text["text"][citation["start"] : citation["end"]] == citation["quote"]


# A reader miss, not a footnote one: the artifact trained on 2026-12-02 (with the yes/no
# routing) answers this with the next sentence's "roughly 90,000 patients", with or without the
# footnote markers in the text; the one before answered it right, and the one after (months and
# counts in words) answers it right with the markers and wrong without. Pinned so that any other
# wrong answer still fails this test (eval/README.md, "Retraining noise").
KNOWN_MISS = "How many outpatient clinics did Brennic Health open in Leeds?"


def test_footnote_markers_in_sources_never_crash_an_answer(server: str) -> None:
    answered, kept_brackets = 0, 0
    for question, gold, doc_id in FOOTNOTE_QUESTIONS:
        response = httpx.post(f"{server}/v1/ask", json={"question": question}, headers=AUTH,
                              timeout=60)  # fmt: skip
        assert response.status_code == 200, (question, response.text)
        answer = response.json()
        check_answer(server, answer)
        if not answer["abstained"]:
            answered += 1
            assert answer["citations"][0]["doc_id"] == doc_id, (question, answer["answer"])
            assert gold in answer["answer"] or question == KNOWN_MISS, (question, answer["answer"])
            kept_brackets += any(re.search(r"\[\s*\d", c["quote"]) for c in answer["citations"])
    assert answered >= 4 and kept_brackets >= 4  # quotes keep the source's own "[3]"
    body = {"messages": [{"role": "user", "content": FOOTNOTE_QUESTIONS[0][0]}], "stream": True}
    with httpx.stream("POST", f"{server}/v1/chat", json=body, headers=AUTH, timeout=60) as events:
        text = events.read().decode()
    assert "event: answer" in text and "event: error" not in text
    completion = httpx.post(f"{server}/v1/chat/completions", headers=AUTH, timeout=60,
                            json={"model": "newsdesk", "messages": body["messages"]})  # fmt: skip
    assert completion.status_code == 200


def run_eval(url: str, eval_set: Path, out: Path) -> subprocess.CompletedProcess[bytes]:
    command = cli_command("eval", "--set", str(eval_set), "--url", url, "--api-key", READ,
                          "--out", str(out), "--json")  # fmt: skip
    return subprocess.run(command, cwd=out.parent, env=cli_env(), capture_output=True,
                          timeout=600)  # fmt: skip


def test_eval_over_footnoted_sources_records_no_error(
    server: str, eval_set: Path, tmp_path: Path
) -> None:
    done = run_eval(server, eval_set, tmp_path / "report")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert report["metrics"]["summary"]["errors"] == 0
    assert report["metrics"]["citations"]["quote_exactness"] == 1.0


def test_eval_waits_out_rate_limits_and_fails_on_errors(eval_set: Path, tmp_path: Path) -> None:
    # 3 a second: asks, searches and document reads come back 429 with Retry-After 1, waited out
    with serve_footnotes(tmp_path / "fast", "3/second") as (url, _):
        done = run_eval(url, eval_set, tmp_path / "waited")
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert json.loads(done.stdout)["metrics"]["summary"]["errors"] == 0
    # 2 an hour: Retry-After is far beyond what the runner waits; questions error, exit 1
    with serve_footnotes(tmp_path / "slow", "2/hour") as (url, _):
        done = run_eval(url, eval_set, tmp_path / "refused")
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr[-2000:]
    errors = json.loads(done.stdout)["metrics"]["summary"]["errors"]
    assert errors >= len(FOOTNOTE_QUESTIONS) - 1
    assert f"errors: {errors} of {len(FOOTNOTE_QUESTIONS)} questions errored" in stderr


def test_openai_usage_counts_tokens_and_n_over_one_is_refused(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key=READ, max_retries=0)
    messages = [{"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": FOOTNOTE_QUESTIONS[3][0]}]  # fmt: skip
    counter = TokenCounter()
    completion = client.chat.completions.create(model="newsdesk", messages=messages)  # type: ignore[arg-type]
    content = completion.choices[0].message.content or ""
    prompt = sum(counter.count(m["content"]) for m in messages)
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == prompt > 10
    assert completion.usage.completion_tokens == counter.count(content) > 10
    assert completion.usage.total_tokens == prompt + counter.count(content)

    chunks = list(client.chat.completions.create(
        model="newsdesk", messages=messages, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True}))  # fmt: skip
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == content
    assert chunks[-1].usage.model_dump() == completion.usage.model_dump()
    plain = list(client.chat.completions.create(model="newsdesk", messages=messages, stream=True))  # type: ignore[arg-type]
    assert all(chunk.usage is None and chunk.choices for chunk in plain)

    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="newsdesk", messages=messages, n=2)  # type: ignore[arg-type]
    error = refused.value.response.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"} and error["param"] == "n"
    assert error["type"] == "invalid_request_error" and "n=2" in error["message"]
    one = client.chat.completions.create(model="newsdesk", messages=messages, n=1)  # type: ignore[arg-type]
    assert one.choices[0].message.content == content
