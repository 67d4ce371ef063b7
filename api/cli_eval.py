"""`newsdesk eval`: score the system on a question set (in-process or over HTTP), write reports."""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from eval.aggregate import compute_metrics
from eval.questions import EvalQuestion, SetError, load_set
from eval.render import fmt, write_report
from eval.report import (
    GateError,
    compare_to_baseline,
    failed_gates,
    load_report,
    parse_gates,
)
from eval.runner import Judge, evaluate
from eval.targets import HttpTarget, InProcessTarget, Target
from rag.config import Settings

if TYPE_CHECKING:
    from rag.types import Embedder

RETRIEVERS = ("dense", "keyword", "hybrid")
SUMMARY = ("retrieval.hit@5", "retrieval.mrr@10", "answer.f1", "answer.containment",
           "answer.numeric_match", "answer.short_answer_match", "citations.coverage",
           "abstention.truthfulness", "summary.pass_rate", "summary.errors", "latency_ms.p50",
           "latency_ms.p95")  # fmt: skip


def _usage(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)


def _lookup(metrics: dict[str, Any], path: str) -> Any:
    section, _, key = path.partition(".")
    return (metrics.get(section) or {}).get(key)


def _judge(settings: Settings, stack: ExitStack) -> Judge | None:
    """An LLM judge only when an OpenAI-compatible server is configured; otherwise none."""
    if not settings.llm_base_url:
        return None
    import httpx

    from eval.judge import OpenAICompatibleJudge

    client = stack.enter_context(
        httpx.Client(
            base_url=settings.llm_base_url.rstrip("/") + "/",
            timeout=settings.llm_timeout_s,
            headers={"Authorization": f"Bearer {settings.llm_api_key}"},
        )
    )
    return OpenAICompatibleJudge(client, settings.llm_model)


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def _run_one(
    target: Target,
    questions: list[EvalQuestion],
    config: dict[str, Any],
    judge: Judge | None,
    progress: Progress,
    label: str,
) -> dict[str, Any]:
    task = progress.add_task(label, total=len(questions))
    return evaluate(
        target, questions, config, judge=judge, on_question=lambda _: progress.advance(task)
    )


def _in_process_targets(
    settings: Settings,
    corpus: Path | None,
    retrievers: list[str],
    answerer: str | None,
    embedder: Embedder | None,
    console: Console,
) -> list[tuple[str, Target]]:
    from ingest.pipeline import Ingestor
    from rag.store import ChromaStore
    from rag.system import build_embedder, build_newsdesk

    if embedder is None:
        embedder = build_embedder(settings)
    if corpus is not None:
        from api.writer_lock import DataDirBusy, WriterLock

        store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
        try:  # --corpus with --data-dir writes that index: one writer, as for `ingest`
            with WriterLock(Path(settings.data_dir), role="eval"):
                summary = Ingestor(settings, store, embedder).ingest([corpus])
        except DataDirBusy as error:
            raise _usage(str(error)) from None
        for failure in summary.failed:
            console.print(f"[yellow]ingest failed:[/yellow] {escape(failure['source'])}: "
                          f"{escape(failure['error'])}")  # fmt: skip
    targets: list[tuple[str, Target]] = []
    for name in retrievers:
        variant = settings.model_copy(update={"retriever": name})
        newsdesk = build_newsdesk(variant, embedder=embedder)
        targets.append((name, InProcessTarget(newsdesk, answerer=answerer)))
    return targets


def _print_summary(
    reports: dict[str, dict[str, Any]], paths: dict[str, Path], console: Console
) -> None:
    table = Table(title="newsdesk eval")
    table.add_column("metric")
    for name in reports:
        table.add_column(name, justify="right")
    for path in SUMMARY:
        table.add_row(path, *(fmt(_lookup(r["metrics"], path)) for r in reports.values()))
    console.print(table)
    for name, report in reports.items():
        baseline = report.get("baseline")
        if baseline:
            console.print(
                f"[red]pass -> fail[/red] ({name}): {', '.join(baseline['pass_to_fail']) or 'none'}"
            )
            console.print(
                f"[green]fail -> pass[/green] ({name}): {', '.join(baseline['fail_to_pass']) or 'none'}"
            )
    for name, folder in paths.items():
        console.print(f"reports ({name}): {escape(str(folder))}/report.{{json,md,html}}")


