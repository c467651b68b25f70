"""Portal metadata formats (Socrata, CKAN, DCAT-US, data packages, Axibase Markdown, HTML tables).

Runs every module on the real corpus files and on small hand-written malformed cases.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from indexer.formats import portal
from indexer.formats.base import FormatError, ParsedFile, read_head

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("CATALOG_CORPUS_DIR", REPO.parent / "shared" / "corpus"))

MINE = [
    "socrata_discovery",
    "socrata_view",
    "ckan_package",
    "dcat_json",
    "datapackage",
    "socrata_markdown",
    "html_tables",
]
MODULES = {name: importlib.import_module(f"indexer.formats.{name}") for name in MINE}

# Which of these modules owns each kind of corpus file (glob relative to the corpus).
KINDS = {
    "socrata/*.view.json": "socrata_view",
    "socrata/discovery_api/*.json": "socrata_discovery",
    "ckan/*.json": "ckan_package",
    "dcat_us/*.json": "dcat_json",
    "datapackage/ctdata/*.json": "datapackage",
    "socrata/ctgov_axibase_md/*.md": "socrata_markdown",
    "data_dictionaries/dol_developer_portal/*.md": "html_tables",
}

# The corpus sits beside the clone (../shared/corpus); in CI its absence is a failure.
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CATALOG_REQUIRE_SERVICES") != "1",
    reason=f"corpus not found at {CORPUS}",
)


def corpus_files() -> list[Path]:
    """Every metadata file of the corpus (SOURCES.md and README files excluded)."""
    if not CORPUS.is_dir():
        return []
    return sorted(
        path for path in CORPUS.rglob("*")
        if path.is_file() and path.name not in {"SOURCES.md", "README.md"}
    )


def owner_of(path: Path) -> str | None:
    """The module expected to read ``path``; None for files of other people's formats."""
    for pattern, module in KINDS.items():
        if path in set(CORPUS.glob(pattern)):
            return module
    return None


def parse(module: str, relative: str) -> ParsedFile:
    return MODULES[module].parse(CORPUS / relative)


def one(module: str, relative: str) -> dict[str, Any]:
    parsed = parse(module, relative)
    assert len(parsed.datasets) == 1, parsed.errors
    return parsed.datasets[0]


def by_id(parsed: ParsedFile, identifier: str) -> dict[str, Any]:
    return next(d for d in parsed.datasets if d["identifier"] == identifier)


def field(dataset: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in dataset["fields"] if f["name"] == name)


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return path


def detected_by(path: Path) -> list[str]:
    head = read_head(path)
    return [name for name, module in MODULES.items() if module.detect(path, head)]


# ------------------------------------------------------------------------------ detection


@needs_corpus
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_each_corpus_file_is_claimed_by_exactly_its_module(path: Path) -> None:
    expected = owner_of(path)
    assert detected_by(path) == ([expected] if expected else [])


@needs_corpus
def test_every_kind_has_corpus_files() -> None:
    for pattern in KINDS:
        assert list(CORPUS.glob(pattern)), pattern


@needs_corpus
def test_registry_detection_picks_our_module() -> None:
    from indexer.formats import detect

    for pattern, module in KINDS.items():
        for path in CORPUS.glob(pattern):
            found = detect(path)
            assert found is not None and found.__name__.endswith(module), path


def test_datapackage_and_ckan_package_are_told_apart(tmp_path: Path) -> None:
    package = write(tmp_path, "pkg.json", {
        "help": "https://demo.ckan.org/api/3/action/help_show?name=package_show",
        "success": True,
        "result": {"name": "x", "notes": "", "resources": [], "num_resources": 0},
    })
    frictionless = write(tmp_path, "other.json", {
        "name": "x", "resources": [{"path": "x.csv", "schema": {"fields": [{"name": "a"}]}}],
    })
    assert detected_by(package) == ["ckan_package"]
    assert detected_by(frictionless) == ["datapackage"]


def test_detection_works_on_a_truncated_head(tmp_path: Path) -> None:
    columns = [{"fieldName": f"c{i}", "name": f"C {i}", "dataTypeName": "text",
                "description": "x" * 200, "position": i} for i in range(1, 600)]
    path = write(tmp_path, "big.json", {"id": "abcd-1234", "name": "Big", "viewType": "tabular",
                                        "columns": columns})
    assert path.stat().st_size > 64 * 1024
    assert detected_by(path) == ["socrata_view"]
    assert len(MODULES["socrata_view"].parse(path).datasets[0]["fields"]) == 599


