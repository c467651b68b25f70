"""Stewards editing in the web app and over the API, on a real catalog (real model, real
engines): edits searchable at once on both engines, the history with reverts, stale saves
refused with the difference, who may edit what (the A/B matrix), harvests keeping steward
text with the source's newer text shown beside it, and the agency page's people.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from catalog.models import Change, Field
from catalog.schemas import DatasetInSchema
from catalog.store import find_or_create_agency, upsert_dataset
from tests.stewardfixtures import field_form, form_state, token_for
from tests.webfixtures import RECORDS, WebCatalog, sign_in


def _field(built: WebCatalog, name: str) -> Field:
    with built.catalog.session() as session:
        found = session.scalar(select(Field).where(Field.name == name))
        assert found is not None
        return found


def _top_field_hits(client: Any, words: str) -> list[int]:
    answer = client.get("/api/v1/search", query_string={"q": words, "kind": "field",
                                                        "mode": "lexical"})
    assert answer.status_code == 200
    return [h["id"] for h in answer.get_json()["hits"] if h["kind"] == "field"]


# ----------------------------------------------------------- edit, search, history


def test_an_edit_is_searchable_at_once_and_revertable(both_engines: WebCatalog) -> None:
    built = both_engines
    field = _field(built, "WBA_AMT")
    words = "pelican stipend zanzibar"
    client = built.app.test_client()
    assert field.id not in _top_field_hits(client, words)
    sign_in(client, "dol-a@example.org")
    state, values = field_form(client, field.id)
    values.update(description=f"The {words} paid each week.", steward_notes="Capped by law.")
    answer = client.post(f"/fields/{field.id}/edit", data={**state, **values})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Saved: description, steward notes." in page and "Capped by law." in page
    anonymous = built.app.test_client()
    hits = _top_field_hits(anonymous, words)
    print(f"\n[{built.engine_name}] search {words!r} right after the save: "  # type: ignore[attr-defined]
          f"first hit field {hits[:1]}, edited field {field.id}")
    assert hits[:1] == [field.id]
    history = client.get(f"/datasets/{field.dataset_id}/history").get_data(as_text=True)
    assert words in history and "dol-a@example.org" in history and "Capped by law." in history
    # Anonymous visitors see the change, not the steward's e-mail address.
    public = anonymous.get(f"/datasets/{field.dataset_id}/history").get_data(as_text=True)
    assert words in public and "dol-a@example.org" not in public
    with built.catalog.session() as session:
        change = session.scalars(select(Change).where(Change.action == "steward-edit")
                                 .order_by(Change.id.desc())).first()
        assert change is not None and change.before["description"] is None
        assert change.after["description"] == f"The {words} paid each week."
    csrf = form_state(client.get(f"/fields/{field.id}/edit").get_data(as_text=True))["csrf"]
    reverted = client.post(f"/changes/{change.id}/revert", data={"csrf": csrf})
    assert reverted.status_code == 303
    assert field.id not in _top_field_hits(anonymous, words)
    assert _field(built, "WBA_AMT").description is None
    again = client.post(f"/changes/{change.id}/revert", data={"csrf": csrf}, follow_redirects=True)
    assert "already reverted" in again.get_data(as_text=True)


def test_a_steward_restricts_a_dataset_and_it_stays_restricted(
        both_engines: WebCatalog) -> None:
    """A steward sets who may see a dataset: restricted, it is gone for everyone but the
    agency's stewards (pages, search on either engine, counts), a re-harvest that still says
    public keeps it restricted, and a revert makes it public again."""
    built = both_engines
    dataset_id = built.datasets["ui-claims"]
    query = {"q": "unemployment insurance claims", "per_page": 50}

    def found(client: Any) -> tuple[bool, int]:
        body = client.get("/api/v1/search", query_string=query).get_json()
        return any(h["dataset"] == "ui-claims" for h in body["hits"]), body["total"]

    anonymous, viewer, steward = (built.app.test_client() for _ in range(3))
    sign_in(viewer, "viewer@example.org")
    sign_in(steward, "dol-a@example.org")
    seen, total = found(anonymous)
    assert seen and anonymous.get(f"/datasets/{dataset_id}").status_code == 200
    state = form_state(steward.get(f"/datasets/{dataset_id}/edit").get_data(as_text=True))
    answer = steward.post(f"/datasets/{dataset_id}/edit",
                          data={**state, "access_level": "restricted"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    for client in (anonymous, viewer):
        assert client.get(f"/datasets/{dataset_id}").status_code == 404
        hidden, fewer = found(client)
        assert not hidden and (client is viewer or fewer < total)
    assert steward.get(f"/datasets/{dataset_id}").status_code == 200
    assert found(steward)[0]
    # The source still says public; the steward's level is kept through the harvest.
    record = dict(next(r for r in RECORDS if r["identifier"] == "ui-claims"))
    record["description"] = "Initial claims, as the source now words them."
    with built.catalog.transaction() as session:
        loaded = DatasetInSchema().load(record)
        agency = find_or_create_agency(session, loaded["agency"], loaded["agency_abbreviation"])
        upsert_dataset(session, loaded, agency=agency, fmt="test", provenance={}, actor="tests")
    built.catalog.index_datasets([dataset_id])
    assert anonymous.get(f"/datasets/{dataset_id}").status_code == 404 and not found(anonymous)[0]
    with built.catalog.session() as session:
        change = session.scalars(select(Change).where(
            Change.action == "steward-edit", Change.entity_id == dataset_id,
            Change.entity_type == "dataset").order_by(Change.id.desc())).first()
        assert change is not None and change.after["access_level"] == "restricted"
    assert steward.post(f"/changes/{change.id}/revert", data={"csrf": state["csrf"]}
                        ).status_code == 303
    assert anonymous.get(f"/datasets/{dataset_id}").status_code == 200 and found(anonymous)[0]


def test_dataset_edit_of_every_part(stewarded: WebCatalog) -> None:
    client = stewarded.app.test_client()
    sign_in(client, "dol-a@example.org")
    dataset_id = stewarded.datasets["ui-claims"]
    state = form_state(client.get(f"/datasets/{dataset_id}/edit").get_data(as_text=True))
    answer = client.post(f"/datasets/{dataset_id}/edit", data={
        **state, "title": "Unemployment Insurance Initial Claims",
        "description": "Every initial claim filed.", "keywords": "unemployment, claims, UI",
        "update_frequency": "Weekly", "contact": "DOL Office of Research"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    api = client.get(f"/api/v1/datasets/{dataset_id}").get_json()
    assert (api["title"], api["keywords"], api["update_frequency"], api["contact"]) == (
        "Unemployment Insurance Initial Claims", ["unemployment", "claims", "UI"], "Weekly",
        "DOL Office of Research")
    page = client.get(f"/datasets/{dataset_id}").get_data(as_text=True)
    assert "DOL Office of Research" in page and "Unemployment Insurance Claims" in page  # source
    bad = client.post(f"/datasets/{dataset_id}/edit", data={**state, "title": " "})
    assert bad.status_code == 400 and "Not saved" in bad.get_data(as_text=True)


# ------------------------------------------------------------------------ stale edits


def test_a_stale_web_edit_is_refused_with_the_difference(stewarded: WebCatalog) -> None:
    field = _field(stewarded, "HH_INCOME_APP")
    first, second = stewarded.app.test_client(), stewarded.app.test_client()
    sign_in(first, "dol-a@example.org")
    sign_in(second, "dol-b@example.org")
    state_a, values_a = field_form(first, field.id)
    state_b, values_b = field_form(second, field.id)  # both read the same version
    values_a["label"] = "Household income when the claim was filed"
    assert first.post(f"/fields/{field.id}/edit", data={**state_a, **values_a}).status_code == 302
    values_b["description"] = "Total household income the claimant reported."
    refused = second.post(f"/fields/{field.id}/edit", data={**state_b, **values_b})
    page = refused.get_data(as_text=True)
    shown = page.split('id="conflict-title"')[-1].split("</table>")[0]
    print("\nstale web edit: status", refused.status_code, "| the second steward sees:",
          " ".join(re.sub(r"<[^>]+>", " | ", html.unescape(">" + shown)).split()))
    assert refused.status_code == 409
    assert "someone saved this since you opened it" in page
    assert "Household income when the claim was filed" in page  # what the other saved
    assert "Household income at application" in page  # what this steward had read
    assert "Total household income the claimant reported." in page  # their own text, kept
    now = _field(stewarded, "HH_INCOME_APP")
    assert now.label == "Household income when the claim was filed" and now.description is None
    # The form now holds this steward's change over what is saved: saving again keeps both.
    state_c, values_c = form_state(page), {}
    assert state_c["version"] != state_b["version"]
    _, values_c = field_form(second, field.id)
    values_c["description"] = "Total household income the claimant reported."
    assert second.post(f"/fields/{field.id}/edit",
                       data={**state_c, **values_c}).status_code == 302
    both = _field(stewarded, "HH_INCOME_APP")
    assert (both.label, both.description) == ("Household income when the claim was filed",
                                             "Total household income the claimant reported.")


def test_a_form_without_its_version_is_incomplete_not_a_conflict(
        stewarded: WebCatalog) -> None:
    field = _field(stewarded, "CLAIM_ID")
    client = stewarded.app.test_client()
    sign_in(client, "dol-a@example.org")
    state, values = field_form(client, field.id)
    state.pop("version")
    values["label"] = "Claim reference"
    answer = client.post(f"/fields/{field.id}/edit", data={**state, **values})
    assert answer.status_code == 400
    assert "carries no version" in answer.get_data(as_text=True)
    assert "someone saved" not in answer.get_data(as_text=True)
    assert _field(stewarded, "CLAIM_ID").label != "Claim reference"


def test_a_stale_api_edit_is_412_and_nothing_is_lost(stewarded: WebCatalog) -> None:
    field = _field(stewarded, "CLAIM_ID")
    client = stewarded.app.test_client()
    headers_a = {"Authorization": f"Bearer {token_for(stewarded, 'dol-a@example.org')}"}
    headers_b = {"Authorization": f"Bearer {token_for(stewarded, 'dol-b@example.org')}"}
    got = client.get(f"/api/v1/fields/{field.id}", headers=headers_a)
    etag = got.headers["ETag"]
    assert etag.startswith('"') and got.get_json()["label"] == "Claim identifier"
    assert client.patch(f"/api/v1/fields/{field.id}", json={"label": "x"},
                        headers=headers_a).status_code == 428
    star = client.patch(f"/api/v1/fields/{field.id}", json={"label": "x"},
                        headers={**headers_a, "If-Match": "*"})
    assert star.status_code == 428 and "If-Match: *" in star.get_json()["error"]["message"]
    garbage = client.patch(f"/api/v1/fields/{field.id}", json={"label": "x"},
                           headers={**headers_a, "If-Match": "garbage"})
    assert garbage.status_code == 412 and garbage.headers["ETag"] == etag
    assert "no ETag this catalog gave" in garbage.get_json()["error"]["message"]
    saved = client.patch(f"/api/v1/fields/{field.id}", json={"label": "Claim number"},
                         headers={**headers_a, "If-Match": etag})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["field"]["label"] == "Claim number"
    assert saved.headers["ETag"] != etag
    stale = client.patch(f"/api/v1/fields/{field.id}",
                         json={"label": "Claim key", "sensitivity": "protected"},
                         headers={**headers_b, "If-Match": etag})
    body = stale.get_json()
    print("\nstale API edit:", stale.status_code, body)
    assert stale.status_code == 412
    assert body["error"]["current_etag"] == saved.headers["ETag"] == stale.headers["ETag"]
    assert {"part": "label", "then": "Claim identifier", "now": "Claim number",
            "yours": "Claim key"} in body["error"]["differences"]
    # A part changed since that version is named even when this edit does not send it.
    other = client.patch(f"/api/v1/fields/{field.id}", json={"sensitivity": "protected"},
                         headers={**headers_b, "If-Match": etag}).get_json()["error"]
    assert {"part": "label", "then": "Claim identifier", "now": "Claim number"} in \
        other["differences"]  # not sent: no "yours"
    assert _field(stewarded, "CLAIM_ID").label == "Claim number"
    assert _field(stewarded, "CLAIM_ID").sensitivity == "public"
    bad = client.patch(f"/api/v1/fields/{field.id}",
                       json={"sensitivity": "secret", "colour": "red"},
                       headers={**headers_b, "If-Match": saved.headers["ETag"]})
    assert bad.status_code == 400
    assert set(bad.get_json()["error"]["fields"]) == {"sensitivity", "colour"}
    extra = client.patch(f"/api/v1/fields/{field.id}", headers={
        **headers_b, "If-Match": saved.headers["ETag"]},
        json={"value_labels": [{"code": "1", "label": "One", "colour": "red"}]})
    assert extra.status_code == 400
    assert "colour: Unknown field." in extra.get_json()["error"]["fields"]["value_labels"][0]
    assert client.patch(f"/api/v1/fields/{field.id}", data="not json",
                        headers={**headers_b, "If-Match": saved.headers["ETag"]}
                        ).status_code == 400
    # If-Match with a list matches when any of its tags is current (RFC 9110); an API
    # token's edit is credited to the API.
    listed = client.patch(f"/api/v1/fields/{field.id}", json={"label": "Claim no."},
                          headers={**headers_b, "If-Match": f'{etag}, {saved.headers["ETag"]}'})
    assert listed.status_code == 200, listed.get_json()
    with stewarded.catalog.session() as session:
        from catalog.models import Change

        made = session.get(Change, listed.get_json()["change_id"])
        assert made is not None and made.actor == "api:dol-b@example.org"
    assert client.patch(f"/api/v1/fields/{field.id}", json={"label": "x"},
                        headers={**headers_b, "If-Match": f"{etag}, {etag}"}).status_code == 412


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_the_etag_of_a_compressed_get_saves(stewarded: WebCatalog, encoding: str) -> None:
    """A client that accepts compression (every browser, curl --compressed, requests) gets
    the ETag tagged with the encoding ("…:gzip"); sent back in If-Match it names the same
    version, and the edit is saved rather than refused as stale."""
    field = _field(stewarded, "CLAIM_ID")
    client = stewarded.app.test_client()
    headers = {"Authorization": f"Bearer {token_for(stewarded, 'dol-a@example.org')}"}
    got = client.get(f"/api/v1/fields/{field.id}",
                     headers={**headers, "Accept-Encoding": encoding})
    assert got.headers.get("Content-Encoding") == encoding
    etag = got.headers["ETag"]
    assert etag.endswith(f':{encoding}"'), etag  # as flask-compress tags it
    saved = client.patch(f"/api/v1/fields/{field.id}", json={"label": f"Claim ({encoding})"},
                         headers={**headers, "If-Match": etag})
    assert saved.status_code == 200, saved.get_json()
    assert _field(stewarded, "CLAIM_ID").label == f"Claim ({encoding})"
    # Still a version check: the old ETag, compressed or not, is now stale.
    stale = client.patch(f"/api/v1/fields/{field.id}", json={"label": "Claim key"},
                         headers={**headers, "If-Match": etag})
    assert stale.status_code == 412


# ---------------------------------------------------------------- who may edit what


def test_restricted_dataset_of_agency_a_matrix(stewarded: WebCatalog) -> None:
    """404 for anonymous and for a steward of B; visible and editable for a steward of A."""
    dataset_id = stewarded.datasets["marmoset-wage-match"]
    field_id = stewarded.fields["MARMOSET_WAGE"]
    tokens = {"steward A (dol)": token_for(stewarded, "dol-b@example.org"),
              "steward B (dph)": token_for(stewarded, "dph@example.org")}
    clients = {"anonymous": stewarded.app.test_client()}
    for who, email in (("steward A (dol)", "dol-b@example.org"),
                       ("steward B (dph)", "dph@example.org")):
        clients[who] = stewarded.app.test_client()
        sign_in(clients[who], email)
    pages = [f"/datasets/{dataset_id}", f"/fields/{field_id}", f"/datasets/{dataset_id}/edit",
             f"/fields/{field_id}/edit", f"/datasets/{dataset_id}/history",
             f"/datasets/{dataset_id}/documentation", f"/fields/{field_id}/suggest"]
    matrix: dict[str, dict[str, int]] = {}
    for who, client in clients.items():
        row = {url: client.get(url).status_code for url in pages}
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who in tokens else {}
        for url in (f"/api/v1/datasets/{dataset_id}", f"/api/v1/fields/{field_id}"):
            got = client.get(url, headers=headers)
            row[f"GET {url}"] = got.status_code
            etag = got.headers.get("ETag", '"none"')
            row[f"PATCH {url}"] = client.patch(
                url, json={"description": f"Edited by {who}."},
                headers={**headers, "If-Match": etag}).status_code
        matrix[who] = row
    print(f"\nrestricted dataset {dataset_id} of agency A (DOL), its field {field_id}: status")
    print(f"  {'':46}" + "".join(f"{who:>18}" for who in matrix))
    for url in matrix["anonymous"]:
        print(f"  {url:46}" + "".join(f"{matrix[who][url]:>18}" for who in matrix))
    assert set(matrix["anonymous"].values()) == {404, 401} and all(
        code == 404 for url, code in matrix["anonymous"].items() if not url.startswith("PATCH"))
    assert all(code == 401 for url, code in matrix["anonymous"].items()
               if url.startswith("PATCH"))
    assert set(matrix["steward B (dph)"].values()) == {404}
    assert set(matrix["steward A (dol)"].values()) == {200}
    assert _field(stewarded, "MARMOSET_WAGE").description == "Edited by steward A (dol)."


def test_who_may_edit_a_public_dataset(stewarded: WebCatalog) -> None:
    dataset_id = stewarded.datasets["birth-file"]  # DPH, public
    field_id = stewarded.fields["APGAR5"]
    statuses = {}
    for email in ("viewer@example.org", "dol-a@example.org", "dph@example.org",
                  "admin@example.org"):
        client = stewarded.app.test_client()
        sign_in(client, email)
        page = client.get(f"/fields/{field_id}").get_data(as_text=True)
        headers = {"Authorization": f"Bearer {token_for(stewarded, email)}"}
        etag = client.get(f"/api/v1/fields/{field_id}").headers["ETag"]
        statuses[email] = (client.get(f"/datasets/{dataset_id}/edit").status_code,
                           client.patch(f"/api/v1/fields/{field_id}", json={"notes": 1},
                                        headers={**headers, "If-Match": etag}).status_code,
                           "Edit this field" in page, "Suggest a correction" in page)
    assert statuses == {
        "viewer@example.org": (403, 403, False, True),
        "dol-a@example.org": (403, 403, False, True),
        "dph@example.org": (200, 400, True, False),  # may edit: "notes" is not a part
        "admin@example.org": (200, 400, True, False),
    }
    anonymous = stewarded.app.test_client()
    assert anonymous.patch(f"/api/v1/fields/{field_id}", json={}).status_code == 401
    assert "Suggest a correction" not in anonymous.get(f"/fields/{field_id}").get_data(
        as_text=True)


# ------------------------------------------------------------- harvests and people


def test_a_harvest_keeps_steward_text_and_the_page_shows_the_source_newer(
    new_catalog: Any
) -> None:
    from tests.webfixtures import add_account, build_catalog

    built = build_catalog(new_catalog)
    add_account(new_catalog, "dcf@example.org", "steward", ("dcf",))
    client = built.app.test_client()
    sign_in(client, "dcf@example.org")
    field_id = built.fields["PLCMT_TYPE_CD"]
    state, values = field_form(client, field_id)
    values.update(label="Kind of placement", value_labels="1 = Licensed foster home\n"
                  "2 = Relative or kin home\n3 = Congregate care", sensitivity="protected")
    assert client.post(f"/fields/{field_id}/edit", data={**state, **values}).status_code == 302
    record = dict(next(r for r in RECORDS if r["identifier"] == "foster-care-placements"))
    record["fields"] = [dict(f) for f in record["fields"]]
    record["fields"][3]["label"] = "Placement setting type"  # the source's newer text
    with new_catalog.transaction() as session:
        loaded = DatasetInSchema().load(record)
        agency = find_or_create_agency(session, loaded["agency"], loaded["agency_abbreviation"])
        upsert_dataset(session, loaded, agency=agency, fmt="test", provenance={}, actor="tests")
    new_catalog.index_datasets(built.datasets.values())
    with new_catalog.session() as session:
        again = session.scalar(select(Field).where(Field.name == "PLCMT_TYPE_CD"))
        assert again is not None
        assert again.label == "Kind of placement" and again.sensitivity == "protected"
        assert again.value_labels[0] == {"code": "1", "label": "Licensed foster home"}
        new_id = again.id
    page = client.get(f"/fields/{new_id}").get_data(as_text=True)
    assert "The source changed its text on" in page and "Placement setting type" in page
    edit = client.get(f"/fields/{new_id}/edit").get_data(as_text=True)
    assert "source newer" in edit and "Placement setting type" in edit


def test_agency_page_names_its_data_officer_and_stewards(stewarded: WebCatalog) -> None:
    anonymous = stewarded.app.test_client().get("/agencies/dol").get_data(as_text=True)
    assert "Agency data officer" in anonymous and "Dol-A" in anonymous and "Dol-B" in anonymous
    assert "dol-a@example.org" in anonymous  # the officer: the designed contact
    assert "dol-b@example.org" not in anonymous  # a steward's address: signed-in people only
    client = stewarded.app.test_client()
    sign_in(client, "viewer@example.org")
    signed = client.get("/agencies/dol").get_data(as_text=True)
    assert "dol-b@example.org" in signed
    assert "dph@example.org" not in signed  # another agency's steward
