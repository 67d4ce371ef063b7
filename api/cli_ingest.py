"""`newsdesk ingest` and `newsdesk stats`: index files, folders, feeds and URLs; describe the index."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from ingest.budget import IngestInterrupted
from ingest.summary import IngestSummary
from rag.config import Settings

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where the index lives (default: NEWSDESK_DATA_DIR or ./.newsdesk)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="Add the documents through a running `newsdesk serve` at this URL "
        "(POST /v1/documents) instead of writing the index here.",
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="NEWSDESK_API_KEY", help="Admin key for --server."),
]


def _settings(data_dir: Path | None) -> Settings:
    if data_dir is not None:
        return Settings(data_dir=data_dir)  # type: ignore[call-arg]
    return Settings()  # type: ignore[call-arg]


def _quiet_model_loading() -> None:
    # The model's own loading bars would pollute output a script parses.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")


def _usage(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)


class Stopper:
    """SIGINT/SIGTERM during an ingest. Until `working()` (lock, model, store being set up,
    nothing written) a signal leaves at once; after it, it sets `event` and the ingest stops
    at its next bounded step with everything written so far whole. A second signal is
    handled the default way, for a user who won't wait."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.received: list[int] = []
        self.immediate = True

    def working(self) -> threading.Event:
        self.immediate = False
        if self.event.is_set():
            raise IngestInterrupted
        return self.event

    def _handle(self, signum: int, _: FrameType | None) -> None:
        self.received.append(signum)
        self.event.set()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        if self.immediate:
            raise IngestInterrupted


@contextmanager
def stop_on_signals() -> Iterator[Stopper]:
    stopper = Stopper()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, stopper._handle)
    try:
        yield stopper
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ingest_here(
    sources: list[str], settings: Settings, as_json: bool, stopper: Stopper
) -> dict[str, Any]:
    from api.writer_lock import DataDirBusy, WriterLock
    from ingest.pipeline import Ingestor
    from rag.embedder import SentenceTransformerEmbedder
    from rag.store import ChromaStore

    lock = None if settings.chroma_url else WriterLock(Path(settings.data_dir), role="ingest")
    try:
        if lock is not None:
            lock.acquire()  # before loading the model: a second writer fails fast
    except DataDirBusy as error:
        raise _usage(str(error)) from None
    try:
        if as_json:
            _quiet_model_loading()
        embedder = SentenceTransformerEmbedder(
            batch_size=settings.embed_batch_size, threads=settings.embed_threads
        )
        embedder.warm_up()  # while a signal still leaves at once
        store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
        ingestor = Ingestor(settings, store, embedder, progress=not as_json)
        ingestor.stop = stopper.working()
        return ingestor.ingest(sources).to_dict()
    finally:
        if lock is not None:
            lock.release()


def _ingest_through(
    sources: list[str], server: str, api_key: str | None, stopper: Stopper
) -> dict[str, Any]:
    import httpx

    from api.ingest_client import ServerIngest, ServerRefused

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=600) as client:
        try:
            # Each upload is one request the server completes or refuses as a whole, so a
            # signal may end this at once.
            return ServerIngest(client, stop=stopper.event).run(sources).to_dict()
        except ServerRefused as error:
            raise _usage(str(error)) from None


def ingest_command(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Files, folders (recursive), feeds or http(s) URLs.")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Index files, folders, feeds and URLs; unchanged sources are skipped."""
    if not sources:
        raise typer.BadParameter("give at least one PATH_OR_URL", param_hint="PATH_OR_URL")
    if server and data_dir is not None:
        raise _usage("--server adds documents to that server's index: it cannot take --data-dir")
    if server and not server.startswith(("http://", "https://")):
        raise _usage(f"--server must be an http(s) URL, got {server!r}")
    with stop_on_signals() as stopper:
        try:
            if server:
                summary = _ingest_through(sources, server, api_key, stopper)
            else:
                summary = _ingest_here(sources, _settings(data_dir), as_json, stopper)
        except IngestInterrupted:  # before any write
            summary = IngestSummary(interrupted=True).to_dict()
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        _print_summary(summary)
    if summary.get("interrupted"):
        signum = stopper.received[0] if stopper.received else signal.SIGINT
        typer.echo(
            f"interrupted by {signal.Signals(signum).name}: what was written is complete; "
            "run the same command again to finish",
            err=True,
        )
        raise typer.Exit(128 + signum)
    raise typer.Exit(1 if summary["failed"] else 0)


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    table = Table(title="Ingest", show_header=False)
    for key in ("added", "updated", "unchanged", "removed", "duplicates", "documents", "chunks"):
        table.add_row(key, str(summary.get(key, 0)))
    table.add_row("seconds", f"{summary.get('seconds', 0.0):.2f}")
    console.print(table)
    for failure in summary["failed"]:
        console.print(f"[red]failed[/red] {escape(failure['error'])}", highlight=False)
    for warning in summary.get("warnings") or []:
        console.print(f"[yellow]warning[/yellow] {escape(warning['warning'])}", highlight=False)


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
