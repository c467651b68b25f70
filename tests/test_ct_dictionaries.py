"""Connecticut's P20 WIN dictionaries (../shared/p20win) loaded as a new user would.

The figures the catalog gives are checked against the files read independently with
openpyxl (the merged workbook with its dimension reset, since openpyxl cannot open it
whole: its drawing is missing).
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.models import Agency, Dataset, Field
from catalog.service import Catalog
from catalog.store import find_or_create_agency
from indexer.formats.dictionary_groups import parse_years, split_agency
from indexer.load import load_paths, parse_file
from tests.catalog_fixtures import CORPUS

P20WIN = CORPUS.parent / "p20win"
AGENCY_FILES = sorted(p for p in P20WIN.glob("*.xlsx") if p.name != "P20WIN_Data_Dictionary.xlsx")


def file_rows(path: Path) -> list[tuple[str, ...]]:
    """The non-empty rows under the header, as openpyxl reads them (cells as text)."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    sheet.reset_dimensions()  # the merged workbook states A1 as its whole extent
    rows = [tuple("" if c is None else str(c) for c in row)
            for row in sheet.iter_rows(values_only=True)]
    book.close()
    header = [c.strip() for c in rows[0]]
    offset = header.index("Agency")  # the merged file has a "Click to View More" column first
    return [r[offset:offset + 7] for r in rows[1:] if any(c.strip() for c in r)]


def abbreviation(agency_text: str) -> str:
    match = re.search(r"\(([^()]+)\)\s*$", agency_text.strip())
    return (match.group(1) if match else agency_text).strip().lower()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory,
           embedder: Embedder) -> Iterator[tuple[Catalog, object]]:
    """The 15 agency files and the merged one, loaded into a new catalog (no index)."""
    assert P20WIN.is_dir(), f"{P20WIN} is missing: the P20 WIN dictionaries sit beside corpus/"
    data_dir = tmp_path_factory.mktemp("p20win")
    catalog = Catalog(load_settings(data_dir=data_dir, database_url=None), embedder=embedder)
    report = load_paths(catalog, [P20WIN], index=False)
    yield catalog, report
    catalog.close()


def test_every_file_loads_and_every_dataset_has_its_agency(loaded) -> None:
    catalog, report = loaded
    totals = report.totals()
    assert totals["files"] == 16 and totals["loaded"] == 16 and totals["errors"] == 0
    expected = sum(len(file_rows(p)) for p in P20WIN.glob("*.xlsx"))
    assert totals["fields"] == expected == 1635 + 1593
    with catalog.session() as session:
        agencies = session.scalars(select(Agency).join(Dataset).distinct()).all()
        assert len(agencies) >= 13
        assert "Unknown publisher" not in {a.name for a in agencies}
        dol = session.scalar(select(Agency).where(Agency.slug == "dol"))
        assert (dol.name, dol.abbreviation) == ("Department of Labor", "DOL")


def test_elements_per_agency_are_the_rows_of_the_files(loaded) -> None:
    catalog, _ = loaded
    expected: Counter[str] = Counter()
    for path in P20WIN.glob("*.xlsx"):
        for row in file_rows(path):
            expected[abbreviation(row[0]) if row[0].strip() else "?"] += 1
    with catalog.session() as session:
        counted = Counter({(a or n).lower(): c for a, n, c in session.execute(
            select(Agency.abbreviation, Agency.name, func.count(Field.id))
            .join(Dataset, Dataset.agency_id == Agency.id).join(Field)
            .group_by(Agency.id))})
    # The merged file names SDE once without its abbreviation; both are one agency here.
    expected["sde"] += expected.pop("state department of education", 0)
    assert counted == expected


