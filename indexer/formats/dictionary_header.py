"""The header row of a dictionary table: which column names the fields, which labels them.

Header cells are recognised by their wording (:data:`SYNONYMS`, with the per-row agency,
program, category and years words of :mod:`indexer.formats.dictionary_groups`), scored by
how closely they match, so that a header is found whatever the agency calls its columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.formats.dictionary_groups import SYNONYMS as ROW_SYNONYMS

#: Rows searched for the header.
HEADER_ROWS = 20
#: Header cells scored per row: a dictionary's name column is never further right, and a
#: row of 200,000 cells costs no more than one of 200.
_HEADER_COLUMNS = 200
_MAX_HEADER_CELL = 80

SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("field name", "variable name", "variable", "var name", "column name", "element name",
             "data element", "data element name", "element", "cell", "field", "name", "dataset",
             "data set", "attribute", "attribute name", "item name", "field id"),
    "label": ("label", "variable label", "field label", "short label", "column label",
              "short description"),
    "labelish": ("item", "title", "caption"),
    "description": ("description", "definition", "meaning", "notes", "note", "comments",
                    "comment", "remarks", "explanation", "long description", "field description",
                    "variable description", "column description", "details"),
    "type": ("type", "data type", "datatype", "field type", "format", "variable type",
             "storage type", "column type", "data format"),
    "start": ("start", "start position", "position", "begin", "from", "start col",
              "start column", "beginning position", "starting position", "start pos", "pos",
              "location"),
    "end": ("end", "to", "end position", "end col", "end column", "ending position", "end pos"),
    "width": ("length", "width", "size", "field length", "field width", "len", "bytes"),
    "decimals": ("decimals", "decimal places", "dec", "decimal"),
    "values": ("values", "codes", "valid values", "value labels", "value label",
               "allowed values", "code values", "code list", "categories", "domain",
               "permitted values", "responses"),
    "sequence": ("number", "no", "#", "seq", "sequence", "order", "line", "row", "field number",
                 "item number", "column number", "ord", "field no", "sequence number"),
}
SYNONYMS.update(ROW_SYNONYMS)  # per-row agency, program, category and years
_DESCRIPTIVE = {"label", "labelish", "description", "type", "start", "end", "width",
                "decimals", "values"}


@dataclass
class Header:
    """The header row of a table and the role of each of its columns."""

    index: int
    cells: list[str]
    roles: list[str | None]
    score: int

    def columns(self, role: str) -> list[int]:
        """Indexes of the columns with ``role``, left to right."""
        return [i for i, r in enumerate(self.roles) if r == role]


def normalise_header(cell: str) -> str:
    """Lower-case header words: parentheses, punctuation and line breaks removed."""
    text = re.sub(r"\([^)]*\)", " ", cell.lower())
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = "#" if text.strip() == "#" else re.sub(r"[^a-z0-9#]+", " ", text)
    return " ".join(text.split())


def _match(words: str, synonym: str) -> int:
    if words == synonym:
        return 4
    if words.endswith(" " + synonym):
        return 3
    if words.startswith(synonym + " "):
        return 2
    return 1 if f" {synonym} " in f" {words} " else 0


def column_role(cell: str) -> tuple[str | None, int]:
    """The role a header cell names and how strongly (0 when none)."""
    if not cell or len(cell) > _MAX_HEADER_CELL:
        return None, 0
    words = normalise_header(re.sub(r"([a-z])([A-Z])", r"\1 \2", cell.strip()))
    if not words or len(words.split()) > 6:
        return None, 0
    best: tuple[int, int, int] = (0, 0, 0)
    role: str | None = None
    for rank, (candidate, synonyms) in enumerate(SYNONYMS.items()):
        for synonym in synonyms:
            score = _match(words, synonym) or _match(words.replace(" ", ""), synonym)
            key = (score, len(synonym), -rank)
            if score and key > best:
                best, role = key, candidate
    return role, best[0]


def find_header(rows: list[list[str]]) -> Header | None:
    """The best header row among the first rows: a name column plus another known column."""
    best: Header | None = None
    for index, row in enumerate(rows[:HEADER_ROWS]):
        scored = [column_role(cell) for cell in row[:_HEADER_COLUMNS]]
        scored += [(None, 0)] * (len(row) - len(scored))
        roles = [role for role, _ in scored]
        if "name" not in roles or (not _DESCRIPTIVE & set(roles) and roles.count("name") < 2):
            continue
        score = sum(s for _, s in scored)
        if best is None or score > best.score:
            best = Header(index, [c.strip() for c in row], roles, score)
    return best
