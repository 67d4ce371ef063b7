"""HTML -> text blocks: trafilatura for whole pages (boilerplate dropped), a block walk for fragments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ingest.dates import date_in_text, parse_date

_BLOCK_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li pre blockquote tr dt dd div section article header footer "
    "figcaption table ul ol dl hr br main aside nav".split()
)
_SKIP_TAGS = frozenset("script style noscript template svg head iframe form button".split())


@dataclass
class HtmlPage:
    title: str
    text: str
    published: date | None
    url: str | None


def fragment_blocks(html: str) -> list[str]:
    """Visible text of an HTML fragment, one entry per block element, inline runs joined.

    Hand-written on lxml's tree: trafilatura drops short fragments (feed summaries,
    rendered Markdown) as boilerplate, and we only need to know where blocks break."""
    import lxml.html
    from lxml import etree

    if not html.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return [html]
    blocks: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        joined = " ".join("".join(buffer).split())
        if joined:
            blocks.append(joined)
        buffer.clear()

    def walk(element: Any) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _SKIP_TAGS or not tag:
            return
        if tag in _BLOCK_TAGS:
            flush()
        if element.text:
            buffer.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                buffer.append(child.tail)
        if tag in _BLOCK_TAGS:
            flush()

    walk(root)
    flush()
    return blocks


def _body_blocks(html: str) -> list[str]:
    import lxml.html

    try:
        body = lxml.html.document_fromstring(html).body
    except Exception:  # lxml raises several types on hopeless markup
        return []
    return fragment_blocks(lxml.html.tostring(body, encoding="unicode"))


def _first_heading(html: str) -> str:
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(html)
    except Exception:  # lxml raises several types on hopeless markup
        return ""
    for xpath in ("//meta[@property='og:title']/@content", "//title/text()", "//h1"):
        found = tree.xpath(xpath)
        if found:
            value = found[0] if isinstance(found[0], str) else found[0].text_content()
            if value.strip():
                return " ".join(value.split())
    return ""


def page_from_html(html: str, *, url: str | None = None) -> HtmlPage:
    """Main text, title, publication date and canonical URL of a whole HTML page."""
    import trafilatura

    extracted = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    title = text = ""
    published: date | None = None
    canonical = url
    if extracted is not None:
        text = getattr(extracted, "text", None) or ""
        title = getattr(extracted, "title", None) or ""
        published = parse_date(getattr(extracted, "date", None))
        canonical = url or getattr(extracted, "url", None) or None
    if not text.strip():
        text = "\n".join(_body_blocks(html))
    if not title:
        title = _first_heading(html)
    blocks = [line.strip() for line in text.split("\n") if line.strip()]
    text = "\n\n".join(blocks)
    return HtmlPage(
        title=title.strip(),
        text=text,
        published=published or date_in_text(text),
        url=canonical,
    )