def test_one_dataset_per_agency_and_program_titled_by_the_program(loaded) -> None:
    catalog, _ = loaded
    path = P20WIN / "DOL_Data_Dictionary.xlsx"
    programs = Counter(row[1].strip() for row in file_rows(path))
    with catalog.session() as session:
        dol = session.scalars(select(Dataset).where(
            Dataset.identifier.like("DOL_Data_Dictionary-%"))).all()
        assert {d.title for d in dol} == set(programs) and len(programs) == 7
        for dataset in dol:
            assert len(dataset.fields) == programs[dataset.title]
            assert dataset.provenance["file"] == "p20win/DOL_Data_Dictionary.xlsx"
            # Its source names the file; search and the API say so beside the identifier.
            assert dataset.source_identifier == "DOL_Data_Dictionary"
            assert dataset.agency.slug == "dol"
        pirl = next(d for d in dol if d.title.startswith("PIRL"))
        assert pirl.identifier == "DOL_Data_Dictionary-dol-pirl-jvsg-taa-wioas-wp"
        ssn = next(f for f in dol[0].fields if f.name.endswith("SSN"))
        assert ssn.category == "PII" and "PII" not in (ssn.description or "")
        apprenticeship = next(d for d in dol if d.title == "Apprenticeship")
        assert (apprenticeship.coverage_start, apprenticeship.coverage_end) == (2003, None)
        assert {f.years for f in apprenticeship.fields} == {"2003-"}


def test_reloading_keeps_identifiers_and_changes_nothing(loaded, tmp_path: Path) -> None:
    catalog, _ = loaded
    with catalog.session() as session:
        before = set(session.scalars(select(Dataset.identifier)))
    again = load_paths(catalog, [P20WIN], index=False).totals()
    assert again["unchanged"] == len(before) and again["created"] == again["updated"] == 0
    with catalog.session() as session:
        assert set(session.scalars(select(Dataset.identifier))) == before


def test_a_placeholder_naming_another_agency_loads_with_a_warning(loaded) -> None:
    _, report = loaded
    dss = next(f for f in report.files if f.path.endswith("DSS_Data_Dictionary.xlsx"))
    assert dss.status == "loaded"
    assert any("State Department of Education (SDE)" in w and "'DSS'" in w
               for w in dss.warnings), dss.warnings
    dol = next(f for f in report.files if f.path.endswith("DOL_Data_Dictionary.xlsx"))
    assert not any("rows name" in w for w in dol.warnings)


def test_names_are_normalised_and_the_source_spelling_kept(loaded) -> None:
    catalog, _ = loaded
    with catalog.session() as session:
        spaced = session.scalars(select(Field).where(Field.source_name == " Last name")).all()
        assert spaced and all(f.name == "Last name" for f in spaced)
        nbsp = session.scalars(select(Field).where(
            Field.source_name == "Comment_Value\xa0(aka:Comment)")).all()
        # A parenthesised note after a name goes to the description (dictionary_table).
        assert nbsp and nbsp[0].name == "Comment_Value"
        assert "aka:Comment" in (nbsp[0].description or "")
        assert session.scalar(select(func.count(Field.id)).where(
            Field.name.contains("\xa0") | Field.name.contains("\n"))) == 0


def test_code_lists_written_into_definitions_become_value_labels(loaded) -> None:
    """DMHAS writes each element's codes into its definition ("Client's Race 1\\n1- American
    Indian/Native Alaskan\\n2- Asian…"): they become the field's value labels, read off the
    file here independently, and the definition is kept whole."""
    catalog, _ = loaded
    rows = [r for r in file_rows(P20WIN / "DMHAS_Data_Dictionary.xlsx") if r[3].strip() == "Race 1"]
    assert rows
    definition = rows[0][4]
    expected = []
    for line in definition.splitlines()[1:]:
        code, _, meaning = line.partition("-")
        expected.append({"code": code.strip(), "label": meaning.strip()})
    with catalog.session() as session:
        race = session.scalars(select(Field).join(Dataset).where(
            Field.name == "Race 1", Dataset.identifier.startswith("DMHAS_Data_Dictionary"))
        ).first()
        assert race is not None and len(expected) >= 5
        assert race.value_labels == expected
        # The merged workbook spaces the same lines apart: the same code list.
        merged = session.scalars(select(Field).join(Dataset).where(
            Field.name == "Race 1", Dataset.identifier.startswith("P20WIN_Data_Dictionary-dmhas"))
        ).first()
        assert merged is not None and merged.value_labels == expected
        assert [line.strip() for line in (race.description or "").splitlines()] == [
            line.strip() for line in definition.strip().splitlines()]
        # A definition in prose, however many lines, has no value labels.
        ssn = session.scalars(select(Field).join(Dataset).where(
            Field.name == "SSN", Dataset.identifier.startswith("DMHAS_Data_Dictionary"))
        ).first()
        assert ssn is not None and ssn.value_labels == []


