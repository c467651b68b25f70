"""Acronyms a dataset defines for itself, found by Schwartz & Hearst's algorithm and
winning in that dataset over the abbreviation table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import acronyms
from catalog.acronyms import defined_in, definitions, overrides
from catalog.models import Agency, Dataset, Field
from catalog.search.documents import documents_for, field_embed_text
from catalog.search.query import SearchQuery
from catalog.service import Catalog
from indexer.load import load_paths


@pytest.mark.parametrize(("text", "expected"), [
    ("Department of Buildings (DOB)", [("DOB", "Department of Buildings")]),
    # The long form after its short form.
    ("SNA (Safety Net Assistance) case denials", [("SNA", "Safety Net Assistance")]),
    # The shortest run stops at "of" and at "Services": the word before is taken.
    ("New York State Office of Temporary and Disability Assistance (OTDA)",
     [("OTDA", "Office of Temporary and Disability Assistance")]),
    ("each Social Services District (SSD)", [("SSD", "Social Services District")]),
    # Initials that begin with the short form: the long form ends where they do.
    ("the Centers for Disease Control and Prevention (CDC)",
     [("CDC", "Centers for Disease Control")]),
    # A plural short form, a possessive in the long form, an accent.
    ("Property Index Numbers (PINs)", [("PINs", "Property Index Numbers")]),
    ("Children's Health Insurance Program (CHIP)",
     [("CHIP", "Children Health Insurance Program")]),
    ("Régie Électrique Municipale (REM)", [("REM", "Regie Electrique Municipale")]),
    # Brackets that define nothing: words, codes, a variable named before its question.
    ("Length of stay (cleaned)", []),
    ("Disposition of patient (uniform)", []),
    ("Indicator (Y/N) showing whether", []),
    ("members covered by Food Stamps during the previous calendar year (STAMPNO)", []),
    ("Facility or program client is released to following Pre-trial detention or Post"
     " disposition (REGIONS)", []),
    ("LINENO (link a respondent appearing with a designated household roster line number)",
     []),
])
def test_definitions_are_found_as_schwartz_and_hearst_find_them(
        text: str, expected: list[tuple[str, str]]) -> None:
    assert list(definitions(text)) == expected


def test_a_dataset_learns_new_acronyms_and_overrides_the_tables_reading() -> None:
    found = overrides([
        "DOB Job Application Filings",
        "Applications filed with the Department of Buildings (DOB)",
        "Safety Net Assistance (SNA) Case Denials - Client Request",
        "benefits from the Supplemental Nutrition Assistance Program (SNAP)",
        "Length of stay (LOS)",
    ])
    # The table spells DOB out as "date of birth": the dataset's own spelling wins.
    assert found["dob"] == "department of buildings"
    # A token the table lacks is learnt.
    assert found["sna"] == "safety net assistance"
    # The table's gloss ("snap food stamps") is kept, the local words added to it.
    assert found["snap"] == "snap food stamps supplemental nutrition assistance program"
    # A definition the table agrees with changes nothing.
    assert "los" not in found


def test_the_publishers_own_acronym_is_read_as_itself() -> None:
    # Spelt out, every "DCF_…" field would be about "children and families".
    assert overrides(["Department of Children and Families (DCF) office where the case is"],
                     publisher=["Department of Children and Families", "DCF"]) == {}
    # One the table reads otherwise is not read that way either.
    assert overrides(["DOB Job Application Filings"],
                     publisher=["Department of Buildings (DOB)", None]) == {"dob": "dob"}


def test_a_short_form_defined_two_ways_takes_the_commoner() -> None:
    texts = ["Physician Assistant (PA)", "Public Assistance (PA)", "Public Assistance (PA)"]
    assert defined_in(texts) == {"pa": "public assistance"}
    # Of equals, the first.
    assert defined_in(texts[:2]) == {"pa": "physician assistant"}


def test_what_is_read_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text is read to TEXT_CHARS, a dataset's texts to DATASET_CHARS."""
    late = "x " * acronyms.TEXT_CHARS + "Safety Net Assistance (SNA)"
    assert defined_in([late]) == {}
    monkeypatch.setattr(acronyms, "DATASET_CHARS", 1000)
    filler = ["no definitions here, only words " * 10] * 5  # 1,600 characters
    assert defined_in(["Safety Net Assistance (SNA)"]) == {"sna": "safety net assistance"}
    assert defined_in([*filler, "Safety Net Assistance (SNA)"]) == {}


