"""Scorecards per dataset, agency and state: components side by side, within access.

Two real P20 WIN files (DOL and DCF) are loaded; one DOL dataset is made internal and
another restricted, so that what a visitor's scorecard counts can be told from what the
catalog holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from catalog.audience import EVERYONE, PUBLIC, Audience
from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.models import Dataset
from catalog.quality_models import ScorecardSnapshot
from catalog.scorecards import agency_scorecards, described, equity_dimensions, statewide, typed
from catalog.service import Catalog
from indexer.load import load_paths
from tests.test_ct_dictionaries import P20WIN, file_rows
from tests.webfixtures import add_account, sign_in
from web.app import create_app
from web.cli import main

HIDDEN_TITLE = "Best Chance"  # internal
RESTRICTED_TITLE = "Apprenticeship"


@pytest.fixture(scope="module")
def two_agencies(tmp_path_factory: pytest.TempPathFactory,
                 embedder: Embedder) -> Iterator[Catalog]:
    folder = tmp_path_factory.mktemp("two")
    for name in ("DOL_Data_Dictionary.xlsx", "DCF_Data_Dictionary.xlsx"):
        (folder / name).write_bytes((P20WIN / name).read_bytes())
    catalog = Catalog(load_settings(data_dir=folder / "data", database_url=None),
                      embedder=embedder)
    load_paths(catalog, [folder], index=False)
    with catalog.transaction() as session:
        for title, level in ((HIDDEN_TITLE, "internal"), (RESTRICTED_TITLE, "restricted")):
            session.scalar(select(Dataset).where(Dataset.title == title)).access_level = level
    add_account(catalog, "steward@dol.example", "steward", ("dol",))
    add_account(catalog, "viewer@example.org", "viewer")
    yield catalog
    catalog.close()


def test_components_are_counted_as_defined() -> None:
    assert not described("Last name", None, "Last name")  # the name repeated
    assert not described("ApprenticeID", None, "Apprentice ID")
    assert not described("Zip", None, "Not Available")
    assert not described("Zip", None, "N/A") and not described("Zip", None, "n/a.")
    assert described("SSN", None, "SSN of client")
    assert not typed("Not Available", "other") and typed("Numeric", "number")
    assert equity_dimensions("Apprentice_Race", None) == ["race/ethnicity"]
    assert equity_dimensions("PERPETRATOR_SEX", None) == ["gender"]
    assert equity_dimensions("Stage", None) == []  # 'age' inside a word is no age


def test_a_scorecard_counts_only_what_its_audience_may_see(two_agencies: Catalog) -> None:
    rows = file_rows(P20WIN / "DOL_Data_Dictionary.xlsx")
    hidden = sum(r[1].strip() == HIDDEN_TITLE for r in rows)
    restricted = sum(r[1].strip() == RESTRICTED_TITLE for r in rows)
    with two_agencies.session() as session:
        [everything] = agency_scorecards(session, EVERYONE, "dol")
        [public] = agency_scorecards(session, PUBLIC, "dol")
        [steward] = agency_scorecards(session, Audience(agencies=("dol",)), "dol")  # public+
        state = statewide(session, PUBLIC)
    assert everything["fields"] == len(rows) and everything["datasets"] == 7
    assert public["datasets"] == 5 and public["fields"] == len(rows) - hidden - restricted
    assert steward["datasets"] == 6 and steward["fields"] == len(rows) - hidden
    assert HIDDEN_TITLE not in json.dumps(public) and HIDDEN_TITLE in json.dumps(everything)
    assert state["agencies"] == 2 and state["datasets_without_agency"] == 0
    assert state["fields"] == public["fields"] + len(file_rows(P20WIN / "DCF_Data_Dictionary.xlsx"))
    for key in ("fields_described", "fields_typed", "fields_labelled", "fields_reviewed",
                "datasets_with_coverage", "equity_datasets"):
        assert key in public  # side by side: no blended score
    assert not any("score" in key for key in public)
    listed = {e["title"] for e in public["equity"]}
    assert "PIRL (JVSG, TAA, WIOAs, WP)" in listed and HIDDEN_TITLE not in listed


def test_pages_and_api_obey_access(two_agencies: Catalog) -> None:
    app = create_app(two_agencies)
    anonymous = app.test_client()
    page = anonymous.get("/scorecards").get_data(as_text=True)
    assert "Department of Labor" in page and "Department of Children and Families" in page
    assert HIDDEN_TITLE not in page
    dol = anonymous.get("/scorecards/dol").get_data(as_text=True)
    assert "Fields described" in dol and HIDDEN_TITLE not in dol and RESTRICTED_TITLE not in dol
    api = anonymous.get("/api/v1/scorecards").get_json()
    assert {c["agency"] for c in api} == {"dol", "dcf"}
    assert {"agency", "agency_name", "datasets", "fields", "fields_described",
            "fields_typed"} <= set(api[0])
    assert anonymous.get("/scorecards/nowhere").status_code == 404
    # A viewer sees internal metadata but not restricted; the agency's steward sees both.
    viewer = app.test_client()
    sign_in(viewer, "viewer@example.org")
    seen = {d["title"] for d in viewer.get("/api/v1/scorecards/dol").get_json()[
        "dataset_scorecards"]}
    assert HIDDEN_TITLE in seen and RESTRICTED_TITLE not in seen
    steward = app.test_client()
    sign_in(steward, "steward@dol.example")
    seen = {d["title"] for d in steward.get("/api/v1/scorecards/dol").get_json()[
        "dataset_scorecards"]}
    assert HIDDEN_TITLE in seen and RESTRICTED_TITLE in seen


def test_stewards_review_on_the_dataset_page(two_agencies: Catalog) -> None:
    app = create_app(two_agencies)
    with two_agencies.session() as session:
        pirl = session.scalar(select(Dataset).where(Dataset.title.like("PIRL%")))
    viewer = app.test_client()
    csrf = sign_in(viewer, "viewer@example.org")
    refused = viewer.post(f"/datasets/{pirl.id}/sensitivity",
                          data={"decision": "accepted", "csrf": csrf})
    assert refused.status_code == 403
    steward = app.test_client()
    csrf = sign_in(steward, "steward@dol.example")
    page = steward.get(f"/datasets/{pirl.id}").get_data(as_text=True)
    assert "Sensitivity suggestions" in page and "Accept all pending" in page
    assert "the source files it under &#39;PII&#39;" in page
    answer = steward.post(f"/datasets/{pirl.id}/sensitivity",
                          data={"decision": "accepted", "field": "Date of Birth (PIRL Element 200)",
                                "csrf": csrf})
    assert answer.status_code == 302
    fields = steward.get(f"/api/v1/datasets/{pirl.id}").get_json()["fields"]
    dob = next(f for f in fields if f["name"] == "Date of Birth (PIRL Element 200)")
    assert dob["sensitivity"] == "personal"
    assert dob["sensitivity_suggestion"]["status"] == "accepted"
    reviewed = steward.get(f"/api/v1/datasets/{pirl.id}/scorecard").get_json()
    assert reviewed["fields_reviewed"] == 1 and reviewed["fields_pending"] >= 1


def test_a_review_through_the_api_is_checked_and_an_empty_list_decides_nothing(
        two_agencies: Catalog) -> None:
    app = create_app(two_agencies)
    with two_agencies.session() as session:
        pirl = session.scalar(select(Dataset).where(Dataset.title.like("PIRL%")))
    url = f"/api/v1/datasets/{pirl.id}/sensitivity"
    assert app.test_client().post(url, json={"decision": "rejected"}).status_code == 401
    from catalog import accounts

    with two_agencies.transaction() as session:
        user = accounts.get_user(session, "steward@dol.example")
        token, _ = accounts.issue_token(session, user, "review")
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    before = api.get(f"/api/v1/datasets/{pirl.id}/scorecard", headers=auth).get_json()
    for body, where in (({"decision": "rejected", "fields": []}, "fields"),
                        ({"decision": "accepted", "fields": "Town"}, "fields"),
                        ({"decision": "accepted", "fields": [["Town"]]}, "fields"),
                        ({"decision": "accepted", "fields": {"Town": 1}}, "fields"),
                        ({"decision": "maybe"}, "decision"),
                        ({"decision": "accepted", "colour": "red"}, "colour")):
        refused = api.post(url, json=body, headers=auth)
        assert refused.status_code == 400, body
        assert where in refused.get_json()["error"]["fields"], body
    assert api.post(url, json="x", headers=auth).status_code == 400
    after = api.get(f"/api/v1/datasets/{pirl.id}/scorecard", headers=auth).get_json()
    assert after["fields_pending"] == before["fields_pending"]  # nothing was decided


def test_setting_a_fields_sensitivity_decides_its_suggestion(two_agencies: Catalog) -> None:
    """A steward who edits a field's sensitivity has decided its suggestion: to the level
    suggested is accepted, to another is changed; both count as reviewed, and a re-harvest's
    refresh keeps the steward's level."""
    from catalog.sensitivity import refresh
    from tests.stewardfixtures import field_form

    app = create_app(two_agencies)
    with two_agencies.session() as session:
        pirl = session.scalar(select(Dataset).where(Dataset.title.like("PIRL%")))
    steward = app.test_client()
    csrf = sign_in(steward, "steward@dol.example")
    fields = steward.get(f"/api/v1/datasets/{pirl.id}").get_json()["fields"]
    pending = [f for f in fields if (f["sensitivity_suggestion"] or {}).get("status") == "pending"
               and f["sensitivity_suggestion"]["level"] != "public"]
    assert len(pending) >= 2
    before = steward.get(f"/api/v1/datasets/{pirl.id}/scorecard").get_json()
    same, other = pending[0], pending[1]
    other_level = next(level for level in ("protected", "personal", "private")
                       if level not in (other["sensitivity"],
                                        other["sensitivity_suggestion"]["level"]))
    form = steward.get(f"/fields/{same['id']}/edit").get_data(as_text=True)
    assert (f"The catalog suggests <strong>{same['sensitivity_suggestion']['level']}</strong>"
            in form and "awaiting review" in form)
    for field, level in ((same, same["sensitivity_suggestion"]["level"]), (other, other_level)):
        state, values = field_form(steward, field["id"])
        values["sensitivity"] = level
        answer = steward.post(f"/fields/{field['id']}/edit", data={**state, **values})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    after = {f["id"]: f for f in steward.get(f"/api/v1/datasets/{pirl.id}").get_json()["fields"]}
    decided = after[same["id"]]["sensitivity_suggestion"]
    assert decided["status"] == "accepted"
    assert decided["decided_by"].endswith("steward@dol.example")
    changed = after[other["id"]]["sensitivity_suggestion"]
    assert changed["status"] == "changed" and changed["decided_level"] == other_level
    card = steward.get(f"/api/v1/datasets/{pirl.id}/scorecard").get_json()
    assert card["fields_reviewed"] == before["fields_reviewed"] + 2
    assert card["fields_pending"] == before["fields_pending"] - 2
    with two_agencies.transaction() as session:  # what a re-harvest runs
        refresh(session, session.get(Dataset, pirl.id))
    kept = {f["id"]: f for f in steward.get(f"/api/v1/datasets/{pirl.id}").get_json()["fields"]}
    assert kept[other["id"]]["sensitivity"] == other_level
    # The public learns that a steward decided, not which one.
    public = app.test_client()
    shown = [public.get(f"/api/v1/fields/{same['id']}").get_json()["sensitivity_suggestion"],
             *[f["sensitivity_suggestion"] for f in public.get(
                 f"/api/v1/datasets/{pirl.id}").get_json()["fields"] if f["id"] == same["id"]],
             *[r for r in public.get(f"/api/v1/datasets/{pirl.id}/sensitivity").get_json()
               if r["field"] == same["name"]]]
    assert len(shown) == 3 and all(s["decided_by"] == "web: a data steward" for s in shown)
    for url in (f"/fields/{same['id']}", f"/datasets/{pirl.id}",
                f"/api/v1/datasets/{pirl.id}/sensitivity"):
        assert "steward@dol.example" not in public.get(url).get_data(as_text=True), url
    assert "steward@dol.example" in steward.get(f"/fields/{same['id']}").get_data(as_text=True)
    # Reverting the edit takes the decision back: the suggestion awaits review again.
    with two_agencies.session() as session:
        from catalog.models import Change
        edit = session.scalar(select(Change).where(Change.entity_id == other["id"],
                                                   Change.action == "steward-edit"))
    assert steward.post(f"/changes/{edit.id}/revert", data={"csrf": csrf}).status_code == 303
    back = {f["id"]: f for f in steward.get(f"/api/v1/datasets/{pirl.id}").get_json()["fields"]}
    assert back[other["id"]]["sensitivity"] == other["sensitivity"]
    assert back[other["id"]]["sensitivity_suggestion"] == other["sensitivity_suggestion"]
    assert back[same["id"]]["sensitivity_suggestion"]["status"] == "accepted"
    card = steward.get(f"/api/v1/datasets/{pirl.id}/scorecard").get_json()
    assert card["fields_pending"] == before["fields_pending"] - 1


