"""report.json/.md/.html are written; the HTML opens in headless Chromium, offline, and filters."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from eval.render import write_report
from eval.report import compare_to_baseline
from eval.runner import evaluate
from eval.targets import InProcessTarget
from tests.eval.conftest import TinyCorpus

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def written(
    tiny: TinyCorpus, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    report = evaluate(InProcessTarget(tiny.newsdesk()), tiny.questions, {"set": "tiny"})
    report["baseline"] = compare_to_baseline(report, report, "same.json")
    out = tmp_path_factory.mktemp("report")
    write_report(report, out)
    return report, out


def test_files_are_written_and_escaped(written: tuple[dict[str, Any], Path]) -> None:
    report, out = written
    assert json.loads((out / "report.json").read_text())["metrics"] == report["metrics"]
    markdown = (out / "report.md").read_text()
    assert "| retrieval.hit@5 |" in markdown and "## By type" in markdown
    html = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # self-contained
    assert html.count("data:image/png;base64,") == 3
    assert "<b>Acme Power</b>" not in html and "&lt;b&gt;Acme Power&lt;/b&gt;" in html


@pytest.mark.browser
@pytest.mark.skipif(
    not shutil.which(CHROMIUM), reason="Debian chromium not installed (make chromium)"
)
def test_html_report_in_chromium_filters(written: tuple[dict[str, Any], Path]) -> None:
    from playwright.sync_api import sync_playwright

    report, out = written
    questions = report["questions"]
    failed = [q for q in questions if not q["pass"]]
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto((out / "report.html").as_uri())
            rows = page.locator("#questions tr.question")
            visible = page.locator("#questions tr.question:not([hidden])")
            assert rows.count() == len(questions)
            assert (
                page.locator("#shown").inner_text() == f"{len(questions)} of {len(questions)} shown"
            )
            page.select_option("#status-filter", "fail")
            assert visible.count() == len(failed)
            page.select_option("#status-filter", "")
            page.select_option("#type-filter", "number")
            assert visible.count() == sum(q["type"] == "number" for q in questions)
            page.select_option("#type-filter", "")
            page.fill("#text-filter", "borealis")
            ids = visible.locator("td:first-child").all_inner_texts()
            assert sorted(ids) == ["t-ent-1", "t-num-2"]
            images = page.locator("img")
            assert images.count() == 3
            assert all(images.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(3))
        finally:
            browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests)
