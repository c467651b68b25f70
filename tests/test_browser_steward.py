"""A steward's edit in a real headless Chromium against a live server, on both engines: sign
in, open a field, edit its description, save, and search for the new words — the field is
the first hit at once. On the embedded engine also the stale edit: two stewards of one agency
edit the same field, the second is shown what changed and nothing is lost.

Screenshots go to the test's folder, and to ``$CATALOG_SCREENSHOTS`` when set (docs/screenshots
keeps them): steward-edit.png, steward-search.png, steward-conflict.png, steward-history.png.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from catalog.embeddings import Embedder
from catalog.models import Field
from tests.stewardfixtures import close_catalog, make_catalog
from tests.webfixtures import PASSWORD, WebCatalog

pytestmark = pytest.mark.browser
WORDS = "heron allowance quarterly"


@contextmanager
def serving(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, engine_name: str,
            es_url: str | None = None) -> Iterator[tuple[str, WebCatalog, str]]:
    """The stewards' catalog behind a live server."""
    built, engine = make_catalog(tmp_path_factory, embedder, engine_name, es_url)
    server = make_server("127.0.0.1", 0, built.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", built, engine_name
    finally:
        server.shutdown()
        thread.join(timeout=10)
        close_catalog(built, engine)


@pytest.fixture(params=["embedded", "elasticsearch"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         embedder: Embedder) -> Iterator[tuple[str, WebCatalog, str]]:
    url = request.getfixturevalue("elasticsearch_url") if request.param == "elasticsearch" \
        else None
    with serving(tmp_path_factory, embedder, request.param, url) as running:
        yield running


@pytest.fixture
def live_embedded(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
                  ) -> Iterator[tuple[str, WebCatalog, str]]:
    with serving(tmp_path_factory, embedder, "embedded") as running:
        yield running


def shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / name), full_page=True)
    if os.environ.get("CATALOG_SCREENSHOTS"):
        page.screenshot(path=str(Path(os.environ["CATALOG_SCREENSHOTS"]) / name), full_page=True)