def test_the_merged_workbook_is_a_compilation_and_the_agency_files_are_not(loaded) -> None:
    """Rows of several agencies make a file a compilation: its copies of an agency's
    datasets yield to the agency's own in search (tests/test_search_contract.py)."""
    catalog, _ = loaded
    with catalog.session() as session:
        datasets = session.scalars(select(Dataset)).all()
    merged = [d for d in datasets if d.provenance["file"].endswith("P20WIN_Data_Dictionary.xlsx")]
    assert merged and all(d.is_compilation for d in merged)
    assert {d.source_identifier for d in merged} == {"P20WIN_Data_Dictionary"}
    # The DSS and OWS placeholders name one other agency: that is no compilation.
    assert not any(d.is_compilation for d in datasets if d not in merged)


def test_an_agency_page_lists_its_own_datasets_and_the_compilations_copies_apart(
        loaded) -> None:
    """DOL's page lists its seven programs once, then the merged workbook's copies under
    "Also in compilations": no title reads as listed twice."""
    from web.app import create_app

    catalog, _ = loaded
    page = create_app(catalog).test_client().get("/agencies/dol").get_data(as_text=True)
    own, _, copies = page.partition('id="compiled"')
    titles = re.findall(r'<a href="/datasets/\d+">([^<]+)</a>', own)
    copied = re.findall(r'<a href="/datasets/\d+">([^<]+)</a>', copies)
    assert len(titles) == len(set(titles)) == 7 and sorted(copied) == sorted(titles)
    assert "P20WIN_Data_Dictionary-" not in own and "DOL_Data_Dictionary-" not in copies
    assert re.search(r"\(and <a href=\"#compiled\">7 in compilations</a>\)", own)


def test_the_merged_workbook_keeps_its_marker_column_out_of_the_fields(loaded) -> None:
    catalog, _ = loaded
    with catalog.session() as session:
        merged = session.scalars(select(Dataset).where(
            Dataset.identifier.like("P20WIN_Data_Dictionary-%"))).all()
        assert sum(len(d.fields) for d in merged) == 1593
        assert not any("oplus" in (f.description or "") or f.end_col is not None
                       for d in merged for f in d.fields)


@pytest.mark.parametrize(("text", "expected"), [
    ("2003-", (2003, None)), ("2010 to 2021", (2010, 2021)), ("2010 - Current", (2010, None)),
    ("2006-07 To Present", (2006, None)), ("2021-2022", (2021, 2022)), ("N/A", (None, None)),
    ("Dec 2021 - Current", (2021, None)), ("2006-07", (2006, 2007)), ("", (None, None)),
])
def test_years_become_temporal_coverage(text: str, expected: tuple) -> None:
    assert parse_years(text) == expected


def test_agencies_match_by_name_or_abbreviation_but_not_across_governments(
        new_catalog: Catalog) -> None:
    assert split_agency("Judicial Branch - Court Support Services Division (JB-CSSD)") == (
        "Judicial Branch - Court Support Services Division", "JB-CSSD")
    with new_catalog.transaction() as session:
        federal = find_or_create_agency(session, "U.S. Department of Labor", "DOL")
        bare = find_or_create_agency(session, "DOC")
        ct = find_or_create_agency(session, *split_agency("Department of Labor (DOL)"))
        assert ct.id != federal.id and ct.slug == "department-of-labor"
        assert find_or_create_agency(session, "Connecticut Department of Correction",
                                     "DOC").id == bare.id
        sde = find_or_create_agency(session, "State Department of Education", "SDE")
        assert find_or_create_agency(session, "Department of Education").id == sde.id


