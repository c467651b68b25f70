"""Record-layout and data-dictionary format modules, on the real corpus files."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import pytest

from indexer.formats import (
    ddi_codebook,
    dictionary_table,
    sas_program,
    stata_dictionary,
    stata_labels,
)
from indexer.formats.base import FormatError, read_head

REPO = pathlib.Path(__file__).resolve().parents[1]
CORPUS = pathlib.Path(os.environ.get("CATALOG_CORPUS_DIR", REPO / ".." / "shared" / "corpus"))
LAYOUTS = CORPUS / "record_layouts"
SAS = LAYOUTS / "sas"
DCT = LAYOUTS / "stata_dct" / "nber_sipp1996"
DO = LAYOUTS / "stata_do" / "nces_ipeds"
TX = LAYOUTS / "fixed_width_tables" / "tx_dshs_pudf"
DICTS = CORPUS / "data_dictionaries"

# The corpus sits beside the clone (../shared/corpus); in CI its absence is a failure.
pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CATALOG_REQUIRE_SERVICES") != "1",
    reason=f"corpus not found at {CORPUS}",
)


def only_dataset(module: Any, path: pathlib.Path) -> dict[str, Any]:
    """Parse ``path`` with ``module`` and return its single dataset."""
    assert module.detect(path, read_head(path)), f"{module.NAME} does not detect {path.name}"
    parsed = module.parse(path)
    assert parsed.format == module.NAME
    assert len(parsed.datasets) == 1
    dataset = parsed.datasets[0]
    assert dataset["identifier"] == path.stem
    assert dataset["title"]
    return dataset


def by_name(dataset: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in dataset["fields"]}


def codes(field: dict[str, Any]) -> dict[str, str]:
    return {v["code"]: v["label"] for v in field["value_labels"]}


def check_layout(dataset: dict[str, Any]) -> int:
    """Positions are 1..n, columns consistent; returns the record length."""
    fields = dataset["fields"]
    assert [f["position"] for f in fields] == list(range(1, len(fields) + 1))
    for f in fields:
        if f["start_col"] is not None and f["width"] is not None:
            assert f["end_col"] == f["start_col"] + f["width"] - 1, f
    assert dataset["layout"] is True
    return max(f["end_col"] for f in fields if f["end_col"])


# ----------------------------------------------------------------------------- SAS

HCUP_COUNTS = {
    "AR_SID_2013_CORE": (206, 721),
    "KY_SID_2008_CORE": (294, 1019),
    "MD_SEDD_2012_CORE": (366, 1203),
    "NC_SASD_2002_CORE": (147, 599),
    "NY_SASD_2011_CORE": (214, 786),
    "NY_SEDD_2011_CORE": (220, 810),
    "NY_SID_2013_AHAL": (7, None),
    "NY_SID_2013_CHGS": (4, None),
    "NY_SID_2013_CORE": (253, 887),
    "NY_SID_2013_DX_PR_GRPS": (158, 710),
    "NY_SID_2013_SEVERITY": (30, 73),
    "WA_SID_2013_CORE": (251, 919),
}


@pytest.mark.parametrize("stem", sorted(HCUP_COUNTS))
def test_hcup_sas_field_and_label_counts(stem: str) -> None:
    dataset = only_dataset(sas_program, SAS / "hcup" / f"{stem}.sas")
    count, lrecl = HCUP_COUNTS[stem]
    assert len(dataset["fields"]) == count
    assert sum(1 for f in dataset["fields"] if f["label"]) == count
    assert all(f["width"] and f["start_col"] for f in dataset["fields"])
    length = check_layout(dataset)
    assert length <= dataset["extra"]["lrecl"]
    if lrecl:
        assert length == lrecl


def test_hcup_ar_core_positions_labels_and_informats() -> None:
    fields = by_name(only_dataset(sas_program, SAS / "hcup" / "AR_SID_2013_CORE.sas"))
    age = fields["AGE"]
    assert (age["start_col"], age["width"], age["end_col"]) == (1, 3, 3)
    assert age["label"] == "Age in years at admission"
    assert age["source_type"] == "N3PF." and age["data_type"] == "number"
    bill = fields["BILLTYPE"]
    assert (bill["start_col"], bill["width"], bill["data_type"]) == (24, 4, "string")
    total = fields["TOTCHG_X"]  # N15P2F: width and decimals from the INVALUE definition
    assert (total["start_col"], total["width"], total["decimals"]) == (633, 15, 2)
    assert fields["VisitLink"]["start_col"] == 652
    assert fields["PRYEAR6"]["end_col"] == 721


def test_hcup_multiline_attrib_label() -> None:
    fields = by_name(only_dataset(sas_program, SAS / "hcup" / "NY_SID_2013_AHAL.sas"))
    label = fields["COMMUNITY_NONREHAB_NONLTAC"]["label"]
    assert label == (
        "Indicator of U.S. community hospital that is not a rehabilitation or long-term "
        "acute care hospital (Z997)"
    )
    assert fields["AHAID"]["data_type"] == "string"


@pytest.mark.parametrize(
    ("name", "count", "formats", "lrecl"),
    [("nhis2015_SAMADULT", 650, 126, 904), ("nhis2015_PERSONSX", 606, 104, 775)],
)
def test_nhis_sas_counts(name: str, count: int, formats: int, lrecl: int) -> None:
    dataset = only_dataset(sas_program, SAS / "cdc_nhis" / f"{name}.sas")
    assert len(dataset["fields"]) == count
    assert sum(1 for f in dataset["fields"] if f["label"]) == count
    assert dataset["extra"]["value_formats"] == formats
    assert check_layout(dataset) == lrecl == dataset["extra"]["lrecl"]


def test_nhis_samadult_columns_and_value_labels() -> None:
    dataset = only_dataset(sas_program, SAS / "cdc_nhis" / "nhis2015_SAMADULT.sas")
    assert "NHIS" in dataset["title"] and "SAMADULT" in dataset["title"]
    fields = by_name(dataset)
    hhx = fields["HHX"]
    assert (hhx["start_col"], hhx["end_col"], hhx["width"]) == (7, 12, 6)
    assert hhx["data_type"] == "string"
    assert hhx["label"] == "Household Number"
    weight = fields["WTIA_SA"]  # "20 - 26 .1": column input with implied decimals
    assert (weight["start_col"], weight["end_col"], weight["decimals"]) == (20, 26, 1)
    rectype = fields["RECTYPE"]
    assert rectype["format"] == "SAP001X."
    assert codes(rectype)["10"] == "10 Household"
    assert codes(rectype)["75"] == "75 Injury/Poisoning Verbatim"
    last = fields["AWEBMTP"]
    assert (last["start_col"], last["end_col"]) == (904, 904)
    assert codes(last)["9"] == "9 Don't know"


def test_nhis_personsx_label_on_next_line() -> None:
    fields = by_name(only_dataset(sas_program, SAS / "cdc_nhis" / "nhis2015_PERSONSX.sas"))
    relation = next(f for f in fields.values() if codes(f).get("08", "").startswith("08 Brother"))
    assert codes(relation)["08"] == "08 Brother/sister (biological/adoptive/in-law/step/foster)"
    labels = [v["label"] for f in fields.values() for v in f["value_labels"]]
    assert "9 Don\u2019t know" in labels  # a cp1252 apostrophe (byte 0x92), decoded


def test_yrbs_sas_program() -> None:
    dataset = only_dataset(sas_program, SAS / "cdc_yrbs" / "YRBS_2011_SAS_Input_Program.sas")
    assert len(dataset["fields"]) == 206
    assert sum(1 for f in dataset["fields"] if f["label"]) == 206
    assert "YRBS" in dataset["title"]
    fields = by_name(dataset)
    assert (fields["Q1"]["start_col"], fields["Q1"]["width"]) == (17, 1)
    assert fields["Q1"]["label"] == "How old are you"
    assert fields["Q1"]["format"] == "$H1S."  # display format; its VALUEs are in another file
    q6 = fields["Q6"]
    assert (q6["start_col"], q6["width"], q6["decimals"]) == (29, 4, 2)
    assert fields["RACEETH"]["format"] == "$Hrce."  # FORMAT names it in lower case
    assert fields["BMIPCT"]["data_type"] == "number"
    assert check_layout(dataset) == 389 <= dataset["extra"]["lrecl"]


SAS_HEAD = """/* test */
PROC FORMAT;
  VALUE YN 1 = "Yes" 2 = 'No' ;
