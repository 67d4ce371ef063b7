"""Metric unit tests with hand-computed expectations."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from eval.aggregate import abstention_metrics, bootstrap_intervals, compute_metrics, confusion
from eval.metrics import (
    answer_scores,
    citation_scores,
    contains,
    exact_match,
    mrr_at,
    ndcg_at,
    normalize_answer,
    recall_at,
    retrieval_scores,
    split_sentences,
    support_score,
    token_f1,
    truthfulness,
    yes_no_of,
)
from eval.numbers import find_quantities, numeric_match
from eval.questions import SetError, load_set
from eval.report import GateError, compare_to_baseline, failed_gates, flatten, parse_gates


@pytest.mark.parametrize(
    ("gold", "predicted"),
    [
        ("1 GW", "one gigawatt"),
        ("1 GW", "nearly 1 gigawatt"),
        ("1 GW", "1,000 megawatts"),
        ("1 GW", "1005 MW"),  # within 1%
        ("$4 billion", "4bn"),
        ("$4 billion", "US$4,000 million"),
        ("$4 billion", "more than $4 billion"),
        ("half a gigawatt", "500 MW"),
        ("40%", "40 percent"),
        ("€2.1 billion", "EUR 2.1bn"),
        ("300k", "300,000"),
    ],
)
def test_numbers_equal_across_units_and_scale_words(gold: str, predicted: str) -> None:
    assert numeric_match([gold], predicted) is True


@pytest.mark.parametrize(
    ("gold", "predicted"),
    [
        ("1 GW", "1.02 GW"),  # 2% off
        ("1 GW", "1 GWh"),  # power is not energy
        ("$4 billion", "€4 billion"),  # another currency
        ("$4 billion", "4 million"),
        ("5 GW", "the 2026 target"),  # a year is not a quantity
    ],
)
def test_numbers_that_differ(gold: str, predicted: str) -> None:
    assert numeric_match([gold], predicted) is False


def test_numeric_match_applies_only_to_quantities() -> None:
    assert numeric_match(["March 3, 2025"], "March 3, 2025") is None  # a date, not a number
    assert numeric_match(["Blackwell Ultra"], "B300") is None
    assert numeric_match(["200,000 GPUs"], "200,000", bare_numbers=True) is True
    assert numeric_match(["200,000 GPUs"], "100,000", bare_numbers=True) is False
    assert [q.value for q in find_quantities("Q2 2026 and B300")] == []


def test_retrieval_metrics_by_hand() -> None:
    ranked = ["x", "a", "y", "b", "z"]
    gold = {"a", "b"}
    # DCG = 1/log2(3) + 1/log2(5); IDCG = 1/log2(2) + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at(ranked, gold, 10) == pytest.approx(expected)
    assert ndcg_at(ranked, gold, 10) == pytest.approx(0.6509, abs=1e-4)
    assert mrr_at(ranked, gold, 10) == 0.5
    assert recall_at(ranked, gold, 3) == 0.5
    scores = retrieval_scores(ranked, gold)
    assert (scores["hit@1"], scores["hit@3"], scores["hit@5"]) == (0.0, 1.0, 1.0)
    assert scores["recall@5"] == 1.0
    assert ndcg_at(["a", "b"], gold, 10) == pytest.approx(1.0)
    assert ndcg_at(["x"], gold, 10) == 0.0 and mrr_at(["x"], gold, 10) == 0.0


def test_squad_normalisation_em_f1_and_containment() -> None:
    assert normalize_answer("The  Nearly 1 gigawatt! [2]") == "nearly 1 gigawatt"
    assert exact_match("1 gigawatt", "the 1 gigawatt.") == 1.0
    # gold "nearly 1 gigawatt" vs "1 gigawatt of power": overlap 2, P=2/4, R=2/3 -> F1=4/7
    assert token_f1("nearly 1 gigawatt", "1 gigawatt of power") == pytest.approx(4 / 7)
    assert token_f1("a", "b") == 0.0
    assert contains("1 GW", "Nearly 1 GW comes online [1].")
    assert not contains("1 GW", "Nearly 11 GW comes online.")  # whole tokens only


def test_answer_scores_take_the_best_variant_and_fall_back_to_the_answer() -> None:
    scores = answer_scores(
        ["nearly 1 gigawatt", "1 GW"], None, "About 1,000 megawatts by 2026 [1].", "number"
    )
    assert scores["exact_match"] == 0.0
    assert scores["containment"] == 0.0
    assert scores["numeric_match"] == 1.0
    short = answer_scores(["1 GW"], "1 GW", "Capacity reaches 1 GW [1].", "number")
    assert short["exact_match"] == 1.0 and short["f1"] == 1.0


def test_a_wrong_short_answer_is_wrong_even_when_the_long_answer_holds_the_gold() -> None:
    from eval.questions import EvalQuestion
    from eval.runner import is_correct

    long = "The base contract is $40 million, up to $95 million with options [1]."
    wrong = answer_scores(["$40 million"], "$95 million", long, "number")
    assert wrong["containment"] == 1.0 and wrong["short_answer_match"] == 0.0
    right = answer_scores(["$40 million"], "40 million dollars", long, "number")
    assert right["short_answer_match"] == 1.0  # the same quantity, written differently
    none = answer_scores(["$40 million"], None, long, "number")
    assert none["short_answer_match"] is None  # no short answer: the long one is judged
    question = EvalQuestion(
        id="q", question="Base value?", answers=["$40 million"], doc_ids=["d"], type="number"
    )
    assert not is_correct(question, wrong, abstained=False)
    assert is_correct(question, right, abstained=False)
    assert is_correct(question, none, abstained=False)
    assert truthfulness(True, False, is_correct(question, wrong, abstained=False)) == -1
    verdict = answer_scores(["No"], "Yes", "Yes: it was not disclosed, no [1].", "yes_no")
    assert verdict["short_answer_match"] == 0.0


def test_yes_no() -> None:
    assert yes_no_of("Yes, it did [1].") == "yes"
    assert yes_no_of("It did not; no deal was signed.") == "no"
    scores = answer_scores(["no"], None, "No. The plan was dropped [1].", "yes_no")
    assert scores["yes_no_match"] == 1.0
    assert answer_scores(["yes"], None, "No, it was not [1].", "yes_no")["yes_no_match"] == 0.0


def test_citation_scores() -> None:
    text = "Acme opened a 40 MW plant in Ohio. It employs 200 people."
    answer = {
        "answer": "Acme opened a 40 MW plant [1]. It is the largest in the state.",
        "abstained": False,
        "citations": [
            {"id": 1, "doc_id": "d1", "quote": text[:34], "start": 0, "end": 34},
            {"id": 2, "doc_id": "d2", "quote": "wrong", "start": 0, "end": 5},
        ],
    }
    scores = citation_scores(answer, {"d1", "d3"}, {"d1": text, "d2": "right"})
    assert (scores["quotes"], scores["quotes_exact"]) == (2, 1)
    assert scores["coverage"] == 0.5  # one of two sentences carries a marker
    assert scores["precision"] == 0.5  # d1 of {d1, d2}
    assert scores["recall"] == 0.5  # d1 of {d1, d3}
    assert scores["support"] == pytest.approx(1.0)
    abstained = citation_scores({"answer": "Not found.", "abstained": True}, {"d1"}, {})
    assert abstained["coverage"] is None and abstained["precision"] is None


def test_support_counts_words_and_numbers() -> None:
    evidence = "Acme opened a 40 MW plant in Ohio."
    assert support_score("Acme opened a 40 MW plant [1].", evidence) == pytest.approx(1.0)
    # content words acme, opened, 50, mw, plant: 4 of 5 found; the one number disagrees
    assert support_score("Acme opened a 50 MW plant [1].", evidence) == pytest.approx(0.5 * 0.8)
    assert split_sentences("First one [1]. Second one [2].") == [
        "First one [1].",
        "Second one [2].",
    ]


def _record(answerable: bool, abstained: bool, correct: bool, kind: str = "number") -> dict:
    score = truthfulness(answerable, abstained, correct)
    return {
        "id": f"q{answerable}{abstained}{correct}",
        "type": kind,
        "answerable": answerable,
        "abstained": abstained,
        "pass": correct,
        "timings_ms": {"wall": 10.0},
        "scores": {
            "retrieval": None,
            "answer": {"f1": 1.0 if correct else 0.0} if answerable else None,
            "citations": {"quotes": 1, "quotes_exact": 1},
            "truthfulness": score,
            "correct": correct,
        },
    }


def test_confusion_and_abstention_rates() -> None:
    records = [
        _record(True, False, True),
        _record(True, False, True),
        _record(True, False, False),
        _record(True, True, False),
        _record(False, True, True),
        _record(False, False, False),
    ]
    assert confusion(records) == {
        "answerable_answered": 3,
        "answerable_abstained": 1,
        "unanswerable_answered": 1,
        "unanswerable_abstained": 1,
    }
    rates = abstention_metrics(records)
    assert rates["precision"] == 0.5  # 1 of 2 abstentions was right
    assert rates["recall"] == 0.5  # 1 of 2 unanswerable abstained
    assert rates["false_refusal_rate"] == 0.25
    assert rates["answered_unanswerable_rate"] == 0.5
    # +1 +1 -1 0 +1 -1 = 1 over 6
    assert rates["truthfulness"] == pytest.approx(1 / 6)
    assert rates["truthfulness_rate"] == pytest.approx((1 / 6 + 1) / 2)
    assert compute_metrics(records)["summary"]["pass_rate"] == pytest.approx(3 / 6)


def test_bootstrap_is_deterministic_and_brackets_the_value() -> None:
    records = [_record(True, False, i % 3 != 0) for i in range(30)]
    for i, record in enumerate(records):
        record["id"] = f"q{i}"
        record["scores"]["answer"]["f1"] = (i % 3 != 0) * (0.5 + i / 60)
    expected = sum(r["scores"]["answer"]["f1"] for r in records) / 30
    first = bootstrap_intervals(records, ["answer.f1"], resamples=200)
    again = bootstrap_intervals(records, ["answer.f1"], resamples=200)
    assert first == again
    interval = first["answer.f1"]
    assert interval["value"] == pytest.approx(expected)
    assert interval["low"] < interval["value"] < interval["high"]
    other = bootstrap_intervals(records, ["answer.f1"], resamples=200, seed=7)
    assert other != first


def test_bad_set_lines_name_file_and_line(tmp_path: Path) -> None:
    good = '{"id": "a", "question": "Q?", "answers": ["x"], "doc_ids": [], "type": "entity"}'
    cases = {
        "not json": "not valid JSON",
        '{"id": "b", "question": "Q?", "answers": "x", "doc_ids": [], "type": "entity"}': "'answers' must be a list",
        '{"id": "b", "question": "Q?", "answers": [], "doc_ids": [], "type": "guess"}': "'type' must be one of",
        good: "duplicate id 'a' (first on line 1)",
    }
    for line, message in cases.items():
        path = tmp_path / "set.jsonl"
        path.write_text(good + "\n\n" + line + "\n")
        with pytest.raises(SetError) as caught:
            load_set(path)
        assert f"{path}:3" in str(caught.value) and message in str(caught.value)
    (tmp_path / "ok.jsonl").write_text(good + "\n")
    assert [q.id for q in load_set(tmp_path / "ok.jsonl")] == ["a"]


def test_gates_and_baseline() -> None:
    metrics = {"retrieval": {"hit@5": 0.7}, "answer": {"f1": None}}
    gates = parse_gates(["retrieval.hit@5=0.8", "metrics.answer.f1=0.1"], metrics)
    assert gates == [("retrieval.hit@5", 0.8), ("answer.f1", 0.1)]
    failures = failed_gates(metrics, gates)
    assert len(failures) == 2 and "retrieval.hit@5 = 0.7000 < 0.8" in failures[0]
    assert failed_gates({"retrieval": {"hit@5": 0.8}}, [("retrieval.hit@5", 0.8)]) == []
    with pytest.raises(GateError, match="unknown metric"):
        parse_gates(["retrieval.hit@50=0.8"], metrics)
    with pytest.raises(GateError, match="METRIC=VALUE"):
        parse_gates(["retrieval.hit@5"], metrics)
    now = {
        "metrics": {"a": {"x": 0.5}},
        "questions": [{"id": "1", "pass": False}, {"id": "2", "pass": True}],
    }
    before = {
        "metrics": {"a": {"x": 0.75}},
        "questions": [{"id": "1", "pass": True}, {"id": "2", "pass": False}],
    }
    diff = compare_to_baseline(now, before, "old.json")
    assert diff["deltas"]["a.x"] == {"baseline": 0.75, "current": 0.5, "delta": -0.25}
    assert diff["pass_to_fail"] == ["1"] and diff["fail_to_pass"] == ["2"]
    assert flatten({"a": {"b": 1, "c": None, "d": True}}) == {"a.b": 1.0}
