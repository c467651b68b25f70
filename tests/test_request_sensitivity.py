"""Until a steward has reviewed it, a field's suggested sensitivity is what requests go by.

Every field starts public (no source states a level); the catalog reads an SSN as private
and suggests so. A requester asking for that SSN must say why it is the minimum necessary,
the documents say the level is a suggestion, and the field page does not tell a researcher
that a social security number "may be released to anyone". Once the agency's steward
decides, the decision counts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog import sensitivity
from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.models import Dataset
from catalog.schemas import DatasetInSchema
from catalog.service import Catalog
from catalog.store import find_or_create_agency, upsert_dataset
from tests.test_requests import FORM, add, client_of, draft_id, token_of
from tests.webfixtures import WebCatalog, add_account, build_catalog

WAGES = {
    "agency": "Department of Labor", "agency_abbreviation": "DOL",
    "identifier": "wage-records", "title": "Quarterly Wage Records",
    "description": "Wages employers report each quarter for each employee.",
    "fields": [
        {"position": 1, "name": "SSN", "label": "Social security number",
         "data_type": "string"},
        {"position": 2, "name": "QTR_WAGES", "label": "Wages paid in the quarter",
         "data_type": "number"},
    ],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[WebCatalog]:
    catalog = Catalog(load_settings(data_dir=tmp_path_factory.mktemp("request-levels"),
                                    database_url=None, elasticsearch_url=None),
                      embedder=embedder)
    built = build_catalog(catalog)
    with catalog.transaction() as session:
        record = DatasetInSchema().load(WAGES)
        agency = find_or_create_agency(session, record["agency"], "DOL")
        dataset = upsert_dataset(session, record, agency=agency, fmt="test",
                                 provenance={"source": "tests"}, actor="tests").dataset
        session.flush()
        built.datasets[dataset.identifier] = dataset.id
        built.fields.update({f.name: f.id for f in dataset.fields})
    catalog.index_datasets([built.datasets["wage-records"]])
    add_account(catalog, "researcher@example.org", "viewer")
    add_account(catalog, "dol@example.org", "steward", ("dol",))
    yield built
    catalog.close()


def test_an_unreviewed_ssn_is_requested_as_private_until_a_steward_decides(
        site: WebCatalog) -> None:
    wages, ssn = site.datasets["wage-records"], site.fields["SSN"]
    with site.catalog.session() as session:
        assert session.get(Dataset, wages).fields[0].sensitivity == "public"  # as stored
        assert sensitivity.pending_levels(session, wages) == {"SSN": "private"}
    researcher, csrf = client_of(site, "researcher@example.org")
    assert add(researcher, csrf, wages, ssn).status_code == 302
    request_id = draft_id(researcher)
    page = researcher.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert "suggested, awaiting a steward's review" in page
    assert "Why this private data is the minimum necessary" in page
    answer = researcher.post(f"/requests/{request_id}/edit", data={
        "csrf": csrf, "action": "submit", **FORM,
        f"why_dataset_{wages}": "Wages after the programme are the outcome."})
    assert "why SSN (private) is the minimum necessary" in answer.get_data(as_text=True)
    api = site.app.test_client()
    item = api.get(f"/api/v1/requests/{request_id}",
                   headers=token_of(site, "researcher@example.org")).get_json()["items"][0]
    assert (item["sensitivity"], item["sensitivity_suggested"]) == ("private", True)
    markdown = researcher.get(f"/requests/{request_id}/document.md").get_data(as_text=True)
    assert "sensitivity: private (suggested, not yet reviewed)" in markdown
    field_page = api.get(f"/fields/{ssn}").get_data(as_text=True)
    assert "may be released to anyone" not in field_page
    assert "suggested by the catalog, not yet reviewed by a steward" in field_page

    # The DOL steward rejects the suggestion: the field is public by decision now.
    steward, scsrf = client_of(site, "dol@example.org")
    assert steward.post(f"/datasets/{wages}/sensitivity", data={
        "csrf": scsrf, "decision": "rejected", "field": "SSN"}).status_code in (302, 303)
    page = researcher.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert "awaiting a steward" not in page and "Why this private data" not in page
    item = api.get(f"/api/v1/requests/{request_id}",
                   headers=token_of(site, "researcher@example.org")).get_json()["items"][0]
    assert (item["sensitivity"], item["sensitivity_suggested"]) == ("public", False)
    field_page = api.get(f"/fields/{ssn}").get_data(as_text=True)
    assert "Public data: may be released to anyone." in field_page


def test_a_field_nobody_reviewed_is_not_said_to_be_releasable(site: WebCatalog) -> None:
    page = site.app.test_client().get(
        f"/fields/{site.fields['QTR_WAGES']}").get_data(as_text=True)
    assert "not reviewed by a steward" in page and "may be released to anyone" not in page


def test_the_working_level_is_the_higher_of_stored_and_pending() -> None:
    assert sensitivity.working_level("public", "private") == "private"
    assert sensitivity.working_level("personal", "protected") == "personal"
    assert sensitivity.working_level(None, None) == "public"
    assert sensitivity.working_level("protected", "bogus") == "protected"


def test_the_markdown_document_shows_html_as_text(site: WebCatalog) -> None:
    researcher, csrf = client_of(site, "researcher@example.org")
    researcher.post("/requests", data={"csrf": csrf})
    assert add(researcher, csrf, site.datasets["wage-records"],
               site.fields["QTR_WAGES"]).status_code == 302
    request_id = draft_id(researcher)
    researcher.post(f"/requests/{request_id}/edit", data={
        "csrf": csrf, "action": "save", **FORM,
        "title": '<img src=x onerror="alert(1)"> wages',
        "purpose": "Line one\nLine two"})
    markdown = researcher.get(f"/requests/{request_id}/document.md").get_data(as_text=True)
    assert "<img" not in markdown and "&lt;img src=x onerror=" in markdown
    assert "Line one  \nLine two" in markdown  # a line break stays one when rendered
