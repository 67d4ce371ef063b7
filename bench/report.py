"""Prints sections and checks, and writes docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Section, fmt


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return lines


def console_text(section: Section) -> str:
    lines = [f"== {section.title} ({section.seconds:.0f} s)"]
    if section.rows:
        widths = [
            max(len(str(c)), *(len(fmt(r[i])) for r in section.rows))
            for i, c in enumerate(section.columns)
        ]
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(section.columns, widths)))
        for row in section.rows:
            lines.append("  ".join(fmt(v).ljust(w) for v, w in zip(row, widths)))
    lines += [check.line() for check in section.checks]
    lines += [f"note: {n}" for n in section.notes]
    return "\n".join(lines)


def write_markdown(
    path: Path, sections: Sequence[Section], machine: dict[str, Any], *, command: str
) -> None:
    checks = [c for s in sections for c in s.checks]
    passed = sum(c.passed for c in checks)
    lines = [
        "# Benchmarks",
        "",
        f"Measured {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} with `{command}` on "
        f"{machine['nproc']} cores ({machine['cpu']}), {machine['ram_gib']} GiB RAM"
        + (f"; embedder: {machine['embedder']}" if machine.get("embedder") else "")
        + ". "
        "Every ratio compares two things measured in the same run on the same machine; "
        "the machine is shared, so absolute times move between runs.",
        "",
        f"## Targets: {passed}/{len(checks)} pass",
        "",
        "| check | value | target | verdict |",
        "|---|---|---|---|",
    ]
    for check in checks:
        op = ">=" if check.higher_is_better else "<="
        verdict = "PASS" if check.passed else "**FAIL**"
        lines.append(
            f"| {check.name} | {check.value:.3g}{check.unit} | {op} {check.target:g}{check.unit} "
            f"| {verdict} |"
        )
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        if section.rows:
            lines += markdown_table(section.columns, section.rows)
            lines.append("")
        lines += [f"- {note}" for note in section.notes]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
