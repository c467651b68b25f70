"""Sensitivity suggestions: why each is made, what overrules a name, and the stewards' review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.dump import dump
from catalog.models import Dataset, Field
from catalog.quality_models import SensitivitySuggestion
from catalog.sensitivity import refresh, review, suggest
from catalog.service import Catalog
from indexer.load import load_paths


@pytest.mark.parametrize(("name", "description", "category", "level"), [
    ("Apprentice_SSN", "Participant's SSN", "PII", "private"),
    ("2700 - Social Security Number", "Client's SSN", None, "private"),
    ("Apprentice_FName", "Participant's first name", None, "personal"),
    ("Name", "Offender name", None, "personal"),
    ("DOB", "Date of birth.", None, "personal"),
    ("SASID", "State Assigned Student Identification Number", None, "personal"),
    ("MothersMaidenName", "Maiden name of student's mother.", None, "personal"),
    ("Race", None, None, "protected"),
    # The description overrules the name, both ways:
    ("Full_Name", "Full name of most serious charge statute", None, None),
    ("Institution Name", "Name of the Institution.", None, None),
    ("No SSN Reason Code", "The reason a client did not give his/her SSN.\n1- SSN is unknown",
     None, None),
    ("Field27", "Client's social security number", None, "private"),
    # OpenMetadata's reported false positives: none of them is sensitive.
    ("email_verified", "Whether the address was verified", None, None),
    ("ACADEMIC_YEAR_CODE", "Code of the academic year", None, None),
    ("created_timestamp", "When the record was created", None, None),
    # A code list is not the description: "1 = Invalid SSN" does not make an SSN.
    ("Accountability Exit Status", "1 = Invalid SSN or failed to disclose SSN\n2 = Retirement",
     None, None),
    ("EmployerID", "Employer's ID for the participant", None, None),
    # The source's own category marks a field that no rule knows.
    ("Generation Code", "An appendage such as Jr.", "Matching Information", "protected"),
])
def test_suggestions(name: str, description: str | None, category: str | None,
                     level: str | None) -> None:
    found = suggest(name, None, description, category)
    assert (found[0] if found else None) == level, found
    if found:
        assert found[1]  # always a reason
        if category:
            assert repr(category) in found[1]


def write_dictionary(folder: Path, ssn_text: str = "Participant's SSN") -> Path:
    """A small dictionary in P20 WIN's columns."""
    path = folder / "DOL" / "DOL_dictionary.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [("Apprentice_SSN", ssn_text, "PII"), ("Apprentice_FName", "First name", "PII"),
            ("Apprentice_DOB", "Date of birth", "PII"), ("Apprentice_Race", "Race", "Demo"),
            ("Apprentice_Trade", "Trade names", "Activity Data")]
    lines = ["Agency,Program,Data Category,Data Element Name,Data Element Definition,"
             "Data Type,Years Available"]
    lines += [f"Department of Labor (DOL),Apprenticeship,{c},{n},{d},Text,2003-"
              for n, d, c in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def levels(catalog: Catalog) -> dict[str, str]:
    with catalog.session() as session:
        return {f.name: f.sensitivity for f in session.scalars(select(Field))}


def test_suggestions_wait_for_stewards_and_decisions_survive_reharvests(
        tmp_path: Path, new_catalog: Catalog) -> None:
    load_paths(new_catalog, [write_dictionary(tmp_path)], index=False)
    assert set(levels(new_catalog).values()) == {"public"}  # never applied silently
    with new_catalog.transaction() as session:
        dataset = session.scalar(select(Dataset))
        rows = {r.field_name: r for r in session.scalars(select(SensitivitySuggestion))}
        assert {n: r.level for n, r in rows.items()} == {
            "Apprentice_SSN": "private", "Apprentice_FName": "personal",
            "Apprentice_DOB": "personal", "Apprentice_Race": "protected"}
        assert all(r.status == "pending" for r in rows.values())
        assert review(session, dataset, "accepted", actor="steward@dol",
                      field_names=["Apprentice_SSN"]) == 1
        review(session, dataset, "rejected", actor="steward@dol",
               field_names=["Apprentice_Race"])
        review(session, dataset, "changed", actor="steward@dol",
               field_names=["Apprentice_DOB"], level="private")
    assert levels(new_catalog) == {"Apprentice_SSN": "private", "Apprentice_FName": "public",
                                   "Apprentice_DOB": "private", "Apprentice_Race": "public",
                                   "Apprentice_Trade": "public"}
    # The source changes (a re-harvest rewrites every field) and the rules run again.
    write_dictionary(tmp_path, ssn_text="The participant's social security number")
    assert load_paths(new_catalog, [tmp_path], index=False).totals()["updated"] == 1
    with new_catalog.transaction() as session:
        refresh(session, session.scalar(select(Dataset)))
    after = levels(new_catalog)
    assert after["Apprentice_SSN"] == "private" and after["Apprentice_DOB"] == "private"
    assert after["Apprentice_Race"] == "public" and after["Apprentice_FName"] == "public"
    with new_catalog.transaction() as session:
        rows = {r.field_name: r for r in session.scalars(select(SensitivitySuggestion))}
        assert rows["Apprentice_Race"].status == "rejected"
        assert rows["Apprentice_FName"].status == "pending"
        # The rest of the dataset at once.
        assert review(session, session.scalar(select(Dataset)), "accepted",
                      actor="steward@dol") == 1
    assert levels(new_catalog)["Apprentice_FName"] == "personal"
    with new_catalog.session() as session:
        data = json.loads(json.dumps(dump(session), default=str))
    fields = {f["name"]: f for f in data["datasets"][0]["fields"]}
    assert fields["Apprentice_SSN"]["sensitivity_suggestion"]["level"] == "private"
    assert "social security" in fields["Apprentice_SSN"]["sensitivity_suggestion"]["reason"]
    assert fields["Apprentice_Trade"]["sensitivity_suggestion"] is None
    history = [c for c in data["changes"] if c["action"] == "sensitivity-review"]
    assert len(history) == 4 and history[0]["actor"] == "steward@dol"


def test_a_review_names_the_field_it_cannot_find(tmp_path: Path, new_catalog: Catalog) -> None:
    load_paths(new_catalog, [write_dictionary(tmp_path)], index=False)
    with new_catalog.transaction() as session:
        dataset = session.scalar(select(Dataset))
        with pytest.raises(LookupError, match="'Nope'"):
            review(session, dataset, "accepted", actor="s", field_names=["Nope"])
        with pytest.raises(ValueError, match="level"):
            review(session, dataset, "changed", actor="s", field_names=["Apprentice_SSN"],
                   level="secret")
