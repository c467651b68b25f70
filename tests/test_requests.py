"""Data requests end to end on the real app: cart, draft, review, sign-offs, documents, API.

The catalog is the small real one of tests/webfixtures.py (DCF, SDE, DOL and DPH datasets,
hidden ones among them); people sign in through the real form or use real API tokens.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from catalog import accounts
from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.service import Catalog
from tests.webfixtures import WebCatalog, add_account, build_catalog, sign_in

FORM = {
    "title": "Employment after foster care", "organisation": "UConn School of Social Work",
    "team": "Ada Lovelace, ada@uconn.example, principal investigator",
    "purpose": "How many youths who left foster care are employed two years later?",
    "benefit": "Better transition services for youths leaving care.",
    "population": "Youths who exited foster care aged 16 to 21.",
    "time_period": "2015-2023", "geography": "Statewide", "level": "record",
    "linkage_plan": "Link on date of birth and name through the P20 WIN hub.",
    "legal_basis": "Data sharing agreement under CGS 10a-57g.",
    "irb": "UConn IRB H23-001, approved 2023-05-01",
    "security_plan": "Encrypted enclave at the P20 WIN hub; named analysts only.",
    "outputs": "Aggregate tables; cells under 10 suppressed after disclosure review.",
    "recurrence": "one-time", "duration": "18 months",
    "retention": "Destroyed 30 days after the project ends, certified in writing.",
    "funding": "State grant",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[WebCatalog]:
    catalog = Catalog(load_settings(data_dir=tmp_path_factory.mktemp("requests"),
                                    database_url=None, elasticsearch_url=None),
                      embedder=embedder)
    built = build_catalog(catalog)
    add_account(catalog, "researcher@example.org", "viewer")
    add_account(catalog, "other@example.org", "viewer")
    add_account(catalog, "intake@example.org", "intake")
    add_account(catalog, "dcf@example.org", "steward", ("dcf",), officer_of=("dcf",))
    add_account(catalog, "dol@example.org", "steward", ("dol",))
    yield built
    catalog.close()


def client_of(site: WebCatalog, email: str) -> tuple[FlaskClient, str]:
    client = site.app.test_client()
    return client, sign_in(client, email)


def add(client: FlaskClient, csrf: str, dataset_id: int, field_id: int | None = None) -> Any:
    data = {"csrf": csrf, "dataset_id": dataset_id, "next": "/cart"}
    if field_id is not None:
        data["field_id"] = field_id
    return client.post("/cart/items", data=data)


def draft_id(client: FlaskClient) -> int:
    answer = client.get("/cart")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return int(re.search(r"/requests/(\d+)/edit", answer.headers["Location"]).group(1))


def fill(client: FlaskClient, csrf: str, request_id: int, site: WebCatalog,
         action: str = "save", **overrides: str) -> Any:
    page = client.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    data: dict[str, Any] = {"csrf": csrf, "action": action, **FORM, **overrides}
    for dataset_id in set(re.findall(r'name="why_dataset_(\d+)"', page)):
        data[f"why_dataset_{dataset_id}"] = "The outcome measure needs it."
    for item_id in set(re.findall(r'name="why_item_(\d+)"', page)):
        data[f"why_item_{item_id}"] = "Needed to link records; nothing less identifies a person."
    return client.post(f"/requests/{request_id}/edit", data=data)


def move(client: FlaskClient, csrf: str, request_id: int, to: str, comment: str = "") -> Any:
    return client.post(f"/requests/{request_id}/transition",
                       data={"csrf": csrf, "to": to, "comment": comment})


def test_a_request_across_two_agencies_from_draft_to_fulfilled(site: WebCatalog) -> None:
    researcher, csrf = client_of(site, "researcher@example.org")
    fields = site.fields
    assert add(researcher, csrf, site.datasets["foster-care-placements"],
               fields["REMOVAL_DT"]).status_code == 302
    add(researcher, csrf, site.datasets["foster-care-placements"], fields["DOB_DT"])
    add(researcher, csrf, site.datasets["ui-claims"], fields["WBA_AMT"])
    add(researcher, csrf, site.datasets["ui-claims"], fields["CLMT_BIRTH_DT"])
    add(researcher, csrf, site.datasets["ui-claims"], fields["WBA_AMT"])  # twice: kept once
    request_id = draft_id(researcher)
    page = researcher.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert page.count('class="request-line request-line--') == 4
    assert "Department of Children and Families" in page and "Department of Labor" in page
    assert "personal data is the minimum necessary (required)" in page  # DOB_DT is personal
    # The catalog proposes joining the agencies on date of birth.
    assert "Date of birth: <code>" in page and "CLMT_BIRTH_DT" in page.split("link the")[1]
    # Submitting an empty form names every missing part.
    refused = researcher.post(f"/requests/{request_id}/edit",
                              data={"csrf": csrf, "action": "submit"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    for part in ("Legal basis", "Security and storage plan", "Retention and destruction",
                 "Justification per dataset", "Justification of personal or private data"):
        assert part in text
    assert fill(researcher, csrf, request_id, site).status_code == 200  # saved, not submitted
    answer = fill(researcher, csrf, request_id, site, action="submit")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/{request_id}")
    # The intake office screens it and sends it to the two agencies.
    intake, icsrf = client_of(site, "intake@example.org")
    queue = intake.get("/intake").get_data(as_text=True)
    assert f"#{request_id} Employment after foster care" in queue
    assert move(intake, icsrf, request_id, "screening").status_code == 302
    assert move(intake, icsrf, request_id, "agency_review", "Looks complete").status_code == 302
    # Approval waits for every agency.
    move(intake, icsrf, request_id, "approved")
    assert "approval needs an approving sign-off" in intake.get(
        f"/requests/{request_id}").get_data(as_text=True)
    # Each agency's steward finds it in their sign-off queue, and through the API.
    dcf, dcsrf = client_of(site, "dcf@example.org")
    dol, lcsrf = client_of(site, "dol@example.org")
    title = f"#{request_id} Employment after foster care"
    for steward, agency in ((dcf, "Department of Children and Families"),
                            (dol, "Department of Labor")):
        waiting = steward.get("/requests/signoffs").get_data(as_text=True)
        assert title in waiting and f"{agency}:" in waiting
        assert "awaiting your decision" in waiting.split(title)[1].split("</tr>")[0]
        assert "1 request waits for your agencies' sign-off" in steward.get(
            "/requests").get_data(as_text=True)
    # Only stewards have a sign-off queue: the others are told so, not shown an empty one.
    assert researcher.get("/requests/signoffs").status_code == 403
    assert intake.get("/requests/signoffs").status_code == 403
    listed = site.app.test_client().get(
        "/api/v1/requests", headers=token_of(site, "dol@example.org")).get_json()
    mine = [r for r in listed["requests"] if r["id"] == request_id]
    assert listed["total"] >= 1 and len(mine) == 1 and mine[0]["status"] == "agency_review"
    assert dcf.post(f"/requests/{request_id}/signoff",
                    data={"csrf": dcsrf, "agency": "dcf", "decision": "approved"}
                    ).status_code == 302
    decided = dcf.get("/requests/signoffs").get_data(as_text=True).split(title)[1]
    assert "awaiting your decision" not in decided.split("</tr>")[0]
    assert ">approved<" in decided.split("</tr>")[0]
    # A DOL steward may not sign for DCF, nor a viewer at all.
    assert dol.post(f"/requests/{request_id}/signoff",
                    data={"csrf": lcsrf, "agency": "dcf", "decision": "denied"}
                    ).status_code == 403
    dol.post(f"/requests/{request_id}/signoff",
             data={"csrf": lcsrf, "agency": "dol", "decision": "approved", "comment": "OK"})
    for step in ("approved", "agreement_signed", "fulfilled"):
        assert move(intake, icsrf, request_id, step).status_code == 302
    shown = researcher.get(f"/requests/{request_id}").get_data(as_text=True)
    assert ">fulfilled<" in shown
    for status in ("submitted", "screening", "agency review", "approved", "agreement signed"):
        assert f"to {status}" in shown  # the requester sees every status of their request
    # Only allowed moves, each by its own party.
    assert move(researcher, csrf, request_id, "closed").status_code == 403
    move(intake, icsrf, request_id, "screening")
    assert "cannot become screening" in intake.get(f"/requests/{request_id}").get_data(
        as_text=True)
    with site.catalog.session() as session:
        from catalog.data_requests import get_request

        found = get_request(session, request_id)
        assert found is not None and found.status == "fulfilled"
        moves = [(e.from_status, e.to_status) for e in found.events if e.kind == "transition"]
        assert moves == [(None, "draft"), ("draft", "submitted"), ("submitted", "screening"),
                         ("screening", "agency_review"), ("agency_review", "approved"),
                         ("approved", "agreement_signed"), ("agreement_signed", "fulfilled")]
        assert all(e.actor for e in found.events)


def test_the_request_as_docx_pdf_markdown_and_json(site: WebCatalog) -> None:
    researcher, csrf = client_of(site, "researcher@example.org")
    add(researcher, csrf, site.datasets["foster-care-placements"], site.fields["DOB_DT"])
    add(researcher, csrf, site.datasets["ui-claims"], site.fields["CLMT_BIRTH_DT"])
    request_id = draft_id(researcher)
    fill(researcher, csrf, request_id, site)
    from docx import Document
    from pypdf import PdfReader

    word = researcher.get(f"/requests/{request_id}/document.docx")
    assert word.status_code == 200 and word.mimetype.endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in Document(io.BytesIO(word.data)).paragraphs)
    cells = [c.text for t in Document(io.BytesIO(word.data)).tables for r in t.rows
             for c in r.cells]
    assert "Employment after foster care" in text and "Data sharing agreement" in text
    assert "DOB_DT" in cells and "CLMT_BIRTH_DT" in cells and "personal" in cells
    assert "Agency Data Officer: Dcf dcf@example.org" in text  # DCF's data officer
    pdf = researcher.get(f"/requests/{request_id}/document.pdf")
    assert pdf.mimetype == "application/pdf"
    pages = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Employment after foster care" in pages and "CLMT_BIRTH_DT" in pages
    markdown = researcher.get(f"/requests/{request_id}/document.md").get_data(as_text=True)
    assert "## Legal basis" in markdown and "DOB_DT — Birth date — date" in markdown
    data = researcher.get(f"/requests/{request_id}/document.json").get_json()
    assert [a["slug"] for a in data["agencies"]] == ["dcf", "dol"]


def test_restricted_fields_reach_a_cart_only_for_those_who_may_see_them(
        site: WebCatalog) -> None:
    hidden_dol = site.datasets["marmoset-wage-match"]  # restricted, DOL
    viewer, csrf = client_of(site, "other@example.org")
    assert add(viewer, csrf, hidden_dol).status_code == 404
    assert add(viewer, csrf, hidden_dol, site.fields["MARMOSET_WAGE"]).status_code == 404
    dol, lcsrf = client_of(site, "dol@example.org")
    assert add(dol, lcsrf, hidden_dol, site.fields["MARMOSET_WAGE"]).status_code == 302
    request_id = draft_id(dol)
    fill(dol, lcsrf, request_id, site, action="submit")
    # The intake officer works the request without seeing the restricted item's name.
    intake, icsrf = client_of(site, "intake@example.org")
    page = intake.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "MARMOSET_WAGE" not in page and "Marmoset" not in page
    assert "1 more item of agencies whose restricted metadata you do not see" in page
    doc = intake.get(f"/requests/{request_id}/document.md").get_data(as_text=True)
    assert "marmoset" not in doc.lower() and "1 requested item(s) are not shown" in doc
    # Nor is the agency named whose every requested item is hidden from the reader: not in
    # the documents, the API, the queue or the sign-offs (its steward signs off for it).
    assert "Department of Labor" not in doc and "Department of Labor" not in page
    officer = token_of(site, "intake@example.org")
    seen = site.app.test_client().get(f"/api/v1/requests/{request_id}", headers=officer)
    assert seen.get_json()["agencies"] == [] and seen.get_json()["items_not_shown"] == 1
    queue = intake.get("/intake").get_data(as_text=True)
    row = queue[queue.index(f"/requests/{request_id}"):][:1500]
    assert "DOL" not in row and "1 more" in row
    own = dol.get("/api/v1/requests", headers=token_of(site, "dol@example.org")).get_json()
    assert [r["agencies"] for r in own["requests"] if r["id"] == request_id] == [["dol"]]
    # The DOL steward signs off; the intake officer's documents still do not name DOL.
    for to in ("screening", "agency_review"):
        assert move(intake, icsrf, request_id, to).status_code == 302
    assert dol.post(f"/requests/{request_id}/signoff", data={
        "csrf": lcsrf, "agency": "dol", "decision": "approved"}).status_code == 302
    for fmt in ("md", "json"):
        text = intake.get(f"/requests/{request_id}/document.{fmt}").get_data(as_text=True)
        assert "Department of Labor" not in text and "marmoset" not in text.lower()
    # Nor does the history: the sign-off event would name the agency and its steward.
    for text in (intake.get(f"/requests/{request_id}").get_data(as_text=True),
                 site.app.test_client().get(f"/api/v1/requests/{request_id}",
                                            headers=officer).get_data(as_text=True)):
        assert "Department of Labor" not in text and '"kind":"signoff"' not in text \
            and "signed off" not in text
    assert "Department of Labor: approved" in dol.get(f"/requests/{request_id}").get_data(
        as_text=True)
    assert "Department of Labor" in dol.get(f"/requests/{request_id}/document.md"
                                            ).get_data(as_text=True)
    # Another requester cannot read it at all.
    assert viewer.get(f"/requests/{request_id}").status_code == 404
    assert viewer.get(f"/requests/{request_id}/document.pdf").status_code == 404


def test_a_signoff_stays_hidden_whatever_its_text_says(site: WebCatalog) -> None:
    """A sign-off event is tied to its agency by id: renamed since (or with any text), the
    agency's sign-off is still kept from a reader not told of the agency."""
    from sqlalchemy import update

    from catalog.models import Agency

    hidden_dol = site.datasets["marmoset-wage-match"]  # restricted, DOL
    dol, lcsrf = client_of(site, "dol@example.org")
    assert add(dol, lcsrf, hidden_dol, site.fields["MARMOSET_WAGE"]).status_code == 302
    request_id = draft_id(dol)
    fill(dol, lcsrf, request_id, site, action="submit")
    intake, icsrf = client_of(site, "intake@example.org")
    for to in ("screening", "agency_review"):
        assert move(intake, icsrf, request_id, to).status_code == 302
    assert dol.post(f"/requests/{request_id}/signoff", data={
        "csrf": lcsrf, "agency": "dol", "decision": "denied",
        "comment": "Quokka reasons"}).status_code == 302
    officer = token_of(site, "intake@example.org")
    with site.catalog.transaction() as session:
        session.execute(update(Agency).where(Agency.slug == "dol")
                        .values(name="Connecticut Labor Department"))
    try:
        for text in (intake.get(f"/requests/{request_id}").get_data(as_text=True),
                     site.app.test_client().get(f"/api/v1/requests/{request_id}",
                                                headers=officer).get_data(as_text=True),
                     intake.get(f"/requests/{request_id}/document.md").get_data(as_text=True)):
            assert "Department of Labor" not in text and "Quokka" not in text
        assert "Department of Labor: denied — Quokka reasons" in dol.get(
            f"/requests/{request_id}").get_data(as_text=True)
    finally:
        with site.catalog.transaction() as session:
            session.execute(update(Agency).where(Agency.slug == "dol")
                            .values(name="Department of Labor"))