def test_row_columns_are_recognised_by_their_wording_not_one_file(tmp_path: Path) -> None:
    """Other wording for the same columns: Organization, Program Name, Group, Coverage."""
    path = tmp_path / "HLTH" / "layout.csv"
    path.parent.mkdir()
    path.write_text(
        "Organization,Program Name,Group,Field Name,Description,Type,Coverage,Reviewed By\n"
        "Department of Public Health (DPH),Vital Records,Identity,MOTHER_LNAME,Mother's last name,"
        "text,1990 to 2020,J. Smith\n"
        "Department of Public Health (DPH),Vital Records,Event,BIRTH_WT,Weight at birth,int,"
        "1990 to 2020,J. Smith\n"
        "Department of Public Health (DPH),Immunization,Event,VAX_DT,Date of a dose,date,"
        "2010-,J. Smith\n", encoding="utf-8")
    parsed = parse_file(path)
    by_title = {d["title"]: d for d in parsed.datasets}
    assert set(by_title) == {"Vital Records", "Immunization"}
    vital = by_title["Vital Records"]
    assert (vital["agency"], vital["agency_abbreviation"]) == ("Department of Public Health",
                                                               "DPH")
    assert [f["category"] for f in vital["fields"]] == ["Identity", "Event"]
    assert (vital["coverage_start"], vital["coverage_end"]) == (1990, 2020)
    assert by_title["Immunization"]["coverage_end"] is None
    # A column with one value in every row is kept once, not pasted into each description.
    assert vital["extra"]["constant_columns"] == {"Reviewed By": "J. Smith"}
    assert vital["fields"][0]["description"] == "Mother's last name"
    assert any("'HLTH'" in w for w in parsed.warnings)  # the folder names another agency


def test_a_copy_in_an_agency_folder_is_attributed_by_its_rows(tmp_path: Path,
                                                            new_catalog: Catalog) -> None:
    folder = tmp_path / "Data Dictionaries (Upload Here)" / "OWS"
    folder.mkdir(parents=True)
    shutil.copy(P20WIN / "OWS_Data_Dictionary.xlsx", folder)
    report = load_paths(new_catalog, [tmp_path], index=False)
    assert report.totals()["created"] == 1
    with new_catalog.session() as session:
        [dataset] = session.scalars(select(Dataset)).all()
        assert dataset.agency.abbreviation == "SDE"
        assert dataset.title == "State Longitudinal Data System (SLDS)"


def test_search_knows_the_agencies_programs_and_categories(tmp_path: Path,
                                                           new_catalog: Catalog) -> None:
    """Categories and programs are in the search documents; the agency facet is CT's."""
    from catalog.search.query import SearchQuery

    for name in ("DOL_Data_Dictionary.xlsx", "DCF_Data_Dictionary.xlsx"):
        shutil.copy(P20WIN / name, tmp_path)
    report = load_paths(new_catalog, [tmp_path])
    assert report.index_error is None
    found = new_catalog.search(SearchQuery(text="linking fields", kind="field",
                                           mode="lexical", per_page=50))
    # DCF files its identifiers under "Linking fields"; no DCF description says so.
    assert {h.payload["agency"] for h in found.hits[:11]} == {"dcf"}
    assert set(found.facets["agency"]) <= {"dcf", "dol"}
    everything = new_catalog.search(SearchQuery(text="social security number", kind="field"))
    assert {"dol", "dcf"} <= set(everything.facets["agency"])
    program = new_catalog.search(SearchQuery(text="Jobs First Employment Services",
                                             kind="dataset", mode="lexical"))
    assert program.hits[0].payload["dataset_title"] == "Jobs First Employment Services (JFES)"


