"""Loading files: every corpus format, bad input, and nothing lost when things fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.models import Dataset, Field
from catalog.search.query import SearchQuery
from indexer.load import load_paths
from tests.catalog_fixtures import CORPUS, FIXTURES


def _dump(catalog) -> list[tuple]:
    with catalog.session() as session:
        rows = session.execute(
            select(Dataset.identifier, Dataset.title, Dataset.content_hash, Field.name,
                   Field.label, Field.description).join(Field, isouter=True)
            .order_by(Dataset.identifier, Field.position, Field.name)
        )
        return [tuple(r) for r in rows]


def test_fixtures_load_into_a_searchable_catalog(fixtures_catalog) -> None:
    catalog, report = fixtures_catalog
    totals = report.totals()
    assert totals["failed"] == 0, list(report.errors())
    assert totals["created"] >= 30 and totals["fields"] >= 500
    result = catalog.search(SearchQuery(text="date of birth", kind="field", per_page=10))
    agencies = {h.payload["agency"] for h in result.hits if "birth" in (
        (h.payload["title"] or "") + (h.payload["description"] or "")).lower()}
    assert len(agencies) >= 2, [(h.payload["field"], h.payload["agency"]) for h in result.hits]


def test_loading_again_changes_nothing(fixtures_catalog) -> None:
    catalog, _ = fixtures_catalog
    before = _dump(catalog)
    embedded = catalog.embedder.texts_embedded
    report = load_paths(catalog, [FIXTURES])
    totals = report.totals()
    assert totals["created"] == 0 and totals["updated"] == 0 and totals["unchanged"] >= 30
    assert catalog.embedder.texts_embedded == embedded
    assert _dump(catalog) == before


@pytest.mark.slow
def test_the_whole_corpus_loads_and_the_rest_is_reported(new_catalog) -> None:
    report = load_paths(new_catalog, [CORPUS], index=False)
    totals = report.totals()
    failed = [f for f in report.files if f.status == "failed"]
    # sip96t1.do only defines value labels for the .dct beside it (which reads them);
    # it is reported with that reason, not loaded as a dataset of its own.
    assert [Path(f.path).name for f in failed] == ["sip96t1.do"]
    assert "no variable labels" in failed[0].errors[0]
    skipped = {Path(f.path).suffix for f in report.files if f.status == "skipped"}
    assert skipped <= {".md", ".html", ".do"}, skipped
    assert totals["created"] > 500 and totals["fields"] > 10_000
    with new_catalog.session() as session:
        identifiers = set(session.scalars(select(Dataset.identifier)))
    for expected in ("AR_SID_2013_CORE", "tx_pudf_2010_base_definition", "sip96t4",
                     "ipums_cps_00097", "3k2p-39jp", "children-in-placement-by-age",
                     "https://data.ny.gov/api/views/22ew-dxez", "calworks_ca237cw_data_dictionary"):
        assert expected in identifiers


def test_malformed_json_is_reported_and_the_rest_loads(new_catalog, tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.json").write_text('{"dataset": [{"identifier": "x", ', encoding="utf-8")
    shutil.copy(FIXTURES / "dcat_us" / "ny_sonyma_sample.data.json", folder)
    report = load_paths(new_catalog, [folder])
    broken = next(f for f in report.files if f.path.endswith("broken.json"))
    assert broken.status == "failed"
    assert "invalid JSON at line 1" in broken.errors[0]
    assert report.totals()["created"] == 1


def test_dictionary_without_a_header_gets_a_clear_error(new_catalog, tmp_path) -> None:
    path = tmp_path / "dictionary.csv"
    path.write_text("1,2,3\n4,5,6\n7,8,9\n", encoding="utf-8")
    report = load_paths(new_catalog, [path])
    [file_report] = report.files
    assert file_report.status == "failed"
    assert "no header row with a field-name column" in file_report.errors[0]


def _package(fields: list[dict]) -> dict:
    return {"name": "bad-fields", "title": "A package with a bad field",
            "resources": [{"name": "r", "path": "r.csv", "schema": {"fields": fields}}]}


def test_a_10mb_description_is_rejected_by_name_and_the_other_fields_load(
    new_catalog, tmp_path
) -> None:
    path = tmp_path / "bad.datapackage.json"
    fields = [{"name": "ok_one", "type": "string", "description": "fine"},
              {"name": "huge", "type": "string", "description": "x" * (10 * 1024 * 1024)},
              {"name": "ok_two", "type": "integer"}]
    path.write_text(json.dumps(_package(fields)), encoding="utf-8")
    report = load_paths(new_catalog, [path])
    errors = list(report.errors())
    assert len(errors) == 1
    assert "bad.datapackage.json" in errors[0] and "'huge'" in errors[0]
    assert "description" in errors[0] and "bad-fields" in errors[0]
    with new_catalog.session() as session:
        names = session.scalars(select(Field.name).order_by(Field.position)).all()
    assert names == ["ok_one", "ok_two"]


def test_an_invalid_dataset_beside_valid_ones(new_catalog, tmp_path) -> None:
    catalog_json = {
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "dataset": [
            {"identifier": "good-1", "title": "Good one", "publisher": {"name": "Agency A"}},
            {"title": "No identifier", "publisher": {"name": "Agency A"}},
            {"identifier": "bad-access", "title": "Bad access", "accessLevel": "secretish",
             "publisher": {"name": "Agency A"}},
            {"identifier": "good-2", "title": "Good two", "publisher": {"name": "Agency A"}},
        ],
    }
    path = tmp_path / "data.json"
    path.write_text(json.dumps(catalog_json), encoding="utf-8")
    report = load_paths(new_catalog, [path])
    assert report.totals()["created"] == 2
    errors = " | ".join(report.errors())
    assert "data.json" in errors and "No identifier" in errors
    assert "secretish" in errors and "bad-access" in errors


def test_a_failed_file_never_touches_what_is_stored(fixtures_catalog, tmp_path) -> None:
    catalog, _ = fixtures_catalog
    before = _dump(catalog)
    broken = tmp_path / "dcat_us" / "ny_sonyma_sample.data.json"
    broken.parent.mkdir()
    broken.write_text('{"dataset": [', encoding="utf-8")
    load_paths(catalog, [broken])
    assert _dump(catalog) == before


def test_a_broken_index_does_not_lose_data_and_reindex_repairs(new_catalog, tmp_path) -> None:
    index_path = new_catalog.search_engine.path
    index_path.unlink()
    index_path.mkdir()  # the index file cannot be opened: a real failure, no mock
    report = load_paths(new_catalog, [FIXTURES / "dcat_us"])
    assert report.index_error is not None
    assert report.totals()["created"] == 4
    with new_catalog.session() as session:
        assert session.scalar(select(func.count(Dataset.id))) == 4
    assert len(new_catalog.pending_index()) == 4
    index_path.rmdir()
    # The next load catches the index up, although nothing in the files changed.
    again = load_paths(new_catalog, [FIXTURES / "dcat_us"])
    assert again.totals()["unchanged"] == 4 and again.index_error is None
    assert again.indexed_documents >= 4 and new_catalog.pending_index() == []
    query = SearchQuery(text="mortgage loans for first-time home buyers")
    assert new_catalog.search(query).hits[0].payload["dataset"] == (
        "https://data.ny.gov/api/views/22ew-dxez"
    )
    assert new_catalog.reindex() >= 4 and new_catalog.pending_index() == []
    assert new_catalog.search(query).hits[0].payload["dataset"] == (
        "https://data.ny.gov/api/views/22ew-dxez"
    )


def test_provenance_names_the_file_relative_to_the_folder_loaded(new_catalog) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from catalog.models import Dataset
    from indexer.load import load_paths
    from tests.catalog_fixtures import FIXTURES

    load_paths(new_catalog, [FIXTURES / "record_layouts" / "sas" / "hcup"], index=False)
    with new_catalog.session() as session:
        found = session.scalar(select(Dataset).where(Dataset.identifier == "AR_SID_2013_CORE"))
        assert found.provenance == {"file": "hcup/AR_SID_2013_CORE.sas", "format": "sas-program"}
        assert found.agency.name == "Agency for Healthcare Research and Quality"