def test_a_requested_field_that_changes_after_submission_is_flagged(site: WebCatalog) -> None:
    from catalog.stewardship import apply_edit

    researcher, csrf = client_of(site, "researcher@example.org")
    client_new = researcher.post("/requests", data={"csrf": csrf})
    assert client_new.status_code == 302
    add(researcher, csrf, site.datasets["enrollment-layout"], site.fields["GRADE_LVL"])
    request_id = draft_id(researcher)
    fill(researcher, csrf, request_id, site, action="submit")
    assert "Changed since it was submitted" not in researcher.get(
        f"/requests/{request_id}").get_data(as_text=True)
    with site.catalog.transaction() as session:
        from catalog.models import Dataset, Field

        dataset = session.get(Dataset, site.datasets["enrollment-layout"])
        field = session.get(Field, site.fields["GRADE_LVL"])
        apply_edit(session, dataset, {"description": "Grade, K to 12."}, actor="t",
                   field=field)
    page = researcher.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "Changed since it was submitted" in page and "GRADE_LVL" in page


def test_changes_requested_then_resubmitted_counts_a_revision(site: WebCatalog) -> None:
    researcher, csrf = client_of(site, "researcher@example.org")
    researcher.post("/requests", data={"csrf": csrf})
    add(researcher, csrf, site.datasets["birth-file"], site.fields["APGAR5"])
    request_id = draft_id(researcher)
    fill(researcher, csrf, request_id, site, action="submit")
    intake, icsrf = client_of(site, "intake@example.org")
    move(intake, icsrf, request_id, "screening")
    move(intake, icsrf, request_id, "changes_requested", "Say how cells are suppressed.")
    assert "Say how cells are suppressed." in researcher.get(
        f"/requests/{request_id}").get_data(as_text=True)
    fill(researcher, csrf, request_id, site, action="submit",
         outputs="Tables with cells under 11 suppressed.")
    with site.catalog.session() as session:
        from catalog.data_requests import get_request

        found = get_request(session, request_id)
        assert found is not None and found.status == "submitted" and found.revisions == 1
    # Withdrawn by the requester, then closed by the office, with the reason kept.
    assert move(researcher, csrf, request_id, "withdrawn").status_code == 302
    assert move(intake, icsrf, request_id, "closed").status_code == 302
    closed = researcher.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "Write a message" not in closed and "created it created" not in closed
    late = site.app.test_client().post(f"/api/v1/requests/{request_id}/comments",
                                       headers=token_of(site, "researcher@example.org"),
                                       json={"comment": "One more thing"})
    assert late.status_code == 409 and "closed" in late.get_json()["error"]["message"]
    metrics = intake.get("/api/v1/intake/metrics").get_json()
    assert metrics["closing_reasons"].get("withdrawn", 0) >= 1


