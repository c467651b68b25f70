"""Suggestions (a viewer suggests, the agency's stewards decide, the viewer sees the outcome)
and bulk documentation (CSV and XLSX: preview, errors naming rows, apply as one change set,
revert as one, refused when the fields changed since the preview), on a real catalog.
"""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from sqlalchemy import select

from catalog.models import Change, Field
from tests.stewardfixtures import field_form, form_state
from tests.webfixtures import WebCatalog, csrf_of, sign_in


def _field(built: WebCatalog, name: str) -> Field:
    with built.catalog.session() as session:
        found = session.scalar(select(Field).where(Field.name == name))
        assert found is not None
        return found


# ------------------------------------------------------------------------ suggestions


def test_a_suggestion_accepted_and_one_rejected(stewarded: WebCatalog) -> None:
    field = _field(stewarded, "EXIT_RSN_CD")  # DCF, public
    viewer = stewarded.app.test_client()
    csrf = sign_in(viewer, "viewer@example.org")
    page = viewer.get(f"/fields/{field.id}").get_data(as_text=True)
    assert "Suggest a correction" in page and "Edit this field" not in page
    sent = viewer.post(f"/fields/{field.id}/suggest", data={
        "csrf": csrf, "column": "description", "value": "Why the child left foster care.",
        "comment": "From the DCF manual."})
    assert sent.status_code == 302
    bad = viewer.post(f"/fields/{field.id}/suggest", data={
        "csrf": csrf, "column": "sensitivity", "value": "top secret"})
    assert bad.status_code == 400 and "is not one of" in bad.get_data(as_text=True)
    assert viewer.post(f"/fields/{field.id}/suggest", data={
        "csrf": csrf, "column": "label", "value": "Exit reason"}).status_code == 302
    mine = viewer.get("/suggestions").get_data(as_text=True)
    assert mine.count("<span class=\"status\">open</span>") == 2

    # A steward of another agency sees none of them and may not decide them.
    other = stewarded.app.test_client()
    other_csrf = sign_in(other, "dol-a@example.org")
    assert "Why the child left foster care." not in other.get("/steward/suggestions").get_data(
        as_text=True)
    ids = [int(i) for i in re.findall(r'id="suggestion-(\d+)"',
                                      _admin_queue(stewarded))]
    assert len(ids) == 2
    assert other.post(f"/suggestions/{ids[0]}/decide",
                      data={"csrf": other_csrf, "decision": "accept"}).status_code == 403
    assert viewer.get("/steward/suggestions").status_code == 403

    admin = stewarded.app.test_client()
    admin_csrf = sign_in(admin, "admin@example.org")
    queue = admin.get("/steward/suggestions").get_data(as_text=True)
    assert "Why the child left foster care." in queue and "viewer@example.org" in queue
    accepted = admin.post(f"/suggestions/{ids[0]}/decide",
                          data={"csrf": admin_csrf, "decision": "accept"},
                          follow_redirects=True)
    assert "accepted and applied as your edit" in accepted.get_data(as_text=True)
    no_reason = admin.post(f"/suggestions/{ids[1]}/decide",
                           data={"csrf": admin_csrf, "decision": "reject", "reason": " "},
                           follow_redirects=True)
    assert "give a reason" in no_reason.get_data(as_text=True)
    admin.post(f"/suggestions/{ids[1]}/decide", data={
        "csrf": admin_csrf, "decision": "reject",
        "reason": "The label follows the federal AFCARS element name."})
    twice = admin.post(f"/suggestions/{ids[0]}/decide",
                       data={"csrf": admin_csrf, "decision": "reject", "reason": "no"},
                       follow_redirects=True)
    assert "was already accepted" in twice.get_data(as_text=True)

    now = _field(stewarded, "EXIT_RSN_CD")
    assert now.description == "Why the child left foster care." and now.label == "Reason for exit"
    with stewarded.catalog.session() as session:
        change = session.scalars(select(Change).where(Change.entity_id == now.id)
                                 .order_by(Change.id.desc())).first()
        assert change is not None and change.actor == "web:admin@example.org"
        assert change.after["note"] == f"accepted suggestion #{ids[0]}"
    outcome = viewer.get("/suggestions").get_data(as_text=True)
    assert "<span class=\"status\">accepted</span>" in outcome
    assert "<span class=\"status\">rejected</span>" in outcome
    assert "The label follows the federal AFCARS element name." in outcome
    # Suggestions on a dataset since hidden from the suggester are counted, not named.
    from catalog.models import Dataset

    def level(value: str) -> None:
        with stewarded.catalog.transaction() as session:
            session.get(Dataset, now.dataset_id).access_level = value

    level("restricted")
    try:
        hidden = viewer.get("/suggestions").get_data(as_text=True)
        assert "2 more suggestions of yours are on data you can no longer see" in hidden
        assert "You have not suggested anything yet" not in hidden
        assert "Why the child left foster care." not in hidden
    finally:
        level("public")
    # Searchable at once, as an edit is.
    hits = viewer.get("/api/v1/search", query_string={
        "q": "why the child left foster care", "kind": "field", "mode": "lexical"}).get_json()
    assert hits["hits"][0]["id"] == now.id


