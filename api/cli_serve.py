"""`newsdesk serve`: the HTTP API and the widget, with uvicorn (one Newsdesk per worker)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=0, max=65535, help="Port to bind.")] = 8000,
        workers: Annotated[
            int, typer.Option(min=1, max=64, help="Worker processes (each loads the model).")
        ] = 1,
        data_dir: Annotated[
            Path | None, typer.Option(help="Index folder (NEWSDESK_DATA_DIR).")
        ] = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
        watch: Annotated[
            bool,
            typer.Option(
                "--watch", help="Also poll watched sources (one poller across all processes)."
            ),
        ] = False,
    ) -> None:
        """Serve the API (/v1/...), the OpenAPI docs (/docs) and the chat widget (/widget.js)."""
        import uvicorn

        from api.logs import logging_config
        from rag.config import Settings

        if data_dir is not None:
            # Workers are separate processes: they read their Settings from the environment.
            os.environ["NEWSDESK_DATA_DIR"] = str(data_dir)
        if watch:
            os.environ["NEWSDESK_WATCH"] = "true"
        try:
            settings = Settings()  # type: ignore[call-arg]  # refuse bad configuration before forking
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
        from api.writer_lock import DataDirBusy, WriterLock, local_url

        # The embedded index has one writer: this server. `newsdesk ingest` on the same folder
        # fails fast and points at `--server` (api/writer_lock.py).
        lock = None
        if not settings.chroma_url:
            lock = WriterLock(Path(settings.data_dir), role="serve", url=local_url(host, port))
            try:
                lock.acquire()
            except DataDirBusy as error:
                typer.echo(f"Error: {error}", err=True)
                raise typer.Exit(2) from None
        sidecar = None
        if workers > 1 and not settings.chroma_url:
            # Embedded Chroma is single-process: share the data dir through a Chroma server.
            from api.chroma_sidecar import ChromaSidecar

            sidecar = ChromaSidecar(Path(settings.data_dir) / "chroma").start()
            os.environ["NEWSDESK_CHROMA_URL"] = sidecar.url
            typer.echo(f"serving {settings.data_dir} to {workers} workers via {sidecar.url}")
        metrics_dir = None
        if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Each worker counts in files here, so /metrics from any worker adds all of them up.
            metrics_dir = tempfile.mkdtemp(prefix="newsdesk-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        try:
            uvicorn.run(
                "api.app:app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level=log_level,
                log_config=logging_config(settings.log_format, log_level),
                timeout_graceful_shutdown=10,
            )
        finally:
            if sidecar is not None:
                sidecar.stop()
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)
            if lock is not None:
                lock.release()
