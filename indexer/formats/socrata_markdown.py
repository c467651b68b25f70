"""Axibase Markdown summaries of Socrata views (the ``open-data-catalog`` pages for data.ct.gov).

Each page renders one view's metadata as Markdown: a ``# Title``, a ``## Dataset`` table of
``| Name | Value |`` rows (Id, Name, Attribution, Category, Tags, Created, Publication Date, Host,
links to the catalog and the view metadata), a ``## Description`` section, a ``## Columns`` table
(``Included | Schema Type | Field Name | Name | Data Type | Render Type``) inside a code fence,
and ``## Meta Commands`` in Axibase's command syntax (``property e:<id> t:meta.view.license
v:name="..."``). Detection is by these markers, not by the ``.md`` extension.

Mapping: identifier = the file name without extension (the page has no identifier of its own in
the sense the catalog uses; the 4x4 goes to ``extra["socrata_id"]``); title = ``Name`` (else the
``#`` heading); description = the Description section; agency = Attribution, else the view
owner's display name; keywords = Tags; category, dates, licence and links go to ``extra``;
landing page = ``https://<Host>/d/<Id>``. Fields: the column table's rows by header wording
(``Field Name`` -> name, ``Name`` -> label, ``Data Type`` -> type); system columns (field names
starting with ``:``) are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import MB, FormatError, ParsedFile, file_identifier, read_text
from indexer.formats.portal import (
    first_text,
    portal_dataset,
    portal_field,
    socrata_type,
    string_list,
    text,
)

NAME = "socrata-markdown"
#: File suffixes this format's files carry (a hint beside the content; see base.py).
SUFFIXES = (".md",)
MAX_BYTES = 4 * MB
#: Media types its documents are served as, and the suffix each is read under.
MEDIA_TYPES = {"text/markdown": ".md", "text/x-markdown": ".md"}

_ID_ROW = re.compile(r"^\|\s*Id\s*\|\s*[a-z0-9]{4}-[a-z0-9]{4}\s*\|", re.MULTILINE)
_COLUMNS_HEADER = re.compile(r"^\|\s*Included\s*\|\s*Schema Type\s*\|\s*Field Name\s*\|", re.M)
# A heading's text is the rest of its line (its trailing blanks stripped by the reader): no
# lazy scan with a blank run after it, which cost the square of a long line's length.
_SECTION = re.compile(r"^##\s++([^\n]+)", re.MULTILINE)
_TITLE = re.compile(r"^#\s++([^\n]+)", re.MULTILINE)
_LINK = re.compile(r"^\[([^\]]*)\]\(([^)\s]+)\)$")
_ATTRIBUTE = re.compile(r'(\w):([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')
_PROPERTY_TYPE = re.compile(r"\bt:([\w.]+)(?=\s|$)")


def detect(path: Path, head: str) -> bool:
    """True for an Axibase Socrata summary: a Dataset table with a 4x4 Id and a column table."""
    if _ID_ROW.search(head) is None:
        return False
    return (
        _COLUMNS_HEADER.search(head) is not None
        or "t:meta.view" in head
        or re.search(r"^##\s++Columns\s*+$", head, re.MULTILINE) is not None
    )


def parse(path: Path) -> ParsedFile:
    """Read one Markdown summary into a dataset record."""
    document = read_text(path)
    sections = split_sections(document)
    if "Dataset" not in sections:
        raise FormatError("expected an Axibase Socrata summary with a '## Dataset' table")
    info = key_value_table(sections["Dataset"])
    meta = meta_commands(sections.get("Meta Commands", ""))
    parsed = ParsedFile(path=path, format=NAME)
    fields = column_fields(sections.get("Columns", ""), parsed.warnings)
    if "Columns" not in sections:
        parsed.warnings.append("no '## Columns' section: the dataset has no fields")
    parsed.datasets.append(_record(path, document, info, sections, meta, fields))
    return parsed


def _record(
    path: Path,
    document: str,
    info: dict[str, str],
    sections: dict[str, str],
    meta: dict[str, dict[str, str]],
    fields: list[dict[str, Any]],
) -> dict[str, Any]:
    view_id, host = info.get("Id"), info.get("Host")
    owner = meta.get("meta.view.owner", {}).get("displayName")
    heading = _TITLE.search(document)
    extra = {
        "socrata_id": view_id,
        "host": host,
        "category": info.get("Category"),
        "created": info.get("Created"),
        "published": info.get("Publication Date"),
        "catalog_url": _link_url(info.get("Catalog")),
        "metadata_url": _link_url(info.get("Metadata")),
        "license": meta.get("meta.view.license", {}).get("name"),
        "owner": owner,
    }
    return portal_dataset(
        file_identifier(path),
        first_text(info.get("Name"), heading.group(1).rstrip() if heading else None),
        description=text(sections.get("Description")),
        agency=first_text(info.get("Attribution"), owner),
        keywords=string_list(info.get("Tags")),
        landing_page=f"https://{host}/d/{view_id}" if host and view_id else None,
        extra=extra,
        fields=fields,
    )


def split_sections(document: str) -> dict[str, str]:
    """``## Heading`` -> the text up to the next ``##`` heading (first occurrence wins)."""
    sections: dict[str, str] = {}
    matches = list(_SECTION.finditer(document))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(document)
        sections.setdefault(match.group(1).rstrip(), document[match.end():end].strip())
    return sections


