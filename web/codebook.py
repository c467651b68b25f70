"""A dataset's fields as a DDI Codebook 2.5 document and as an XLSX workbook.

``/datasets/<id>/codebook.xml``
    DDI Codebook 2.5 (namespace ``ddi:codebook:2_5``): the study's citation (title,
    identifier, agency, keywords, abstract), one ``fileDscr`` (variables and, for a layout,
    the record length) and a ``var`` per field: ``location`` (start, end, width) for
    fixed-width layouts, ``labl``, ``txt`` (description), ``catgry`` per value label,
    ``varFormat`` (numeric or character, with the source's format name) and the field's
    sensitivity as a ``notes`` entry. Our own DDI reader reads it back to the same fields.
``/datasets/<id>/fields.xlsx``
    The columns of ``fields.csv`` in a worksheet (bold frozen header, filter), ready for a
    spreadsheet; text that a spreadsheet would run as a formula is stored as text.

Access is decided as for the dataset page: a dataset the visitor may not see answers 404.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response
from lxml import etree
from lxml.builder import ElementMaker
from openpyxl import Workbook
from openpyxl.styles import Font

from catalog.models import Dataset, Field
from web.access import visible_dataset
from web.exports import CSV_COLUMNS, download_name, value_labels_text
from web.urls import external_url

bp = Blueprint("codebook", __name__)

DDI_NS = "ddi:codebook:2_5"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DDI_XSD = "https://ddialliance.org/Specification/DDI-Codebook/2.5/XMLSchema/codebook.xsd"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMERIC = {"integer", "number", "boolean"}


def _var(make: ElementMaker, field: Field, layout: bool) -> etree._Element:
    attributes = {"ID": f"V{field.position}", "name": field.name, "files": "F1"}
    if field.decimals is not None:
        attributes["dcml"] = str(field.decimals)
    var = make.var(**attributes)
    if layout and field.start_col is not None:
        location = {"StartPos": str(field.start_col)}
        if field.end_col is not None:
            location["EndPos"] = str(field.end_col)
        if field.width is not None:
            location["width"] = str(field.width)
        var.append(make.location(**location))
    if field.label:
        var.append(make.labl(field.label))
    if field.description:
        var.append(make.txt(field.description))
    for value in field.value_labels or []:
        var.append(
            make.catgry(
                make.catValu(str(value.get("code", ""))), make.labl(str(value.get("label", "")))
            )
        )
    kind = "numeric" if (field.data_type or "") in NUMERIC else "character"
    fmt = {"type": kind, "schema": "other"}
    if field.format:
        fmt["formatname"] = field.format
    var.append(make.varFormat(**fmt))
    var.append(make.notes(f"Sensitivity: {field.sensitivity}", subject="sensitivity"))
    return var


def codebook(dataset: Dataset) -> bytes:
    """The dataset as a DDI Codebook 2.5 document."""
    make = ElementMaker(namespace=DDI_NS, nsmap={None: DDI_NS, "xsi": XSI})
    page = external_url("browse.dataset", dataset_id=dataset.id)
    citation = make.citation(
        make.titlStmt(make.titl(dataset.title), make.IDNo(dataset.identifier)),
        make.rspStmt(make.AuthEnty(dataset.agency.name)),
        make.distStmt(make.contact(dataset.agency.name, URI=page)),
    )
    study_info = make.stdyInfo(make.subject(*(make.keyword(k) for k in dataset.keywords or [])))
    if dataset.description:
        study_info.append(make.abstract(dataset.description))
    dimensions = make.dimensns(make.varQnty(str(len(dataset.fields))))
    record_length = (dataset.extra or {}).get("record_length")
    if dataset.layout and isinstance(record_length, int):
        dimensions.append(make.logRecL(str(record_length)))
    root = make.codeBook(
        make.docDscr(
            make.citation(
                make.titlStmt(make.titl(dataset.title)),
                make.prodStmt(make.producer("State Data Catalog")),
            )
        ),
        make.stdyDscr(citation, study_info),
        make.fileDscr(
            make.fileTxt(
                make.fileName(dataset.identifier),
                dimensions,
                make.fileType("fixed-width" if dataset.layout else "data dictionary"),
            ),
            ID="F1",
        ),
        make.dataDscr(*(_var(make, f, dataset.layout) for f in dataset.fields)),
        version="2.5",
    )
    root.set(f"{{{XSI}}}schemaLocation", f"{DDI_NS} {DDI_XSD}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.get("/datasets/<int:dataset_id>/codebook.xml")
def codebook_xml(dataset_id: int) -> Response:
    """The dataset's fields as DDI Codebook 2.5."""
    dataset = visible_dataset(dataset_id)
    return _download(codebook(dataset), "application/xml", download_name(dataset, "codebook.xml"))


def _cell(value: Any) -> Any:
    """A cell value; a string starting like a formula is stored as text, never run."""
    return "" if value is None else value


def workbook(dataset: Dataset) -> bytes:
    """The dataset's fields as an XLSX workbook, one row per field."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Fields"
    sheet.append(CSV_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for field in dataset.fields:
        row = [getattr(field, column) for column in CSV_COLUMNS]
        row[CSV_COLUMNS.index("value_labels")] = value_labels_text(field.value_labels)
        sheet.append([_cell(v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, not a formula
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for column, width in zip(
        "ABCDEFGHIJKLM", (9, 24, 36, 60, 10, 14, 9, 9, 7, 14, 9, 40, 12), strict=True
    ):
        sheet.column_dimensions[column].width = width
    book.properties.title = dataset.title
    book.properties.creator = "State Data Catalog"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@bp.get("/datasets/<int:dataset_id>/fields.xlsx")
def fields_xlsx(dataset_id: int) -> Response:
    """The dataset's fields as an XLSX workbook."""
    dataset = visible_dataset(dataset_id)
    return _download(workbook(dataset), XLSX, download_name(dataset, "fields.xlsx"))
