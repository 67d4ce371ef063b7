"""Per-question scores: retrieval (BEIR, binary relevance), answer text, citations, abstention.

Pure functions over plain values; eval.aggregate turns per-question scores into report metrics.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from eval.numbers import find_quantities, numeric_match, same_quantity

MARKER_RE = re.compile(r"\s*\[(\d+)\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)
STOPWORDS = frozenset(
    """a an the and or but of in on at to for from by with as is are was were be been being it its
    this that these those which who whom what when where why how than then so such not no yes do
    does did has have had will would can could should may might must into over under about after
    before up down out off per via also said says say new first their his her they them we our
    you your he she i""".split()
)


# ---------------------------------------------------------------- retrieval (document level)


def unique_ranked(doc_ids: Sequence[str]) -> list[str]:
    """Chunk hits -> ranked unique documents (first occurrence wins)."""
    return list(dict.fromkeys(doc_ids))


def hit_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    return 1.0 if any(d in gold for d in ranked[:k]) else 0.0


def recall_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    return len(gold.intersection(ranked[:k])) / len(gold) if gold else 0.0


def mrr_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    for rank, doc_id in enumerate(ranked[:k], start=1):
        if doc_id in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """nDCG@k with binary gains, as pytrec_eval's ndcg_cut (BEIR): sum rel_i / log2(i + 1)."""
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), k)))
    return dcg / ideal if ideal else 0.0


def retrieval_scores(ranked: Sequence[str], gold: set[str]) -> dict[str, float]:
    return {
        "hit@1": hit_at(ranked, gold, 1),
        "hit@3": hit_at(ranked, gold, 3),
        "hit@5": hit_at(ranked, gold, 5),
        "recall@5": recall_at(ranked, gold, 5),
        "mrr@10": mrr_at(ranked, gold, 10),
        "ndcg@10": ndcg_at(ranked, gold, 10),
    }


# ---------------------------------------------------------------- answer text (SQuAD v1.1)


def strip_markers(text: str) -> str:
    return MARKER_RE.sub("", text or "")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1: lower case, drop punctuation and articles, collapse whitespace."""
    text = "".join(ch for ch in strip_markers(text).lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(gold: str, prediction: str) -> float:
    return float(normalize_answer(gold) == normalize_answer(prediction))


def token_f1(gold: str, prediction: str) -> float:
    gold_tokens = normalize_answer(gold).split()
    predicted_tokens = normalize_answer(prediction).split()
    common = Counter(gold_tokens) & Counter(predicted_tokens)
    overlap = sum(common.values())
    if not gold_tokens or not predicted_tokens:
        return float(gold_tokens == predicted_tokens)
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(predicted_tokens), overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def contains(gold: str, text: str) -> bool:
    """The normalised gold appears as a whole-token run in the normalised text."""
    needle, hay = normalize_answer(gold).split(), normalize_answer(text).split()
    if not needle:
        return False
    return any(hay[i : i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


def yes_no_of(text: str) -> str | None:
    """ "yes"/"no" when the answer starts with one, else the first yes/no word it contains."""
    words = normalize_answer(text).split()
    for word in words[:1] + words:
        if word in ("yes", "no"):
            return word
    return None


def answer_scores(
    golds: Sequence[str], short_answer: str | None, answer: str, question_type: str
) -> dict[str, Any]:
    """EM/F1 vs short_answer (falling back to answer), containment, numeric and yes/no match."""

    prediction = short_answer or strip_markers(answer)
    both = f"{short_answer or ''} \n {strip_markers(answer)}"
    scores: dict[str, Any] = {
        "exact_match": max(exact_match(g, prediction) for g in golds),
        "f1": max(token_f1(g, prediction) for g in golds),
        "containment": float(any(contains(g, both) for g in golds)),
        "numeric_match": None,
        "yes_no_match": None,
        "short_answer_match": None,
    }
    matched = numeric_match(list(golds), both, bare_numbers=question_type == "number")
    if matched is not None:
        scores["numeric_match"] = float(matched)
    if question_type == "yes_no":
        wanted = {yes_no_of(g) for g in golds} - {None}
        scores["yes_no_match"] = float(
            yes_no_of(prediction) in wanted or yes_no_of(answer) in wanted
        )
    if short_answer:
        scores["short_answer_match"] = float(
            short_answer_matches(golds, short_answer, question_type)
        )
    return scores


def short_answer_matches(golds: Sequence[str], short_answer: str, question_type: str) -> bool:
    """A gold inside the short answer itself: contained, or the same quantity (yes/no: the
    same verdict). The long answer is not looked at: a wrong bold answer is a wrong answer."""
    if question_type == "yes_no":
        wanted = {yes_no_of(g) for g in golds} - {None}
        return yes_no_of(short_answer) in wanted
    if any(contains(g, short_answer) for g in golds):
        return True
    return bool(numeric_match(list(golds), short_answer, bare_numbers=question_type == "number"))


# ---------------------------------------------------------------- citations


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+(?:[.'][a-z0-9]+)*", strip_markers(text).lower())
    return {w for w in words if w not in STOPWORDS and len(w) > 1}


def split_sentences(text: str) -> list[str]:
    """Answer prose -> sentences, each keeping the [n] markers that close it."""
    import pysbd  # rule-based, no downloads

    pieces = [p.strip() for p in pysbd.Segmenter(language="en", clean=False).segment(text or "")]
    sentences: list[str] = []
    for piece in filter(None, pieces):
        if sentences and not strip_markers(piece).strip(" .;:"):
            sentences[-1] += " " + piece  # a marker split off its sentence
        else:
            sentences.append(piece)
    return sentences


def support_score(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words found in its evidence, averaged with
    number agreement (every quantity in the sentence appears in the evidence) when it has any."""
    words = content_words(sentence)
    overlap = len(words & content_words(evidence)) / len(words) if words else 1.0
    quantities = [q for q in find_quantities(strip_markers(sentence)) if not q.bare]
    if not quantities:
        return overlap
    in_evidence = find_quantities(evidence)
    agree = sum(any(same_quantity(q, e) for e in in_evidence) for q in quantities)
    return 0.5 * overlap + 0.5 * agree / len(quantities)