def _dob_dataset() -> Dataset:
    agency = Agency(slug="nyc-dob", name="Department of Buildings (DOB)")
    dataset = Dataset(identifier="ic3t-wcy2", title="DOB Job Application Filings",
                      agency=agency, fields=[])
    dataset.fields = [
        Field(name="DOBRunDate", label="DOBRunDate", position=1, dataset=dataset,
              description="Date when query is run and pushed to Open Data."),
        Field(name="job_status", label="Job Status", position=2, dataset=dataset,
              description="DOB Status code of job"),
    ]
    return dataset


def test_a_field_is_indexed_and_embedded_as_its_dataset_defines_its_acronyms() -> None:
    dataset = _dob_dataset()
    docs = {d.kind + (d.payload["field"] or ""): d for d in documents_for(dataset)}
    run_date = docs["fieldDOBRunDate"]
    for column in ("name", "label"):
        assert "birth" not in run_date.lexical[column].split(), run_date.lexical
    assert "birth" not in docs["dataset"].lexical["label"].split()
    # Elsewhere the table's reading stands.
    other = Dataset(identifier="clients", title="Clients", fields=[],
                    agency=Agency(slug="dss", name="Department of Social Services"))
    owner = Field(name="CLNT_DOB", label="Client DOB", position=1, dataset=other)
    other.fields = [owner]
    assert "date of birth" in field_embed_text(owner, other)
    [_, owner_doc] = documents_for(other)
    assert "birth" in owner_doc.lexical["label"].split()
    # A learnt acronym is spelt out in the field's text and its columns.
    denials = Dataset(identifier="tyyj-jgv5", title="Public Assistance Case Denials",
                      fields=[], agency=Agency(slug="otda", name="OTDA"))
    denials.fields = [
        Field(name="sna_client_req", position=1, dataset=denials,
              label="Safety Net Assistance (SNA) Case Denials - Client Request"),
        Field(name="sna_finance", label="SNA Case Denials - Financial Issues", position=2,
              dataset=denials),
    ]
    finance = documents_for(denials)[2]
    assert finance.embed_text.startswith(
        "SNA Case Denials - Financial Issues (safety net assistance finance)"), finance.embed_text
    assert {"safeti", "net", "assist"} <= set(finance.lexical["name"].split())


def _package(folder: Path, name: str, description: str, fields: list[tuple[str, str, str]]
             ) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    package = {"name": name, "title": name.replace("-", " ").title(),
               "description": description, "resources": [
                   {"name": name, "path": f"{name}.csv", "schema": {"fields": [
                       {"name": n, "title": t, "description": d, "type": "string"}
                       for n, t, d in fields]}}]}
    (folder / "datapackage.json").write_text(json.dumps(package))


def test_searching_for_a_birth_date_does_not_find_the_buildings_departments_run_date(
        new_catalog: Catalog, tmp_path: Path) -> None:
    """Before, lexical search for "date of birth" gave NYC Buildings' ``DOBRunDate`` first:
    its name read with the table as "date of birth run date"."""
    _package(tmp_path / "dob", "dob-job-application-filings",
             "Job applications submitted to the Department of Buildings (DOB).",
             [("DOBRunDate", "DOBRunDate", "Date when the query is run and pushed to Open Data"),
              ("job_status", "Job Status", "DOB status code of the job")])
    _package(tmp_path / "clients", "client-records", "People served by the program.",
             [("CLNT_DOB", "Client DOB", "When the client was born"),
              ("CLNT_NM", "Client name", "The client's name")])
    report = load_paths(new_catalog, [tmp_path / "dob", tmp_path / "clients"])
    assert report.totals()["failed"] == 0 and report.index_error is None
    for mode in ("lexical", "hybrid"):
        hits = new_catalog.search(SearchQuery(text="date of birth", kind="field", mode=mode,
                                              per_page=10)).hits
        names = [h.payload["field"] for h in hits]
        assert names[0] == "CLNT_DOB", (mode, names)
    lexical = new_catalog.search(SearchQuery(text="birth", kind="field", mode="lexical")).hits
    assert [h.payload["field"] for h in lexical] == ["CLNT_DOB"]
