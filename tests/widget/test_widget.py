"""The chat widget in headless Chromium against a real `newsdesk serve` over the sample corpus.

One server for the module; the rate-limit test spends the server's budget, so it runs last.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.widget.conftest import RATE_LIMIT, REPO_ROOT, Origins

pytestmark = pytest.mark.browser

QUESTION = "How much capacity comes online by the end of 2026?"
HOST = "newsdesk-widget"

# Types a question into the widget, submits it, and times the first streamed text (the `.live`
# paragraph, before the final render replaces it) and the end of the answer (aria-busy gone).
ASK_JS = """async (question) => {
  const root = document.querySelector("newsdesk-widget").shadowRoot;
  const log = root.querySelector(".log");
  const index = log.querySelectorAll(".bot").length;
  const bot = () => log.querySelectorAll(".bot")[index];
  let first = null;
  const seen = new MutationObserver(() => {
    const live = bot() && bot().querySelector(".live");
    if (first === null && live && live.textContent) first = performance.now() - start;
  });
  seen.observe(log, {subtree: true, childList: true, characterData: true});
  root.querySelector("textarea").value = question;
  const start = performance.now();
  root.querySelector("form").requestSubmit();
  await new Promise((done) => {
    const check = () => (bot() && !bot().hasAttribute("aria-busy") ? done() : setTimeout(check, 5));
    check();
  });
  seen.disconnect();
  return {first_ms: first, total_ms: performance.now() - start, text: bot().textContent,
          classes: bot().className};
}"""

FOCUSED_JS = """() => {
  const host = document.querySelector("newsdesk-widget");
  if (document.activeElement !== host) return null;
  const inner = host.shadowRoot.activeElement;
  return inner ? inner.className || inner.tagName.toLowerCase() : null;
}"""


@contextmanager
def widget_page(browser: Any, url: str, **context: Any) -> Iterator[Any]:
    """A fresh page at `url`; any uncaught script error there fails the test."""
    context.setdefault("viewport", {"width": 1280, "height": 800})
    ctx = browser.new_context(**context)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(url)
        page.locator(f"{HOST} .launch").wait_for()
        yield page
        assert errors == []
    finally:
        ctx.close()


def open_panel(page: Any) -> Any:
    page.locator(f"{HOST} .launch").click()
    panel = page.locator(f"{HOST} .panel")
    panel.wait_for(state="visible")
    return panel


def ask(page: Any, question: str) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(ASK_JS, question)
    return result


def last_bot(page: Any) -> Any:
    return page.locator(f"{HOST} .bot").last


def test_streams_an_answer_with_citation_popover(
    browser: Any, origins: Origins, screenshot_dir: Path
) -> None:
    with widget_page(browser, f"{origins.api}/", color_scheme="light") as page:
        panel = open_panel(page)
        assert panel.get_attribute("role") == "dialog"
        log = page.locator(f"{HOST} .log")
        assert log.get_attribute("role") == "log"
        assert log.get_attribute("aria-live") == "polite"
        assert page.locator(f"{HOST} .launch").get_attribute("aria-expanded") == "true"

        timing = ask(page, QUESTION)
        print(
            f"\nwidget: first streamed text {timing['first_ms']:.0f} ms, answer {timing['total_ms']:.0f} ms"
        )
        assert timing["first_ms"] is not None, "no text was shown before the final answer"
        assert timing["first_ms"] <= timing["total_ms"] < 10_000
        answer = last_bot(page)
        assert "1 gigawatt" in answer.inner_text()
        assert "err" not in timing["classes"]

        page.screenshot(
            path=str(screenshot_dir / "widget-desktop.png")
        )  # the phone one has a popover
        chip = answer.locator(".chip").first
        chip.hover()
        popover = page.locator(f"{HOST} .pop")
        popover.wait_for(state="visible")
        assert (
            "nearly 1 gigawatt to be operational by the end of 2026"
            in popover.locator("q").inner_text()
        )
        assert popover.locator("time").get_attribute("datetime") == "2026-04-20"
        assert "Amazon" in popover.locator("b").inner_text()
        link = popover.locator("a")
        assert link.get_attribute("href", timeout=1000).startswith("https://")
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert chip.get_attribute("aria-expanded") == "true"
        sources = answer.locator(".src li")
        assert sources.count() >= 1 and "Amazon" in sources.first.inner_text()

        page.mouse.move(5, 5)
        popover.wait_for(state="hidden")


def test_follow_up_sends_the_conversation_and_stop_aborts(browser: Any, origins: Origins) -> None:
    with widget_page(browser, f"{origins.api}/") as page:
        bodies: list[dict[str, Any]] = []

        def record(request: Any) -> None:
            if request.method == "POST" and request.url.endswith("/v1/chat"):
                bodies.append(request.post_data_json)

        page.on("request", record)
        open_panel(page)
        first = ask(page, QUESTION)
        assert bodies[-1] == {"messages": [{"role": "user", "content": QUESTION}], "stream": True}

        # Stop a question in flight: it is marked stopped and left out of the conversation.
        page.evaluate(
            """() => {
              const root = document.querySelector("newsdesk-widget").shadowRoot;
              root.querySelector("textarea").value = "Which chip did Nvidia announce?";
              root.querySelector("form").requestSubmit();
              root.querySelector(".stop").click();
            }"""
        )
        stopped = last_bot(page)
        assert stopped.locator(".note").inner_text() == "Stopped."
        assert page.locator(f"{HOST} .send").is_visible()

        follow_up = "How much has Amazon invested in it?"
        second = ask(page, follow_up)
        messages = bodies[-1]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        assert messages[0]["content"] == QUESTION and messages[2]["content"] == follow_up
        assert "gigawatt" in messages[1]["content"] and "[1]" in messages[1]["content"]
        assert "$4 billion" in second["text"] and "err" not in second["classes"]
        assert last_bot(page).locator(".chip").count() >= 1
        assert first["text"] != second["text"]

        # Nothing in the corpus answers this: a styled "no answer" message, not an error.
        nothing = ask(page, "What is the recipe for sourdough bread?")
        assert "abstain" in nothing["classes"] and "err" not in nothing["classes"]
        assert "No answer found" in nothing["text"]
        assert last_bot(page).locator(".chip").count() == 0


def test_phone_panel_is_full_screen(browser: Any, origins: Origins, screenshot_dir: Path) -> None:
    phone = {"viewport": {"width": 360, "height": 740}, "color_scheme": "dark"}
    with widget_page(browser, f"{origins.api}/", **phone) as page:
        panel = open_panel(page)
        box = panel.bounding_box()
        assert box == {"x": 0, "y": 0, "width": 360, "height": 740}
        # data-theme="auto" follows the system's dark scheme
        background = panel.evaluate("el => getComputedStyle(el).backgroundColor")
        assert background == "rgb(23, 25, 30)"

        ask(page, QUESTION)
        last_bot(page).locator(".chip").first.click()  # a tap shows the source too
        popover = page.locator(f"{HOST} .pop")
        popover.wait_for(state="visible")
        pop_box = popover.bounding_box()
        assert pop_box["x"] >= 0 and pop_box["x"] + pop_box["width"] <= 360
        page.screenshot(path=str(screenshot_dir / "widget-phone.png"))


def test_keyboard_only(browser: Any, origins: Origins) -> None:
    with widget_page(browser, f"{origins.api}/") as page:
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate(FOCUSED_JS) == "launch":
                break
        launcher = page.locator(f"{HOST} .launch")
        assert page.evaluate(FOCUSED_JS) == "launch"
        assert launcher.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"

        page.keyboard.press("Enter")
        page.locator(f"{HOST} .panel").wait_for(state="visible")
        assert page.evaluate(FOCUSED_JS) == "textarea"
        page.keyboard.type(QUESTION)
        page.keyboard.press("Enter")
        last_bot(page).locator(".chip").first.wait_for()
        assert page.evaluate(FOCUSED_JS) == "textarea"

        # Back from the question box: the feedback thumbs, the source link, then the chip, whose
        # popover opens on focus
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(FOCUSED_JS) == "vote down"
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(FOCUSED_JS) == "vote up"
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(FOCUSED_JS) == "chip"
        page.locator(f"{HOST} .pop").wait_for(state="visible")
        page.keyboard.press("Tab")  # into the popover's link
        assert page.evaluate(FOCUSED_JS) == "a"
        assert "Read the source" in page.evaluate(
            "() => document.querySelector('newsdesk-widget').shadowRoot.activeElement.textContent"
        )
        page.keyboard.press("Escape")  # closes the popover, back on its chip
        page.locator(f"{HOST} .pop").wait_for(state="hidden")
        assert page.evaluate(FOCUSED_JS) == "chip"
        page.keyboard.press("Escape")  # closes the panel, back on the launcher
        page.locator(f"{HOST} .panel").wait_for(state="hidden")
        assert page.evaluate(FOCUSED_JS) == "launch"
        assert launcher.get_attribute("aria-expanded") == "false"


HOSTILE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>hostile</title>
<style>
  * { all: unset !important; font-size: 64px !important; line-height: 4 !important; }
  html { font-size: 80px !important; }
  div, section, button, form, textarea { display: inline !important; position: static !important;
    width: 7px !important; transform: rotate(3deg) !important; color: lime !important; }
  newsdesk-widget * { display: none !important; }
</style></head>
<body><div>A page whose styles try to break everything.</div>
<script src="{api}/widget.js" data-title="Still fine" defer></script></body></html>"""


def test_hostile_host_css_does_not_break_it(browser: Any, origins: Origins, site_dir: Path) -> None:
    (site_dir / "hostile.html").write_text(HOSTILE_PAGE.replace("{api}", origins.api))
    with widget_page(browser, f"{origins.allowed}/hostile.html") as page:
        launcher = page.locator(f"{HOST} .launch").bounding_box()
        assert launcher["width"] == 58 and launcher["height"] == 58
        assert 1280 - 100 < launcher["x"] + launcher["width"] <= 1280
        panel = open_panel(page)
        box = panel.bounding_box()
        assert 360 <= box["width"] <= 420 and 400 <= box["height"] <= 700
        assert box["x"] >= 0 and box["y"] >= 0 and box["y"] + box["height"] <= 800
        title = page.locator(f"{HOST} h2")
        assert title.inner_text() == "Still fine"
        assert title.evaluate("el => getComputedStyle(el).fontSize") == "16px"
        assert (
            page.locator(f"{HOST} textarea").evaluate("el => getComputedStyle(el).fontSize")
            == "15px"
        )
        result = ask(page, QUESTION)
        assert "err" not in result["classes"]
        assert last_bot(page).locator(".chip").first.is_visible()


def test_embeds_from_another_origin_with_cors(
    browser: Any, origins: Origins, site_dir: Path
) -> None:
    shipped = (REPO_ROOT / "examples" / "embed.html").read_text(encoding="utf-8")
    assert "http://127.0.0.1:8000/widget.js" in shipped
    (site_dir / "embed.html").write_text(shipped.replace("http://127.0.0.1:8000", origins.api))

    with widget_page(browser, f"{origins.allowed}/embed.html") as page:
        sent: list[dict[str, str]] = []
        page.on(
            "request",
            lambda r: (
                sent.append(r.headers) if r.method == "POST" and "/v1/chat" in r.url else None
            ),
        )
        panel = open_panel(page)
        assert panel.bounding_box()["x"] == 20  # data-position="left"
        result = ask(page, QUESTION)
        assert "err" not in result["classes"] and "1 gigawatt" in result["text"]
        assert sent[-1]["authorization"] == "Bearer pk-demo-site"

    # An origin the server does not list: the browser withholds the answer, the widget says so.
    with widget_page(browser, f"{origins.foreign}/embed.html") as page:
        open_panel(page)
        result = ask(page, QUESTION)
        assert "err" in result["classes"]
        assert "Couldn't reach the newsroom" in result["text"]