def citation_scores(
    answer: dict[str, Any], gold_doc_ids: set[str], document_texts: dict[str, str | None]
) -> dict[str, Any]:
    """Quote exactness for every citation; coverage/precision/recall/support for answered ones."""
    citations = answer.get("citations") or []
    exact = []
    for citation in citations:
        text = document_texts.get(citation["doc_id"])
        exact.append(
            text is not None and text[citation["start"] : citation["end"]] == citation["quote"]
        )
    scores: dict[str, Any] = {
        "quotes": len(citations),
        "quotes_exact": sum(exact),
        "coverage": None,
        "precision": None,
        "recall": None,
        "support": None,
    }
    if answer.get("abstained"):
        return scores
    by_id = {c["id"]: c for c in citations}
    sentences = split_sentences(answer.get("answer") or "")
    cited = [s for s in sentences if MARKER_RE.search(s)]
    scores["coverage"] = len(cited) / len(sentences) if sentences else 0.0
    supports = []
    for sentence in cited:
        quotes = [by_id[int(n)] for n in MARKER_RE.findall(sentence) if int(n) in by_id]
        evidence = " ".join(f"{c['quote']} {c.get('published') or ''}" for c in quotes)
        supports.append(support_score(sentence, evidence) if quotes else 0.0)
    scores["support"] = sum(supports) / len(supports) if supports else None
    cited_docs = {c["doc_id"] for c in citations}
    if gold_doc_ids and cited_docs:
        scores["precision"] = len(cited_docs & gold_doc_ids) / len(cited_docs)
    if gold_doc_ids:
        scores["recall"] = len(cited_docs & gold_doc_ids) / len(gold_doc_ids)
    return scores


# ---------------------------------------------------------------- abstention (CRAG)


def truthfulness(answerable: bool, abstained: bool, correct: bool) -> int:
    """CRAG scoring: +1 correct, 0 abstained (on an answerable question), -1 wrong."""
    if not answerable:
        return 1 if abstained else -1
    if abstained:
        return 0
    return 1 if correct else -1
