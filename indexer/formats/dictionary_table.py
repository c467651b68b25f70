"""Generic data dictionaries and layout tables: CSV, TSV, delimited TXT and XLSX.

The header row is found among the first rows by scoring each cell against synonym lists
(``field name``, ``position``, ``length``, ``description`` ...), so the module is not tied to one
file's wording. The first name-like column is the field name; other columns become label,
description, type, positions or value labels. Unrecognised columns are kept in the description
as ``Header: value``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import (
    MB,
    FormatError,
    ParsedFile,
    file_identifier,
    file_identifiers,
    named_by_file,
    normalise_type,
    read_text_mixed,
    whole_number,
)
from indexer.formats.dictionary_groups import (
    clean,
    constant_columns,
    coverage,
    group_datasets,
    grouped,
    row_values,
)
from indexer.formats.dictionary_header import (
    HEADER_ROWS,
    SYNONYMS,
    Header,
    find_header,
)
from indexer.formats.layout import complete_columns
from indexer.formats.records import new_dataset, new_field, value_label
from indexer.formats.text import tidy
from indexer.formats.workbook import Workbook

NAME = "dictionary-table"

#: Files that are tables by their name: a header row is expected in them.
TABLE_SUFFIXES = (".csv", ".tsv", ".tab")
#: Text that may hold a table (so may a file without a suffix): one dataset, named after the file.
TEXT_SUFFIXES = (*TABLE_SUFFIXES, ".txt", ".dat")
#: Workbooks: one dataset per sheet with a header row.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
SUFFIXES = (*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES)
#: Text tables and workbooks (compressed) alike.
MAX_BYTES = 16 * MB
#: Media types its documents are served as, and the suffix each is read under.
MEDIA_TYPES = {
    "text/csv": ".csv",
    "application/csv": ".csv",
    "text/comma-separated-values": ".csv",
    "text/tab-separated-values": ".tsv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "text/plain": ".txt",
}
_DELIMITERS = [",", "\t", ";", "|"]
# Rows read at most: a table longer than this (blank rows included) cannot be one dataset.
_MAX_ROWS = 2 * MAX_FIELDS + HEADER_ROWS

@dataclass
class Table:
    """Rows of one sheet or delimited file."""

    name: str | None
    rows: list[list[str]]
    warnings: list[str] = field(default_factory=list)
    cut: bool = False  # more rows follow than were read


def _no_header_error() -> FormatError:
    expected = ", ".join(SYNONYMS["name"])
    return FormatError(
        f"no header row with a field-name column found in the first {HEADER_ROWS} rows;"
        f" expected one of: {expected}"
    )


# ----------------------------------------------------------------------------- reading


@contextmanager
def _large_fields() -> Iterator[None]:
    """Let the csv module read cells of any length (restored afterwards)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _delimiter_order(sample: str) -> list[str]:
    """Candidate delimiters, most likely first (csv.Sniffer, then tab/comma counts)."""
    order: list[str] = []
    with suppress(csv.Error):
        order.append(csv.Sniffer().sniff(sample[:16384], delimiters="".join(_DELIMITERS)).delimiter)
    lines = sample.splitlines()[:HEADER_ROWS]
    tabs = sum(line.count("\t") for line in lines)
    commas = sum(line.count(",") for line in lines)
    order.extend(["\t", ","] if tabs > commas else [",", "\t"])
    order.extend(_DELIMITERS)
    return list(dict.fromkeys(order))


def _read_delimited(text: str, delimiter: str, limit: int | None = None) -> list[list[str]]:
    with _large_fields():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = []
        try:
            for row in reader:
                rows.append(row)
                if limit is not None and len(rows) >= limit:
                    break
        except csv.Error as exc:
            raise FormatError(f"line {reader.line_num}: {exc}", line=reader.line_num) from None
    return rows


