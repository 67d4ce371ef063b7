"""`newsdesk ask`: one question, answered with numbered, dated, quoted sources (or JSON)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from rag.config import Settings
from rag.types import Answer, Filters


def _date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{flag} must be an ISO date like 2026-01-31, got {value!r}"
        ) from None


def render(answer: Answer, console: Console) -> None:
    style = "yellow" if answer.abstained else "bold"
    console.print(escape(answer.answer), style=style)
    if answer.short_answer:
        console.print(f"[dim]Short answer:[/dim] {escape(answer.short_answer)}")
    for citation in answer.citations:
        when = citation.published or "undated"
        console.print(f"\n[bold][{citation.id}][/bold] {escape(citation.title)} ({when})")
        if citation.url:
            console.print(f"    {escape(citation.url)}", style="blue")
        console.print(f'    "{escape(citation.quote)}"', style="dim")
    console.print(f"\n[dim]{answer.timings_ms.get('total', 0):.0f} ms[/dim]")


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        question: Annotated[str, typer.Argument(help="The question to answer.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the Answer JSON.")] = False,
        since: Annotated[
            str | None, typer.Option(help="Only sources published on/after DATE.")
        ] = None,
        until: Annotated[
            str | None, typer.Option(help="Only sources published on/before DATE.")
        ] = None,
        answerer: Annotated[str | None, typer.Option(help="extractive (default) or llm.")] = None,
        data_dir: Annotated[
            Path | None, typer.Option(help="Index folder (NEWSDESK_DATA_DIR).")
        ] = None,
    ) -> None:
        """Answer QUESTION from the indexed announcements, citing exact quotes."""
        from rag.system import build_newsdesk

        if not question.strip():
            raise typer.BadParameter("the question is empty")
        if answerer not in (None, "extractive", "llm"):
            raise typer.BadParameter(f"--answerer must be extractive or llm, got {answerer!r}")
        filters = Filters(since=_date(since, "--since"), until=_date(until, "--until"))
        overrides = {"data_dir": data_dir} if data_dir else {}
        settings = Settings(**overrides)  # type: ignore[arg-type]
        newsdesk = build_newsdesk(settings)
        result = newsdesk.ask(question, filters=filters, answerer=answerer)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            render(result, Console())