# ---------------------------------------------------------------------------- API


def token_of(site: WebCatalog, email: str) -> dict[str, str]:
    with site.catalog.transaction() as session:
        user = accounts.get_user(session, email)
        assert user is not None
        token, _ = accounts.issue_token(session, user, "test")
    return {"Authorization": f"Bearer {token}"}


def test_the_api_carries_a_request_through_its_review(site: WebCatalog) -> None:
    api = site.app.test_client()
    me = token_of(site, "researcher@example.org")
    assert api.post("/api/v1/requests", json={}).status_code == 401
    created = api.post("/api/v1/requests", json={"form": FORM}, headers=me)
    assert created.status_code == 201
    body = created.get_json()
    request_id = body["id"]
    assert body["status"] == "draft" and body["form"]["title"] == FORM["title"]
    for item in ({"field_id": site.fields["REMOVAL_DT"]},
                 {"dataset_id": site.datasets["ui-claims"]}):
        assert api.post(f"/api/v1/requests/{request_id}/items", json=item,
                        headers=me).status_code == 201
    assert api.post(f"/api/v1/requests/{request_id}/items", json={}, headers=me
                    ).status_code == 400
    hidden = api.post(f"/api/v1/requests/{request_id}/items",
                      json={"dataset_id": site.datasets["zephyrine-ledger"]}, headers=me)
    assert hidden.status_code == 404
    early = api.post(f"/api/v1/requests/{request_id}/transitions", json={"to": "submitted"},
                     headers=me)
    assert early.status_code == 409 and "Justification per dataset" in early.get_json(
        )["error"]["message"]
    justified = {str(site.datasets["foster-care-placements"]): "Exits from care.",
                 str(site.datasets["ui-claims"]): "Employment outcome."}
    assert api.patch(f"/api/v1/requests/{request_id}", json={"justifications": justified},
                     headers=me).status_code == 200
    # The whole UI dataset holds personal data: each item needs its own justification,
    # which the API sets by item id.
    personal = api.post(f"/api/v1/requests/{request_id}/transitions", json={"to": "submitted"},
                        headers=me)
    assert personal.status_code == 409
    items = api.get(f"/api/v1/requests/{request_id}", headers=me).get_json()["items"]
    saved = api.patch(f"/api/v1/requests/{request_id}", headers=me, json={
        "item_justifications": {str(i["id"]): "Needed to link." for i in items}})
    assert saved.status_code == 200
    body = saved.get_json()
    assert [i["justification"] for i in body["items"]] == ["Needed to link."] * len(items)
    assert body["justifications"] == justified  # merged: the datasets' ones are kept
    done = api.post(f"/api/v1/requests/{request_id}/transitions", json={"to": "submitted"},
                    headers=me)
    assert done.status_code == 200 and done.get_json()["status"] == "submitted"
    officer = token_of(site, "intake@example.org")
    assert api.post(f"/api/v1/requests/{request_id}/transitions", json={"to": "screening"},
                    headers=me).status_code == 403  # the requester may not screen
    assert api.post(f"/api/v1/requests/{request_id}/transitions", json={"to": "fulfilled"},
                    headers=officer).status_code == 409  # not from submitted
    for to in ("screening", "agency_review"):
        assert api.post(f"/api/v1/requests/{request_id}/transitions", json={"to": to},
                        headers=officer).status_code == 200
    for agency in ("dcf", "dol"):
        answer = api.post(f"/api/v1/requests/{request_id}/signoffs",
                          json={"agency": agency, "decision": "approved",
                                "comment": "recorded for the agency"}, headers=officer)
        assert answer.status_code == 201
    # A recorded decision is not overturned silently: without a reason it is refused.
    signoffs = len([e for e in api.get(f"/api/v1/requests/{request_id}", headers=officer)
                    .get_json()["events"] if e["kind"] == "signoff"])
    assert api.post(f"/api/v1/requests/{request_id}/signoffs", headers=officer,
                    json={"agency": "dcf", "decision": "approved"}).status_code == 201
    assert signoffs == len([e for e in api.get(f"/api/v1/requests/{request_id}",
                                               headers=officer).get_json()["events"]
                            if e["kind"] == "signoff"])  # the same again: nothing recorded
    overturn = api.post(f"/api/v1/requests/{request_id}/signoffs",
                        json={"agency": "dcf", "decision": "denied"}, headers=officer)
    assert overturn.status_code == 409
    assert "already recorded as approved" in overturn.get_json()["error"]["message"]
    for decision, why in (("denied", "Recorded for the wrong file."), ("approved", "Checked.")):
        assert api.post(f"/api/v1/requests/{request_id}/signoffs", headers=officer, json={
            "agency": "dcf", "decision": decision, "comment": why}).status_code == 201
    history = [e["comment"] for e in api.get(f"/api/v1/requests/{request_id}",
                                             headers=officer).get_json()["events"]]
    assert any("denied (was approved, by intake@example.org)" in (c or "") for c in history)
    approved = api.post(f"/api/v1/requests/{request_id}/transitions", json={"to": "approved"},
                        headers=officer)
    assert approved.status_code == 200
    # The asked agencies' stewards keep the request while the agreement and delivery run.
    steward = token_of(site, "dcf@example.org")
    assert api.get(f"/api/v1/requests/{request_id}", headers=steward).status_code == 200
    assert request_id in [r["id"] for r in api.get("/api/v1/requests", headers=steward)
                          .get_json()["requests"]]
    assert approved.get_json()["signoffs"] == {"dcf": "approved", "dol": "approved"}
    mine = api.get("/api/v1/requests", headers=me).get_json()
    assert request_id in [r["id"] for r in mine["requests"]]
    other = token_of(site, "other@example.org")
    assert request_id not in [r["id"] for r in api.get("/api/v1/requests", headers=other)
                              .get_json()["requests"]]
    assert api.get(f"/api/v1/requests/{request_id}", headers=other).status_code == 404
    # The thread through the API: a message for everyone who reads the request.
    said = api.post(f"/api/v1/requests/{request_id}/comments", headers=me,
                    json={"comment": "When will the agreement be ready?"})
    assert said.status_code == 201
    assert said.get_json()["events"][-1]["comment"] == "When will the agreement be ready?"
    for body in ({}, {"comment": ""}, {"comment": "x", "to": "closed"}):
        assert api.post(f"/api/v1/requests/{request_id}/comments", headers=me, json=body
                        ).status_code == 400, body
    assert api.post(f"/api/v1/requests/{request_id}/items", headers=me,
                    json={"field_id": 1.5}).status_code == 400
    markdown = api.get(f"/api/v1/requests/{request_id}/document?format=md",
                       headers=me).get_data(as_text=True)
    assert "## Status history" in markdown and "agency review → approved" in markdown
    assert "Department of Children and Families: approved by intake@example.org" in markdown
    docx = api.get(f"/api/v1/requests/{request_id}/document?format=docx", headers=me)
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    assert api.get(f"/api/v1/requests/{request_id}/document?format=exe", headers=me
                   ).status_code == 400


