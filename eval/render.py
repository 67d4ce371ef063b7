"""Writes report.json, report.md and a self-contained report.html (charts as base64 PNG)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from eval.aggregate import HEADLINE, lookup

TEMPLATES = Path(__file__).parent / "templates"
HEADLINE_TABLE = (
    "retrieval.hit@1", "retrieval.hit@3", "retrieval.hit@5", "retrieval.recall@5",
    "retrieval.mrr@10", "retrieval.ndcg@10", "answer.exact_match", "answer.f1",
    "answer.containment", "answer.numeric_match", "citations.quote_exactness",
    "citations.coverage", "citations.precision", "citations.recall", "citations.support",
    "abstention.precision", "abstention.recall", "abstention.false_refusal_rate",
    "abstention.answered_unanswerable_rate", "abstention.truthfulness",
    "abstention.truthfulness_rate", "summary.pass_rate", "latency_ms.p50", "latency_ms.p95",
)  # fmt: skip


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def headline_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for path in HEADLINE_TABLE:
        try:
            value = lookup(report["metrics"], path)
        except KeyError:
            continue
        interval = report.get("intervals", {}).get(path) if path in HEADLINE else None
        ci = f"[{fmt(interval['low'])}, {fmt(interval['high'])}]" if interval else ""
        delta = ((report.get("baseline") or {}).get("deltas") or {}).get(path) or {}
        change = delta.get("delta")
        rows.append(
            {
                "metric": path,
                "value": fmt(value, 1 if path.startswith("latency") else 3),
                "ci": ci,
                "delta": "" if change is None else f"{change:+.3f}",
            }
        )
    return rows


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def charts(report: dict[str, Any]) -> dict[str, str]:
    """Three PNG charts, base64; built on bare Figures (Agg canvas), no pyplot global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    images = {}
    types = list(report["by_type"])
    figure = Figure(figsize=(7, 3.2))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    series = ("pass_rate", "containment", "hit@5")
    width = 0.8 / len(series)
    for i, key in enumerate(series):
        values = [report["by_type"][t].get(key) or 0.0 for t in types]
        axes.bar([x + i * width for x in range(len(types))], values, width, label=key)
    axes.set_xticks([x + width for x in range(len(types))], types)
    axes.set_ylim(0, 1.05)
    axes.set_title("Scores by question type")
    axes.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    images["by_type"] = _png(figure)

    cells = report["confusion"]
    grid = [
        [cells["answerable_answered"], cells["answerable_abstained"]],
        [cells["unanswerable_answered"], cells["unanswerable_abstained"]],
    ]
    figure = Figure(figsize=(3.6, 3.2))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(grid, cmap="Blues")
    for row in range(2):
        for col in range(2):
            axes.text(col, row, str(grid[row][col]), ha="center", va="center", fontsize=14)
    axes.set_xticks([0, 1], ["answered", "abstained"])
    axes.set_yticks([0, 1], ["answerable", "unanswerable"])
    axes.set_title("Abstention")
    images["abstention"] = _png(figure)

    wall = [q["timings_ms"]["wall"] for q in report["questions"]]
    figure = Figure(figsize=(5, 3.2))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.hist(wall, bins=min(30, max(5, len(wall) // 3)), color="#4a7bb7")
    axes.set_xlabel("ms per question")
    axes.set_title("Latency")
    images["latency"] = _png(figure)
    return images


def render_markdown(report: dict[str, Any]) -> str:
    lines = ["# newsdesk eval report", ""]
    config = report["config"]
    lines.append(f"Set `{config.get('set')}`, target {config.get('target')}, "
                 f"retriever {config.get('retriever')}, answerer {config.get('answerer')}.")  # fmt: skip
    lines += ["", "| metric | value | 95% CI | delta |", "|---|---|---|---|"]
    for row in headline_rows(report):
        lines.append(f"| {row['metric']} | {row['value']} | {row['ci']} | {row['delta']} |")
    cells = report["confusion"]
    lines += [
        "", "## Abstention", "", "| | answered | abstained |", "|---|---|---|",
        f"| answerable | {cells['answerable_answered']} | {cells['answerable_abstained']} |",
        f"| unanswerable | {cells['unanswerable_answered']} | {cells['unanswerable_abstained']} |",
        "", "## By type", "",
        "| type | n | pass | hit@5 | f1 | containment | numeric | truthfulness |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for kind, row in report["by_type"].items():
        lines.append(
            f"| {kind} | {row['questions']} | {fmt(row['pass_rate'])} | {fmt(row['hit@5'])} | "
            f"{fmt(row['f1'])} | {fmt(row['containment'])} | {fmt(row['numeric_match'])} | "
            f"{fmt(row['truthfulness'])} |"
        )
    baseline = report.get("baseline")
    if baseline:
        lines += ["", f"## Against baseline `{baseline['file']}`", ""]
        lines.append("pass -> fail: " + (", ".join(baseline["pass_to_fail"]) or "none"))
        lines.append("")
        lines.append("fail -> pass: " + (", ".join(baseline["fail_to_pass"]) or "none"))
    failed = [q for q in report["questions"] if not q["pass"]]
    lines += ["", f"## Failed questions ({len(failed)})", ""]
    if failed:
        lines += ["| id | type | answer | gold |", "|---|---|---|---|"]
    for q in failed:
        answer = "(abstained)" if q["abstained"] else (q["short_answer"] or q["answer"])
        gold = " / ".join(q["gold_answers"]) or "(abstain)"
        cell = " ".join(str(answer).split()).replace("|", "\\|")[:160]
        lines.append(f"| {q['id']} | {q['type']} | {cell} | {gold.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def render_html(report: dict[str, Any]) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        rows=headline_rows(report),
        charts=charts(report),
        types=sorted(report["by_type"]),
        fmt=fmt,
    )


def write_report(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "report.json",
        "md": out_dir / "report.md",
        "html": out_dir / "report.html",
    }
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["md"].write_text(render_markdown(report), encoding="utf-8")
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths
