"""The search journey in a real headless Chromium, keyboard only, against a live server."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.webfixtures import WebCatalog

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshot-search.png"
MAX_TABS = 80


@pytest.fixture(scope="module")
def live_url(web_catalog: WebCatalog) -> Iterator[str]:
    """The shared app served on a free localhost port from a background thread."""
    server = make_server("127.0.0.1", 0, web_catalog.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def focused(page: Any) -> dict[str, Any]:
    """What has keyboard focus: tag, class list and href."""
    return page.evaluate(
        "() => { const e = document.activeElement; return {tag: e.tagName,"
        " href: e.getAttribute('href'), cls: e.className,"
        " hit: !!e.closest('.hit-title')}; }"
    )


def test_keyboard_search_and_follow_a_result(page: Any, live_url: str, web_catalog) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_url + "/")

    page.keyboard.press("Tab")
    assert focused(page)["cls"] == "skip-link"  # first stop: the skip link

    page.focus("#q")
    page.keyboard.type("date of birth")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=date+of+birth*")
    hits = page.locator("ol.hits > li")
    assert hits.count() > 0
    assert page.locator("h1").count() == 1
    assert "date of birth" in page.locator("h1").inner_text()
    titles = page.locator(".hit-title").all_inner_texts()
    assert any("Birth date" in t or "birth" in t.lower() for t in titles[:3])

    if os.environ.get("CATALOG_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)

    # Tab through the page until a result's title link has focus, then follow it.
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if focused(page)["hit"]:
            break
    else:
        pytest.fail("no search result could be reached with Tab")
    target = focused(page)["href"]
    # Focus is visible: an outline or a background appears on the focused link (polled,
    # since a style may still be transitioning when Tab returns).
    page.wait_for_function(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle !== 'none' || s.backgroundColor !== 'rgba(0, 0, 0, 0)'; }",
        timeout=3000,
    )
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{target}")
    assert page.locator("h1").count() == 1
    assert page.locator("nav[aria-label='Breadcrumb']").count() == 1
    assert page.get_by_role("heading", name="Similar fields in other datasets").count() == 1

    # Everything the browser fetched came from the app itself: the page works offline.
    assert requests and all(url.startswith(live_url) for url in requests), requests
    body = page.content().lower()
    for word in web_catalog.hidden_words:
        assert word not in body


def test_filters_and_advanced_mode_work_with_the_keyboard(page: Any, live_url: str) -> None:
    page.goto(live_url + "/search?q=birth")
    total_before = page.locator(".summary").inner_text()
    page.get_by_label("Department of Public Health").check()
    page.get_by_role("button", name="Apply filters").press("Enter")
    page.wait_for_url("**agency=dph*")
    assert page.locator(".summary").inner_text() != total_before
    agencies = page.locator(".hit-context").all_inner_texts()
    assert agencies and all("Department of Public Health" in a for a in agencies)

    page.locator("details.advanced summary").press("Enter")
    page.get_by_label("Words only").check()
    page.focus("#q")
    page.keyboard.press("Enter")
    page.wait_for_url("**mode=lexical*")
    assert "lexical search" in page.locator(".summary").inner_text()
    assert "agency=dph" in page.url