def test_the_api_merges_justifications_and_names_a_wrong_key(site: WebCatalog) -> None:
    api = site.app.test_client()
    me = token_of(site, "researcher@example.org")
    request_id = api.post("/api/v1/requests", json={"form": FORM}, headers=me).get_json()["id"]
    foster, claims = site.datasets["foster-care-placements"], site.datasets["ui-claims"]
    for dataset_id in (foster, claims):
        assert api.post(f"/api/v1/requests/{request_id}/items", json={"dataset_id": dataset_id},
                        headers=me).status_code == 201
    url = f"/api/v1/requests/{request_id}"
    assert api.patch(url, json={"justifications": {str(foster): "Exits from care."}},
                     headers=me).status_code == 200
    both = api.patch(url, json={"justifications": {str(claims): "Employment outcome."}},
                     headers=me).get_json()["justifications"]
    assert both == {str(foster): "Exits from care.", str(claims): "Employment outcome."}
    # A key naming no dataset of the request is refused, by name, and nothing is lost.
    for body, part, key in (({"justifications": {"999999": "x"}}, "justifications", "999999"),
                            ({"justifications": {"dataset:145": "x"}}, "justifications",
                             "dataset:145"),
                            ({"item_justifications": {"999999": "x"}}, "item_justifications",
                             "999999")):
        refused = api.patch(url, json=body, headers=me)
        assert refused.status_code == 400, body
        messages = refused.get_json()["error"]["fields"][part]
        assert any(key in m for m in messages), messages
    kept = api.get(url, headers=me).get_json()
    assert kept["justifications"] == both
    # An empty text clears one justification and leaves the other.
    cleared = api.patch(url, json={"justifications": {str(foster): ""}}, headers=me).get_json()
    assert cleared["justifications"] == {str(claims): "Employment outcome."}


