"""The `newsdesk` command: one Typer app; each verb lives in its own `api/cli_*.py` module."""

from __future__ import annotations

import importlib
import os

import typer

app = typer.Typer(
    help="Question answering over announcements, every claim cited to a dated source.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app)`; missing ones are simply not offered yet.
COMMAND_MODULES = (
    "api.cli_ingest",
    "api.cli_ask",
    "api.cli_serve",
    "api.cli_eval",
    "api.cli_sources",
    "api.cli_feedback",
)


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue
            raise
        module.register(app)


def main() -> None:
    # Weights and tokenizers ship with the package; never let a library reach a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _register_commands()
    app()


if __name__ == "__main__":
    main()