# --------------------------------------------------------------------------- corpus counts

COUNTS = [
    ("socrata_view", "socrata/seattle_3k2p-39jp_spd_911_incident_response.view.json", 1, 19),
    ("socrata_view", "socrata/colorado_9dsu-d5wu_metro_vision_brt_network.view.json", 1, 0),
    ("socrata_view", "socrata/worldbank_9xpv-ae4d_fif_contributions_thailand.view.json", 1, 2),
    ("socrata_view", "socrata/nyc_hdr6-7r95_map_of_monuments.view.json", 1, 6),
    ("socrata_discovery", "socrata/discovery_api/catalog_v1_6a65c2_official_provenance_mixed.json",
     10, 215),
    ("socrata_discovery", "socrata/discovery_api/catalog_v1_2966a2_chicago_transportation.json",
     10, 242),
    ("socrata_discovery",
     "socrata/discovery_api/catalog_v1_9cfe35_ny_pa_wa_calgary_official.json", 10, 441),
    ("ckan_package", "ckan/package_show_barcelona_diba_nombres.json", 1, 0),
    ("ckan_package", "ckan/package_show_ecocommons_anuclim_with_extras.json", 1, 0),
    ("dcat_json", "dcat_us/opendataphilly_data.json", 402, 0),
    ("dcat_json", "dcat_us/cftc_data.json", 7, 0),
    ("dcat_json", "dcat_us/doe_arm_sample.data.json", 3, 0),
    ("dcat_json", "dcat_us/ny_sonyma_sample.data.json", 1, 0),
    ("dcat_json", "dcat_us/usda_sample.data.json", 3, 0),
    ("datapackage",
     "datapackage/ctdata/accidental-drug-related-deaths-by-drug-type.datapackage.json", 1, 11),
    ("datapackage", "datapackage/ctdata/subsidized-housing-by-type.datapackage.json", 1, 6),
    ("socrata_markdown",
     "socrata/ctgov_axibase_md/3tvg-dry3_dss_assistance_units_and_recipients_by_town.md", 1, 19),
    ("socrata_markdown", "socrata/ctgov_axibase_md/"
     "337d-73fs_ct_dcf_abuse_neglect_reports_and_allegations_by_town_and_sta.md", 1, 34),
    ("socrata_markdown",
     "socrata/ctgov_axibase_md/3bmw-7hhc_chronic_absenteeism_by_district_2012_13.md", 1, 18),
    ("html_tables",
     "data_dictionaries/dol_developer_portal/2013-01-30-oui-inital-claims.md", 1, 10),
    ("html_tables",
     "data_dictionaries/dol_developer_portal/2013-01-30-2010-workforce-investment-act.md", 1, 42),
    ("html_tables",
     "data_dictionaries/dol_developer_portal/2013-01-30-bls-current-employment-statistics-ces.md",
     1, 30),
    # Two of its nine tables (EN_DATA_PUB, EN_SERIES) are inside HTML comments: not on the page.
    ("html_tables", "data_dictionaries/dol_developer_portal/"
     "2013-01-30-bls-quarterly-census-employment-and-wage-cew.md", 1, 32),
]


@needs_corpus
@pytest.mark.parametrize(("module", "relative", "datasets", "fields"), COUNTS)
def test_dataset_and_field_counts(module: str, relative: str, datasets: int, fields: int) -> None:
    parsed = parse(module, relative)
    assert parsed.errors == []
    assert len(parsed.datasets) == datasets
    assert sum(len(d["fields"]) for d in parsed.datasets) == fields


@needs_corpus
@pytest.mark.parametrize(
    "path",
    [p for p in corpus_files() if owner_of(p) is not None],
    ids=lambda p: str(p.relative_to(CORPUS)),
)
def test_every_record_passes_the_catalog_schema(path: Path) -> None:
    module = owner_of(path)
    assert module is not None
    from catalog import schemas
    parsed = MODULES[module].parse(path)
    assert parsed.datasets
    for dataset in parsed.datasets:
        schemas.DatasetInSchema().load(dataset)
        positions = [f["position"] for f in dataset["fields"]]
        assert positions == list(range(1, len(positions) + 1))


