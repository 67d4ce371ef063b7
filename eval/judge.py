"""Optional LLM judge (only when an OpenAI-compatible server is configured): faithfulness and
correctness of each answer, each in [0, 1]. Marked `llm_judge` in the report; never a gate."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from eval.questions import EvalQuestion

if TYPE_CHECKING:
    import httpx

PROMPT = """You grade an answer produced by a question-answering system over news announcements.
Question: {question}
Reference answers (any one is right; empty means the right behaviour is to decline): {gold}
System answer: {answer}
Quoted sources the answer cites:
{quotes}

Reply with only a JSON object: {{"faithfulness": F, "correctness": C}} where F in [0, 1] says how
fully every claim in the answer is supported by the quoted sources, and C in [0, 1] says whether
the answer agrees with a reference answer (or correctly declines when there is none)."""


class OpenAICompatibleJudge:
    """POSTs /chat/completions to `client` (base_url = the server's /v1 root)."""

    def __init__(self, client: httpx.Client, model: str) -> None:
        self.client = client
        self.model = model

    def __call__(self, question: EvalQuestion, answer: dict[str, Any]) -> dict[str, Any] | None:
        import httpx

        quotes = "\n".join(
            f"[{c['id']}] {c.get('published') or 'undated'}: {c['quote']}"
            for c in answer.get("citations") or []
        )
        content = PROMPT.format(
            question=question.question,
            gold=json.dumps(question.answers),
            answer="(declined) " + answer.get("answer", "")
            if answer.get("abstained")
            else answer.get("answer", ""),
            quotes=quotes or "(none)",
        )
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [{"role": "user", "content": content}],
        }
        try:
            response = self.client.post("chat/completions", json=body)
            response.raise_for_status()
            text = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, ValueError, TypeError):
            return None  # a judge failure leaves the question unjudged, never fails the run
        return parse_verdict(text)


def parse_verdict(text: str) -> dict[str, Any] | None:
    match = re.search(r"\{.*\}", text or "", re.DOTALL)
    if not match:
        return None
    try:
        verdict = json.loads(match.group(0))
    except ValueError:
        return None
    scores = {}
    for key in ("faithfulness", "correctness"):
        value = verdict.get(key) if isinstance(verdict, dict) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        scores[key] = min(1.0, max(0.0, float(value)))
    return scores
