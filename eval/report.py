"""The report object (DESIGN.md Eval report), baseline deltas and --fail-under gates."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.aggregate import bootstrap_intervals, by_type, compute_metrics, confusion, lookup

Record = dict[str, Any]


class GateError(ValueError):
    """A --fail-under spec that is not METRIC=VALUE over a known metric."""


def build_report(records: Sequence[Record], config: dict[str, Any]) -> dict[str, Any]:
    return {
        "metrics": compute_metrics(records),
        "intervals": bootstrap_intervals(records),
        "by_type": by_type(records),
        "confusion": confusion(records),
        "config": config,
        "questions": list(records),
    }


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves by dotted path ("retrieval.hit@5")."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, path + "."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[path] = float(value)
    return flat


def load_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read baseline report: {error}") from None
    if not isinstance(report, dict) or not isinstance(report.get("metrics"), dict):
        raise ValueError(f"{path}: not an eval report (no 'metrics' object)")
    return report


def compare_to_baseline(
    report: dict[str, Any], baseline: dict[str, Any], source: str
) -> dict[str, Any]:
    """Deltas for every metric either report has, and the questions whose verdict flipped."""
    now, before = flatten(report["metrics"]), flatten(baseline["metrics"])
    deltas = {
        path: {
            "baseline": before.get(path),
            "current": now.get(path),
            "delta": now[path] - before[path] if path in now and path in before else None,
        }
        for path in sorted(set(now) | set(before))
    }
    previous = {q["id"]: bool(q.get("pass")) for q in baseline.get("questions") or []}
    current = {q["id"]: bool(q["pass"]) for q in report["questions"]}
    return {
        "file": source,
        "deltas": deltas,
        "pass_to_fail": sorted(
            i for i, ok in current.items() if previous.get(i) is True and not ok
        ),
        "fail_to_pass": sorted(i for i, ok in current.items() if previous.get(i) is False and ok),
        "new_questions": sorted(set(current) - set(previous)),
        "dropped_questions": sorted(set(previous) - set(current)),
    }


def parse_gates(specs: Sequence[str], metrics: dict[str, Any]) -> list[tuple[str, float]]:
    gates = []
    for spec in specs:
        path, sep, raw = spec.partition("=")
        path = path.strip().removeprefix("metrics.")
        try:
            bound = float(raw)
        except ValueError:
            bound = float("nan")
        if not sep or bound != bound:
            raise GateError(
                f"--fail-under expects METRIC=VALUE (e.g. retrieval.hit@5=0.8), got {spec!r}"
            )
        try:
            lookup(metrics, path)
        except KeyError:
            known = ", ".join(sorted(flatten(metrics)))
            raise GateError(f"--fail-under: unknown metric {path!r}; known: {known}") from None
        gates.append((path, bound))
    return gates


def failed_gates(metrics: dict[str, Any], gates: Sequence[tuple[str, float]]) -> list[str]:
    """One message per gate whose metric is below its bound (or missing for this run)."""
    failures = []
    for path, bound in gates:
        value = lookup(metrics, path)
        if value is None:
            failures.append(f"{path} has no value for this run (bound {bound})")
        elif float(value) < bound:
            failures.append(f"{path} = {float(value):.4f} < {bound}")
    return failures
