"""A data request in a real headless Chromium: search → cart → draft → submit → screening →
agency review → approved → fulfilled, by a researcher, two agency stewards and an intake
officer, each in their own browser, against a live server. Screenshots of the cart, the
draft form, the intake queue and the figures page are written to the test's folder, and to
``$CATALOG_SCREENSHOTS`` when that is set (docs/ keeps them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.service import Catalog
from tests.test_requests import FORM
from tests.webfixtures import PASSWORD, WebCatalog, add_account, build_catalog

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path, embedder: Embedder) -> Iterator[tuple[str, WebCatalog]]:
    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=None,
                                    elasticsearch_url=None, redis_url=None), embedder=embedder)
    built = build_catalog(catalog)
    add_account(catalog, "researcher@example.org", "viewer")
    add_account(catalog, "intake@example.org", "intake")
    add_account(catalog, "dcf@example.org", "steward", ("dcf",), officer_of=("dcf",))
    add_account(catalog, "dol@example.org", "steward", ("dol",))
    server = make_server("127.0.0.1", 0, built.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", built
    finally:
        server.shutdown()
        thread.join(timeout=10)
        catalog.close()


def shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / name), full_page=True)
    if os.environ.get("CATALOG_SCREENSHOTS"):
        page.screenshot(path=str(Path(os.environ["CATALOG_SCREENSHOTS"]) / name),
                        full_page=True)


def keep(folder: Path, name: str, body: bytes) -> Path:
    """Write a downloaded document to the test's folder (and to $CATALOG_SCREENSHOTS)."""
    (folder / name).write_bytes(body)
    if os.environ.get("CATALOG_SCREENSHOTS"):
        (Path(os.environ["CATALOG_SCREENSHOTS"]) / name).write_bytes(body)
    return folder / name


def signed_in(browser: Any, url: str, email: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/")
    return page


def add_first_hit(page: Any, url: str, query: str) -> None:
    page.goto(f"{url}/search?q={query.replace(' ', '+')}&kind=field")
    button = page.locator("ol.hits > li").first.get_by_role("button", name="Add field to request")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # keyboard only: the form works without JavaScript
    assert "to your request" in page.content()


def test_a_request_from_search_to_fulfilled(browser: Any, live: tuple[str, WebCatalog],
                                           tmp_path: Path) -> None:
    url, _ = live
    researcher = signed_in(browser, url, "researcher@example.org")
    add_first_hit(researcher, url, "date the child entered foster care")  # DCF
    add_first_hit(researcher, url, "weekly benefit amount")  # DOL
    add_first_hit(researcher, url, "claimant birth date")  # DOL, personal
    researcher.get_by_role("link", name="Request", exact=True).click()
    researcher.wait_for_url(f"{url}/requests/*/edit")
    request_url = researcher.url.removesuffix("/edit")
    assert researcher.locator(".request-agency").count() == 2
    shot(researcher, tmp_path, "screenshot-request-cart.png")
    for key, value in FORM.items():
        field = researcher.locator(f"#part-{key}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    for box in researcher.locator("textarea[name^='why_']").all():
        box.fill("Needed to follow youths from care into work; nothing less will do.")
    shot(researcher, tmp_path, "screenshot-request-draft.png")
    with researcher.expect_navigation():
        researcher.get_by_role("button", name="Submit the request").click()
    assert researcher.url == request_url, researcher.content()[:3000]
    assert "submitted" in researcher.locator(".status").first.inner_text()

    intake = signed_in(browser, url, "intake@example.org")
    intake.goto(url + "/intake")
    assert intake.locator("table.intake-queue tbody tr").count() == 1
    shot(intake, tmp_path, "screenshot-intake-queue.png")
    intake.locator("table.intake-queue a").first.click()
    for label in ("Start screening", "Send to agency review"):
        with intake.expect_navigation():
            intake.get_by_role("button", name=label).click()
    for email, agency in (("dcf@example.org", "DCF"), ("dol@example.org", "DOL")):
        steward = signed_in(browser, url, email)
        # The steward finds the request from their sign-off queue, not from a link sent.
        steward.get_by_role("link", name="Sign-offs", exact=True).click()
        steward.wait_for_url(f"{url}/requests/signoffs")
        row = steward.locator("tbody tr").filter(has_text="Employment after foster care")
        assert "awaiting your decision" in row.inner_text()
        if agency == "DOL":
            shot(steward, tmp_path, "screenshot-steward-signoffs.png")
        with steward.expect_navigation():
            row.get_by_role("link").first.click()
        assert steward.url == request_url
        with steward.expect_navigation():
            steward.get_by_role("button", name=f"Approve for {agency}").click()
        assert "The sign-off is recorded." in steward.content()
        steward.context.close()
    intake.reload()
    for label in ("Approve", "Agreement signed", "Fulfilled"):
        with intake.expect_navigation():
            intake.get_by_role("button", name=label, exact=True).click()
    assert "fulfilled" in intake.locator(".status").first.inner_text()
    intake.goto(url + "/intake/metrics")
    assert "Submission to decision" in intake.content()
    shot(intake, tmp_path, "screenshot-intake-metrics.png")
    researcher.goto(request_url)
    timeline = researcher.locator("ol.timeline").inner_text()
    for status in ("submitted", "screening", "agency review", "approved", "agreement signed",
                   "fulfilled"):
        assert f"to {status}" in timeline
    pdf = researcher.request.get(request_url + "/document.pdf")
    assert pdf.ok and pdf.body()[:4] == b"%PDF"
    docx = researcher.request.get(request_url + "/document.docx")
    assert docx.ok
    pdf_path = keep(tmp_path, "request-two-agencies.pdf", pdf.body())
    docx_path = keep(tmp_path, "request-two-agencies.docx", docx.body())
    import docx as python_docx
    from pypdf import PdfReader

    paragraphs = [p.text for p in python_docx.Document(str(docx_path)).paragraphs]
    cells = [c.text for t in python_docx.Document(str(docx_path)).tables
             for row in t.rows for c in row.cells]
    docx_text = "\n".join(paragraphs + cells)
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(str(pdf_path)).pages)
    for text in (docx_text, pdf_text):
        for agency in ("Department of Children and Families", "Department of Labor"):
            assert agency in text, agency
        assert "fulfilled" in text.lower()
    if shutil.which("pdftoppm"):  # poppler-utils (bootstrap installs it): page 1 as an image
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf_path), str(tmp_path / "request-page-1")], check=True)
        page_png = tmp_path / "request-page-1.png"
        assert page_png.stat().st_size > 10_000
        keep(tmp_path, "screenshot-request-pdf-page-1.png", page_png.read_bytes())
