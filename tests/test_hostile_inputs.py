"""Hostile inputs (issue 11, item 5): every class answered with a clear error, within budgets.

One test per class of the inputs that stalled the detectors and parsers or exhausted memory:
runaway regular expressions in detection and in parsing, workbooks with a million rows or an
inflation bomb, files past a format's size limit, layouts past the field limit, numbers of
thousands of digits, deep nesting. Tests assert on the answer and on the limit's code path
(the error it raises, the rows it stopped at), never on wall time; a regression to
backtracking would show as a test that takes minutes. ``benchmarks/hostile_inputs.py`` prints
the seconds and the peak memory of each. Last, a ``catalog load`` of a folder with every class
beside a good file loads the good file.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.schemas import MAX_FIELDS
from indexer.formats import dictionary_table, socrata_markdown, stata_labels, workbook
from indexer.formats.base import PROGRAM_MAX_BYTES, FormatError
from indexer.load import load_paths, parse_file, validate_dataset
from tests.test_layouts_malformed import assert_good_file_loaded, by_file, folder_with_good_file

MB = 1024 * 1024
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def failure(path: Path) -> FormatError:
    """The FormatError reading ``path`` gives (as ``catalog load`` reads it)."""
    with pytest.raises(FormatError) as caught:
        parsed = parse_file(path)
        for index, raw in enumerate(parsed.datasets):
            validate_dataset(raw, index)
    return caught.value


# ------------------------------------------------------------------------- detector regexes


@pytest.mark.parametrize("content", [
    "01" + " " * 65_000,  # the copybook detector's 202 s
    "\n" * 65_000,  # every "^\s*" detector rescanning blank lines
    "01 A" + "\t" * 64_000,
    "a." * 32_000,
    "data a(" * 9_000,
    "label " * 10_000 + "\n",
    "| Id | abcd-1234 |" + " " * 60_000,
], ids=["01-spaces", "blank-lines", "01-tabs", "dotted-name", "data-options", "label-words",
        "markdown-id-row"])
def test_detectors_answer_runs_of_blanks_and_names_at_once(tmp_path: Path, content: str) -> None:
    path = tmp_path / "hostile.txt"
    path.write_text(content)
    with pytest.raises(LookupError, match="not a recognised metadata format"):
        parse_file(path)


# ------------------------------------------------------------------------- parser regexes


def test_spss_to_range_with_a_long_name_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "to_range.sps"
    path.write_text("DATA LIST FIXED /V1 TO V" + "1" * 60_000 + "X 1-10.\n")
    error = failure(path)
    assert error.line == 1 and "60,002 characters long; SPSS names have at most 64" in str(error)


def test_spss_to_range_still_expands(tmp_path: Path) -> None:
    path = tmp_path / "ok.sps"
    path.write_text("DATA LIST FIXED /V08 TO V11 1-8.\n")
    [dataset] = parse_file(path).datasets
    assert [f["name"] for f in dataset["fields"]] == ["V08", "V09", "V10", "V11"]


def test_stata_label_program_with_unclosed_compound_quotes_reads(tmp_path: Path) -> None:
    path = tmp_path / "pieces.do"
    path.write_text('label variable x "X"\nlabel define y 1 `"one"\' 2 `"two"\'\n'
                    'label values x y\nlabel define z ' + '1 `"a" ' * 12_000 + "\n")
    [dataset] = parse_file(path).datasets
    assert dataset["fields"][0]["value_labels"] == [{"code": "1", "label": "one"},
                                                    {"code": "2", "label": "two"}]


def test_stata_pieces_are_what_the_old_pattern_found() -> None:
    text = 'label define a 1 `"x"\' 2 "y" 3 `"open , z "\', add'
    assert stata_labels.Pieces(text).findall() == [
        "label", "define", "a", "1", '`"x"\'', "2", '"y"', "3", '`"open , z "\'', ",", "add"]


def test_markdown_heading_of_a_long_blank_run_reads(tmp_path: Path) -> None:
    page = (
        "# Title   \n\n## Dataset\n\n| Name | Value |\n| :--- | :---- |\n| Id | abcd-1234 |\n\n"
        "## Columns   \n\n| Included | Schema Type | Field Name | Name | Data Type | Render Type |"
        "\n| == | == | == | == | == | == |\n| Yes | t | f | F | text | text |\n\n"
        "## a" + " " * 60_000 + "b  \n\ntext\n")
    path = tmp_path / "page.md"
    path.write_text(page)
    sections = socrata_markdown.split_sections(page)
    assert "a" + " " * 60_000 + "b" in sections and "Columns" in sections
    [dataset] = parse_file(path).datasets
    assert dataset["title"] == "Title" and [f["name"] for f in dataset["fields"]] == ["f"]


# ------------------------------------------------------------------------- workbooks


def sheet_workbook(path: Path, write_rows: Callable[[Callable[[bytes], object]], None],
                   strings: list[str] | None = None) -> Path:
    """A one-sheet XLSX whose sheet XML ``write_rows`` streams into the archive."""
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/workbook.xml", f'<workbook xmlns="{SHEET_NS}" xmlns:r="{rels}">'
                      '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        book.writestr("xl/_rels/workbook.xml.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rels}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"))
        if strings is not None:
            book.writestr("xl/sharedStrings.xml", f'<sst xmlns="{SHEET_NS}">' + "".join(
                f"<si><t>{text}</t></si>" for text in strings) + "</sst>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<worksheet xmlns="{SHEET_NS}"><sheetData>'.encode())
            sheet.write(b'<row r="1"><c r="A1" t="inlineStr"><is><t>Field Name</t></is></c>'
                        b'<c r="B1" t="inlineStr"><is><t>Description</t></is></c></row>')
            write_rows(sheet.write)
            sheet.write(b"</sheetData></worksheet>")
    return path


def test_a_workbook_of_many_rows_stops_at_the_row_limit(tmp_path: Path) -> None:
    rows = 100_000
    path = sheet_workbook(tmp_path / "rows.xlsx", lambda write: write(b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>f%d</t></is></c></row>' % (i, i, i)
        for i in range(2, rows + 2))))
    [table] = dictionary_table._xlsx_tables(path)
    assert table.cut and len(table.rows) == dictionary_table._MAX_ROWS  # read no further
    error = failure(path)
    assert f"more than {MAX_FIELDS:,} rows under the header row (line 1)" in str(error)


def test_a_workbook_that_declares_a_huge_part_is_refused_unread(tmp_path: Path,
                                                                monkeypatch) -> None:
    monkeypatch.setattr(workbook, "MAX_PART_BYTES", 1 * MB)
    path = sheet_workbook(tmp_path / "bomb.xlsx", lambda write: [
        write(b"<row>" + b'<c s="0"/>' * 10_000 + b"</row>") for _ in range(30)])
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 2 * MB
    error = failure(path)
    assert "workbook part xl/worksheets/sheet1.xml declares" in str(error)
    assert "the limit is 1 MB per part" in str(error)


def test_a_workbook_is_inflated_within_its_total_budget(tmp_path: Path, monkeypatch) -> None:
    """Each part is under the per-part limit, together they are over the workbook's."""
    monkeypatch.setattr(workbook, "MAX_INFLATED_BYTES", 1 * MB)
    strings = [f"description number {i} " * 4 for i in range(12_000)]  # ~1 MB of strings
    path = sheet_workbook(tmp_path / "big.xlsx", lambda write: write(b"".join(
        b'<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>' % (i, i, i - 2)
        for i in range(2, 2_000))), strings=strings)
    assert "workbook inflates to more than 1 MB" in str(failure(path))