def test_an_item_restricted_after_it_was_added_is_counted_never_named(
        site: WebCatalog) -> None:
    """A dataset restricted after the requester added it: the request counts the item and
    cannot go with it, but never names it (page, submit errors, API); saving the draft
    keeps its justification; removing it lets the request go."""
    from catalog.models import Dataset

    add_account(site.catalog, "late@example.org", "viewer")
    late, csrf = client_of(site, "late@example.org")
    late.post("/requests", data={"csrf": csrf})
    births, foster = site.datasets["birth-file"], site.datasets["foster-care-placements"]
    add(late, csrf, births, site.fields["APGAR5"])
    add(late, csrf, foster, site.fields["REMOVAL_DT"])
    request_id = draft_id(late)
    assert fill(late, csrf, request_id, site).status_code == 200

    def restrict(level: str) -> None:
        with site.catalog.transaction() as session:
            session.get(Dataset, births).access_level = level

    def saved() -> dict[str, str]:
        from catalog.data_requests import get_request

        with site.catalog.session() as session:
            found = get_request(session, request_id)
            assert found is not None
            return dict(found.justifications or {})

    restrict("restricted")
    try:
        page = late.get(f"/requests/{request_id}/edit").get_data(as_text=True)
        assert "Birth File" not in page and "APGAR5" not in page
        assert "1 item of this request can no longer be shown to you" in page
        assert fill(late, csrf, request_id, site).status_code == 200  # Save draft
        assert str(births) in saved()  # its justification is kept, unseen
        refused = fill(late, csrf, request_id, site, action="submit")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "Birth" not in text and "APGAR" not in text
        assert "1 item you can no longer see (restricted since you added them)" in text
        api, me = site.app.test_client(), token_of(site, "late@example.org")
        url = f"/api/v1/requests/{request_id}"
        early = api.post(f"{url}/transitions", json={"to": "submitted"}, headers=me)
        assert early.status_code == 409
        assert "Birth" not in early.get_data(as_text=True)
        body = api.get(url, headers=me).get_json()
        assert body["items_not_shown"] == 1 and str(births) not in body["justifications"]
        # The API answers about a hidden dataset as about one the request never held.
        for key in (str(births), "999999"):
            wrong = api.patch(url, json={"justifications": {key: "x"}}, headers=me)
            assert wrong.status_code == 400
            assert wrong.get_json()["error"]["fields"] == {
                "justifications": [f"{key}: this request holds no such dataset"]}
        # A hidden item is not there to take out by its id, like one never held.
        from catalog.data_requests import get_request

        with site.catalog.session() as session:
            held = get_request(session, request_id)
            assert held is not None
            hidden_item = next(i.id for i in held.items if i.dataset_id == births)
        hidden_delete = api.delete(f"{url}/items/{hidden_item}", headers=me)
        missing_delete = api.delete(f"{url}/items/{2**62}", headers=me)
        assert hidden_delete.get_json()["error"]["message"] == \
            f"no item {hidden_item} in request {request_id}"  # as for {2**62}
        # "Remove them" belongs to the draft's form: what was typed is saved first.
        removed = fill(late, csrf, request_id, site, remove="not-shown",
                       purpose="Typed just before removing.")
        assert removed.status_code == 302
        after = late.get(removed.headers["Location"]).get_data(as_text=True)
        assert "Removed 1 item you can no longer see. What you wrote is saved." in after
        assert "Typed just before removing." in after
        assert api.get(url, headers=me).get_json()["items_not_shown"] == 0
        assert hidden_delete.status_code == missing_delete.status_code == 404
        assert str(births) not in saved()
        assert fill(late, csrf, request_id, site, action="submit").status_code == 302
    finally:
        restrict("public")