# ------------------------------------------------------------------------- corpus content


@needs_corpus
def test_socrata_view_seattle() -> None:
    dataset = one("socrata_view", "socrata/seattle_3k2p-39jp_spd_911_incident_response.view.json")
    assert dataset["identifier"] == "3k2p-39jp"
    assert dataset["title"] == "Seattle Police Department 911 Incident Response"
    assert dataset["agency"].startswith("City of Seattle")
    assert dataset["keywords"] == ["911", "police", "crime", "incident response"]
    assert dataset["update_frequency"] == "hourly"
    assert dataset["extra"]["category"] == "Public Safety"
    first = dataset["fields"][0]
    assert (first["name"], first["label"], first["source_type"]) == (
        "cad_cdw_id", "CAD CDW ID", "text")
    assert field(dataset, "event_clearance_date")["data_type"] == "datetime"
    assert field(dataset, "incident_location")["data_type"] == "geometry"


@needs_corpus
def test_socrata_view_field_descriptions_and_owner_fallback() -> None:
    world = one("socrata_view", "socrata/worldbank_9xpv-ae4d_fif_contributions_thailand.view.json")
    assert field(world, "calendar_year")["description"] == "Year when the contribution was received"
    assert field(world, "amount_in_usd")["label"] == "Amount in USD"
    colorado = one("socrata_view", "socrata/colorado_9dsu-d5wu_metro_vision_brt_network.view.json")
    assert colorado["identifier"] == "9dsu-d5wu"
    assert colorado["agency"] == "Jon Gottsegen"  # no attribution: the owner's display name
    assert colorado["fields"] == []


@needs_corpus
def test_socrata_discovery_results() -> None:
    parsed = parse("socrata_discovery",
                   "socrata/discovery_api/catalog_v1_6a65c2_official_provenance_mixed.json")
    dallas = by_id(parsed, "9fxf-t2tr")
    assert dallas["agency"] == "Dallas Police Department"
    assert dallas["update_frequency"] == "Every 2 Minutes"
    assert dallas["landing_page"] == "https://www.dallasopendata.com/d/9fxf-t2tr"
    assert dallas["last_modified"].startswith("2025-")
    assert "<" not in dallas["description"]
    call = field(dallas, "nature_of_call")
    assert call["label"] == "Nature of Call"
    assert call["description"].startswith("Problem type of call")
    assert field(dallas, "date")["data_type"] == "datetime"
    howard = by_id(parsed, "qccx-65fg")
    assert howard["agency"] == "Howard County, MD"  # no attribution: domain metadata publisher
    assert howard["update_frequency"] == "Annually"


@needs_corpus
def test_socrata_discovery_skips_system_columns() -> None:
    for path in CORPUS.glob("socrata/discovery_api/*.json"):
        for dataset in MODULES["socrata_discovery"].parse(path).datasets:
            assert not any(f["name"].startswith(":") for f in dataset["fields"])


@needs_corpus
def test_ckan_package_show() -> None:
    dataset = one("ckan_package", "ckan/package_show_barcelona_diba_nombres.json")
    assert dataset["identifier"] == "nombres-masculinos-mas-frecuentes-en-la-provincia-de-barcelona"
    assert dataset["title"] == "Nombres masculinos más frecuentes en la provincia de Barcelona"
    assert dataset["agency"] == "EURODATA_Galdric"
    assert "estadística" in dataset["keywords"]
    assert dataset["description"].startswith("Nombres más frecuentes")
    assert dataset["extra"]["extras"]["URL"].startswith("https://www.ine.es/")
    assert dataset["access_level"] == "public"
    assert dataset["fields"] == []
    anuclim = one("ckan_package", "ckan/package_show_ecocommons_anuclim_with_extras.json")
    assert anuclim["extra"]["extras"]["spatial_coverage"] == "Australia"
    assert anuclim["landing_page"] == (
        "https://ckan.dev.ecocommons.org.au/dataset/"
        "anuclim_australia_current_climate_december_1976_2005_30_arcsec_1km")