def test_lying_declared_sizes_never_inflate_past_them(tmp_path: Path) -> None:
    path = sheet_workbook(tmp_path / "lying.xlsx", lambda write: write(
        b"<row>" + b'<c s="0"/>' * 200_000 + b"</row>"))
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    entry = data.rfind(b"PK\x01\x02", 0, data.rfind(name))  # its central directory entry
    data[entry + 24: entry + 28] = (1000).to_bytes(4, "little")
    extra = entry + 46 + len(name)
    if data[extra: extra + 2] == b"\x01\x00":  # the zip64 size as well
        data[extra + 4: extra + 12] = (1000).to_bytes(8, "little")
    path.write_bytes(bytes(data))
    assert "workbook part xl/worksheets/sheet1.xml cannot be inflated" in str(failure(path))


def test_a_sheet_of_too_many_cells_stops_while_reading(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(workbook, "MAX_CELLS", 50_000)
    path = sheet_workbook(tmp_path / "cells.xlsx", lambda write: [
        write(b"<row>" + b'<c s="0"/>' * 10_000 + b"</row>") for _ in range(100)])
    error = failure(path)
    assert "sheet 'S': more than 50,000 cells (row 6)" in str(error) and error.line == 6


def test_a_number_of_thousands_of_digits_in_a_cell_is_named(tmp_path: Path) -> None:
    path = sheet_workbook(tmp_path / "number.xlsx", lambda write: write(
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>A</t></is></c><c r="B2"><v>'
        + b"9" * 5000 + b"</v></c></row>"))
    error = failure(path)
    assert "sheet 'S', cell B2: a number of 5,000 digits" in str(error) and error.line == 2


# ------------------------------------------------------------------------- size limits


@pytest.mark.parametrize(("name", "line"), [
    ("big.cpy", "           05  FIELD-{n:08d}  PIC X.\n"),
    ("big.sas", "    V{n} $ 1-1\n"),
    ("big.sps", "  V{n} 1-1\n"),
    ("big.dct", '  _column(1) str1 v{n} %1s "V"\n'),
    ("big.do", 'label variable v{n} "Variable"\n'),
])
def test_program_files_past_their_size_limit_are_refused_unread(tmp_path: Path, name: str,
                                                                 line: str) -> None:
    path = tmp_path / name
    heads = {"big.cpy": "       01  R.\n", "big.sas": "data x;\n infile 'x';\n input\n",
             "big.sps": "DATA LIST FIXED /\n", "big.dct": "infile dictionary {\n"}
    with path.open("w") as out:
        out.write(heads.get(name, ""))
        n = 0
        while out.tell() <= PROGRAM_MAX_BYTES:
            out.write("".join(line.format(n=n + k) for k in range(5_000)))
            n += 5_000
    error = failure(path)
    assert f"the file is {path.stat().st_size:,} bytes" in str(error)
    assert f"read up to {PROGRAM_MAX_BYTES:,} bytes (8 MB)" in str(error)


# ------------------------------------------------------------------------- field limits


@pytest.mark.parametrize(("name", "head", "line", "message"), [
    ("many.cpy", "       01  R.\n", "           05  F{n:06d}  PIC X.\n",
     "the record has more than 20,000 fields"),
    ("many.sas", "data x;\n infile 'x';\n input\n", "    V{n} $ {c}-{c}\n",
     "more than 20,000 variables (the most a dataset holds) in INPUT statement"),
    ("many.sps", "DATA LIST FIXED /\n", "  V{n} {c}-{c}\n",
     "DATA LIST defines more than 20000 variables"),
    ("many.dct", "infile dictionary {\n", '  _column({c}) str1 v{n} %1s "V"\n',
     "more than 20,000 variables (the most a dataset holds)"),
    ("many.do", "", 'label variable v{n} "Variable {n}"\n',
     "more than 20,000 variables (the most a dataset holds)"),
])
def test_layouts_past_the_field_limit_stop_where_they_pass_it(
        tmp_path: Path, name: str, head: str, line: str, message: str) -> None:
    """The error names the line of the 20,001st field: nothing after it was read."""
    path = tmp_path / name
    body = "".join(line.format(n=n, c=n + 1) for n in range(MAX_FIELDS + 5_000))
    path.write_text(head + body + ("}\n" if name.endswith(".dct") else ".\n"
                                   if name.endswith(".sps") else ";\nrun;\n"
                                   if name.endswith(".sas") else ""))
    error = failure(path)
    assert message in str(error)
    first = head.count("\n") + 1  # the line of the first field
    assert error.line == first + MAX_FIELDS


def test_pages_past_the_field_limit_stop_while_reading(tmp_path: Path) -> None:
    rows = "".join(f"<tr><td>F{n}</td><td>Field {n}</td></tr>\n" for n in range(MAX_FIELDS + 50))
    page = tmp_path / "page.html"
    page.write_text("<html><body><table><tr><th>Field Name</th><th>Description</th></tr>\n"
                    + rows + "</table></body></html>\n")
    error = failure(page)
    assert "more than 20,000 rows" in str(error) and error.line == MAX_FIELDS + 2
    columns = "".join(f"| Yes | t | f{n} | F | text | text |\n" for n in range(MAX_FIELDS + 50))
    markdown = tmp_path / "page.md"
    markdown.write_text(
        "# T\n\n## Dataset\n\n| Name | Value |\n| :--- | :---- |\n| Id | abcd-1234 |\n\n"
        "## Columns\n\n| Included | Schema Type | Field Name | Name | Data Type | Render Type |\n"
        "| == | == | == | == | == | == |\n" + columns)
    assert "the Columns table has more than 20,000 columns" in str(failure(markdown))


# ------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(("name", "content", "line"), [
    ("n.cpy", "       01  R.\n           05  A  PIC X(" + "9" * 5000 + ").\n", 2),
    ("n2.cpy", "       01  R.\n           05  A  PIC X OCCURS " + "9" * 5000 + ".\n", 2),
    ("n.sas", "data x;\n  infile 'x.dat';\n  input @" + "9" * 5000 + " A $5.;\nrun;\n", 3),
    ("n2.sas", "data x;\n  infile 'x.dat' lrecl=" + "9" * 5000 + ";\n  input A $ 1-5;\nrun;\n",
     2),
    ("n3.sas", "data x;\n  infile 'x.dat';\n  input A $" + "9" * 5000 + ".;\nrun;\n", 3),
    ("n.sps", "DATA LIST FIXED /A 1-" + "9" * 5000 + ".\n", 1),
    ("n.dct", "infile dictionary {\n  _column(" + "9" * 5000 + ') str5 a %5s "A"\n}\n', 2),
    ("n2.dct", "infile dictionary {\n  _column(1) str5 a %" + "9" * 5000 + 's "A"\n}\n', 2),
    ("n.csv", "Field Name,Start,Length,Description\nA," + "9" * 5000 + ",1,x\n", 2),
    ("n.xml", '<?xml version="1.0"?><codeBook xmlns="ddi:codebook:2_5"><dataDscr>\n'
     f'<var name="A"><location StartPos="{"9" * 5000}" width="1"/></var></dataDscr></codeBook>',
     2),
])
def test_numbers_of_thousands_of_digits_are_reported_with_their_line(
        tmp_path: Path, name: str, content: str, line: int) -> None:
    path = tmp_path / name
    path.write_text(content)
    error = failure(path)
    assert error.line == line, str(error)
    assert "5,000 digits" in str(error) and "Exceeds the limit" not in str(error)