def test_who_may_not_change_a_request_learns_nothing_from_its_keys(site: WebCatalog) -> None:
    """Editability is checked before the keys: someone who may read but not change the
    request gets the same 403 whatever the keys name."""
    api = site.app.test_client()
    me, officer = token_of(site, "researcher@example.org"), token_of(site, "intake@example.org")
    request_id = api.post("/api/v1/requests", json={"form": FORM}, headers=me).get_json()["id"]
    url = f"/api/v1/requests/{request_id}"
    foster = site.datasets["foster-care-placements"]
    api.post(f"{url}/items", json={"dataset_id": foster}, headers=me)
    api.patch(url, json={"justifications": {str(foster): "Exits."}}, headers=me)
    items = api.get(url, headers=me).get_json()["items"]
    api.patch(url, headers=me, json={"item_justifications": {str(i["id"]): "Link."
                                                               for i in items}})
    assert api.post(f"{url}/transitions", json={"to": "submitted"}, headers=me
                    ).status_code == 200
    answers = {api.patch(url, json={"justifications": {key: "x"}}, headers=officer).status_code
               for key in (str(foster), "999999", str(site.datasets["zephyrine-ledger"]))}
    assert answers == {403}


def test_the_api_changes_only_what_a_patch_names(site: WebCatalog) -> None:
    api = site.app.test_client()
    me = token_of(site, "researcher@example.org")
    request_id = api.post("/api/v1/requests", json={"form": FORM}, headers=me).get_json()["id"]
    url = f"/api/v1/requests/{request_id}"
    changed = api.patch(url, json={"form": {"title": "A new title"}}, headers=me).get_json()
    assert changed["form"] == {**FORM, "title": "A new title"}  # the other parts are kept
    cleared = api.patch(url, json={"form": {"funding": None}}, headers=me).get_json()
    assert "funding" not in cleared["form"] and cleared["form"]["purpose"] == FORM["purpose"]
    # A choice is stored as the option it names, so the form's list shows it chosen.
    chosen = api.patch(url, json={"form": {"level": " Record ", "recurrence": "Recurring"}},
                       headers=me).get_json()["form"]
    assert (chosen["level"], chosen["recurrence"]) == ("record", "recurring")
    api.patch(url, json={"form": {"benefit": None}}, headers=me)
    early = api.post(f"{url}/transitions", json={"to": "submitted"}, headers=me).get_json()
    assert "Benefit to the state: must be filled in" in early["error"]["message"]
    api.patch(url, json={"form": {"benefit": FORM["benefit"]}}, headers=me)
    for body, where, message in (
            ({"form": {"titel": "x"}}, "form", "titel: Unknown field."),
            ({"justification": {}}, "justification", "Unknown field."),
            ({"justifications": {"12": 5}}, "justifications", "12: Not a valid string."),
            ({"form": "x"}, "form", "Invalid input type.")):
        refused = api.patch(url, json=body, headers=me)
        assert refused.status_code == 400, body
        assert refused.get_json()["error"]["fields"][where] == [message], body
    for body in ([], "x", [{"form": {}}]):
        refused = api.patch(url, json=body, headers=me)
        assert refused.status_code == 400
        assert refused.get_json()["error"]["message"] == "the body must be a JSON object"
    assert api.get(url, headers=me).get_json()["form"]["title"] == "A new title"
    # A new request holds nothing yet to justify; nothing is created.
    before = api.get("/api/v1/requests", headers=me).get_json()["total"]
    early = api.post("/api/v1/requests", json={"form": FORM, "justifications": {"1": "x"}},
                     headers=me)
    assert early.status_code == 400
    assert early.get_json()["error"]["fields"] == {
        "justifications": ["1: this request holds no such dataset"]}
    assert api.get("/api/v1/requests", headers=me).get_json()["total"] == before
    # An item is taken out by its id; a second time it is not there.
    added = api.post(f"{url}/items", json={"field_id": site.fields["REMOVAL_DT"]}, headers=me)
    item_id = added.get_json()["items"][0]["id"]
    foster = str(site.datasets["foster-care-placements"])
    assert api.patch(url, json={"justifications": {foster: "Exits."}}, headers=me
                     ).get_json()["justifications"] == {foster: "Exits."}
    assert api.delete(f"{url}/items/{item_id}", headers=me).get_json()["items"] == []
    with site.catalog.session() as session:  # not only hidden: gone from the record
        from catalog.data_requests import get_request

        found = get_request(session, request_id)
        assert found is not None and found.justifications == {}
    assert api.delete(f"{url}/items/{item_id}", headers=me).status_code == 404
    # A body beyond any the catalog needs is refused before it is read.
    huge = api.patch(url, data=b"{" + b" " * (9 * 1024 * 1024) + b"}",
                     content_type="application/json", headers=me)
    assert huge.status_code == 413 and "8 MB" in huge.get_json()["error"]["message"]
    # Sent in chunks, without a length, it is refused too (not cut and used).
    import io

    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=url, method="PATCH", headers=me,
                             content_type="application/json",
                             input_stream=io.BytesIO(b'{"form": {"title": "cut"}}'
                                                     + b" " * (9 * 1024 * 1024))).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input_terminated"] = True
    assert api.open(environ).status_code == 413
    assert api.get(url, headers=me).get_json()["form"]["title"] != "cut"
    untyped = api.patch(url, data='{"form": {}}', content_type="text/plain", headers=me)
    assert untyped.status_code == 400
    assert "Content-Type: application/json" in untyped.get_json()["error"]["message"]