@needs_corpus
def test_dcat_ny_sonyma() -> None:
    dataset = one("dcat_json", "dcat_us/ny_sonyma_sample.data.json")
    assert dataset["identifier"] == "https://data.ny.gov/api/views/22ew-dxez"
    assert dataset["agency"] == "State of New York"
    assert dataset["landing_page"] == "https://data.ny.gov/d/22ew-dxez"
    assert "sonyma" in dataset["keywords"]
    assert len(dataset["extra"]["distributions"]) == 4
    assert dataset["fields"] == []


@needs_corpus
def test_dcat_publisher_hierarchy_and_philly() -> None:
    doe = parse("dcat_json", "dcat_us/doe_arm_sample.data.json").datasets[0]
    assert doe["agency"] == "Atmospheric Radiation Measurement Data Center"
    assert doe["extra"]["publisher_hierarchy"][-1] == "U.S. Government"
    philly = parse("dcat_json", "dcat_us/opendataphilly_data.json")
    assert len({d["identifier"] for d in philly.datasets}) == 402
    assert {d["access_level"] for d in philly.datasets} == {"public"}
    act = one("dcat_json", "dcat_us/act_gov_sportsfield_data.json")
    assert act["agency"] == "ACT Government Online Maps and Apps"  # leading blanks trimmed


@needs_corpus
def test_datapackage_ctdata() -> None:
    dataset = one("datapackage",
                  "datapackage/ctdata/accidental-drug-related-deaths-by-drug-type.datapackage.json")
    assert dataset["identifier"] == "accidental-drug-related-deaths-by-drug-type"
    assert dataset["title"] == "Accidental Drug Related Deaths by Drug Type"
    assert dataset["agency"] is None  # the source is a slug, "ctocme"
    assert dataset["extra"]["sources"] == [{"name": "ctocme", "web": ""}]
    assert dataset["update_frequency"] == "Annual"
    assert dataset["last_modified"] == "2019-06-04"
    assert dataset["access_level"] == "public"
    assert [f["name"] for f in dataset["fields"]][:3] == ["Town", "FIPS", "Year"]
    drug = field(dataset, "Drug Type")
    assert {"code": "Any Opioid", "label": "Any Opioid"} in drug["value_labels"]
    assert field(dataset, "Value")["data_type"] == "number"
    ell = one("datapackage", "datapackage/ctdata/chronic-absenteeism-by-ELL.datapackage.json")
    assert ell["identifier"] == "chronic-absenteeism-by-ell"  # as the package spells it


@needs_corpus
def test_socrata_markdown_summary() -> None:
    dataset = one("socrata_markdown",
                  "socrata/ctgov_axibase_md/3tvg-dry3_dss_assistance_units_and_recipients_by_town.md")
    assert dataset["identifier"] == "3tvg-dry3_dss_assistance_units_and_recipients_by_town"
    assert dataset["extra"]["socrata_id"] == "3tvg-dry3"
    assert dataset["title"] == "DSS Assistance Units and Recipients by Town"
    assert dataset["agency"] == "CT Department of Social Services"
    assert dataset["keywords"] == ["dss", "snap", "medicaid", "tfa", "cash"]
    assert dataset["extra"]["category"] == "Health and Human Services"
    assert dataset["landing_page"] == "https://data.ct.gov/d/3tvg-dry3"
    assert dataset["description"].startswith("By major Department of Social Services")
    snap = field(dataset, "snap_cases")
    assert (snap["label"], snap["source_type"], snap["data_type"]) == (
        "SNAP CASES", "number", "number")
    assert not any(f["name"].startswith(":") for f in dataset["fields"])


@needs_corpus
def test_socrata_markdown_licence_from_meta_commands() -> None:
    dataset = one("socrata_markdown",
                  "socrata/ctgov_axibase_md/3bmw-7hhc_chronic_absenteeism_by_district_2012_13.md")
    assert dataset["extra"]["license"] == "Public Domain"
    assert dataset["extra"]["owner"] == "Stephanie O'Day"


