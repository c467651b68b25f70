"""Table Schema for every dataset of the corpus (frictionless), DDI Codebook 2.5 and XLSX
exports read back by our own readers, and search results as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import frictionless
import openpyxl
import pytest
from sqlalchemy import select

from catalog.config import load_settings
from catalog.models import Dataset
from catalog.schemas import DatasetInSchema
from catalog.service import Catalog
from catalog.store import find_or_create_agency, upsert_dataset
from indexer.formats import datapackage, ddi_codebook, dictionary_table
from indexer.load import load_paths
from tests.catalog_fixtures import CORPUS
from tests.webfixtures import HIDDEN_WORDS, RECORDS, WebCatalog
from web.app import create_app


def same_fields(parsed: list[dict[str, Any]], record: dict[str, Any]) -> None:
    got = [(f["position"], f["name"], f.get("label"), f.get("description")) for f in parsed]
    want = [
        (f["position"], f["name"], f.get("label"), f.get("description")) for f in record["fields"]
    ]
    assert got == want, record["identifier"]


def test_every_table_schema_of_the_corpus_is_valid(tmp_path: Path) -> None:
    catalog = Catalog(load_settings(data_dir=tmp_path, database_url=None))
    try:
        load_paths(catalog, [CORPUS], index=False)
        client = create_app(catalog).test_client()
        with catalog.session() as session:
            ids = list(session.scalars(select(Dataset.id).where(Dataset.access_level == "public")))
        invalid = {}
        for dataset_id in ids:
            descriptor = client.get(f"/datasets/{dataset_id}/tableschema.json").json
            result = frictionless.validate(descriptor, type="schema")
            if not result.valid:
                invalid[descriptor["x-dataset"]["identifier"]] = result.flatten(["note"])[:3]
        print(f"\nfrictionless: {len(ids)} Table Schema exports, {len(invalid)} invalid")
        assert len(ids) > 100
        assert invalid == {}
    finally:
        catalog.close()


def test_repeated_names_become_unique_with_the_original_kept(tmp_path: Path) -> None:
    catalog = Catalog(load_settings(data_dir=tmp_path, database_url=None))
    record = DatasetInSchema().load(
        {
            "agency": "Office of Policy and Management",
            "identifier": "two-tables",
            "title": "Two tables",
            "fields": [
                {"position": 1, "name": "ID", "description": "[Persons] person"},
                {"position": 2, "name": "ID_2", "description": "[Persons] a real ID_2"},
                {"position": 3, "name": "ID", "description": "[Homes] home"},
                {"position": 4, "name": "ID", "description": "[Cars] car"},
            ],
        }
    )
    try:
        with catalog.transaction() as session:
            agency = find_or_create_agency(session, record["agency"], None)
            dataset_id = upsert_dataset(
                session, record, agency=agency, fmt="test", provenance={}, actor="tests"
            ).dataset.id
        schema = (
            create_app(catalog).test_client().get(f"/datasets/{dataset_id}/tableschema.json").json
        )
        assert [f["name"] for f in schema["fields"]] == ["ID", "ID_2", "ID_3", "ID_4"]
        assert [f.get("x-original-name") for f in schema["fields"]] == [None, None, "ID", "ID"]
        assert frictionless.validate(schema, type="schema").valid
        # Our readers of Table Schemas (data packages, a DCAT describedBy) get the names back.
        warnings: list[str] = []
        back = datapackage.package_fields({"resources": [{"schema": schema}]}, warnings)
        assert [f["name"] for f in back] == ["ID", "ID_2", "ID", "ID"] and warnings == []
    finally:
        catalog.close()


@pytest.mark.parametrize("identifier", ["enrollment-layout", "foster-care-placements"])
def test_ddi_codebook_reads_back_with_our_ddi_reader(
    client: Any, web_catalog: WebCatalog, tmp_path: Path, identifier: str
) -> None:
    record = next(r for r in RECORDS if r["identifier"] == identifier)
    answer = client.get(f"/datasets/{web_catalog.datasets[identifier]}/codebook.xml")
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    assert b'xmlns="ddi:codebook:2_5"' in answer.data and b'version="2.5"' in answer.data
    path = tmp_path / "codebook.xml"
    path.write_bytes(answer.data)
    assert ddi_codebook.detect(path, answer.get_data(as_text=True)[:4096])
    [dataset] = ddi_codebook.parse(path).datasets
    assert dataset["title"] == record["title"] and dataset["agency"] == record["agency"]
    assert dataset["description"] == record["description"]
    assert dataset["keywords"] == record["keywords"]
    same_fields(dataset["fields"], record)
    for got, want in zip(dataset["fields"], record["fields"], strict=True):
        assert [(v["code"], v["label"]) for v in got["value_labels"]] == [
            (v["code"], v["label"]) for v in want.get("value_labels", [])
        ]
        if record.get("layout"):
            assert (got["start_col"], got["end_col"], got["width"]) == (
                want["start_col"],
                want["end_col"],
                want["width"],
            )


def test_xlsx_reads_back_and_keeps_formulas_as_text(tmp_path: Path, embedder: Any) -> None:
    catalog = Catalog(
        load_settings(data_dir=tmp_path / "data", database_url=None), embedder=embedder
    )
    record = DatasetInSchema().load(
        {
            "agency": "Department of Labor",
            "identifier": "wages",
            "title": "Wages",
            "fields": [
                {
                    "position": 1,
                    "name": "WAGE",
                    "label": "Quarterly wage",
                    "description": '=HYPERLINK("http://evil.example")',
                },
                {
                    "position": 2,
                    "name": "SSN",
                    "label": "Social security number",
                    "value_labels": [{"code": "1", "label": "valid"}],
                },
            ],
        }
    )
    try:
        with catalog.transaction() as session:
            agency = find_or_create_agency(session, record["agency"], "DOL")
            dataset_id = upsert_dataset(
                session, record, agency=agency, fmt="test", provenance={}, actor="tests"
            ).dataset.id
        answer = create_app(catalog).test_client().get(f"/datasets/{dataset_id}/fields.xlsx")
        assert answer.status_code == 200
        assert answer.headers["Content-Disposition"] == "attachment; filename=wages-fields.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:4] == ("position", "name", "label", "description")
        assert rows[1][3] == '=HYPERLINK("http://evil.example")'
        assert sheet["D2"].data_type == "s"  # text, not a formula
        assert rows[2][11] == "1=valid"
        path = tmp_path / "fields.xlsx"
        path.write_bytes(answer.data)
        [parsed] = dictionary_table.parse(path).datasets
        assert [(f["name"], f["label"]) for f in parsed["fields"]] == [
            ("WAGE", "Quarterly wage"),
            ("SSN", "Social security number"),
        ]
    finally:
        catalog.close()


def test_hidden_datasets_have_no_codebook_or_workbook(client: Any, web_catalog: WebCatalog) -> None:
    for dataset_id in web_catalog.hidden_datasets:
        for suffix in ("codebook.xml", "fields.xlsx"):
            assert client.get(f"/datasets/{dataset_id}/{suffix}").status_code == 404


def test_search_results_as_csv(client: Any) -> None:
    page = client.get("/search?q=date+of+birth").get_data(as_text=True)
    assert 'href="/search.csv?q=date+of+birth"' in page
    answer = client.get("/search.csv?q=date+of+birth")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"] == "attachment; filename=search-date-of-birth.csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    api = client.get("/api/v1/search?q=date+of+birth&per_page=100").json
    assert len(rows) == api["total"]
    assert [r["url"] for r in rows] == [h["url"] for h in api["hits"]][: len(rows)]
    assert "access_level" not in rows[0]  # anonymous visitors see public metadata only
    assert not any(w in answer.get_data(as_text=True).lower() for w in HIDDEN_WORDS)
    assert client.get("/search.csv?per_page=5000&page=x").status_code == 400
    for path in ("/search.csv?q=birth", "/datasets/1/fields.csv"):
        content_type = client.get(path).headers["Content-Type"]
        assert content_type.count("charset") == 1, (path, content_type)