RUN;
DATA test;
INFILE 'x.dat' LRECL=20;
"""


def test_sas_input_cut_off(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cut.sas"
    path.write_text(SAS_HEAD + "INPUT\n  @1 A $CHAR2.\n  @3 B 4.\n")
    with pytest.raises(FormatError, match=r"line 7: INPUT statement is not closed") as info:
        sas_program.parse(path)
    assert info.value.line == 7


def test_sas_input_without_variables(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty.sas"
    path.write_text(SAS_HEAD + "* nothing to read;\nINPUT\n  ;\nRUN;\n")
    with pytest.raises(FormatError, match=r"line 8: INPUT statement lists no variables"):
        sas_program.parse(path)


def test_sas_small_program_and_odd_syntax(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "small.sas"
    path.write_text(
        SAS_HEAD
        + "input a $ 1-2 /* inline */ b 3-4 @5 c yn5. +1 d mmddyy10.;\n"
        + "label a='It''s A' b = \"B; semicolon\";\nformat b yn.;\nrun;\n"
    )
    dataset = sas_program.parse(path).datasets[0]
    fields = by_name(dataset)
    assert list(fields) == ["a", "b", "c", "d"]
    assert fields["a"]["label"] == "It's A"
    assert fields["b"]["label"] == "B; semicolon"
    assert codes(fields["b"]) == {"1": "Yes", "2": "No"}
    assert (fields["c"]["start_col"], fields["c"]["width"]) == (5, 5)
    assert (fields["d"]["start_col"], fields["d"]["width"], fields["d"]["data_type"]) == (
        11, 10, "date"
    )


def test_sas_unclosed_comment(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.sas"
    path.write_text("DATA x;\n/* never closed\nINPUT a 1-2;\n")
    with pytest.raises(FormatError, match="line 2: comment"):
        sas_program.parse(path)


# ----------------------------------------------------------------------------- Stata .dct


@pytest.mark.parametrize(
    ("stem", "count", "length"), [("sip96t1", 436, 839), ("sip96t4", 1514, 2886),
                                  ("sip96w1", 871, 2057)],
)
def test_stata_dictionary_counts(stem: str, count: int, length: int) -> None:
    dataset = only_dataset(stata_dictionary, DCT / f"{stem}.dct")
    assert len(dataset["fields"]) == count
    assert all(f["label"] and f["start_col"] and f["width"] for f in dataset["fields"])
    assert check_layout(dataset) == length
    assert "1996 SIPP" in dataset["title"]
    assert dataset["description"].startswith("This program reads the 1996 SIPP")


def test_stata_dictionary_entries() -> None:
    fields = by_name(only_dataset(stata_dictionary, DCT / "sip96t4.dct"))
    ssuid = fields["ssuid"]
    assert (ssuid["start_col"], ssuid["width"], ssuid["end_col"]) == (6, 12, 17)
    assert (ssuid["source_type"], ssuid["data_type"]) == ("str12", "string")
    assert ssuid["format"] == "%12s"
    weight = fields["wpfinwgt"]
    assert (weight["start_col"], weight["width"], weight["decimals"]) == (60, 10, 4)
    assert (weight["source_type"], weight["data_type"]) == ("double", "number")
    assert fields["ssuseq"]["label"] == "SU: Sequence Number of Sample Unit - P"
    assert fields["swave"]["data_type"] == "integer"


def test_stata_dictionary_takes_value_labels_from_sibling_do() -> None:
    dataset = only_dataset(stata_dictionary, DCT / "sip96t1.dct")
    assert dataset["extra"]["value_labels_from"] == "sip96t1.do"
    fields = by_name(dataset)
    assert codes(fields["tfipsst"])["6"] == "California"
    assert codes(fields["rfid2"]) == {"0": "Member of related subfamily"}  # set 'rfid2l'
    assert sum(1 for f in dataset["fields"] if f["value_labels"]) == 425


def test_stata_dictionary_unclosed(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.dct"
    path.write_text('infile dictionary {\n_column(1) byte a %1f "A"\n')
    with pytest.raises(FormatError, match="line 1: the dictionary block"):
        stata_dictionary.parse(path)


# ----------------------------------------------------------------------------- Stata .do

IPEDS_COUNTS = {"adm2016": 68, "c2016_a": 64, "ef2015a": 65, "effy2016": 63, "gr2016": 66,
                "hd2016": 70, "ic2016": 114, "om2016": 34, "sfa1516": 647}


@pytest.mark.parametrize("stem", sorted(IPEDS_COUNTS))
def test_ipeds_label_programs(stem: str) -> None:
    dataset = only_dataset(stata_labels, DO / f"{stem}.do")
    assert len(dataset["fields"]) == IPEDS_COUNTS[stem]
    assert all(f["label"] for f in dataset["fields"])
    assert dataset["fields"][0]["name"] == "unitid"


def test_ipeds_adm2016_labels() -> None:
    dataset = only_dataset(stata_labels, DO / "adm2016.do")
    fields = by_name(dataset)
    assert fields["admcon1"]["label"] == "Secondary school GPA"
    assert codes(fields["admcon1"]) == {
        "1": "Required", "5": "Considered but not required", "2": "Recommended",
        "3": "Neither required nor recommended",
    }
    assert fields["applcn"]["label"] == "Applicants total"
    assert codes(fields["xapplcn"])["R"] == "Reported"  # imputation flags from the comments
    assert dataset["extra"]["data_file"].endswith("adm2016_data_stata.csv")


def test_ipeds_hd2016_string_and_numeric_value_labels() -> None:
    fields = by_name(only_dataset(stata_labels, DO / "hd2016.do"))
    assert codes(fields["stabbr"])["AL"] == "Alabama"  # from the commented-out label define
    assert codes(fields["sector"])["1"] == "Public, 4-year or above"
    assert codes(fields["cbsa"])["21580"] == "Española, NM"


def test_nber_do_without_variable_labels_is_rejected() -> None:
    path = DCT / "sip96t1.do"
    assert stata_labels.detect(path, read_head(path))
    with pytest.raises(FormatError, match=r"^no variable labels"):
        stata_labels.parse(path)


def test_stata_labels_delimit_and_comments(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "t.do"
    path.write_text(
        "* header\r\nlabel variable a \"Alpha // not a comment\" // a comment\r\n"
        "#delimit ;\r\nlabel define yn 1 \"Yes\"\r\n 2 \"No, really\";\r\n"
        "label values a b yn;\r\n#delimit cr\r\nlab var b `\"Beta \"quoted\"\"'\r\n"
    )
    fields = by_name(stata_labels.parse(path).datasets[0])
    assert fields["a"]["label"] == "Alpha // not a comment"
    assert fields["b"]["label"] == 'Beta "quoted"'
    assert codes(fields["b"]) == {"1": "Yes", "2": "No, really"}


# ----------------------------------------------------------------------------- DDI

DDI_COUNTS = {"ipums_atus_00025": (28, 822), "ipums_cps_00097": (14, 136),
              "ipums_cps_00160": (15, 238), "ipums_international_00987": (15, 1076),
              "ipums_usa_00468": (10, 461)}


@pytest.mark.parametrize("stem", sorted(DDI_COUNTS))
def test_ddi_counts(stem: str) -> None:
    dataset = only_dataset(ddi_codebook, CORPUS / "ddi" / f"{stem}.xml")
    variables, categories = DDI_COUNTS[stem]
    assert len(dataset["fields"]) == variables
    assert sum(len(f["value_labels"]) for f in dataset["fields"]) == categories
    assert dataset["title"].startswith("User Extract")
    assert dataset["agency"]
    length = max(f["end_col"] for f in dataset["fields"])
    assert 0 < length < 500


def test_ddi_cps_00097_details() -> None:
    dataset = only_dataset(ddi_codebook, CORPUS / "ddi" / "ipums_cps_00097.xml")
    assert dataset["title"] == "User Extract cps_00097.dat"
    assert (dataset["agency"], dataset["agency_abbreviation"]) == ("IPUMS", "IPUMS")
    assert dataset["extra"]["ddi_id"].endswith("cps_00097.dat-cps.ipums.org")
    fields = by_name(dataset)
    year = fields["YEAR"]
    assert (year["start_col"], year["end_col"], year["width"]) == (1, 4, 4)
    assert year["label"] == "Survey year" and year["data_type"] == "number"
    assert year["description"].startswith("YEAR reports the year")
    assert codes(fields["MONTH"])["01"] == "January"
    assert (fields["SERIAL"]["start_col"], fields["SERIAL"]["end_col"]) == (5, 9)


def test_ddi_undefined_entity(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text('<?xml version="1.0"?>\n<codeBook>\n<stdyDscr>&foo;</stdyDscr>\n</codeBook>\n')
    assert ddi_codebook.detect(path, read_head(path))
    with pytest.raises(FormatError, match=r"line 3: malformed XML: .*foo") as info:
        ddi_codebook.parse(path)
    assert info.value.line == 3


def test_ddi_external_entity_never_resolved(tmp_path: pathlib.Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE codeBook [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<codeBook xmlns="ddi:codebook:2_5"><stdyDscr><citation><titlStmt><titl>T &x;</titl>'
        '</titlStmt></citation></stdyDscr><dataDscr><var name="A"><labl>a</labl>'
        '<location StartPos="1" EndPos="2"/></var></dataDscr></codeBook>\n'
    )
    parsed = ddi_codebook.parse(path)
    dataset = parsed.datasets[0]
    assert "SECRET" not in str(dataset)
    assert dataset["title"] == "T"
    assert dataset["fields"][0]["width"] == 2
    assert parsed.warnings


def test_ddi_truncated(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_text('<codeBook>\n<dataDscr>\n<var name="A">\n')
    with pytest.raises(FormatError, match="malformed XML"):
        ddi_codebook.parse(path)


# ----------------------------------------------------------------------------- tables

TX_COUNTS = {"tx_pudf_2010_base_definition": (260, 1486),
             "tx_pudf_2010_charges_definition": (13, 80),
             "tx_pudf_2012_base_definition_1": (194, 950),
             "tx_pudf_2012_base_definition_2": (100, 700),
             "tx_pudf_2012_charges_definition": (13, 80),
             "tx_pudf_2012_facility_definition": (10, 69)}


@pytest.mark.parametrize("stem", sorted(TX_COUNTS))
def test_tx_pudf_layout_tables(stem: str) -> None:
    dataset = only_dataset(dictionary_table, TX / f"{stem}.txt")
    rows, length = TX_COUNTS[stem]
    assert len(dataset["fields"]) == rows
    assert check_layout(dataset) == length
    assert all(f["start_col"] and f["width"] and f["data_type"] for f in dataset["fields"])


def test_tx_2010_base_positions_and_sub_rows() -> None:
    fields = by_name(only_dataset(dictionary_table, TX / "tx_pudf_2010_base_definition.txt"))
    stay = fields["LENGTH_OF_STAY"]
    assert (stay["start_col"], stay["width"], stay["end_col"]) == (101, 4, 104)
    assert (stay["source_type"], stay["data_type"]) == ("Numeric", "number")
    sub = fields["SPEC_UNIT_1"]  # "12a<TAB><TAB>SPEC_UNIT_1 (fixed length format only)"
    assert (sub["start_col"], sub["width"], sub["data_type"]) == (76, 1, "string")
    assert sub["description"] == "fixed length format only"
    assert fields["PROVIDER_NAME"]["width"] == 55


def test_bls_dictionary_uses_first_name_column() -> None:
    dataset = only_dataset(dictionary_table, DICTS / "bls_qcew_nonprofit" / "data-dictionary.csv")
    assert len(dataset["fields"]) == 14
    fields = by_name(dataset)
    assert "FIPS" in fields and "fips" not in fields
    assert fields["FIPS"]["description"].startswith("FIPS code (00 = U.S. Totals")
    assert "New field name: fips" in fields["FIPS"]["description"]
    assert dataset["layout"] is False


@pytest.mark.parametrize(
    ("definition", "codes"),
    [
        ("Client's Religion\n1- Protestant\n2- Catholic\n96- Other",
         [("1", "Protestant"), ("2", "Catholic"), ("96", "Other")]),
        ("Degrees offered.\nAS = Associate in Science\nCERT = Certificate",
         [("AS", "Associate in Science"), ("CERT", "Certificate")]),
        # Trailing punctuation dropped; a line without a meaning ends the list.
        ("Of Hispanic origin.\nY = Yes,\nN = No,\nNULL", [("Y", "Yes"), ("N", "No")]),
        ("Status.\n1) Active\n2) Closed\nSee the manual.", [("1", "Active"), ("2", "Closed")]),
        # Blank lines between the codes do not end the list.
        ("Race\n\n1- Asian\n\n2- Black\n\n", [("1", "Asian"), ("2", "Black")]),
        # The longest run wins; a repeated code starts another list.
        ("A\n1 = x\n2 = y\nprose\n1 = a\n2 = b\n3 = c", [("1", "a"), ("2", "b"), ("3", "c")]),
        # Prose is no code list: lower-case words before a colon, one code alone, ordinals.
        ("Note: see below\nSource: the agency", []),
        ("Gender\nM = Male", []),
        ("The digits:\n1st digit = college\n2nd digit = test", []),
        # A line longer than a code line is prose, however it begins.
        ("1 = " + "a" * 300 + "\n2 = b", []),
        ("", []),
        (None, []),
    ],
)
def test_code_lists_written_into_definitions(definition, codes) -> None:
    found = dictionary_table.codes_in_definition(definition)
    assert [(v["code"], v["label"]) for v in found] == codes


def test_calworks_dictionary_title_row_and_multiline_header() -> None:
    path = DICTS / "ca_cdss_calworks" / "calworks_ca237cw_data_dictionary.csv"
    parsed = dictionary_table.parse(path)
    dataset = only_dataset(dictionary_table, path)
    assert len(dataset["fields"]) == 149
    assert dataset["description"].startswith("This sheet contains a data dictionary")
    first = dataset["fields"][0]
    assert first["name"] == "1"
    assert first["label"] == "1. Applications/requests carried forward from last month"
    assert "Part: A. APPLICATIONS FOR AID" in first["description"]
    assert any("Column: A. Two Parent Families" in (f["description"] or "")
               for f in dataset["fields"])
    assert parsed.warnings  # the four rows without a cell number


def test_ipedsdb_inventory() -> None:
    dataset = only_dataset(dictionary_table, DICTS / "nces_ipeds" / "ipedsdb.csv")
    assert len(dataset["fields"]) == 963
    first = dataset["fields"][0]
    assert first["name"] == "HD2016_Data_Stata.zip"
    assert first["label"] == "Directory information (preliminary release)"
    assert "Survey: Institutional Characteristics" in first["description"]
    assert "Year: 2016" in first["description"]


def test_table_without_header(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("1,2,3\n4,5,6\nfoo,bar,baz\n")
    assert not dictionary_table.detect(path, read_head(path))
    with pytest.raises(FormatError, match="no header row with a field-name column"):
        dictionary_table.parse(path)


def test_table_long_cells_and_derived_columns(tmp_path: pathlib.Path) -> None:
    long_text = "word " * 200_000
    path = tmp_path / "layout.csv"
    path.write_text(
        "Layout of the demo file\n"
        "Variable Name,Start,End,Data Type,Description,Valid Values\n"
        f'A,1,3,Char,"{long_text}","1=Yes; 2=No"\n'
        "B,4,,num,second,\n"
    )
    dataset = dictionary_table.parse(path).datasets[0]
    a, b = dataset["fields"]
    assert (a["start_col"], a["end_col"], a["width"], a["data_type"]) == (1, 3, 3, "string")
    assert len(a["description"]) > 900_000
    assert codes(a) == {"1": "Yes", "2": "No"}
    assert (b["start_col"], b["end_col"], b["width"]) == (4, None, None)
    assert dataset["layout"] is True


def test_xlsx_dictionary(tmp_path: pathlib.Path) -> None:
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Persons"
    sheet.append(["Person file record layout"])
    sheet.append([])
    sheet.append(["Field Name", "Position", "Length", "Type", "Definition"])
    sheet.append(["PERSON_ID", 1, 8, "Numeric", "Person identifier"])
    sheet.append(["SEX", 9, 1, "Alphanumeric", "Sex of person"])
    other = book.create_sheet("Households")
    other.append(["Column name", "Description"])
    other.append(["HH_ID", "Household identifier"])
    book.create_sheet("Notes").append(["Nothing to see"])
    path = tmp_path / "layout.xlsx"
    book.save(path)
    assert dictionary_table.detect(path, read_head(path))
    parsed = dictionary_table.parse(path)
    ids = [d["identifier"] for d in parsed.datasets]
    assert ids == ["layout-Persons", "layout-Households"]
    persons = by_name(parsed.datasets[0])
    assert (persons["SEX"]["start_col"], persons["SEX"]["end_col"]) == (9, 9)
    assert persons["PERSON_ID"]["description"] == "Person identifier"
    assert parsed.datasets[0]["description"] == "Person file record layout"
    assert any("Notes" in w for w in parsed.warnings)


def test_xlsx_single_sheet_uses_stem(tmp_path: pathlib.Path) -> None:
    import openpyxl
    book = openpyxl.Workbook()
    book.active.append(["Variable", "Label"])
    book.active.append(["x1", "First"])
    path = tmp_path / "dict.xlsx"
    book.save(path)
    dataset = dictionary_table.parse(path).datasets[0]
    assert dataset["identifier"] == "dict"
    assert dataset["fields"][0]["label"] == "First"


def test_table_module_leaves_other_formats_alone() -> None:
    others = [SAS / "hcup" / "AR_SID_2013_CORE.sas", DCT / "sip96t1.dct", DO / "adm2016.do",
              CORPUS / "ddi" / "ipums_cps_00097.xml"]
    for path in others:
        assert not dictionary_table.detect(path, read_head(path)), path


def test_each_layout_file_claimed_by_exactly_one_of_these_modules() -> None:
    modules = [ddi_codebook, sas_program, stata_dictionary, stata_labels, dictionary_table]
    files = [*SAS.rglob("*.sas"), *DCT.iterdir(), *DO.iterdir(), *TX.iterdir(),
             *(CORPUS / "ddi").iterdir(), *DICTS.rglob("*.csv")]
    for path in files:
        head = read_head(path)
        claimed = [m.NAME for m in modules if m.detect(path, head)]
        assert len(claimed) == 1, (path.name, claimed)
