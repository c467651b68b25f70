"""Field exports: CSV, JSON and Frictionless Table Schema, with access control."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from catalog.models import Dataset
from catalog.service import Catalog
from indexer.load import LoadReport
from tests.webfixtures import WebCatalog
from web import exports
from web.app import create_app

# Table Schema (https://specs.frictionlessdata.io/table-schema/): what a descriptor may hold.
TS_TYPES = {"string", "number", "integer", "boolean", "object", "array", "date", "time",
            "datetime", "year", "yearmonth", "duration", "geopoint", "geojson", "any"}
TS_FIELD_KEYS = {"name", "title", "description", "type", "format", "example", "constraints",
                 "rdfType", "missingValues", "categories", "categoriesOrdered"}
TS_CONSTRAINTS = {"required", "unique", "minLength", "maxLength", "minimum", "maximum",
                  "pattern", "enum"}
TS_STRING_FORMATS = {"default", "email", "uri", "binary", "uuid"}
TS_TOP_KEYS = {"fields", "primaryKey", "foreignKeys", "missingValues", "$schema",
               "fieldsMatch", "uniqueKeys"}


def with_exports(catalog: Catalog) -> Flask:
    """A fresh app on ``catalog`` with the exports blueprint (registered here until app.py does)."""
    app = create_app(catalog)
    if "exports" not in app.blueprints:
        app.register_blueprint(exports.bp)
    return app


@pytest.fixture(scope="module")
def fixtures_app(fixtures_catalog: tuple[Catalog, LoadReport]) -> Flask:
    catalog, _ = fixtures_catalog
    return with_exports(catalog)


@pytest.fixture(scope="module")
def web_app(web_catalog: WebCatalog) -> Flask:
    return with_exports(web_catalog.catalog)


def dataset_id(catalog: Catalog, identifier: str) -> int:
    with catalog.session() as session:
        return session.scalar(select(Dataset.id).where(Dataset.identifier == identifier))


def assert_table_schema(descriptor: dict[str, Any]) -> None:
    """The descriptor has the shape the Table Schema specification gives."""
    assert isinstance(descriptor, dict)
    assert set(descriptor) - TS_TOP_KEYS <= {k for k in descriptor if k.startswith("x-")}
    assert isinstance(descriptor["fields"], list) and descriptor["fields"]
    for field in descriptor["fields"]:
        unknown = {k for k in field if not k.startswith("x-")} - TS_FIELD_KEYS
        assert not unknown, (field["name"], unknown)
        assert isinstance(field["name"], str) and field["name"]
        assert field.get("type", "string") in TS_TYPES
        for key in ("title", "description", "format"):
            assert isinstance(field.get(key, ""), str)
        if field.get("type") == "string" and "format" in field:
            assert field["format"] in TS_STRING_FORMATS
        constraints = field.get("constraints", {})
        assert isinstance(constraints, dict) and set(constraints) <= TS_CONSTRAINTS
        if "enum" in constraints:
            enum = constraints["enum"]
            assert isinstance(enum, list) and enum and len(set(enum)) == len(enum)
            assert all(isinstance(v, str) for v in enum)  # string fields: string values
        for category in field.get("categories", []):
            assert set(category) == {"value", "label"}
            if "enum" in constraints:
                assert category["value"] in constraints["enum"]


# ----------------------------------------------------------------------------- layout dataset


def test_fields_csv_of_a_codebook(fixtures_app: Flask, fixtures_catalog) -> None:
    catalog, _ = fixtures_catalog
    ident = dataset_id(catalog, "ipums_cps_00097")
    response = fixtures_app.test_client().get(f"/datasets/{ident}/fields.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=ipums_cps_00097-fields.csv"
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == exports.CSV_COLUMNS
    with catalog.session() as session:
        dataset = session.scalar(select(Dataset).where(Dataset.id == ident))
        stored = [(f.name, f.start_col, f.end_col, f.width) for f in dataset.fields]
    assert [(r["name"], int(r["start_col"]), int(r["end_col"]), int(r["width"]))
            for r in rows] == stored
    by_name = {r["name"]: r for r in rows}
    year = by_name["YEAR"]
    assert (year["position"], year["label"], year["data_type"]) == ("1", "Survey year", "number")
    assert (year["start_col"], year["end_col"], year["width"]) == ("1", "4", "4")
    assert year["description"].startswith("YEAR reports the year")
    assert year["sensitivity"] == "public" and year["decimals"] == "0"
    month = by_name["MONTH"]["value_labels"].split("; ")
    assert month[0] == "01=January" and "12=December" in month


def test_fields_json_of_a_codebook(fixtures_app: Flask, fixtures_catalog) -> None:
    catalog, _ = fixtures_catalog
    ident = dataset_id(catalog, "ipums_cps_00097")
    response = fixtures_app.test_client().get(f"/datasets/{ident}/fields.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=ipums_cps_00097-fields.json"
    )
    data = response.get_json()
    head = data["dataset"]
    assert (head["identifier"], head["layout"], head["format"]) == (
        "ipums_cps_00097", True, "ddi-codebook")
    ends = [f["end_col"] for f in data["fields"]]
    assert head["record_length"] == max(ends) == 73  # computed by the layout check at load
    year = data["fields"][0]
    assert (year["name"], year["start_col"], year["end_col"], year["width"]) == (
        "YEAR", 1, 4, 4)
    assert year["dataset"] == "ipums_cps_00097"


def test_table_schema_of_a_codebook(fixtures_app: Flask, fixtures_catalog) -> None:
    catalog, _ = fixtures_catalog
    ident = dataset_id(catalog, "ipums_cps_00097")
    response = fixtures_app.test_client().get(f"/datasets/{ident}/tableschema.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=ipums_cps_00097-tableschema.json"
    )
    schema = response.get_json()
    assert_table_schema(schema)
    fields = {f["name"]: f for f in schema["fields"]}
    year = fields["YEAR"]
    assert (year["type"], year["title"]) == ("number", "Survey year")
    assert year["x-positions"] == {"start": 1, "end": 4, "width": 4}
    # MONTH is numeric: its codes are listed, but not as an enumeration of the field's values.
    month = fields["MONTH"]
    assert "constraints" not in month
    assert month["x-value-labels"][0] == {"value": "01", "label": "January"}
    assert schema["x-dataset"]["record_length"] == 73


def test_table_schema_of_a_sas_layout(fixtures_app: Flask, fixtures_catalog) -> None:
    catalog, _ = fixtures_catalog
    ident = dataset_id(catalog, "AR_SID_2013_CORE")
    schema = fixtures_app.test_client().get(f"/datasets/{ident}/tableschema.json").get_json()
    assert_table_schema(schema)
    assert schema["x-dataset"]["record_length"] == 721
    age = schema["fields"][0]
    assert (age["name"], age["type"], age["x-format"]) == ("AGE", "number", "N3PF.")
    assert age["x-positions"] == {"start": 1, "end": 3, "width": 3}


def test_dataset_page_links_to_the_exports(fixtures_app: Flask, fixtures_catalog) -> None:
    catalog, _ = fixtures_catalog
    ident = dataset_id(catalog, "ipums_cps_00097")
    page = fixtures_app.test_client().get(f"/datasets/{ident}").get_data(as_text=True)
    for suffix in ("fields.csv", "fields.json", "tableschema.json"):
        assert f'href="/datasets/{ident}/{suffix}"' in page
    assert "Download fields" in page
    assert "<dt>Record length</dt><dd>73 characters</dd>" in page
    # YRBS reads columns up to 389 of a record its INFILE statement says is 400 long.
    yrbs = dataset_id(catalog, "YRBS_2011_SAS_Input_Program")
    page = fixtures_app.test_client().get(f"/datasets/{yrbs}").get_data(as_text=True)
    assert "389 characters <span class=\"muted small\">– the source states 400</span>" in page


# ----------------------------------------------------------------------------- web fixtures


def test_coded_string_field_gets_an_enum(web_app: Flask, web_catalog) -> None:
    ident = web_catalog.datasets["enrollment-layout"]
    schema = web_app.test_client().get(f"/datasets/{ident}/tableschema.json").get_json()
    assert_table_schema(schema)
    frl = {f["name"]: f for f in schema["fields"]}["FRL_ELIG"]
    assert frl["type"] == "string"
    assert frl["constraints"] == {"enum": ["F", "R", "N"]}
    assert frl["categories"][0] == {"value": "F", "label": "Free"}
    assert frl["x-positions"] == {"start": 29, "end": 29, "width": 1}
    assert frl["x-sensitivity"] == "protected"
    dates = {f["name"]: f["type"] for f in schema["fields"]}
    assert dates["BDATE"] == "date" and dates["STU_ID"] == "string"


def test_value_labels_in_csv(web_app: Flask, web_catalog) -> None:
    ident = web_catalog.datasets["foster-care-placements"]
    body = web_app.test_client().get(f"/datasets/{ident}/fields.csv").get_data(as_text=True)
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(body))}
    assert rows["PLCMT_TYPE_CD"]["value_labels"] == (
        "1=Foster family home; 2=Relative home; 3=Congregate care"
    )
    assert rows["CHILD_ID"]["sensitivity"] == "personal"
    assert rows["CHILD_ID"]["start_col"] == ""  # not a layout: no columns


@pytest.mark.parametrize("suffix", ["fields.csv", "fields.json", "tableschema.json"])
def test_hidden_datasets_answer_404(web_app: Flask, web_catalog, suffix: str) -> None:
    client = web_app.test_client()
    assert web_catalog.hidden_datasets
    for hidden in web_catalog.hidden_datasets:
        response = client.get(f"/datasets/{hidden}/{suffix}")
        assert response.status_code == 404
        body = response.get_data(as_text=True).lower()
        assert not any(word in body for word in web_catalog.hidden_words)
    assert client.get(f"/datasets/999999/{suffix}").status_code == 404


def test_csv_cells_that_look_like_formulas_are_defused() -> None:
    from web.exports import _cell

    assert _cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert _cell("+1+cmd") == "'+1+cmd" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("-2+3") == "'-2+3"
    assert _cell("-5") == "-5" and _cell("Age in years") == "Age in years"
    assert _cell(None) == "" and _cell(7) == 7
