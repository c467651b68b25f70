"""Pages whose data dictionary is an HTML table.

Covers the U.S. Department of Labor developer-portal Jekyll pages (YAML front matter, then HTML
with one ``<table>`` per database table: ``Column Name | Data Type | Column Description``) and
plain ``.html`` files with such tables. Parsing uses lxml.html, never regular expressions over
markup.

One dataset per file: identifier = the file name without extension; title = front matter
``title``, else ``<title>``, else the first heading; description = the prose paragraphs before
the first dictionary table, else the front matter ``description``. Every table whose header row
has a recognisable name column (name / column name / field / variable / element ...) gives
fields; the other columns are recognised from their header wording — label, description /
definition, data type, width / length, format, values — not by position. Cells of "responsive"
tables that repeat their column's header (``<span class="small">Column Name</span>``) are
cleaned. When a page has several dictionary tables, each field's description starts with its
table's heading (or caption) in brackets, and ``extra["tables"]`` lists the tables. Code lists
written as ``<li>1 = Male</li>`` under a heading go to ``extra["code_lists"]``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import MB, FormatError, ParsedFile, file_identifier, read_text
from indexer.formats.portal import epoch_to_iso, portal_dataset, portal_field, text

NAME = "html-tables"
#: File suffixes this format's files carry (a hint beside the content; see base.py).
SUFFIXES = (".html", ".htm", ".md", ".markdown")
MAX_BYTES = 8 * MB
#: Media types its documents are served as, and the suffix each is read under.
MEDIA_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
}

_ROLES_EXACT = {
    "name": {"name", "column name", "column", "field", "field name", "variable", "variable name",
             "element", "data element", "element name", "attribute", "attribute name",
             "api field name", "field id", "column id"},
    "label": {"label", "display name", "title", "long name", "variable label", "field label",
              "alias", "column label"},
    "description": {"description", "column description", "field description", "definition",
                    "meaning", "notes", "comments", "explanation", "details"},
    "type": {"type", "data type", "datatype", "field type", "column type", "variable type"},
    "width": {"width", "length", "size", "field length", "max length", "field width"},
    "format": {"format", "pattern", "display format"},
    "values": {"values", "valid values", "allowed values", "codes", "code values", "domain"},
}
_ROLES_FUZZY = (
    ("description", ("description", "definition")),
    ("type", ("type",)),
    ("label", ("label",)),
    ("width", ("length", "width")),
    ("values", ("values", "codes")),
    ("name", ("name", "field", "variable", "element", "column")),
)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_CODE_ITEM = re.compile(r"^\s*([^=\s][^=]{0,40}?)\s*=\s*(.+?)\s*$")
_URL_ONLY = re.compile(r"^https?://\S+$")


def detect(path: Path, head: str) -> bool:
    """True when the head holds an HTML table whose header names a field-name column."""
    if "<table" not in head.lower():
        return False
    try:
        root = _parse_html(split_front_matter(head)[1])
    except FormatError:
        return False
    return any(header_roles(table)[1].get("name") is not None for table in root.iter("table"))


def parse(path: Path) -> ParsedFile:
    """Read one page into a dataset whose fields are the rows of its dictionary tables."""
    front, body = split_front_matter(read_text(path))
    root = _parse_html(body)
    parsed = ParsedFile(path=path, format=NAME)
    tables = [(table, header_roles(table)) for table in root.iter("table")]
    dictionaries = [(t, hdr, roles) for t, (hdr, roles) in tables if roles.get("name") is not None]
    if not dictionaries:
        raise FormatError(
            "expected an HTML table whose header names a field column "
            "(Name, Column Name, Field, Variable or Element)"
        )
    several = len(dictionaries) > 1
    fields: list[dict[str, Any]] = []
    table_info: list[dict[str, Any]] = []
    for number, (table, header_row, roles) in enumerate(dictionaries, start=1):
        context = table_context(table) or f"table {number}"
        rows = table_fields(table, header_row, roles, context if several else None, len(fields))
        fields.extend(rows)
        caption = text(_text(table.find("caption")))
        table_info.append({"name": context, "caption": caption, "fields": len(rows)})
    first_table = dictionaries[0][0]
    parsed.datasets.append(
        portal_dataset(
            file_identifier(path),
            _title(front, root),
            description=_prose(root, first_table) or text(front.get("description")),
            extra={
                "api_url": _api_url(root),
                "created": _created(front.get("created")),
                "version": text(front.get("version")),
                "tables": table_info if several else None,
                "code_lists": code_lists(root),
            },
            fields=fields,
        )
    )
    return parsed


# ------------------------------------------------------------------------------- document


def split_front_matter(document: str) -> tuple[dict[str, str], str]:
    """(front matter ``key: value`` pairs, the rest) of a Jekyll page; ({}, page) without one."""
    lines = document.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, document
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            pairs: dict[str, str] = {}
            for line in lines[1:end]:
                key, sep, value = line.partition(":")
                if sep and key.strip() and not key.startswith((" ", "\t", "#")):
                    pairs[key.strip()] = value.strip().strip("'\"")
            return pairs, "".join(lines[end + 1:])
    return {}, document


def _parse_html(body: str) -> Any:
    if not body.strip():
        raise FormatError("the page is empty; expected HTML with a data dictionary table")
    try:
        return lxml_html.document_fromstring(body)
    except (etree.ParserError, ValueError) as exc:
        raise FormatError(f"cannot read the page as HTML: {exc}") from exc


def _text(element: Any) -> str:
    """Whitespace-collapsed text of an element (empty for None)."""
    if element is None:
        return ""
    return " ".join(element.text_content().split())


def _title(front: dict[str, str], root: Any) -> str | None:
    title = text(front.get("title"))
    if title:
        return title
    found = root.find(".//title")
    if found is not None and _text(found):
        return _text(found)
    for element in root.iter(*_HEADINGS):
        if _text(element):
            return _text(element)
    return None


def _prose(root: Any, first_table: Any) -> str | None:
    """Text of the paragraphs and list items before the first dictionary table."""
    parts: list[str] = []
    for element in first_table.xpath("preceding::p | preceding::li"):
        if element.xpath("ancestor::table | ancestor::p"):
            continue
        words = _text(element)
        anchors = element.xpath(".//a[starts-with(@href, '#')]")
        if not words or _URL_ONLY.match(words) or (anchors and _text(anchors[0]) == words):
            continue
        parts.append(words)
    return "\n".join(parts) or None


def _api_url(root: Any) -> str | None:
    for element in root.iter("p"):
        words = _text(element)
        if _URL_ONLY.match(words):
            return words
    return None


def _created(value: str | None) -> str | None:
    if value and value.isdigit():
        return epoch_to_iso(int(value))
    return text(value)


# --------------------------------------------------------------------------------- tables


def role_of(header: str) -> str | None:
    """What a header cell's wording says the column holds (name, label, description, ...)."""
    words = " ".join(re.sub(r"[^a-z0-9]+", " ", header.lower()).split())
    if not words:
        return None
    for role, phrases in _ROLES_EXACT.items():
        if words in phrases:
            return role
    for role, needles in _ROLES_FUZZY:
        if any(needle in words.split() or needle in words for needle in needles):
            return role
    return None