def test_a_hidden_field_answers_as_a_missing_one_whoever_asks(site: WebCatalog) -> None:
    """Adding a field of a hidden dataset answers exactly as adding one that does not exist
    — for the requester's draft (404), a request that may no longer change (409) and
    someone else's request (403): the rights are checked before the id is looked up."""
    api = site.app.test_client()
    me, officer = token_of(site, "researcher@example.org"), token_of(site, "intake@example.org")
    hidden, missing = site.fields["MARMOSET_WAGE"], 2**62
    draft = api.post("/api/v1/requests", json={"form": FORM}, headers=me).get_json()["id"]
    submitted = api.post("/api/v1/requests", json={"form": FORM}, headers=me).get_json()["id"]
    url = f"/api/v1/requests/{submitted}"
    foster = site.datasets["foster-care-placements"]
    api.post(f"{url}/items", json={"dataset_id": foster}, headers=me)
    items = api.get(url, headers=me).get_json()["items"]
    api.patch(url, headers=me, json={"justifications": {str(foster): "Exits."},
                                     "item_justifications": {str(i["id"]): "Link."
                                                             for i in items}})
    assert api.post(f"{url}/transitions", json={"to": "submitted"}, headers=me
                    ).status_code == 200
    for request_id, who, status in ((draft, me, 404), (submitted, me, 409),
                                    (submitted, officer, 403)):
        answers = [api.post(f"/api/v1/requests/{request_id}/items", json={"field_id": f},
                            headers=who) for f in (hidden, missing)]
        assert [a.status_code for a in answers] == [status, status]
        assert answers[0].get_json() == answers[1].get_json()
    researcher, csrf = client_of(site, "researcher@example.org")
    assert add(researcher, csrf, site.datasets["ui-claims"], 2**63).status_code == 404
    assert add(researcher, csrf, 2**70).status_code == 404
    assert researcher.post("/cart/items", data={"csrf": csrf, "dataset_id": "\uff13\uff14"}
                           ).status_code == 400


def test_text_no_page_or_database_can_hold_is_refused_at_the_door(site: WebCatalog) -> None:
    """A lone surrogate, a NUL or JSON nested past parsing: 400 naming it, nothing stored,
    and the pages that show the request keep working."""
    api = site.app.test_client()
    me = token_of(site, "researcher@example.org")
    request_id = api.post("/api/v1/requests", json={"form": FORM}, headers=me).get_json()["id"]
    url = f"/api/v1/requests/{request_id}"
    for body, problem in (('{"form": {"title": "Surrogate \\ud800"}}', "surrogate"),
                          ('{"form": {"title": "NUL \\u0000"}}', "NUL"),
                          ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
                          ('{"form": {"title": ' + "9" * 5000 + "}}", "4,300 digits")):
        refused = api.patch(url, data=body, content_type="application/json", headers=me)
        assert refused.status_code == 400, body[:40]
        assert problem in refused.get_json()["error"]["message"]
    assert api.get(url, headers=me).get_json()["form"]["title"] == FORM["title"]
    researcher, csrf = client_of(site, "researcher@example.org")
    form = researcher.post(f"/requests/{request_id}/edit", data={
        "csrf": csrf, "action": "save", "title": "NUL \x00 in a form"})
    assert form.status_code == 400 and "NUL" in form.get_data(as_text=True)
    assert researcher.get(f"/requests/{request_id}").status_code == 200
    assert api.get(url, headers=me).get_json()["form"]["title"] == FORM["title"]


def test_removing_an_item_keeps_what_was_typed_and_a_lone_part_changes_alone(
        site: WebCatalog) -> None:
    researcher, csrf = client_of(site, "researcher@example.org")
    researcher.post("/requests", data={"csrf": csrf})
    request_id = draft_id(researcher)
    add(researcher, csrf, site.datasets["birth-file"], site.fields["APGAR5"])
    assert fill(researcher, csrf, request_id, site).status_code == 200
    page = researcher.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    item = re.search(r'form="draft" name="remove" value="(\d+)"', page).group(1)
    gone = fill(researcher, csrf, request_id, site, remove=item, purpose="Typed, then removed.")
    assert gone.status_code == 302
    page = researcher.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert "APGAR5" not in page and "Typed, then removed." in page
    # A field of a dataset held whole is in the request already: no second item.
    add(researcher, csrf, site.datasets["ui-claims"])
    again = add(researcher, csrf, site.datasets["ui-claims"], site.fields["CLAIM_ID"])
    assert "holds the whole dataset already" in researcher.get(
        again.headers["Location"], follow_redirects=True).get_data(as_text=True)
    page = researcher.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert page.count('name="remove" value=') == 1
    # A post of one part changes that part only.
    researcher.post(f"/requests/{request_id}/edit", data={"csrf": csrf, "action": "save",
                                                          "title": "Only the title"})
    page = researcher.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert "Only the title" in page and "Typed, then removed." in page


def test_a_tampered_form_field_is_ignored_not_a_crash(site: WebCatalog) -> None:
    researcher, csrf = client_of(site, "researcher@example.org")
    researcher.post("/requests", data={"csrf": csrf})
    request_id = draft_id(researcher)
    answer = researcher.post(f"/requests/{request_id}/edit", data={
        "csrf": csrf, "action": "save", "title": "Kept", "why_item_\u00b2": "x",
        "why_item_\u0663": "y", "why_item_1e3": "z"})
    assert answer.status_code == 200 and "Saved." in answer.get_data(as_text=True)
    # The browser keeps every part within what the catalog stores (nothing typed is lost
    # to an error page).
    assert answer.get_data(as_text=True).count('maxlength="20000"') >= len(FORM) - 2


# ------------------------------------------------------------------------- metrics

