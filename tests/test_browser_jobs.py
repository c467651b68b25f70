"""Jobs in a real headless Chromium: an administrator starts a harvest and watches it run.

A live server (inline jobs: the harvest runs in a thread of the server) over a catalog
with one recorded source, served slowly so that the run can be seen in progress.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.service import Catalog
from catalog.sources import save_source, validate_source
from tests.recorded_sources import RecordedPortals
from tests.webfixtures import PASSWORD, add_account
from web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def slow_portals() -> Iterator[RecordedPortals]:
    with RecordedPortals() as portals:
        original = portals._discovery

        def slow(request: Any) -> Any:
            time.sleep(0.7)
            return original(request)

        portals.faults["/socrata/api/catalog/v1"] = slow
        yield portals


@pytest.fixture
def live(tmp_path: Path, embedder: Embedder, slow_portals: RecordedPortals) -> Iterator[str]:
    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=None,
                                    elasticsearch_url=None, redis_url=None),
                      embedder=embedder)
    add_account(catalog, "admin@example.org", "admin")
    spec = next(s for s in slow_portals.sources() if s["name"] == "chicago")
    with catalog.transaction() as session:
        save_source(session, validate_source({**spec, "options": {
            "domain": "data.cityofchicago.org", "limit": 1}}))
    server = make_server("127.0.0.1", 0, create_app(catalog), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        catalog.close()


def test_an_admin_starts_a_harvest_and_watches_its_progress(
    page: Any, live: str, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live + "/sources/chicago")
    assert page.locator("text=Harvest now").count() == 0  # not signed in: no actions
    page.goto(live + "/login?next=/sources/chicago")
    page.locator("#email").fill("admin@example.org")
    page.locator("#password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live + "/sources/chicago")
    assert "Signed in." in page.content()
    button = page.get_by_role("button", name="Harvest now")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/jobs/*")
    assert "Started: job" in page.content()
    # The page refreshes itself; the progress bar moves while the source is read.
    page.wait_for_selector("progress.job-progress[max='5']", timeout=30_000)
    seen = page.locator("progress.job-progress").get_attribute("value")
    page.goto(live + "/jobs")
    assert page.locator("tr.job--running, tr.job--finished").count() == 1
    page.screenshot(path=str(tmp_path / "jobs.png"), full_page=True)
    if os.environ.get("CATALOG_SCREENSHOTS"):
        page.screenshot(path=os.environ["CATALOG_SCREENSHOTS"] + "/screenshot-jobs.png")
    deadline = time.monotonic() + 60
    while "finished" not in page.locator("tr.job").first.inner_text():
        assert time.monotonic() < deadline, page.content()
        page.wait_for_timeout(500)
        page.reload()
    assert seen is not None
    page.goto(live + "/sources/chicago")
    runs = page.locator("table.runs tbody tr.run").first.inner_text()
    assert "complete" in runs and "5" in runs
    assert page.locator("text=Towed Vehicles").count() == 1