@needs_corpus
def test_html_tables_dol_single_table() -> None:
    dataset = one("html_tables",
                  "data_dictionaries/dol_developer_portal/2013-01-30-oui-inital-claims.md")
    assert dataset["identifier"] == "2013-01-30-oui-inital-claims"
    assert dataset["title"] == "OUI Initial Claims"
    assert dataset["description"].startswith("OUI Initial claims dataset contains")
    assert dataset["extra"]["api_url"] == "https://api.dol.gov/V1/Statistics/OUI_InitialClaims"
    factor = field(dataset, "initialClaimsSeasonalFactor")
    assert factor["description"] == "Initial Claims Seasonal Factor"  # no "Column Description"
    assert (factor["source_type"], factor["data_type"]) == ("decimal(10,1)", "number")
    assert field(dataset, "week")["data_type"] == "datetime"


@needs_corpus
def test_html_tables_dol_several_tables() -> None:
    dataset = one("html_tables",
                  "data_dictionaries/dol_developer_portal/2013-01-30-2010-workforce-investment-act.md")
    tables = dataset["extra"]["tables"]
    assert [t["name"] for t in tables] == [
        "workforceInvestmentAct", "workforceInvestmentActUi", "workforceInvestmentActWages"]
    assert sum(t["fields"] for t in tables) == 42
    assert dataset["fields"][0]["description"] == "[workforceInvestmentAct] Id - Primary Key"
    assert {"code": "2", "label": "Female"} in dataset["extra"]["code_lists"]["Gender Codes"]


# ------------------------------------------------------------------------- malformed input

TRUNCATED = '{\n  "id": "abcd-1234",\n  "name": "Cut",\n  "columns": [\n    {"fieldName": "a"'


@pytest.mark.parametrize(
    "module", ["socrata_view", "socrata_discovery", "ckan_package", "dcat_json", "datapackage"]
)
def test_truncated_json_is_a_clear_format_error(tmp_path: Path, module: str) -> None:
    path = write(tmp_path, "cut.json", TRUNCATED)
    with pytest.raises(FormatError, match=r"invalid JSON at line \d+ column \d+") as caught:
        MODULES[module].parse(path)
    assert caught.value.line is not None


@pytest.mark.parametrize(
    "module", ["socrata_view", "socrata_discovery", "ckan_package", "dcat_json", "datapackage"]
)
def test_empty_and_wrong_shape_json(tmp_path: Path, module: str) -> None:
    with pytest.raises(FormatError, match="empty"):
        MODULES[module].parse(write(tmp_path, "empty.json", "  \n"))
    with pytest.raises(FormatError, match="expected"):
        MODULES[module].parse(write(tmp_path, "number.json", "42"))


def test_socrata_view_without_id_names_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="'id'"):
        MODULES["socrata_view"].parse(write(tmp_path, "v.json", {"name": "x", "columns": []}))


def test_socrata_view_odd_but_valid(tmp_path: Path) -> None:
    view = {
        "id": "ab12-cd34", "name": "Ünïcode", "attribution": None, "owner": None,
        "tags": None, "metadata": None, "description": None,
        "columns": [
            {"fieldName": ":id", "name": "id", "position": 0},
            {"fieldName": "b", "name": "B", "position": 2, "dataTypeName": None},
            {"fieldName": "a", "name": "A", "position": 1, "description": "first"},
            {"fieldName": None, "name": None},
            "not a column",
        ],
    }
    dataset = MODULES["socrata_view"].parse(write(tmp_path, "v.json", view)).datasets[0]
    assert dataset["title"] == "Ünïcode"
    assert dataset["agency"] is None and dataset["keywords"] == []
    assert [(f["position"], f["name"]) for f in dataset["fields"]] == [(1, "a"), (2, "b")]


