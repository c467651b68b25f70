"""Scorecards and the sensitivity review in a real headless Chromium, on the P20 WIN files.

The 15 agency dictionaries and the merged one are loaded; an anonymous visitor reads the
statewide page and DOL's scorecard, a DOL steward accepts a suggestion on a dataset page by
keyboard. Screenshots go to the test's folder, and to ``$CATALOG_SCREENSHOTS`` when set
(docs/screenshots keeps them).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.models import Dataset
from catalog.service import Catalog
from indexer.load import load_paths
from tests.test_browser_requests import shot, signed_in
from tests.test_ct_dictionaries import P20WIN
from tests.webfixtures import add_account
from web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path, embedder: Embedder) -> Iterator[tuple[str, Catalog]]:
    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=None,
                                    elasticsearch_url=None, redis_url=None), embedder=embedder)
    load_paths(catalog, [P20WIN], index=False)  # browsing and scorecards need no index
    add_account(catalog, "steward@dol.example", "steward", ("dol",))
    server = make_server("127.0.0.1", 0, create_app(catalog), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", catalog
    finally:
        server.shutdown()
        thread.join(timeout=10)
        catalog.close()


def test_scorecards_and_a_review_in_the_browser(browser: Any, live: tuple[str, Catalog],
                                                tmp_path: Path) -> None:
    url, catalog = live
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(url + "/")
    page.get_by_role("link", name="Scorecards").click()
    page.wait_for_url(url + "/scorecards")
    rows = page.locator("table.scorecard-agencies tbody tr")
    assert rows.count() >= 13
    assert "0 datasets without an agency" in page.locator(".lede").inner_text()
    shot(page, tmp_path, "screenshot-scorecard-statewide.png")
    page.get_by_role("link", name="Department of Labor", exact=True).click()
    page.wait_for_url(url + "/scorecards/dol")
    components = page.locator("table.scorecard").inner_text()
    assert "Fields described" in components and "Datasets with temporal coverage" in components
    assert "PIRL (JVSG, TAA, WIOAs, WP)" in page.content()
    shot(page, tmp_path, "screenshot-scorecard-agency.png")

    with catalog.session() as session:
        pirl = session.scalar(select(Dataset).where(
            Dataset.identifier == "DOL_Data_Dictionary-dol-pirl-jvsg-taa-wioas-wp"))
    steward = signed_in(browser, url, "steward@dol.example")
    steward.goto(f"{url}/datasets/{pirl.id}#sensitivity")
    row = steward.locator("table.sensitivity tbody tr", has_text="2700 - Social Security Number")
    assert "private" in row.inner_text() and "awaiting review" in row.inner_text()
    section = steward.locator("section[aria-labelledby=sensitivity]")
    for folder in filter(None, (tmp_path, os.environ.get("CATALOG_SCREENSHOTS"))):
        section.screenshot(path=str(Path(folder) / "screenshot-sensitivity-review.png"))
    accept = row.get_by_role("button", name="Accept")
    accept.focus()
    with steward.expect_navigation():
        steward.keyboard.press("Enter")
    row = steward.locator("table.sensitivity tbody tr", has_text="2700 - Social Security Number")
    assert "accepted: private" in row.inner_text()
    steward.goto(f"{url}/scorecards/dol")
    assert "Fields whose sensitivity a steward reviewed" in steward.content()