def test_markup_in_sources_stays_inert(browser: Any, origins: Origins) -> None:
    with widget_page(browser, f"{origins.api}/") as page:
        open_panel(page)
        result = ask(page, "How many engineers does the Lisbon lab employ?")
        assert "<script>window.__xss=1</script>" in result["text"]
        answer = last_bot(page)
        answer.locator(".chip").first.hover()
        popover = page.locator(f"{HOST} .pop")
        popover.wait_for(state="visible")
        assert '<img src=x onerror="window.__xss=2">' in popover.locator("q").inner_text()
        assert '<img src=x onerror="window.__xss=3">' in popover.locator("b").inner_text()
        # The javascript: url is shown as no link at all.
        assert popover.locator("a").count() == 0
        assert answer.locator(".src a").count() == 0
        page.wait_for_timeout(300)  # time for an injected onerror to have fired
        counts = page.evaluate(
            """() => {
              const root = document.querySelector("newsdesk-widget").shadowRoot;
              return {xss: typeof window.__xss, nodes: root.querySelectorAll("img, script").length};
            }"""
        )
        assert counts == {"xss": "undefined", "nodes": 0}


def test_rate_limit_is_a_friendly_message(browser: Any, origins: Origins) -> None:
    with widget_page(browser, f"{origins.api}/") as page:
        open_panel(page)
        retry_after = None
        with httpx.Client(base_url=origins.api, timeout=10) as client:
            for _ in range(RATE_LIMIT + 5):  # the widget and this client share one address
                response = client.get("/v1/stats")
                if response.status_code == 429:
                    retry_after = int(response.headers["Retry-After"])
                    break
        assert retry_after is not None, "the rate limit never applied"
        result = ask(page, QUESTION)
        assert "err" in result["classes"]
        waited = re.search(r"try again in (\d+) seconds?", result["text"])
        assert waited, result["text"]
        assert abs(int(waited.group(1)) - retry_after) <= 2
        assert page.locator(f"{HOST} .send").is_visible()