def signed_in(browser: Any, url: str, email: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/")
    return page


def _field_id(built: WebCatalog, name: str) -> int:
    with built.catalog.session() as session:
        found = session.scalar(select(Field.id).where(Field.name == name))
        assert found is not None
        return found


def test_a_steward_edits_a_field_and_search_finds_it_at_once(
    browser: Any, live: tuple[str, WebCatalog, str], tmp_path: Path
) -> None:
    url, built, engine = live
    field_id = _field_id(built, "WBA_AMT")
    visitor = browser.new_context().new_page()
    search = f"{url}/search?q={WORDS.replace(' ', '+')}&kind=field"
    visitor.goto(search + "&mode=lexical")
    assert f"/fields/{field_id}\"" not in visitor.content()  # the words are not there yet

    steward = signed_in(browser, url, "dol-a@example.org")
    steward.goto(f"{url}/fields/{field_id}")
    steward.get_by_role("link", name="Edit this field").click()
    steward.wait_for_url(f"{url}/fields/{field_id}/edit")
    steward.get_by_label("Description", exact=True).fill(
        f"The weekly benefit amount, paid as a {WORDS} supplement.")
    steward.get_by_label("Steward notes").fill("Set each year by the Labor Commissioner.")
    if engine == "embedded":
        shot(steward, tmp_path, "steward-edit.png")
    with steward.expect_navigation():
        steward.get_by_role("button", name="Save").click()
    assert steward.url == f"{url}/fields/{field_id}"
    assert "Saved: description, steward notes." in steward.content()

    for mode in ("lexical", "hybrid"):
        visitor.goto(f"{search}&mode={mode}")
        first = visitor.locator("ol.hits > li").first
        href = first.locator("a").first.get_attribute("href")
        print(f"\n[{engine}] Chromium search {WORDS!r} ({mode}) right after the save: first hit "
              f"{href}, edited field /fields/{field_id}")
        assert href == f"/fields/{field_id}"
        assert WORDS.split()[0] in first.inner_text().lower()
    if engine == "embedded":
        shot(visitor, tmp_path, "steward-search.png")
        steward.goto(f"{url}/datasets/{built.datasets['ui-claims']}/history")
        assert steward.get_by_role("button", name="Revert").count() == 1
        shot(steward, tmp_path, "steward-history.png")


def test_two_stewards_editing_one_field_in_chromium(
    browser: Any, live_embedded: tuple[str, WebCatalog, str], tmp_path: Path
) -> None:
    url, built, _ = live_embedded
    field_id = _field_id(built, "HH_INCOME_APP")
    first = signed_in(browser, url, "dol-a@example.org")
    second = signed_in(browser, url, "dol-b@example.org")
    for page in (first, second):
        page.goto(f"{url}/fields/{field_id}/edit")
    first.get_by_label("Label", exact=True).fill("Household income when the claim was filed")
    with first.expect_navigation():
        first.get_by_role("button", name="Save").click()
    second.get_by_label("Description", exact=True).fill(
        "Total household income the claimant reported.")
    with second.expect_navigation():
        second.get_by_role("button", name="Save").click()
    panel = second.locator(".conflict")
    assert panel.is_visible()
    text = panel.inner_text()
    print("\nthe second steward sees:\n" + text)
    assert "someone saved this since you opened it" in text.lower()
    assert "Household income when the claim was filed" in text
    assert "Total household income the claimant reported." in text
    # Their text is still in the form, over what the first steward saved.
    assert second.get_by_label("Description", exact=True).input_value() == \
        "Total household income the claimant reported."
    assert second.get_by_label("Label", exact=True).input_value() == \
        "Household income when the claim was filed"
    shot(second, tmp_path, "steward-conflict.png")
    with second.expect_navigation():
        second.get_by_role("button", name="Save").click()
    assert "Saved: description." in second.content()
    with built.catalog.session() as session:
        field = session.get(Field, field_id)
        assert field is not None
        assert (field.label, field.description) == (
            "Household income when the claim was filed",
            "Total household income the claimant reported.")


def test_bulk_upload_and_a_suggestion_in_chromium(
    browser: Any, live_embedded: tuple[str, WebCatalog, str], tmp_path: Path
) -> None:
    url, built, _ = live_embedded
    dataset_id = built.datasets["birth-file"]
    steward = signed_in(browser, url, "dph@example.org")
    steward.goto(f"{url}/datasets/{dataset_id}")
    steward.get_by_role("link", name="Upload field descriptions (CSV/XLSX)").click()
    table = tmp_path / "births.csv"
    table.write_text("name,description,label\n"
                     "BWT_GRAMS,Weight of the infant at birth in grams,\n"
                     "GEST_WKS,Completed weeks of gestation,Gestation (weeks)\n"
                     "NICU_ADM,Admitted to a neonatal intensive care unit after birth,\n")
    steward.get_by_label("File").set_input_files(str(table))
    with steward.expect_navigation():
        steward.get_by_role("button", name="Preview the changes").click()
    assert steward.locator("table.bulk-preview tbody tr").count() == 4
    shot(steward, tmp_path, "steward-bulk-preview.png")
    with steward.expect_navigation():
        steward.get_by_role("button", name="Apply these 4 changes as one change set").click()
    assert steward.url == f"{url}/datasets/{dataset_id}/history"
    assert steward.get_by_role("button", name="Revert the whole change set").count() == 3

    viewer = signed_in(browser, url, "viewer@example.org")
    viewer.goto(f"{url}/fields/{built.fields['APGAR5']}")
    viewer.get_by_role("link", name="Suggest a correction").click()
    viewer.get_by_label("What to correct").select_option("description")
    viewer.get_by_label("Your suggested text").fill(
        "Apgar score of the infant five minutes after birth, from 0 to 10.")
    with viewer.expect_navigation():
        viewer.get_by_role("button", name="Send the suggestion").click()
    steward.get_by_role("link", name="Review suggestions").click()
    item = steward.locator("li.suggestion").first
    assert "from 0 to 10" in item.inner_text()
    shot(steward, tmp_path, "steward-queue.png")
    with steward.expect_navigation():
        item.get_by_role("button", name="Accept").click()
    assert "accepted and applied as your edit" in steward.content()
    viewer.get_by_role("link", name="My suggestions").click()
    assert "accepted" in viewer.locator(".suggestion .status").first.inner_text()