# A seeded set with fixed dates, and the figures computed by hand (see each comment).
SEEDED = {
    # 1 agency: submitted 10 d, screening 10, agency review 40, approved 30, agreement 30,
    # fulfilled 10; decision 2026-01-01 → 2026-03-02 = 60 days (within 84).
    "R1": (["dcf"], 0, [("2026-01-01", "submitted"), ("2026-01-11", "screening"),
                        ("2026-01-21", "agency_review"), ("2026-03-02", "approved"),
                        ("2026-04-01", "agreement_signed"), ("2026-05-01", "fulfilled"),
                        ("2026-05-11", "closed")]),
    # 2 agencies: submitted 5, screening 10, changes 30, submitted 2, screening 20,
    # agency review 180, denied 10; decision 2026-02-01 → 2026-10-06 = 247 days (> 168).
    "R2": (["dcf", "dol"], 1, [("2026-02-01", "submitted"), ("2026-02-06", "screening"),
                               ("2026-02-16", "changes_requested"),
                               ("2026-03-18", "submitted"), ("2026-03-20", "screening"),
                               ("2026-04-09", "agency_review"), ("2026-10-06", "denied"),
                               ("2026-10-16", "closed")]),
    # Open: submitted 2 d, screening since 2026-06-03; 183 days old on 2026-12-01.
    "R3": (["dol"], 0, [("2026-06-01", "submitted"), ("2026-06-03", "screening")]),
    # Open: submitted 10 days before 2026-12-01.
    "R4": (["dol"], 0, [("2026-11-21", "submitted")]),
    # Withdrawn after 10 days in submitted, closed a day later.
    "R6": (["dcf"], 0, [("2026-03-01", "submitted"), ("2026-03-11", "withdrawn"),
                        ("2026-03-12", "closed")]),
}
HAND = {
    "by_status": {"closed": 3, "screening": 1, "submitted": 1},
    "stages": {
        "submitted": {"count": 5, "median_days": 5.0, "p90_days": 10.0},  # 10 5 2 2 10
        "screening": {"count": 3, "median_days": 10.0, "p90_days": 20.0},  # 10 10 20
        "agency_review": {"count": 2, "median_days": 110.0, "p90_days": 180.0},  # 40 180
        "changes_requested": {"count": 1, "median_days": 30.0, "p90_days": 30.0},
        "approved": {"count": 1, "median_days": 30.0, "p90_days": 30.0},
        "agreement_signed": {"count": 1, "median_days": 30.0, "p90_days": 30.0},
        "fulfilled": {"count": 1, "median_days": 10.0, "p90_days": 10.0},
        "denied": {"count": 1, "median_days": 10.0, "p90_days": 10.0},
        "withdrawn": {"count": 1, "median_days": 1.0, "p90_days": 1.0},
    },
    "decision": {"count": 2, "median_days": 153.5, "p90_days": 247.0, "within_benchmark": 1},
    "open_by_age": {"0–30 days": 1, "31–90 days": 0, "91–180 days": 0, "181–365 days": 1,
                    "over a year": 0},
    "revision_rounds": {"0": 4, "1": 1},
    "closing_reasons": {"fulfilled": 1, "denied": 1, "withdrawn": 1},
}


def test_intake_metrics_match_a_hand_computed_set(tmp_path: Any, embedder: Embedder) -> None:
    from datetime import UTC, datetime

    from catalog import request_metrics
    from catalog.request_models import DataRequest, RequestEvent, RequestItem

    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=None,
                                    elasticsearch_url=None), embedder=embedder)
    built = build_catalog(catalog)
    datasets = {"dcf": built.datasets["foster-care-placements"],
                "dol": built.datasets["ui-claims"]}

    def day(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    with catalog.transaction() as session:
        for name, (agencies, revisions, moves) in SEEDED.items():
            found = DataRequest(status=moves[-1][1], form={"title": name}, justifications={},
                                revisions=revisions, created_at=day(moves[0][0]),
                                updated_at=day(moves[-1][0]), submitted_at=day(moves[0][0]),
                                closing_reason={"R1": "fulfilled", "R2": "denied",
                                                "R6": "withdrawn"}.get(name))
            session.add(found)
            for slug in agencies:
                session.add(RequestItem(request=found, dataset_id=datasets[slug],
                                        field_name=None, added_at=day(moves[0][0])))
            before = "draft"
            for when, to in moves:
                session.add(RequestEvent(request=found, kind="transition", from_status=before,
                                         to_status=to, actor="seed", at=day(when)))
                before = to
        draft = DataRequest(status="draft", form={}, justifications={}, revisions=0,
                            created_at=day("2026-11-30"), updated_at=day("2026-11-30"))
        session.add(draft)
    with catalog.session() as session:
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        found = list(session.scalars(select(DataRequest).options(
            selectinload(DataRequest.events), selectinload(DataRequest.items))))
        figures = request_metrics.compute(found, now=day("2026-12-01")).as_dict()
        csv_text = request_metrics.compute(found, now=day("2026-12-01")).csv()
    print("\nintake metrics (seeded):", figures["stages"], figures["submission_to_decision"])
    assert figures["by_status"] == HAND["by_status"]
    assert figures["stages"] == HAND["stages"]
    decision = figures["submission_to_decision"]
    assert {k: decision[k] for k in HAND["decision"]} == HAND["decision"]
    assert figures["open_by_age"] == HAND["open_by_age"]
    assert figures["revision_rounds"] == HAND["revision_rounds"]
    assert figures["closing_reasons"] == HAND["closing_reasons"]
    assert "stage median days,agency_review,110.0" in csv_text
    catalog.close()


def test_a_contact_without_a_name_is_given_by_email_once() -> None:
    from catalog.models import Agency, User
    from catalog.request_documents import _contacts, contact_line

    agency = Agency(slug="dol", name="Department of Labor")
    named = User(email="ann@dol.example", name="Ann Steward", role="steward")
    nameless = User(email="data@dol.example", name=None, role="steward")
    lines = [contact_line(c) for c in _contacts(agency, [(named, True), (nameless, False)])]
    assert lines == ["Agency Data Officer: Ann Steward ann@dol.example",
                     "Data steward: data@dol.example"]