def test_socrata_discovery_unequal_arrays_and_nulls(tmp_path: Path) -> None:
    response = {"results": [
        {"resource": {"id": "ab12-cd34", "name": "Ragged",
                      "columns_field_name": ["a", None, "c", ":@computed_region_x"],
                      "columns_name": ["A", "B"],
                      "columns_datatype": ["Number", None, "Calendar date", "Number", "Text"],
                      "columns_description": None},
         "classification": {"domain_tags": ["x", None], "tags": ["X", "y"],
                             "domain_metadata": [{"key": "Info_Agency", "value": "Agency A"},
                                                 {"key": "Update_Update-Frequency",
                                                  "value": "Weekly"}, None]},
         "metadata": {"domain": "data.example.gov"}, "link": "https://data.example.gov/x"},
        {"resource": {"name": "No id"}},
        "garbage",
    ]}
    parsed = MODULES["socrata_discovery"].parse(write(tmp_path, "d.json", response))
    assert len(parsed.datasets) == 1 and len(parsed.errors) == 2
    assert "'No id'" in parsed.errors[0]
    dataset = parsed.datasets[0]
    assert [(f["name"], f["label"], f["data_type"]) for f in dataset["fields"]] == [
        ("a", "A", "number"), ("B", "B", None), ("c", None, "datetime")]
    assert dataset["agency"] == "Agency A"
    assert dataset["keywords"] == ["x", "y"]
    assert dataset["update_frequency"] == "Weekly"
    assert dataset["landing_page"] == "https://data.example.gov/x"


def test_ckan_datastore_fields_private_and_search(tmp_path: Path) -> None:
    dictionary = [
        {"id": "_id", "type": "int"},
        {"id": "zip", "type": "text", "info": {"label": "ZIP code", "notes": "Five digits",
                                               "type_override": "numeric"}},
        {"id": "opened", "type": "timestamp"},
    ]
    package = {"name": "pkg-a", "title": "A", "private": True, "notes": "n",
               "organization": {"title": "Dept. of Examples"}, "tags": [{"name": "t1"}, "t2"],
               "extras": [{"key": "update_frequency", "value": "R/P1W"}],
               "resources": [{"name": "r1", "fields": dictionary}, {"name": "r2"}]}
    envelope = {"help": "https://ckan.example.org/api/3/action/help_show", "success": True,
                "result": {"count": 2, "results": [package, {**package, "name": "pkg-b",
                                                             "private": False, "resources": []}]}}
    parsed = MODULES["ckan_package"].parse(write(tmp_path, "search.json", envelope))
    first, second = parsed.datasets
    assert first["access_level"] == "internal" and second["access_level"] == "public"
    assert first["agency"] == "Dept. of Examples"
    assert first["keywords"] == ["t1", "t2"]
    assert first["update_frequency"] == "weekly"
    assert first["landing_page"] == "https://ckan.example.org/dataset/pkg-a"
    zip_code = field(first, "zip")
    assert (zip_code["label"], zip_code["description"], zip_code["source_type"]) == (
        "ZIP code", "Five digits", "numeric")
    assert [f["name"] for f in first["fields"]] == ["zip", "opened"]
    assert field(first, "opened")["data_type"] == "datetime"
    assert second["fields"] == []


def test_ckan_bare_package_with_datastore_fields(tmp_path: Path) -> None:
    bare = {"name": "bare", "notes": None, "license_id": "cc-by", "resources": [],
            "datastore_fields": [{"id": "a", "type": "int4", "info": {"label": "A"}}]}
    path = write(tmp_path, "bare.json", bare)
    assert detected_by(path) == ["ckan_package"]
    dataset = MODULES["ckan_package"].parse(path).datasets[0]
    assert [(f["name"], f["label"], f["data_type"]) for f in dataset["fields"]] == [
        ("a", "A", "integer")]


def test_ckan_failed_response(tmp_path: Path) -> None:
    failed = {"help": "https://x/api/3/action/help_show", "success": False,
              "error": {"message": "Not found", "__type": "Not Found Error"}}
    with pytest.raises(FormatError, match="Not found"):
        MODULES["ckan_package"].parse(write(tmp_path, "failed.json", failed))


def test_dcat_dataset_without_identifier_is_one_error(tmp_path: Path) -> None:
    catalog = {
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "dataset": [
            {"identifier": "a-1", "title": "First", "accessLevel": "restricted public",
             "accrualPeriodicity": "R/P1M", "publisher": {"subOrganizationOf": {"name": "Parent"}},
             "keyword": "roads, bridges"},
            {"title": "Nameless", "accessLevel": "public"},
            {"identifier": "a-3", "title": "Third", "accessLevel": "non-public",
             "accrualPeriodicity": "irregular"},
        ],
    }
    path = write(tmp_path, "data.json", catalog)
    assert detected_by(path) == ["dcat_json"]
    parsed = MODULES["dcat_json"].parse(path)
    assert [d["identifier"] for d in parsed.datasets] == ["a-1", "a-3"]
    assert len(parsed.errors) == 1
    assert "#2" in parsed.errors[0] and "Nameless" in parsed.errors[0]
    first, third = parsed.datasets
    assert first["access_level"] == "restricted" and third["access_level"] == "internal"
    assert first["update_frequency"] == "monthly" and third["update_frequency"] == "irregular"
    assert first["agency"] == "Parent"
    assert first["keywords"] == ["roads", "bridges"]


