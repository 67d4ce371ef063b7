"""Every format's parser imports in the installed set: a missing one fails here, never skips."""

from __future__ import annotations

import importlib

import pytest

from ingest.html import page_from_html

# module -> the format that needs it (lxml.html.clean is what jusText, under trafilatura, imports)
PARSERS = {
    "trafilatura": "html",
    "justext": "html",
    "lxml.html.clean": "html",
    "feedparser": "rss/atom",
    "frontmatter": "markdown",
    "markdown_it": "markdown",
    "defusedxml.ElementTree": "rss/atom",
    "pysbd": "sentence segmentation",
    "dateparser": "dates",
}


@pytest.mark.parametrize("module", sorted(PARSERS))
def test_parser_imports(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as error:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"{module} ({PARSERS[module]} parser) does not import: {error}")


def test_html_page_goes_through_trafilatura() -> None:
    html = (
        "<html><head><title>Rivet opens a depot</title></head><body><nav>Home | Careers</nav>"
        "<article><h1>Rivet opens a depot</h1><p>Rivet Logistics opened a 40,000 square foot "
        "depot in Tulsa on Monday, its third in Oklahoma, and will hire 120 drivers.</p>"
        "<p>The depot cost $18 million to build.</p></article></body></html>"
    )
    page = page_from_html(html)
    assert page.title == "Rivet opens a depot"
    assert "$18 million" in page.text and "Careers" not in page.text
