"""eval/draws.py: which gate bounds a retrained artifact misses, and the spread over draws."""

from __future__ import annotations

import math

from eval.draws import envelope, gated_values, misses, report

GATES = [
    {"name": "shipped", "min": {"abstention.truthfulness": 0.5}, "max": {"summary.errors": 0}},
    {"name": "holdout", "min": {"answer.containment": 0.7}},
]


def test_a_draw_misses_each_bound_it_crosses_and_a_missing_value_misses() -> None:
    metrics = {"abstention": {"truthfulness": 0.48}, "summary": {"errors": 0}}
    values = {"shipped": gated_values(metrics, GATES[0]), "holdout": {"answer.containment": 0.71}}
    assert values["shipped"] == {"abstention.truthfulness": 0.48, "summary.errors": 0.0}
    assert misses(values, GATES) == ["shipped abstention.truthfulness 0.480 < 0.5"]
    lacking = gated_values({"summary": {"errors": 1}}, GATES[0])
    assert math.isnan(lacking["abstention.truthfulness"])
    assert misses({"shipped": lacking, "holdout": {}}, GATES) == [
        "shipped abstention.truthfulness nan < 0.5",
        "shipped summary.errors 1.000 > 0",
        "holdout answer.containment nan < 0.7",
    ]


def test_the_envelope_spans_every_draw_and_the_report_counts_misses() -> None:
    draws = [
        {"shipped": {"abstention.truthfulness": 0.58, "summary.errors": 0.0},
         "holdout": {"answer.containment": 0.72}},
        {"shipped": {"abstention.truthfulness": 0.49, "summary.errors": 0.0},
         "holdout": {"answer.containment": 0.69}},
    ]  # fmt: skip
    spread = envelope(draws)
    assert spread["shipped"]["abstention.truthfulness"] == (0.49, 0.58)
    assert spread["holdout"]["answer.containment"] == (0.69, 0.72)
    table = report(["seed 1", "seed 2"], draws, GATES).splitlines()
    assert table[2].endswith("| 0 |") and table[3].endswith("| 2 |")
    assert table[-1].startswith("| all draws | 0.490–0.580 | 0.000–0.000 | 0.690–0.720")
