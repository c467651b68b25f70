"""The text a field is embedded as: words the model can read, codes left to the lexical side."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import Agency, Dataset, Field
from catalog.search.documents import field_document, field_embed_text, readable_title
from catalog.search.query import SearchQuery

AHRQ = "Agency for Healthcare Research and Quality"


def _dataset(identifier: str, title: str, **extra: Any) -> Dataset:
    agency = Agency(slug="ahrq", name=AHRQ, abbreviation="AHRQ")
    return Dataset(identifier=identifier, title=title, agency=agency, extra=extra or None,
                   fields=[])


@pytest.mark.parametrize(("identifier", "title", "extra", "expected"), [
    # SAS load programs are titled "<identifier>: <what the header comment says>".
    ("NY_SID_2013_CORE", "NY_SID_2013_CORE: Inpatient stay CORE file", {},
     "Inpatient stay CORE file"),
    ("ny_sid_2013_core", "NY_SID_2013_CORE: Inpatient stay CORE file", {},
     "Inpatient stay CORE file"),
    # A split file's datasets begin with the file's name, their source identifier.
    ("DOL_Data_Dictionary-dol-best-chance", "DOL_Data_Dictionary: Best Chance",
     {"source_identifier": "DOL_Data_Dictionary"}, "Best Chance"),
    # A title that is only a code is spelled out; abbreviations are expanded as in names.
    ("tx_pudf_2012_base_definition_1", "tx_pudf_2012_base_definition_1", {},
     "tx pudf 2012 base definition 1"),
    ("data-dictionary", "data-dictionary", {}, "data dictionary"),
    # Titles in words are left alone, codes inside them too; nothing after the colon: kept.
    ("4ijn-s7e5", "Restaurant Inspections: 2016", {}, "Restaurant Inspections: 2016"),
    ("ipums_atus_00025", "User Extract atus_00025.dat", {}, "User Extract atus_00025.dat"),
    ("X_1", "X_1:", {}, "X_1:"),
])
def test_a_datasets_title_is_read_as_words(identifier: str, title: str, extra: dict,
                                           expected: str) -> None:
    assert readable_title(_dataset(identifier, title, **extra)) == expected


def test_a_field_is_embedded_with_its_datasets_title_in_words_and_indexed_with_the_code(
) -> None:
    dataset = _dataset("NY_SID_2013_CORE", "NY_SID_2013_CORE: Inpatient stay CORE file")
    field = Field(name="LOS", label="Length of stay (cleaned)", position=1, dataset=dataset)
    text = field_embed_text(field, dataset)
    assert text == f"Length of stay (cleaned). In Inpatient stay CORE file, {AHRQ}."
    # The lexical side still finds the field by its dataset's code.
    context = field_document(field, dataset).lexical["context"].split()
    assert {"ny", "sid", "2013", "core"} <= set(context), context


def test_how_long_a_patient_stayed_finds_the_length_of_stay_before_death_in_hospital(
    fixtures_catalog: Any,
) -> None:
    """The bundled HCUP load program (AR_SID_2013_CORE.sas) through the real model: with
    the code "AR_SID_2013_CORE:" in every field's text, "Died during hospitalization"
    came first by meaning (docs/benchmarks.md, seventh session)."""
    catalog, _report = fixtures_catalog
    hits = catalog.search(SearchQuery(text="how long the patient stayed in the hospital",
                                      kind="field", mode="semantic", per_page=50)).hits
    names = [h.payload["field"] for h in hits if h.payload["dataset"] == "AR_SID_2013_CORE"]
    assert "LOS" in names and "DIED" in names, names
    assert names.index("LOS") < names.index("DIED"), names