def test_eighteen_digit_numbers_still_read(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("Field Name,Start,Length,Description\nA,1,999999999999999999,x\n")
    [dataset] = parse_file(path).datasets
    assert dataset["fields"][0]["width"] == 999_999_999_999_999_999


# ------------------------------------------------------------------------- nesting, width


def test_deep_nesting_and_wide_headers(tmp_path: Path) -> None:
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100_000)
    assert "nested too deeply" in str(failure(deep_json))
    deep_xml = tmp_path / "deep.xml"
    deep_xml.write_text('<?xml version="1.0"?><codeBook xmlns="ddi:codebook:2_5"><dataDscr>'
                        + "<var>" * 100_000 + "</var>" * 100_000 + "</dataDscr></codeBook>")
    assert "Excessive depth" in str(failure(deep_xml))
    wide = tmp_path / "wide.csv"
    wide.write_text("Field Name,Description," + ",".join(f"c{i}" for i in range(200_000))
                    + "\nA,B\n")
    [dataset] = parse_file(wide).datasets
    assert [f["name"] for f in dataset["fields"]] == ["A"]


# ------------------------------------------------------------------------- the catalog


def test_a_load_of_hostile_files_beside_a_good_one_loads_the_good_one(tmp_path: Path,
                                                                     new_catalog) -> None:
    folder = folder_with_good_file(tmp_path)
    (folder / "whitespace.txt").write_text("01" + " " * 65_000)
    (folder / "to_range.sps").write_text("DATA LIST FIXED /V1 TO V" + "1" * 60_000 + "X 1-9.\n")
    (folder / "number.cpy").write_text("       01  R.\n           05  A  PIC X(" + "9" * 5000
                                       + ").\n")
    sheet_workbook(folder / "rows.xlsx", lambda write: write(b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>f%d</t></is></c></row>' % (i, i, i)
        for i in range(2, 50_000))))
    with (folder / "big.cpy").open("w") as out:
        out.write("       01  R.\n" + "           05  F  PIC X.\n" * (PROGRAM_MAX_BYTES // 20))
    report = load_paths(new_catalog, [folder], index=False)
    files = by_file(report)
    assert files["whitespace.txt"].status == "skipped"
    for name in ("to_range.sps", "number.cpy", "rows.xlsx", "big.cpy"):
        assert files[name].status == "failed" and files[name].errors, name
    assert report.totals()["loaded"] == 1
    assert_good_file_loaded(report, new_catalog)