@pytest.mark.parametrize(("raw", "word"), [
    ("R/P1D", "daily"), ("R/P1W", "weekly"), ("R/P1M", "monthly"), ("R/P3M", "quarterly"),
    ("R/P1Y", "annual"), ("R/P6M", "semiannual"), ("R/PT1H", "hourly"), ("irregular", "irregular"),
    ("R/P5D", "every 5 days"), ("Weekly", "Weekly"), (None, None), ("", None),
])
def test_frequency_words(raw: str | None, word: str | None) -> None:
    assert portal.frequency_word(raw) == word


def test_datapackage_without_name_and_with_several_resources(tmp_path: Path) -> None:
    package = {"resources": [
        {"name": "people", "schema": {"fields": [
            {"name": "age", "type": "integer", "title": "Age", "description": "In years"}]}},
        {"name": "places", "schema": {"fields": [
            {"name": "year", "type": "year"}, {"type": "string"},
            {"name": "kind", "type": "string", "constraints": {"enum": [1, "b", None]}}]}},
        {"name": "remote", "schema": "https://example.org/schema.json"},
    ]}
    path = write(tmp_path, "towns.datapackage.json", package)
    assert detected_by(path) == ["datapackage"]
    parsed = MODULES["datapackage"].parse(path)
    dataset = parsed.datasets[0]
    assert dataset["identifier"] == "towns"
    assert [f["name"] for f in dataset["fields"]] == ["age", "year", "kind"]
    assert field(dataset, "age")["description"] == "[people] In years"
    assert field(dataset, "year")["data_type"] == "date"
    assert field(dataset, "kind")["value_labels"] == [
        {"code": "1", "label": "1"}, {"code": "b", "label": "b"}]
    assert len(parsed.warnings) == 2  # the nameless field and the schema reference


def test_socrata_markdown_without_dataset_table(tmp_path: Path) -> None:
    path = write(tmp_path, "x.md", "# Title\n\n## Columns\n\n| Field Name | Name |\n")
    assert detected_by(path) == []
    with pytest.raises(FormatError, match="## Dataset"):
        MODULES["socrata_markdown"].parse(path)


def test_html_table_plain_page_by_header_wording(tmp_path: Path) -> None:
    page = """<html><head><title>Permits dictionary</title></head><body>
    <p>Building permits issued by the city.</p>
    <h2>Permits</h2>
    <table><tr><th>Description</th><th>Variable</th><th>Type</th><th>Length</th></tr>
      <tr><td>Permit number, unique</td><td>PERMIT_NO</td><td>char</td><td>10</td></tr>
      <tr><td colspan="2">Issued on</td><td>date</td><td></td></tr>
      <tr><td>Ünïcode ok</td><td>FEE</td><td>money</td><td>x</td></tr>
    </table>
    <table><tr><th>Month</th><th>Count</th></tr><tr><td>Jan</td><td>3</td></tr></table>
    </body></html>"""
    path = write(tmp_path, "permits.html", page)
    assert detected_by(path) == ["html_tables"]
    dataset = MODULES["html_tables"].parse(path).datasets[0]
    assert dataset["identifier"] == "permits"
    assert dataset["title"] == "Permits dictionary"
    assert dataset["description"] == "Building permits issued by the city."
    assert [(f["name"], f["description"], f["width"]) for f in dataset["fields"]] == [
        ("PERMIT_NO", "Permit number, unique", 10), ("Issued on", "Issued on", None),
        ("FEE", "Ünïcode ok", None)]


def test_html_page_without_dictionary_table(tmp_path: Path) -> None:
    path = write(tmp_path, "stats.html", "<table><tr><th>Month</th><th>Count</th></tr></table>")
    assert detected_by(path) == []
    with pytest.raises(FormatError, match="header names a field column"):
        MODULES["html_tables"].parse(path)