def _rows(table: Any) -> list[Any]:
    """The table's own rows (not those of nested tables), in document order."""
    return [row for row in table.iter("tr") if next(row.iterancestors("table"), None) is table]


def _cells(row: Any) -> list[Any]:
    """Row cells with ``colspan`` expanded so that cell i sits under header i."""
    cells: list[Any] = []
    for cell in row:
        if cell.tag not in ("td", "th"):
            continue
        span = cell.get("colspan", "1")
        cells.extend([cell] * (int(span) if span.isdigit() and 0 < int(span) < 50 else 1))
    return cells


def header_roles(table: Any) -> tuple[Any, dict[str, int | None]]:
    """(header row, role -> column index) of a table; the header is its first row of headings."""
    rows = _rows(table)
    header = next(
        (row for row in rows if row.xpath("ancestor::thead") or
         (_cells(row) and all(c.tag == "th" for c in _cells(row)))),
        rows[0] if rows else None,
    )
    roles: dict[str, int | None] = {}
    if header is None:
        return None, roles
    for index, cell in enumerate(_cells(header)):
        role = role_of(_text(cell))
        if role and roles.get(role) is None:
            roles[role] = index
    return header, roles


def table_context(table: Any) -> str | None:
    """The heading just before the table (a trailing word "Table" dropped), else its caption."""
    headings = table.xpath("preceding::*[self::h1 or self::h2 or self::h3 or self::h4 "
                           "or self::h5 or self::h6][1]")
    caption = table.find("caption")
    for element in (headings[0] if headings else None, caption):
        words = _text(element)
        words = re.sub(r"\s+table$", "", words, flags=re.IGNORECASE)
        if words:
            return words
    return None