def test_the_api_names_the_file_a_split_dataset_came_from(tmp_path: Path,
                                                          new_catalog: Catalog) -> None:
    """Search hits and the dataset record carry the source's identifier (the file's name)
    beside the catalog's own (``<file>-<agency>-<program>``)."""
    from web.app import create_app

    shutil.copy(P20WIN / "DOL_Data_Dictionary.xlsx", tmp_path)
    assert load_paths(new_catalog, [tmp_path]).index_error is None
    client = create_app(new_catalog).test_client()
    hits = client.get("/api/v1/search?q=SSN&kind=field&per_page=20").get_json()["hits"]
    ssn = [h for h in hits if h["field"] == "SSN"]
    assert ssn and all(h["source_dataset"] == "DOL_Data_Dictionary" for h in ssn)
    assert all(h["dataset"].startswith("DOL_Data_Dictionary-dol-") for h in ssn)
    with new_catalog.session() as session:
        dataset_id = session.scalar(select(Dataset.id).where(
            Dataset.identifier == ssn[0]["dataset"]))
    record = client.get(f"/api/v1/datasets/{dataset_id}").get_json()
    assert record["identifier"] == ssn[0]["dataset"]
    assert record["source_identifier"] == "DOL_Data_Dictionary"


def test_the_dictionaries_on_postgresql(tmp_path: Path, postgres_url: str,
                                        embedder: Embedder) -> None:
    from sqlalchemy import create_engine, text

    from catalog.models import Base
    from catalog.quality_models import SensitivitySuggestion

    with create_engine(postgres_url).begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=postgres_url),
                      embedder=embedder)
    files = [P20WIN / "DOL_Data_Dictionary.xlsx", P20WIN / "CSSD_Data_Dictionary.xlsx"]
    try:
        first = load_paths(catalog, files, index=False).totals()
        assert first["created"] == 14 and first["errors"] == 0
        assert first["fields"] == sum(len(file_rows(p)) for p in files)
        again = load_paths(catalog, files, index=False).totals()
        assert again["unchanged"] == 14
        with catalog.session() as session:
            levels = Counter(session.scalars(select(SensitivitySuggestion.level)))
            assert levels["private"] >= 1 and levels["personal"] >= 1
    finally:
        catalog.close()


@pytest.mark.parametrize(("raw", "expected"), [
    ("MM/DD/YYYY", "date"), ("YYYYMMDD", "date"), ("MM/DD/YY", "date"), ("CCYYMMDD", "date"),
    ("Date(MMDDYYYY)", "date"), ("YYYY-MM", "date"), ("DT 8", "date"), ("IN 2", "integer"),
    ("DE 8.2", "number"), ("tinyint", "integer"), ("bit", "boolean"), ("CLOB", "string"),
    ("Not Available", None), ("Interger", "integer"), ("Varchar(10)", "string"),
    ("yyyy", "other"), ("mdy", "other"), ("in", "other"), ("Number(10,0)", "number"),
])
def test_source_type_words_and_date_patterns_are_placed(raw: str, expected: str | None) -> None:
    """A date written as its pattern is a date (DOL's "MM/DD/YYYY" birth dates were
    "other", so the Date filter missed them); a type the source does not know is none."""
    from indexer.formats.base import normalise_type

    assert normalise_type(raw) == expected


def test_the_labor_departments_birth_dates_are_dates(loaded) -> None:
    catalog, _ = loaded
    with catalog.session() as session:
        types = Counter(session.execute(
            select(Field.source_type, Field.data_type).join(Dataset).join(Agency)
            .where(Agency.name == "Department of Labor",
                   Field.source_type.in_(("MM/DD/YYYY", "MM/DD/YY")))).tuples())
    assert sum(types.values()) >= 20 and all(kind == "date" for _, kind in types), types