def run_eval_command(
    *,
    set_path: Path,
    corpus: Path | None = None,
    data_dir: Path | None = None,
    url: str | None = None,
    out: Path | None = None,
    baseline: Path | None = None,
    fail_under: list[str] | None = None,
    retriever: str | None = None,
    answerer: str | None = None,
    compare: bool = False,
    as_json: bool = False,
    api_key: str | None = None,
    timeout_s: float = 60.0,
    embedder: Embedder | None = None,
) -> int:
    """The command's body: 0 all good, 1 a --fail-under gate failed or a question errored.
    Usage errors raise typer.Exit(2)."""
    try:
        questions = load_set(set_path)
    except SetError as error:
        raise _usage(str(error)) from None
    if url and (corpus or data_dir or compare or retriever):
        raise _usage(
            "--url evaluates a running server: it cannot take --corpus, --data-dir, --retriever or --compare"
        )
    if retriever not in (None, *RETRIEVERS):
        raise _usage(f"--retriever must be one of {', '.join(RETRIEVERS)}, got {retriever!r}")
    if answerer not in (None, "extractive", "llm"):
        raise _usage(f"--answerer must be extractive or llm, got {answerer!r}")
    try:
        gates = parse_gates(fail_under or [], compute_metrics([]))
        previous = load_report(baseline) if baseline else None
    except (GateError, ValueError) as error:
        raise _usage(str(error)) from None
    console = Console(stderr=as_json)
    with ExitStack() as stack:
        if corpus is not None and data_dir is None:
            data_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="newsdesk-eval-"))
            )
        overrides: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
        if retriever:
            overrides["retriever"] = retriever
        if answerer:
            overrides["answerer"] = answerer
        settings = Settings(**overrides)
        if url:
            import httpx

            headers = (
                {"Authorization": f"Bearer {api_key}", "X-API-Key": api_key} if api_key else {}
            )
            client = stack.enter_context(
                httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s, headers=headers)
            )
            targets: list[tuple[str, Target]] = [("server", HttpTarget(client))]
        else:
            names: list[str] = list(RETRIEVERS) if compare else [settings.retriever]
            targets = _in_process_targets(settings, corpus, names, answerer, embedder, console)
        judge = _judge(settings, stack)
        config = {
            "set": str(set_path),
            "set_sha256": hashlib.sha256(set_path.read_bytes()).hexdigest(),
            "corpus": str(corpus) if corpus else None,
            "answerer": answerer or settings.answerer,
            "top_k": settings.top_k,
            "retrieval_k": 10,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        reports: dict[str, dict[str, Any]] = {}
        with _progress(not as_json) as progress:
            for name, target in targets:
                run_config = {**config, "retriever": "server" if url else name}
                reports[name] = _run_one(target, questions, run_config, judge, progress, name)
    paths: dict[str, Path] = {}
    for name, report in reports.items():
        if previous is not None:
            report["baseline"] = compare_to_baseline(report, previous, str(baseline))
        if out is not None:
            folder = out / name if len(reports) > 1 else out
            write_report(report, folder)
            paths[name] = folder
    if as_json:
        payload: Any = next(iter(reports.values())) if len(reports) == 1 else {"compare": reports}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_summary(reports, paths, console)
    failures = [
        f"{name}: {msg}" for name, r in reports.items() for msg in failed_gates(r["metrics"], gates)
    ]
    for failure in failures:
        typer.echo(f"fail-under: {failure}", err=True)
    errored = _errored(reports)
    for name, count in errored.items():
        total = len(reports[name].get("questions") or [])
        typer.echo(
            f"errors: {count} of {total} questions errored ({name}); their scores count as "
            "failures, so this run is not a measurement (see each question's `error`)",
            err=True,
        )
    return 1 if failures or errored else 0


def _errored(reports: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Questions whose answering raised or whose server answered an error, per run."""
    counts = {name: int((r["metrics"].get("summary") or {}).get("errors") or 0)
              for name, r in reports.items()}  # fmt: skip
    return {name: count for name, count in counts.items() if count}


def run_cv_command(
    set_path: Path, corpus: Path | None, folds: int, out: Path | None, as_json: bool
) -> int:
    """`newsdesk eval --cv K`: a cross-validated report of the set (eval.train.cross_validated)."""
    if corpus is None:
        raise _usage("--cv needs --corpus: the set is answered over a fresh index of it")
    if folds < 2:
        raise _usage("--cv needs at least 2 folds")
    try:
        load_set(set_path)
    except SetError as error:
        raise _usage(str(error)) from None
    from eval.train import cross_validated, summary_table

    report = cross_validated(set_path, corpus, folds)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(
            json.dumps(report, indent=1, default=str), encoding="utf-8"
        )
    if as_json:
        typer.echo(json.dumps(report, default=str))
    else:
        typer.echo(f"{set_path}: {folds}-fold cross-validated, folds grouped by document family")
        typer.echo(summary_table(report["metrics"], report["by_type"]))
    return 1 if report["metrics"]["summary"]["errors"] else 0


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        set_path: Annotated[Path, typer.Option("--set", help="Eval set (JSONL).")],
        corpus: Annotated[
            Path | None, typer.Option(help="Ingest DIR into a fresh temporary index first.")
        ] = None,
        data_dir: Annotated[
            Path | None, typer.Option(help="Index folder (NEWSDESK_DATA_DIR).")
        ] = None,
        url: Annotated[str | None, typer.Option(help="Evaluate a running server instead.")] = None,
        out: Annotated[Path | None, typer.Option(help="Write report.json/.md/.html here.")] = Path(
            "eval-report"
        ),
        baseline: Annotated[
            Path | None, typer.Option(help="A previous report.json to compare with.")
        ] = None,
        fail_under: Annotated[
            list[str] | None,
            typer.Option(help="METRIC=VALUE, e.g. retrieval.hit@5=0.8 (repeatable)."),
        ] = None,
        retriever: Annotated[str | None, typer.Option(help="dense, keyword or hybrid.")] = None,
        answerer: Annotated[str | None, typer.Option(help="extractive or llm.")] = None,
        compare: Annotated[
            bool, typer.Option("--compare", help="Run dense, keyword and hybrid side by side.")
        ] = False,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print only the JSON report.")
        ] = False,
        api_key: Annotated[
            str | None, typer.Option(envvar="NEWSDESK_EVAL_API_KEY", help="API key for --url.")
        ] = None,
        cv: Annotated[
            int,
            typer.Option(
                help="K-fold cross-validation of the trained reader (with --corpus): folds "
                "grouped by document family, each answered by a reader trained without it."
            ),
        ] = 0,
    ) -> None:
        """Score answers, citations, abstention and retrieval on a question set."""
        if cv:
            raise typer.Exit(run_cv_command(set_path, corpus, cv, out, as_json))
        code = run_eval_command(
            set_path=set_path, corpus=corpus, data_dir=data_dir, url=url, out=out,
            baseline=baseline, fail_under=fail_under, retriever=retriever, answerer=answerer,
            compare=compare, as_json=as_json, api_key=api_key,
        )  # fmt: skip
        raise typer.Exit(code)