def _choose_delimiter(text: str) -> tuple[str, Header] | None:
    """The delimiter under which a header row can be found, with that header."""
    for delimiter in _delimiter_order(text[:65536]):
        try:
            rows = _read_delimited(text[:65536], delimiter, limit=HEADER_ROWS)
        except FormatError:
            continue
        header = find_header(rows)
        if header is not None and len(header.cells) > 1:
            return delimiter, header
    return None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _xlsx_tables(path: Path, max_rows: int = _MAX_ROWS) -> list[Table]:
    """Each worksheet's first ``max_rows`` rows as text cells, read as a stream."""
    with Workbook(path) as book:
        return [Table(sheet.name, [[_cell(v) for v in row] for row in sheet.rows], cut=sheet.cut)
                for sheet in book.sheets(max_rows)]


def _is_xlsx(path: Path) -> bool:
    import zipfile

    return path.suffix.lower() in WORKBOOK_SUFFIXES and zipfile.is_zipfile(path)


# ----------------------------------------------------------------------------- detection


def detect(path: Path, head: str) -> bool:
    """True for CSV/TSV/TXT/XLSX tables whose header row can be recognised."""
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        try:
            return _is_xlsx(path) and any(
                find_header(t.rows) for t in _xlsx_tables(path, HEADER_ROWS))
        except FormatError:
            return False
    if (suffix and suffix not in TEXT_SUFFIXES) or "\x00" in head[:4096]:
        return False
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[", "<", "---", "#!")):
        return False
    return _choose_delimiter(head) is not None


# ----------------------------------------------------------------------------- rows


def _align(row: list[str], width: int) -> list[str]:
    """Trim trailing blanks; drop stray empty cells after the first when a row is too wide."""
    cells = list(row)
    while cells and not cells[-1].strip():
        cells.pop()
    index = 1
    while len(cells) > width and index < len(cells):
        if not cells[index].strip():
            del cells[index]
        else:
            index += 1
    return cells + [""] * (width - len(cells))


def _int(text: str) -> int | None:
    match = re.fullmatch(r"\s*(\d+)(?:\.0+)?\s*", text or "")
    return whole_number(match.group(1)) if match else None


def _positions(row: list[str], header: Header) -> tuple[int | None, int | None, int | None]:
    def first(role: str) -> str:
        cols = header.columns(role)
        return row[cols[0]] if cols else ""

    start_text = first("start")
    start, end = _int(start_text), _int(first("end"))
    span = re.fullmatch(r"\s*(\d+)\s*[-–:]\s*(\d+)\s*", start_text)
    if span:
        start, end = whole_number(span.group(1)), end or whole_number(span.group(2))
    return complete_columns(start, end, _int(first("width")))


_CODE_LINE = re.compile(r"^\s*([^\s=:]{1,40}?)\s*(?:=|:|\s-\s|\s)\s*(\S.*)$")


def parse_values(text: str) -> list[dict[str, str]] | None:
    """Value labels from a cell such as ``1=Yes; 2=No`` or one ``code label`` per line."""
    pieces = [p for p in re.split(r"[\n;]+", text) if p.strip()]
    if len(pieces) < 2 and "=" not in text:
        return None
    labels = []
    for piece in pieces:
        match = _CODE_LINE.match(piece)
        if not match:
            return None
        labels.append(value_label(match.group(1), match.group(2).strip()))
    return labels


# A line of a code list written into a definition: "1- Protestant", "AS = Associate in
# Science", "Y = Yes,". The code is digits or capitals (no lower case, so that "Note: …" or
# "Source: …" in prose is no code), then "=", "-", ":" or ")", then its meaning.
_DEFINITION_CODE = re.compile(
    r"^\s*([0-9]{1,8}|[A-Z][A-Z0-9]{0,7})\s*(?:=|-|–|:|\))\s*([^\s=].{0,200}?)[\s,;.]*$")
MIN_DEFINITION_CODES = 2
MAX_CODE_LINE = 240  # a longer line is prose (and is never handed to the pattern)


def codes_in_definition(text: str | None) -> list[dict[str, str]]:
    """Value labels written into a definition, one per line: the longest run of at least
    :data:`MIN_DEFINITION_CODES` consecutive code lines (P20 WIN: "Client's Race 1\\n1-
    American Indian/Native Alaskan\\n2- Asian…"). The definition itself is kept whole."""
    best: list[dict[str, str]] = []
    run: list[dict[str, str]] = []
    seen: set[str] = set()
    for line in (text or "").splitlines()[:500]:
        if not line.strip():  # the merged P20 WIN workbook spaces its code lines apart
            continue
        match = _DEFINITION_CODE.match(line) if len(line) <= MAX_CODE_LINE else None
        code = match.group(1) if match else None
        if code is None or code in seen:  # prose, or a repeated code, ends the run
            if len(run) > len(best):
                best = run
            run, seen = [], set()
        if match:  # a repeated code starts a run of its own
            seen.add(code)
            run.append(value_label(code, match.group(2).strip()))
    if len(run) > len(best):
        best = run
    return best if len(best) >= MIN_DEFINITION_CODES else []


def _split_name(raw: str) -> tuple[str, str | None]:
    """``SPEC_UNIT_1 (fixed length format only)`` -> name and note."""
    match = re.fullmatch(r"\s*([A-Za-z_][\w.$#-]*)\s+\((.+)\)\s*", raw)
    if match:
        return match.group(1), match.group(2).strip()
    return raw.strip(), None


def _row_field(row: list[str], header: Header, position: int) -> dict[str, Any]:
    """One raw field from an aligned row."""
    name_col = header.columns("name")[0]
    name, note = _split_name(clean(row[name_col]))
    label_cols = header.columns("label") or header.columns("labelish")[:1]
    label = tidy(row[label_cols[0]]) if label_cols else None
    main = [row[i].strip() for i in header.columns("description") if row[i].strip()]
    context = _context(row, header, name_col, label_cols)
    codes = None
    for col in header.columns("values"):
        if row[col].strip():
            codes = parse_values(row[col])
            if codes is None:
                context.append(f"{header.cells[col]}: {tidy(row[col])}")
    if note:
        main.append(note)
    if codes is None:  # no code column: a code list may be written into the definition
        codes = codes_in_definition("\n".join(main)) or None
    description = "\n".join(part for part in ["\n\n".join(main), "; ".join(context)] if part)
    type_cols = header.columns("type")
    raw_type = row[type_cols[0]].strip() if type_cols else ""
    start, end, width = _positions(row, header)
    decimals_cols = header.columns("decimals")
    return new_field(
        position, name, label=label, description=description or None,
        data_type=normalise_type(raw_type) if raw_type else None,
        source_type=raw_type or None, width=width, start_col=start, end_col=end,
        decimals=_int(row[decimals_cols[0]]) if decimals_cols else None,
        value_labels=codes or [], source_name=row[name_col] if row[name_col] != name else None,
        **row_values(row, header),
    )


def _context(row: list[str], header: Header, name_col: int, label_cols: list[int]) -> list[str]:
    """``Header: value`` for secondary names, unrecognised and title/item columns."""
    extra_cols = [
        i for i, role in enumerate(header.roles)
        if (role is None and header.cells[i]) or (role == "name" and i != name_col)
        or role == "labelish"
    ]
    if all(i in label_cols for i in extra_cols):
        return []
    return [
        f"{header.cells[i]}: {tidy(row[i])}" for i in extra_cols if i < len(row) and tidy(row[i])
    ]


def table_fields(table: Table, header: Header) -> list[dict[str, Any]]:
    """Fields from the rows under the header (blank, repeated-header and nameless rows skipped)."""
    width = len(header.cells)
    name_col = header.columns("name")[0]
    fields: list[dict[str, Any]] = []
    nameless = 0
    for number, row in enumerate(table.rows[header.index + 1 :], start=header.index + 2):
        cells = _align([c if isinstance(c, str) else _cell(c) for c in row], width)
        if not any(c.strip() for c in cells) or [c.strip() for c in cells] == header.cells:
            continue
        if not cells[name_col].strip():
            nameless += 1
            continue
        try:
            fields.append(_row_field(cells, header, len(fields) + 1))
        except FormatError as exc:
            where = f"sheet {table.name!r}, row" if table.name else "row"
            raise FormatError(f"{where} {number}: {exc}", line=number) from None
    if nameless:
        table.warnings.append(f"{nameless} rows without a {header.cells[name_col]!r} skipped")
    return fields


def _preamble(table: Table, header: Header) -> str | None:
    """Text rows above the header (a title or note line), as the dataset description."""
    lines = []
    for row in table.rows[: header.index]:
        cells = [c.strip() for c in row if c and c.strip()]
        if cells:
            lines.append(" ".join(cells))
    return tidy(" ".join(lines))


def _datasets(path: Path, table: Table, header: Header, identifier: str) -> list[dict[str, Any]]:
    """The raw datasets of one table: one, or one per (agency, program) its rows name."""
    constant = constant_columns(table.rows[header.index + 1:], header, _cell)
    fields = table_fields(table, header)
    has_positions = any(f["start_col"] for f in fields)
    kind = "Fixed-width layout table" if has_positions else "Data dictionary table"
    description = _preamble(table, header) or f"{kind} ({len(fields)} fields)."
    extra: dict[str, Any] = {
        "header_row": header.index + 1,
        "columns": {cell: role for cell, role in zip(header.cells, header.roles, strict=False)
                    if cell},
    }
    if table.name:
        extra["sheet"] = table.name
    if constant:
        extra["constant_columns"] = constant
    if grouped(header):
        label = path.name + (f", sheet {table.name!r}" if table.name else "")
        datasets, warnings = group_datasets(path, identifier, fields, extra, label)
        table.warnings.extend(warnings)
        return datasets
    start, end = coverage([(f["coverage_start"], f["coverage_end"]) for f in fields])
    for raw in fields:
        del raw["_agency"], raw["_program"]
    return [new_dataset(identifier, description=description, layout=has_positions, extra=extra,
                        coverage_start=start, coverage_end=end, fields=fields)]


def _check_size(table: Table, header: Header, cut: bool = False) -> None:
    """FormatError when the rows under the header are more fields than a dataset may hold."""
    rows = sum(1 for row in table.rows[header.index + 1 :] if any(str(c).strip() for c in row))
    if rows > MAX_FIELDS or cut:
        where = f"sheet {table.name!r}: " if table.name else ""
        raise FormatError(
            f"{where}more than {MAX_FIELDS:,} rows under the header row (line "
            f"{header.index + 1}); a dataset holds at most {MAX_FIELDS:,} fields: expected one "
            "row per field of one dataset (split the table)",
            line=header.index + 1,
        )


def _text_table(path: Path) -> tuple[Table, Header]:
    text = read_text_mixed(path)
    if not text.strip():
        raise FormatError("the file is empty")
    chosen = _choose_delimiter(text)
    if chosen is None:
        raise _no_header_error()
    delimiter, _ = chosen
    table = Table(None, _read_delimited(text, delimiter, limit=_MAX_ROWS))
    header = find_header(table.rows)
    if header is None:
        raise _no_header_error()
    _check_size(table, header, cut=len(table.rows) >= _MAX_ROWS)
    return table, header


def parse(path: Path) -> ParsedFile:
    """Read a dictionary table; one dataset per file, or per recognised worksheet."""
    result = ParsedFile(path=path, format=NAME)
    if path.suffix.lower() in WORKBOOK_SUFFIXES and not _is_xlsx(path):
        raise FormatError("not a valid XLSX workbook (the file is not a zip archive)")
    if _is_xlsx(path):
        found = []
        for table in _xlsx_tables(path):
            header = find_header(table.rows)
            if header is None:
                result.warnings.append(f"sheet {table.name!r}: no recognisable header row")
            else:
                _check_size(table, header, cut=table.cut)
                found.append((table, header))
        if not found:
            raise _no_header_error()
        sheets = [re.sub(r"\s+", "_", (table.name or "").strip()) for table, _ in found]
        for (table, header), identifier in zip(found, file_identifiers(path, sheets), strict=True):
            result.datasets.extend(_datasets(path, table, header, identifier))
            result.warnings.extend(f"sheet {table.name!r}: {w}" for w in table.warnings)
        named_by_file(path, result.datasets)
        return result
    table, header = _text_table(path)
    result.datasets.extend(_datasets(path, table, header, file_identifier(path)))
    result.warnings.extend(table.warnings)
    named_by_file(path, result.datasets)
    return result