def table_rows(block: str) -> list[list[str]]:
    """The cells of every Markdown table row in ``block``; separator rows are dropped."""
    rows: list[list[str]] = []
    for line in block.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if all(re.fullmatch(r":?[-=]*:?", cell) for cell in cells):
            continue
        rows.append(cells)
    return rows


def key_value_table(block: str) -> dict[str, str]:
    """A two-column ``| Name | Value |`` table as a dict (header row skipped)."""
    found: dict[str, str] = {}
    for cells in table_rows(block):
        if len(cells) >= 2 and cells[0] and cells[0] != "Name" and cells[1]:
            found.setdefault(cells[0], cells[1])
    return found


def _link_url(cell: str | None) -> str | None:
    match = _LINK.match(cell or "")
    return match.group(2) if match else None


def column_fields(block: str, warnings: list[str]) -> list[dict[str, Any]]:
    """Field records from the ``## Columns`` table, columns found by their header wording."""
    rows = table_rows(block)
    if not rows:
        return []
    header = [cell.lower() for cell in rows[0]]
    if "field name" not in header:
        warnings.append("the Columns table has no 'Field Name' column: no fields read")
        return []
    wanted = ("field name", "name", "data type")
    index = {name: header.index(name) for name in wanted if name in header}

    def cell(row: list[str], key: str) -> str | None:
        position = index.get(key)
        return text(row[position]) if position is not None and position < len(row) else None

    fields: list[dict[str, Any]] = []
    for row in rows[1:]:
        name = cell(row, "field name")
        if name is None or name.startswith(":"):
            continue
        if len(fields) >= MAX_FIELDS:  # stop here: the rest of the table is not read
            raise FormatError(f"the Columns table has more than {MAX_FIELDS:,} columns (the "
                              "most a dataset holds)")
        raw_type = cell(row, "data type")
        fields.append(
            portal_field(
                len(fields) + 1,
                name,
                label=cell(row, "name"),
                source_type=raw_type,
                data_type=socrata_type(raw_type),
            )
        )
    return fields


def meta_commands(block: str) -> dict[str, dict[str, str]]:
    """``property`` commands as ``{type: {key: value}}`` (``t:meta.view.owner`` -> its ``v:``s)."""
    found: dict[str, dict[str, str]] = {}
    for line in block.splitlines():
        kind = _PROPERTY_TYPE.search(line) if line.startswith("property ") else None
        if kind is None:
            continue
        values = {
            key: _unquote(raw) for prefix, key, raw in _ATTRIBUTE.findall(line) if prefix == "v"
        }
        found.setdefault(kind.group(1), values)
    return found


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        return raw[1:-1].replace('\\"', '"')
    return raw