def _admin_queue(built: WebCatalog) -> str:
    client = built.app.test_client()
    sign_in(client, "admin@example.org")
    return client.get("/steward/suggestions").get_data(as_text=True)


# ------------------------------------------------------------------------- bulk upload


def _upload(client, dataset_id: int, name: str, data: bytes):
    csrf = csrf_of(client.get(f"/datasets/{dataset_id}/documentation").get_data(as_text=True))
    return client.post(f"/datasets/{dataset_id}/documentation",
                       data={"csrf": csrf, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _apply(client, page: str):
    match = re.search(r'action="(/documentation/[^"]+/apply)"', page)
    assert match, page[:3000]
    return client.post(match.group(1), data={"csrf": csrf_of(page)})


def test_bulk_upload_preview_errors_apply_and_revert(stewarded: WebCatalog) -> None:
    dataset_id = stewarded.datasets["birth-file"]
    client = stewarded.app.test_client()
    sign_in(client, "dph@example.org")
    broken = (b"name,description,sensitivity\n"
              b"BWT_GRAMS,Weight of the infant at birth in grams,\n"
              b"GEST_WKS,Completed weeks of gestation,\n"
              b"NO_SUCH_FIELD,Something,\n"
              b"APGAR5,,secretive\n"
              b"bwt_grams,Twice,\n")
    answer = _upload(client, dataset_id, "births.csv", broken)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "nothing can be applied" in page
    assert "row 4: no field named &#39;NO_SUCH_FIELD&#39; in dataset &#39;birth-file&#39;" in page
    assert "row 5, Sensitivity: " in page and "row 6: field &#39;BWT_GRAMS&#39; is already" in page
    assert "/apply" not in page
    assert _upload(client, dataset_id, "x.csv", b"field,colour\nA,red\n").status_code == 400

    good = (b"name,description,label,codes\n"
            b"BWT_GRAMS,Weight of the infant at birth in grams,,\n"
            b"GEST_WKS,Completed weeks of gestation,Gestation (weeks),\n"
            b"PLURALITY,,,1 = Single; 2 = Twin; 3 = Triplet\n"
            b"FAC_NAME,,Facility name,\n")  # the last row changes nothing
    answer = _upload(client, dataset_id, "births.csv", good)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page[:3000]
    assert "3 fields would change (4 parts); 1 row changes nothing" in page
    assert _field(stewarded, "BWT_GRAMS").description is None  # a preview writes nothing
    applied = _apply(client, page)
    assert applied.status_code == 303
    assert _field(stewarded, "GEST_WKS").label == "Gestation (weeks)"
    assert _field(stewarded, "PLURALITY").value_labels[1] == {"code": "2", "label": "Twin"}
    with stewarded.catalog.session() as session:
        changes = list(session.scalars(select(Change).where(
            Change.dataset_id == dataset_id, Change.action == "steward-edit")))
        sets = {c.change_set for c in changes}
        assert len(changes) == 3 and len(sets) == 1 and None not in sets
        first = changes[0].id
    assert "already applied" in client.post(
        re.search(r'action="(/documentation/[^"]+/apply)"', page).group(1),
        data={"csrf": csrf_of(page)}, follow_redirects=True).get_data(as_text=True)
    hits = client.get("/api/v1/search", query_string={
        "q": "completed weeks of gestation", "kind": "field", "mode": "lexical"}).get_json()
    assert hits["hits"][0]["id"] == _field(stewarded, "GEST_WKS").id

    history = client.get(f"/datasets/{dataset_id}/history").get_data(as_text=True)
    assert "Revert the whole change set" in history
    csrf = csrf_of(history)
    assert client.post(f"/changes/{first}/revert", data={"csrf": csrf}).status_code == 303
    assert _field(stewarded, "GEST_WKS").label == "Gestational age in weeks"
    assert _field(stewarded, "BWT_GRAMS").description is None
    assert _field(stewarded, "PLURALITY").value_labels == []


def test_bulk_xlsx_is_refused_when_a_field_changed_since_the_preview(
    stewarded: WebCatalog
) -> None:
    dataset_id = stewarded.datasets["birth-file"]
    client = stewarded.app.test_client()
    sign_in(client, "dph@example.org")
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Description", "Data type"])
    sheet.append(["MOTHER_AGE", "Mother's age in years at the delivery", None])
    sheet.append(["FATHER_AGE", None, "number"])
    data = io.BytesIO()
    book.save(data)
    page = _upload(client, dataset_id, "ages.xlsx", data.getvalue()).get_data(as_text=True)
    assert "2 fields would change (2 parts)" in page
    field = _field(stewarded, "MOTHER_AGE")
    state, values = field_form(client, field.id)  # meanwhile, an edit of one of them
    values["description"] = "Age of the mother."
    assert client.post(f"/fields/{field.id}/edit", data={**state, **values}).status_code == 302
    refused = _apply(client, page)
    assert refused.status_code == 303
    text = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "1 of the fields changed since the preview (row 2 (MOTHER_AGE))" in text
    assert _field(stewarded, "MOTHER_AGE").description == "Age of the mother."
    assert _field(stewarded, "FATHER_AGE").data_type == "integer"  # nothing applied
    assert form_state(client.get(f"/fields/{field.id}/edit").get_data(as_text=True))
