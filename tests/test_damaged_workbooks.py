"""Damaged workbooks (issue 13, item 2): broken non-data parts do not hide the rows.

Workbooks are written with openpyxl and then damaged the way real ones are: a drawing the
sheet refers to is missing from the archive (as in P20 WIN's merged dictionary), the comments'
drawing is gone, printer settings are garbage. The rows are read anyway; when a part that holds
data is missing or broken, the error names that part. The real merged P20 WIN workbook loads.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment

from indexer.formats import dictionary_table
from indexer.formats.base import FormatError
from indexer.load import load_paths, parse_file
from tests.catalog_fixtures import CORPUS

P20WIN = CORPUS.parent / "p20win" / "P20WIN_Data_Dictionary.xlsx"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def workbook(path: Path) -> Path:
    """A small dictionary workbook with a comment (so: a VML drawing part too)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Layout"
    sheet.append(["Field Name", "Start", "Length", "Description"])
    sheet.append(["CLIENT_ID", 1, 9, "Client identifier"])
    sheet.append(["BIRTH_DT", 10, 8, "Date of birth"])
    sheet["A1"].comment = Comment("filled in by the agency", "steward")
    book.save(path)
    return path


def rewrite(path: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """Copy a workbook part by part; ``change`` returns a part's new bytes, or None to drop it."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                out.writestr(info, data)
    return target


def missing_drawing(name: str, data: bytes) -> bytes | None:
    """Refer to a drawing part that the archive does not hold (P20 WIN's damage)."""
    if name == "xl/worksheets/_rels/sheet1.xml.rels":
        return data.replace(b"</Relationships>", (
            f'<Relationship Id="rId9" Type="{RELS}/drawing" '
            'Target="../drawings/drawing1.xml"/></Relationships>').encode())
    if name == "xl/worksheets/sheet1.xml":
        return data.replace(b"<legacyDrawing", f'<drawing xmlns:r="{RELS}" r:id="rId9"/>'
                            "<legacyDrawing".encode())
    return data


def fields_of(path: Path) -> list[tuple[str, int | None, int | None]]:
    [dataset] = parse_file(path).datasets
    return [(f["name"], f["start_col"], f["end_col"]) for f in dataset["fields"]]


EXPECTED = [("CLIENT_ID", 1, 9), ("BIRTH_DT", 10, 17)]


def test_a_missing_drawing_does_not_hide_the_rows(tmp_path: Path) -> None:
    damaged = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "layout.xlsx",
                      missing_drawing)
    with pytest.raises(KeyError, match=r"drawing1\.xml"):  # the damage is real: openpyxl fails
        openpyxl.load_workbook(damaged)
    assert fields_of(damaged) == EXPECTED


@pytest.mark.parametrize("damage", [
    lambda name, data: None if name.endswith(".vml") else data,  # comments' drawing removed
    lambda name, data: None if name.startswith("xl/comments") else data,
    lambda name, data: b"\x00garbage" if name.startswith(("docProps/", "xl/theme/")) else data,
    lambda name, data: None if name == "[Content_Types].xml" else data,
], ids=["no-vml-drawing", "no-comments", "garbage-properties-and-theme", "no-content-types"])
def test_other_broken_non_data_parts_do_not_hide_the_rows(tmp_path: Path, damage) -> None:
    damaged = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "layout.xlsx", damage)
    assert fields_of(damaged) == EXPECTED


def test_broken_styles_read_the_rows_with_dates_as_numbers(tmp_path: Path) -> None:
    damaged = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "layout.xlsx",
                      lambda name, data: b"<styleSheet" if name == "xl/styles.xml" else data)
    assert fields_of(damaged) == EXPECTED


@pytest.mark.parametrize(("damage", "message"), [
    (lambda name, data: None if name == "xl/worksheets/sheet1.xml" else data,
     "workbook part xl/worksheets/sheet1.xml is missing from the archive"),
    (lambda name, data: data[:200] if name == "xl/worksheets/sheet1.xml" else data,
     "workbook part xl/worksheets/sheet1.xml is not well-formed XML (line 1)"),
    (lambda name, data: None if name == "xl/workbook.xml" else data,
     "the archive has no xl/workbook.xml"),
], ids=["no-sheet", "cut-sheet", "no-workbook"])
def test_broken_data_parts_are_named(tmp_path: Path, damage, message: str) -> None:
    damaged = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "layout.xlsx", damage)
    with pytest.raises(FormatError) as caught:
        dictionary_table.parse(damaged)
    assert message in str(caught.value)


def test_a_missing_shared_string_is_named(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Field Name", "Description"])
    book.active.append(["A", "x"])
    source = tmp_path / "good.xlsx"
    book.save(source)
    # Make every inline string a shared one that the archive's table does not hold.
    damaged = rewrite(source, tmp_path / "layout.xlsx", lambda name, data: data.replace(
        b't="inlineStr"><is><t>Field Name</t></is>', b't="s"><v>7</v>')
        if name == "xl/worksheets/sheet1.xml" else data)
    with pytest.raises(FormatError, match=r"cell A1: shared string 7 is not in "
                                          r"xl/sharedStrings.xml"):
        dictionary_table.parse(damaged)


def test_the_merged_p20win_dictionary_reads_its_rows(tmp_path: Path, new_catalog) -> None:
    """Its sheet states the dimension A1 and refers to a missing drawing; 1,593 rows follow."""
    with pytest.raises(KeyError):
        openpyxl.load_workbook(P20WIN)
    parsed = parse_file(P20WIN)
    # One dataset per (agency, program) its rows name (indexer.formats.dictionary_groups).
    assert sum(len(d["fields"]) for d in parsed.datasets) == 1593
    first = parsed.datasets[0]
    assert first["fields"][0]["name"] == "Local Identifier"
    assert first["agency"] == "Connecticut Conference of Independent Colleges"
    assert first["extra"]["header_row"] == 1
    report = load_paths(new_catalog, [P20WIN], index=False)
    assert report.totals()["loaded"] == 1 and report.totals()["fields"] == 1593
