"""`newsdesk ingest` and `newsdesk stats`: index files, folders, feeds and URLs; describe the index."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.config import Settings

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where the index lives (default: NEWSDESK_DATA_DIR or ./.newsdesk)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]


def _settings(data_dir: Path | None) -> Settings:
    if data_dir is not None:
        return Settings(data_dir=data_dir)  # type: ignore[call-arg]
    return Settings()  # type: ignore[call-arg]


def _quiet_model_loading() -> None:
    # The model's own loading bars would pollute output a script parses.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")


def ingest_command(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Files, folders (recursive), feeds or http(s) URLs.")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Index files, folders, feeds and URLs; unchanged sources are skipped."""
    if not sources:
        raise typer.BadParameter("give at least one PATH_OR_URL", param_hint="PATH_OR_URL")
    from ingest.pipeline import Ingestor
    from rag.embedder import SentenceTransformerEmbedder
    from rag.store import ChromaStore

    settings = _settings(data_dir)
    if as_json:
        _quiet_model_loading()
    embedder = SentenceTransformerEmbedder(
        batch_size=settings.embed_batch_size, threads=settings.embed_threads
    )
    store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
    summary = Ingestor(settings, store, embedder, progress=not as_json).ingest(sources)
    if as_json:
        typer.echo(json.dumps(summary.to_dict()))
    else:
        _print_summary(summary.to_dict())
    raise typer.Exit(1 if summary.failed else 0)


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Ingest", show_header=False)
    for key in ("added", "updated", "unchanged", "removed", "duplicates", "documents", "chunks"):
        table.add_row(key, str(summary.get(key, 0)))
    table.add_row("seconds", f"{summary.get('seconds', 0.0):.2f}")
    console.print(table)
    for failure in summary["failed"]:
        console.print(f"[red]failed[/red] {failure['error']}", highlight=False)


def stats_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Counts and date range of what is indexed (does not load the model)."""
    from rag.sources import SourceRegistry
    from rag.store import ChromaStore

    store = ChromaStore.from_settings(_settings(data_dir))
    stats = {**store.stats(), **SourceRegistry(store).counts()}
    if as_json:
        typer.echo(json.dumps(stats))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Index", show_header=False)
    for key, value in stats.items():
        table.add_row(key, "-" if value is None else str(value))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("stats")(stats_command)