def _cell_text(cell: Any, header_words: str) -> str | None:
    """Cell text without a repeated copy of its column header (responsive-table labels)."""
    if header_words:
        for child in list(cell.iterdescendants()):
            if _text(child) == header_words and child.getparent() is not None:
                child.drop_tree()
    return text(_text(cell))


def table_fields(
    table: Any,
    header_row: Any,
    roles: dict[str, int | None],
    context: str | None,
    offset: int,
) -> list[dict[str, Any]]:
    """Field records from the rows after the header row."""
    headers = [_text(cell) for cell in _cells(header_row)]
    rows = _rows(table)
    start = rows.index(header_row) + 1 if header_row in rows else 0
    fields: list[dict[str, Any]] = []
    for row in rows[start:]:
        cells = _cells(row)
        values = {
            role: _cell_text(cells[index], headers[index])
            for role, index in roles.items()
            if index is not None and index < len(cells)
        }
        name = values.get("name")
        if not name or name == headers[roles["name"] or 0]:
            continue
        if offset + len(fields) >= MAX_FIELDS:  # stop here: the rest is not read
            raise FormatError(f"line {row.sourceline}: the dictionary tables have more than "
                              f"{MAX_FIELDS:,} rows (the most a dataset holds)",
                              line=row.sourceline)
        fields.append(_field(offset + len(fields) + 1, name, values, context))
    return fields


def _field(position: int, name: str, values: dict[str, Any], context: str | None) -> dict[str, Any]:
    description = values.get("description")
    if values.get("values"):
        description = f"{description}\nValues: {values['values']}" if description else \
            f"Values: {values['values']}"
    if context:
        description = f"[{context}] {description}" if description else f"[{context}]"
    width = values.get("width")
    return portal_field(
        position,
        name,
        label=values.get("label"),
        description=description,
        source_type=values.get("type"),
        format=values.get("format"),
        width=int(width) if width and width.isdigit() else None,
    )


def code_lists(root: Any) -> dict[str, list[dict[str, str]]]:
    """``heading -> [{code, label}]`` from lists whose items read ``code = label``."""
    found: dict[str, list[dict[str, str]]] = {}
    for listing in root.iter("ul", "ol"):
        headings = listing.xpath("preceding::*[self::h2 or self::h3 or self::h4 or self::h5][1]")
        current = _text(headings[0]).rstrip(":") if headings else "codes"
        for item in listing.iterchildren("li"):
            words = _text(item)
            match = _CODE_ITEM.match(words)
            if match:
                found.setdefault(current, []).append({"code": match[1], "label": match[2]})
            elif words.endswith(":"):
                current = words.rstrip(":")
    return found