def test_snapshots_give_a_trend(two_agencies: Catalog, tmp_path: Path) -> None:
    with two_agencies.session() as session:
        before = len(session.scalars(select(ScorecardSnapshot)).all())
    extra = tmp_path / "OEC_Data_Dictionary.xlsx"
    extra.write_bytes((P20WIN / "OEC_Data_Dictionary.xlsx").read_bytes())
    load_paths(two_agencies, [extra], index=False)
    with two_agencies.session() as session:
        snaps = session.scalars(select(ScorecardSnapshot).where(
            ScorecardSnapshot.agency_id.is_(None), ScorecardSnapshot.scope == "public")
            .order_by(ScorecardSnapshot.id)).all()
        assert len(session.scalars(select(ScorecardSnapshot)).all()) > before
    assert snaps[-1].figures["agencies"] == snaps[-2].figures["agencies"] + 1
    page = create_app(two_agencies).test_client().get("/scorecards").get_data(as_text=True)
    assert "Trend" in page and "load" in page


def test_the_scorecard_command(two_agencies: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_DATA_DIR", str(two_agencies.settings.data_dir))
    monkeypatch.delenv("CATALOG_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["scorecard", "--json"])
    assert result.exit_code == 0, result.output
    cards = json.loads(result.output)
    assert {c["agency"] for c in cards} >= {"dol", "dcf"}
    dol = next(c for c in cards if c["agency"] == "dol")
    assert dol["datasets"] == 5  # public only, unless --all
    everything = json.loads(runner.invoke(main, ["scorecard", "--json", "--all",
                                                 "--agency", "dol"]).output)
    assert [c["datasets"] for c in everything] == [7]
    text = runner.invoke(main, ["scorecard", "--agency", "dcf"]).output
    assert "described" in text and "equity dcf" in text
    missing = runner.invoke(main, ["scorecard", "--agency", "nowhere"])
    assert missing.exit_code != 0 and "nowhere" in missing.output
