"""`newsdesk sources add|list|remove|run` and `newsdesk watch`: watched feeds, pages and folders.

The registry is in the index's Chroma, so these commands work against the same list as the
API: directly on an embedded data dir (when no server holds it) or on NEWSDESK_CHROMA_URL.
"""

from __future__ import annotations

import json
import logging.config
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_ingest import DataDirOption, JsonOption, _quiet_model_loading, _settings
from rag.config import Settings
from rag.store import ChromaStore

sources_app = typer.Typer(
    help="Watched feeds, pages and folders, polled by `newsdesk watch` or `serve --watch`.",
    no_args_is_help=True,
)


def _store(settings: Settings) -> ChromaStore:
    return ChromaStore.from_settings(settings)


@contextmanager
def _one_writer(settings: Settings, role: str) -> Iterator[None]:
    """An embedded index has one writer (api/writer_lock.py): a command that writes the source
    registry or polls fails fast, exit 2, while `serve` holds the data dir (use `serve --watch`
    and /v1/sources there); a Chroma server (NEWSDESK_CHROMA_URL) has no such lock."""
    from api.writer_lock import DataDirBusy, WriterLock

    if settings.chroma_url:
        yield
        return
    try:
        lock = WriterLock(Path(settings.data_dir), role=role).acquire()
    except DataDirBusy as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        yield
    finally:
        lock.release()


def _write_lock(settings: Settings) -> Any:
    from filelock import FileLock

    lock_path = Path(settings.data_dir) / "ingest.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    return lambda: FileLock(str(lock_path))


@sources_app.command("add")
def add_command(
    location: Annotated[str, typer.Argument(metavar="URL_OR_PATH", help="Feed, page or folder.")],
    every: Annotated[
        str | None, typer.Option(help="Poll interval: 5s, 15m, 1h (NEWSDESK_SOURCE_EVERY).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name (default: from the URL or path).")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Watch URL_OR_PATH: polled at once by a running watcher, then every --every."""
    from ingest.errors import IngestError
    from ingest.sources import new_source
    from rag.interval import format_interval
    from rag.sources import SourceError, SourceRegistry

    settings = _settings(data_dir)
    with _one_writer(settings, "sources"):
        try:
            source = new_source(settings, location, every=every, name=name)
            stored = SourceRegistry(_store(settings)).add(source)
        except (IngestError, SourceError, ValueError) as error:
            raise typer.BadParameter(str(error), param_hint="URL_OR_PATH") from None
    if as_json:
        typer.echo(json.dumps(stored.to_dict()))
    else:
        typer.echo(f"watching {stored.name}: {stored.url} every {format_interval(stored.every_s)}")


@sources_app.command("list")
def list_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Every watched source with its health; stalled ones are failing again and again."""
    from ingest.watch import LEASE_NAME
    from rag.lease import ChromaLease
    from rag.sources import SourceRegistry

    settings = _settings(data_dir)
    store = _store(settings)
    sources = SourceRegistry(store).list()
    term = ChromaLease(store, LEASE_NAME, ttl_s=settings.watch_lease_s).current()
    if as_json:
        listing = {"sources": [s.to_dict() for s in sources], "poller": term and term.to_dict()}
        typer.echo(json.dumps(listing))
        return
    _print_sources([s.to_dict() for s in sources], term.to_dict() if term else None)


def _print_sources(records: list[dict[str, Any]], poller: dict[str, Any] | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from rag.interval import format_interval

    table = Table(title="Sources")
    for column in ("name", "every", "last success", "next run", "failures", "docs", "url"):
        table.add_column(column)
    for record in records:
        failures = str(record["consecutive_failures"])
        if record["stalled"]:
            failures = f"[red]{failures} stalled[/red]"
        table.add_row(
            record["name"], format_interval(record["every_s"]),
            (record["last_success"] or "never")[:19], (record["next_run"] or "")[:19],
            failures, str(record["documents"]), record["url"],
        )  # fmt: skip
    console = Console()
    console.print(table)
    for record in records:
        if record["last_error"] and record["consecutive_failures"]:
            console.print(f"[red]{record['name']}[/red]: {record['last_error']}", highlight=False)
    if poller:
        state = "expired" if poller["expired"] else f"until {poller['expires_at'][:19]}"
        console.print(f"poller: {poller['holder']} ({state})", highlight=False)


@sources_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="The source's name (see `sources list`).")],
    data_dir: DataDirOption = None,
) -> None:
    """Stop watching NAME. What it brought in stays indexed."""
    from rag.sources import SourceRegistry

    settings = _settings(data_dir)
    with _one_writer(settings, "sources"):
        removed = SourceRegistry(_store(settings)).remove(name)
    if not removed:
        raise typer.BadParameter(f"no source named {name!r}", param_hint="NAME")
    typer.echo(f"removed {name}")


@sources_app.command("run")
def run_command(
    name: Annotated[str | None, typer.Argument(help="One source; default: every one.")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Poll NAME (or every source) now, whatever its schedule says. Exit 1 if a poll failed."""
    from ingest.pipeline import Ingestor
    from ingest.poll import SourcePoller
    from rag.sources import SourceRegistry
    from rag.system import build_embedder

    settings = _settings(data_dir)
    with _one_writer(settings, "sources"):
        store = _store(settings)
        registry = SourceRegistry(store)
        chosen = [registry.get(name)] if name else registry.list()
        if name and chosen[0] is None:
            raise typer.BadParameter(f"no source named {name!r}", param_hint="NAME")
        if as_json:
            _quiet_model_loading()
        embedder = build_embedder(settings)
        ingestor = Ingestor(settings, store, embedder)
        poller = SourcePoller(settings, registry, ingestor, write_lock=_write_lock(settings))
        try:
            results = [poller.poll(source) for source in chosen if source is not None]
        finally:
            poller.close()
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results]))
    else:
        for result in results:
            detail = result.error or f"{result.embedded} texts embedded"
            typer.echo(f"{result.source.name}: {result.outcome} ({detail})")
    raise typer.Exit(1 if any(r.outcome == "error" for r in results) else 0)


def watch_command(
    once: Annotated[
        bool, typer.Option("--once", help="Poll what is due once and exit (for cron).")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Poll due sources until stopped. Of several watchers (or `serve --watch` processes) on
    one index, exactly one polls; another takes over within NEWSDESK_WATCH_LEASE_S of its end."""
    from api.logs import logging_config

    settings = _settings(data_dir)
    logging.config.dictConfig(logging_config(settings.log_format))
    with _one_writer(settings, "watch"):
        _watch(settings, once)


def _watch(settings: Settings, once: bool) -> None:
    from ingest.watch import build_watcher
    from rag.system import build_embedder

    _quiet_model_loading()
    embedder = build_embedder(settings)
    store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
    watcher = build_watcher(settings, store, embedder, write_lock=_write_lock(settings))
    if once:
        try:
            if not watcher.lease.maintain():
                typer.echo("another poller holds the lease; nothing polled")
                return
            results = watcher.tick()
        finally:
            watcher.stop()
        typer.echo(f"polled {len(results)} source(s)")
        raise typer.Exit(1 if any(r.outcome == "error" for r in results) else 0)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: watcher.request_stop())
    watcher.start()
    logging.getLogger("newsdesk.watch").info("watching as %s", watcher.lease.holder)
    watcher.wait()
    watcher.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.command("watch")(watch_command)
