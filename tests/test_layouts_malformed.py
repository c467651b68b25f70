"""Malformed layouts loaded beside a good one: each is reported clearly, the good file loads.

Every case goes through :func:`indexer.load.load_paths` on a folder holding the bad file and
one good SAS layout, into a real embedded catalog, as ``catalog load`` would.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from sqlalchemy import select

from catalog.models import Dataset
from catalog.schemas import MAX_FIELDS
from indexer.formats import dictionary_table
from indexer.load import MAX_FILE_BYTES, FileReport, LoadReport, load_paths

GOOD_SAS = """\
/* A small record layout: claims extract, record length 20 */
DATA claims;
  INFILE 'claims.dat' LRECL=20;
  INPUT claim_id $ 1-8 paid_dt $ 9-16 amount 17-20;
  LABEL claim_id = 'Claim identifier' paid_dt = 'Date paid' amount = 'Amount paid';
RUN;
"""


def folder_with_good_file(tmp_path: Path) -> Path:
    """A folder holding the good layout ``good_claims.sas``."""
    folder = tmp_path / "layouts"
    folder.mkdir()
    (folder / "good_claims.sas").write_text(GOOD_SAS)
    return folder


def by_file(report: LoadReport) -> dict[str, FileReport]:
    return {Path(f.path).name: f for f in report.files}


def assert_good_file_loaded(report: LoadReport, catalog) -> None:  # type: ignore[no-untyped-def]
    good = by_file(report)["good_claims.sas"]
    assert good.status == "loaded", good.errors
    assert good.datasets == {"created": 1} and good.fields == 3
    assert good.warnings == []
    assert report.index_error is None
    with catalog.session() as session:
        stored = session.scalar(select(Dataset).where(Dataset.identifier == "good_claims"))
        assert stored is not None
        assert stored.extra["record_length"] == 20
        assert [f.name for f in stored.fields] == ["claim_id", "paid_dt", "amount"]


def test_pic_clause_cut_in_half(tmp_path: Path, new_catalog) -> None:
    folder = folder_with_good_file(tmp_path)
    (folder / "wage_record.cpy").write_text(
        "      * QUARTERLY WAGE RECORD\n"
        "       01  WAGE-RECORD.\n"
        "           05  EMPLOYER-ID     PIC X(10).\n"
        "           05  QTR-WAGES       PIC S9(7\n"
    )
    report = load_paths(new_catalog, [folder])
    bad = by_file(report)["wage_record.cpy"]
    assert bad.status == "failed"
    assert bad.format is None and bad.datasets == {}
    assert len(bad.errors) == 1
    message = bad.errors[0]
    assert "(line 4)" in message
    assert "PIC 'S9(7' is cut off" in message and "expected" in message
    assert_good_file_loaded(report, new_catalog)


def test_sas_input_with_overlapping_columns_warns_and_loads(tmp_path: Path, new_catalog) -> None:
    folder = folder_with_good_file(tmp_path)
    (folder / "persons.sas").write_text(
        "DATA persons;\n"
        "  INFILE 'persons.dat' LRECL=15;\n"
        "  INPUT person_id $ 1-6 birth_dt $ 5-12 sex_cd $ 13 age 14-15;\n"
        "RUN;\n"
    )
    report = load_paths(new_catalog, [folder])
    persons = by_file(report)["persons.sas"]
    assert persons.status == "loaded", persons.errors
    assert persons.datasets == {"created": 1} and persons.fields == 4
    assert persons.warnings == [
        "persons: columns of person_id (1-6) and birth_dt (5-12) overlap"
    ]
    with new_catalog.session() as session:
        stored = session.scalar(select(Dataset).where(Dataset.identifier == "persons"))
        assert [(f.name, f.start_col, f.end_col) for f in stored.fields] == [
            ("person_id", 1, 6), ("birth_dt", 5, 12), ("sex_cd", 13, 13), ("age", 14, 15),
        ]
        assert stored.extra["record_length"] == 15
    assert_good_file_loaded(report, new_catalog)


DDI_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
DDI_BODY = (
    '<codeBook xmlns="ddi:codebook:2_5" version="2.5">\n'
    "  <stdyDscr><citation><titlStmt><titl>Extract</titl></titlStmt></citation></stdyDscr>\n"
    "  <dataDscr>\n"
    '    <var name="AGE"><location StartPos="1" EndPos="3" width="3"/>\n'
    "      <labl>Age &{entity}; in years</labl></var>\n"
    "  </dataDscr>\n"
    "</codeBook>\n"
)


def test_ddi_with_an_undefined_entity_fails_clearly(tmp_path: Path, new_catalog) -> None:
    folder = folder_with_good_file(tmp_path)
    (folder / "extract.xml").write_text(DDI_HEAD + DDI_BODY.format(entity="agegroup"))
    # Declared entities are not expanded either: an internal one (whose text must not appear)
    # and an external one pointing at a local file (which must never be read).
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    (folder / "declared.xml").write_text(
        DDI_HEAD + '<!DOCTYPE codeBook [<!ENTITY big "EXPANDED TEXT">]>\n'
        + DDI_BODY.format(entity="big")
    )
    (folder / "external.xml").write_text(
        DDI_HEAD + f'<!DOCTYPE codeBook [<!ENTITY ext SYSTEM "file://{secret}">]>\n'
        + DDI_BODY.format(entity="ext").replace("AGE", "AGE2")
    )
    report = load_paths(new_catalog, [folder])
    files = by_file(report)
    bad = files["extract.xml"]
    assert bad.status == "failed" and bad.datasets == {}
    assert bad.errors == [
        "cannot read file (line 6): line 6: malformed XML: Entity 'agegroup' not defined "
        "(undefined entity &agegroup;: entities are never expanded; expected plain text or "
        "a character reference such as &#233;)"
    ]
    for name, entity in (("declared.xml", "big"), ("external.xml", "ext")):
        loaded = files[name]
        assert loaded.status == "loaded", loaded.errors
        assert f"line 7: entity reference &{entity}; not expanded" in loaded.warnings
    with new_catalog.session() as session:
        labels = [f.label for d in session.scalars(select(Dataset)) for f in d.fields]
    assert "Age in years" in labels
    assert not any("EXPANDED" in (label or "") or "SECRET" in (label or "") for label in labels)
    assert_good_file_loaded(report, new_catalog)


def _layout_table(path: Path, target: int) -> int:
    """A generated layout table of at least ``target`` bytes; returns its rows."""
    with path.open("w") as handle:
        handle.write("Field Name,Start,Length,Description\n")
        row, start, written = 0, 1, 0
        while written < target:
            line = f"FIELD_{row:07d},{start},5,Field number {row} of a generated layout table\n"
            handle.write(line)
            written += len(line)
            row, start = row + 1, start + 5
    return row


def test_fifty_megabyte_layout_table_is_refused_by_its_size(tmp_path: Path, new_catalog) -> None:
    folder = folder_with_good_file(tmp_path)
    big = folder / "huge_layout.csv"
    _layout_table(big, 50 * 1024 * 1024)
    size = big.stat().st_size
    assert dictionary_table.MAX_BYTES < size < MAX_FILE_BYTES  # the format's limit applies
    report = load_paths(new_catalog, [folder])
    bad = by_file(report)["huge_layout.csv"]
    assert bad.status == "failed" and bad.datasets == {}
    assert bad.errors == [
        f"cannot read file: the file is {size:,} bytes; a dictionary-table file is read up to "
        f"{dictionary_table.MAX_BYTES:,} bytes (16 MB)"
    ]
    assert_good_file_loaded(report, new_catalog)


def test_layout_table_of_too_many_rows_fails_quickly(tmp_path: Path, new_catalog) -> None:
    folder = folder_with_good_file(tmp_path)
    big = folder / "huge_layout.csv"
    row = _layout_table(big, 15 * 1024 * 1024)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = load_paths(new_catalog, [folder])
    took = time.perf_counter() - started
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Printed for the record (tests never assert on wall time).
    print(f"\n15 MB layout table ({row:,} rows): load_paths took {took:.1f}s; peak RSS "
          f"{peak_before / 1024:.0f} -> {peak_after / 1024:.0f} MB")
    bad = by_file(report)["huge_layout.csv"]
    assert bad.status == "failed" and bad.datasets == {}
    assert bad.errors == [
        f"cannot read file (line 1): more than {MAX_FIELDS:,} rows under the header row "
        f"(line 1); a dataset holds at most {MAX_FIELDS:,} fields: expected one row per field "
        "of one dataset (split the table)"
    ]
    assert_good_file_loaded(report, new_catalog)


# ----------------------------------------------------------------------------- the layout check
# check_layout on small layouts of each format: what is a warning and what is not.


def parsed_one(path: Path) -> tuple[dict, list[str]]:  # type: ignore[type-arg]
    from indexer import formats
    from indexer.formats.layout import check_layout

    dataset = formats.parse(path).datasets[0]
    return dataset, check_layout(dataset)


def test_cobol_filler_is_no_gap_and_redefines_no_overlap(tmp_path: Path) -> None:
    path = tmp_path / "wage.cpy"
    path.write_text(
        "       01  WAGE-RECORD.\n"
        "           05  EMPLOYER-ID     PIC X(10).\n"
        "           05  FILLER          PIC X(5).\n"
        "           05  WAGES.\n"
        "               10  QTR-WAGES   PIC S9(7)V99 COMP-3 OCCURS 4 TIMES.\n"
        "           05  ALT-WAGES REDEFINES WAGES.\n"
        "               10  ALT-A       PIC X(20).\n"
        "           05  FILLER          PIC X(4).\n"
    )
    dataset, warnings = parsed_one(path)
    assert warnings == []
    assert dataset["extra"]["record_length"] == 39  # trailing FILLER counted
    assert dataset["extra"]["filler"] == [[11, 15], [36, 39]]


def test_widths_that_disagree_with_columns_and_the_cap(tmp_path: Path) -> None:
    from indexer.formats.layout import MAX_LAYOUT_WARNINGS

    path = tmp_path / "layout.csv"
    rows = ["Field Name,Start,End,Length"]
    rows += [f"F{i},{i * 3 + 1},{i * 3 + 2},2" for i in range(30)]  # 29 one-column gaps
    rows.append("BAD,200,201,5")
    path.write_text("\n".join(rows) + "\n")
    dataset, warnings = parsed_one(path)
    assert warnings[0] == "layout: field BAD: width 5 does not match columns 200-201 (2 columns)"
    assert warnings[1] == "layout: column 3 is covered by no field (between F0 and F1)"
    # 1 width + 29 small gaps + columns 90-199 before BAD = 31 warnings, 20 shown
    assert len(warnings) == MAX_LAYOUT_WARNINGS + 1
    assert warnings[-1] == "layout: … and 11 more layout warnings"
    assert dataset["extra"]["record_length"] == 201


def test_sas_lines_of_a_case_are_separate_records(tmp_path: Path) -> None:
    path = tmp_path / "two_lines.sas"
    path.write_text(
        "/* record length 20 */\n"
        "DATA two;\n  INFILE 'two.dat';\n"
        "  INPUT #1 id 1-5 name $ 6-20 #2 id2 1-5 city $ 6-15 / zip 1-4;\nRUN;\n"
    )
    dataset, warnings = parsed_one(path)
    assert [f["record"] for f in dataset["fields"]] == [1, 1, 2, 2, 3]
    assert dataset["extra"]["stated_record_length"] == 20
    assert dataset["extra"]["record_lengths"] == {"1": 20, "2": 15, "3": 4}
    assert warnings == []


def test_stata_dictionary_pointer_lines_and_lrecl(tmp_path: Path) -> None:
    path = tmp_path / "t.dct"
    path.write_text(
        "infile dictionary using t.dat {\n_lrecl(12)\n_lines(2)\n"
        '  byte a %2f "A"\n  _skip(2)\n  str4 b %4s "B"\n'
        '_line(2)\n  int c %3f "C"\n}\n'
    )
    dataset, warnings = parsed_one(path)
    assert [(f["name"], f["start_col"], f["end_col"], f["record"]) for f in dataset["fields"]] == [
        ("a", 1, 2, 1), ("b", 5, 8, 1), ("c", 1, 3, 2),
    ]
    assert dataset["extra"]["lrecl"] == 12 and dataset["extra"]["records_per_case"] == 2
    assert warnings == [
        "t: the fields end at column 8, short of the stated record length 12 (LRECL): "
        "columns 9-12 covered by no field",
        "t: columns 3-4 of record 1 are covered by no field (between a and b)",
    ]


def test_ddi_question_format_and_stated_totals(tmp_path: Path) -> None:
    path = tmp_path / "cb.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<codeBook xmlns="ddi:codebook:2_5">\n'
        "<fileDscr><fileTxt><dimensns><varQnty>3</varQnty><logRecL>10</logRecL>"
        "</dimensns></fileTxt></fileDscr>\n<dataDscr>\n"
        '<var name="DOB"><location StartPos="1" EndPos="8" width="8"/><labl>Birth date</labl>'
        '<qstn><qstnLit>What is your date of birth?</qstnLit></qstn>'
        '<varFormat type="numeric" category="date" formatname="YYMMDDN8."/></var>\n'
        '<var name="SEX"><location StartPos="9" EndPos="9" width="2"/>'
        "<catgry><catValu>1</catValu><labl>Male</labl></catgry>"
        "<catgry><catValu>2</catValu><labl>Female</labl></catgry></var>\n"
        "</dataDscr></codeBook>\n"
    )
    dataset, warnings = parsed_one(path)
    dob, sex = dataset["fields"]
    assert dob["description"] == "Question: What is your date of birth?"
    assert (dob["data_type"], dob["format"]) == ("date", "YYMMDDN8.")
    assert [v["label"] for v in sex["value_labels"]] == ["Male", "Female"]
    assert warnings == [
        "cb: the fields end at column 9, short of the stated record length 10 (stated in the "
        "source): column 10 covered by no field",
        "cb: field SEX: width 2 does not match columns 9-9 (1 column)",
        "cb: the source states 3 variables; 2 were read",
    ]


def test_a_dataset_over_the_field_limit_is_rejected_by_name(
    tmp_path: Path, new_catalog: object
) -> None:
    import json

    folder = tmp_path / "huge"
    folder.mkdir()
    fields = [{"name": f"v{i}", "type": "string"} for i in range(MAX_FIELDS + 1)]
    (folder / "huge.datapackage.json").write_text(json.dumps({
        "name": "huge", "title": "Huge", "resources": [
            {"name": "t", "path": "t.csv", "schema": {"fields": fields}}]}), encoding="utf-8")
    report = load_paths(new_catalog, [folder], index=False)
    errors = list(report.errors())
    assert report.totals()["created"] == 0
    assert any("'huge' rejected" in e and "the limit is 20,000" in e for e in errors), errors
