"""Stata dictionaries (``.dct``).

Entries look like ``infile dictionary [using file] { _column(n) type name %fmt "label" }``.
An entry without ``_column(n)`` but with a width (``%5f``) starts where the one before it ended;
``_skip(n)``, ``_column(n)``, ``_line(n)`` and ``_newline`` move that pointer, ``_lines(n)``
(lines per case) and ``_lrecl(n)`` (the stated record length) are kept in ``extra``.

Each dictionary becomes one record layout. When a label program with the same name sits beside
it (the NBER convention: ``sip96t1.dct`` read by ``sip96t1.do``), its value labels are attached
to the dictionary's fields through ``label values``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from catalog.schemas import MAX_FIELDS
from indexer.formats import stata_labels
from indexer.formats.base import (
    PROGRAM_MAX_BYTES,
    FormatError,
    ParsedFile,
    file_identifier,
    normalise_type,
    read_text_mixed,
    whole_number,
)
from indexer.formats.layout import RECORD, complete_columns, stata_format_width
from indexer.formats.records import new_dataset, new_field
from indexer.formats.statements import LineIndex, unquote
from indexer.formats.text import tidy

NAME = "stata-dictionary"
#: File suffixes this format's files carry (a hint beside the content; see base.py).
SUFFIXES = (".dct",)
MAX_BYTES = PROGRAM_MAX_BYTES

_HEADER = re.compile(r"(?im)^[ \t]*(?:infile[ \t]+)?dictionary\b([^{\n]*)\{")
_USING = re.compile(r"(?i)\busing\s+(\"[^\"]*\"|\S+)")
_TYPES = r"(?:byte|int|long|float|double|str\d+|strL)"
_ENTRY = re.compile(
    rf"""^\s*
    (?:_column\(\s*(?P<col>\d+)\s*\)\s*)?
    (?:_line\(\s*(?P<line>\d+)\s*\)\s*)?
    (?:(?P<type>{_TYPES})\s+)?
    (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    (?:\s*:\s*(?P<vlabel>[A-Za-z_][A-Za-z0-9_]*))?
    (?:\s+(?P<fmt>%-?\d+(?:\.\d+)?[a-zA-Z]+))?
    (?:\s+(?P<label>"[^"]*"?|`".*?"'))?
    \s*$""",
    re.VERBOSE,
)
_DIRECTIVE = re.compile(r"^\s*_(?:skip|newline|lines|line|column|lrecl|firstlineoffile)\b")
_DIRECTIVE_ARGS = re.compile(
    r"_(skip|newline|lines|line|column|lrecl|firstlineoffile)\b(?:\s*\(\s*(\d*)\s*\))?"
)
_READS = re.compile(r"(?i)\b(?:reads|describes|for)\s+the\s+(.+?)(?:\.\s|\.?$)")


def detect(path: Path, head: str) -> bool:
    """True for files that open an ``infile dictionary { ... }`` block."""
    return bool(_HEADER.search(head))


def _body(text: str) -> tuple[str, int, str | None]:
    """The text inside the dictionary braces, the offset where it starts, and the using file."""
    match = _HEADER.search(text)
    if not match:
        raise FormatError("no 'infile dictionary {' line: not a Stata dictionary")
    using = _USING.search(match.group(1))
    close = re.compile(r"(?m)^\s*\}").search(text, match.end())
    if close is None:
        line = LineIndex(text).line(match.start())
        raise FormatError(
            f"line {line}: the dictionary block opened here is never closed by '}}'", line=line
        )
    return text[match.end() : close.start()], match.end(), (
        using.group(1).strip('"') if using else None
    )


class _Pointer:
    """Where the next entry starts: line of the case and column (None when not known)."""

    def __init__(self) -> None:
        self.line = 1
        self.column: int | None = 1
        self.settings: dict[str, int] = {}

    def directive(self, name: str, arg: str | None, line: int | None = None) -> None:
        """Apply ``_column(n)``, ``_skip(n)``, ``_line(n)``, ``_newline(n)``, ``_lrecl(n)``..."""
        number = whole_number(arg, line, f"_{name}()") if arg else None
        if name == "column" and number:
            self.column = number
        elif name == "skip" and self.column is not None:
            self.column += number if number is not None else 1
        elif name == "line" and number:
            self.line, self.column = number, 1
        elif name == "newline":
            self.line, self.column = self.line + (number or 1), 1
        elif name in ("lrecl", "lines", "firstlineoffile") and number:
            self.settings[name] = number


def _entry_fields(body: str, offset: int, text: str) -> tuple[list[dict[str, Any]], list[str],
                                                                list[str], dict[str, str],
                                                                dict[str, int]]:
    """Fields, header comments, per-line problems, value-label names and settings."""
    lines = LineIndex(text)
    fields: list[dict[str, Any]] = []
    comments: list[str] = []
    errors: list[str] = []
    vlabels: dict[str, str] = {}
    pointer = _Pointer()
    pos = offset
    for raw in body.splitlines(keepends=True):
        line_no = lines.line(pos)
        pos += len(raw)
        line = raw.strip()
        if not line:
            continue
        if line.startswith("*") or line.startswith("//"):
            comments.append(line.lstrip("*/").strip())
            continue
        match = _ENTRY.match(line)
        if match is None:
            if _DIRECTIVE.match(line):
                for directive in _DIRECTIVE_ARGS.finditer(line):
                    pointer.directive(directive.group(1), directive.group(2), line_no)
            else:
                errors.append(f"line {line_no}: cannot read dictionary entry {line[:80]!r}")
            continue
        if match.group("line"):
            pointer.directive("line", match.group("line"), line_no)
        if len(fields) >= MAX_FIELDS:  # stop here: the rest is never read
            raise FormatError(f"line {line_no}: more than {MAX_FIELDS:,} variables (the most "
                              "a dataset holds)", line=line_no)
        try:
            fields.append(_field(match, len(fields) + 1, pointer))
        except FormatError as exc:
            raise FormatError(f"line {line_no}: {exc}", line=line_no) from None
        if match.group("vlabel"):
            vlabels[match.group("name")] = match.group("vlabel")
    if pointer.settings.get("lines", 1) > 1 or any(f.get(RECORD, 1) > 1 for f in fields):
        for field in fields:
            field.setdefault(RECORD, 1)
    else:
        for field in fields:
            field.pop(RECORD, None)
    return fields, comments, errors, vlabels, pointer.settings


def _field(match: re.Match[str], position: int, pointer: _Pointer) -> dict[str, Any]:
    """One raw field from a dictionary entry; without ``_column`` it starts at the pointer."""
    stype = match.group("type") or "float"
    fmt = match.group("fmt")
    width, decimals = stata_format_width(fmt)
    if width is None and stype.startswith("str") and stype[3:].isdigit():
        width = whole_number(stype[3:], None, "string width")
    start = whole_number(match.group("col"), None, "_column()") if match.group("col") else None
    if start is None and fmt is not None and width is not None:
        start = pointer.column  # fixed format: read on from where the last entry ended
    start, end, width = complete_columns(start, None, width)
    pointer.column = end + 1 if end is not None else None
    label = match.group("label")
    if label:
        label = unquote(label if label.endswith(("\"", "'")) else label + '"', stata=True)
    field = new_field(
        position, match.group("name"), label=tidy(label), data_type=normalise_type(stype),
        source_type=stype, width=width, start_col=start, end_col=end, format=fmt,
        decimals=decimals,
    )
    field[RECORD] = pointer.line
    return field


def _describe(comments: list[str]) -> tuple[str | None, str | None]:
    """Title and description from a header comment such as 'This program reads the ...'."""
    for comment in comments:
        match = _READS.search(comment)
        if match:
            phrase = match.group(1).strip()
            return phrase[:1].upper() + phrase[1:], tidy(comment)
    return None, None


def _attach_value_labels(path: Path, fields: list[dict[str, Any]],
                         vlabels: dict[str, str], result: ParsedFile) -> str | None:
    """Join value labels from a sibling ``<stem>.do`` label program; return its name if used."""
    sibling = path.with_suffix(".do")
    if not sibling.is_file():
        return None
    if sibling.stat().st_size > stata_labels.MAX_BYTES:
        result.warnings.append(f"{sibling.name}: value labels not read (larger than "
                               f"{stata_labels.MAX_BYTES:,} bytes)")
        return None
    try:
        program = stata_labels.read_label_program(read_text_mixed(sibling))
    except (OSError, ValueError, FormatError) as exc:
        result.warnings.append(f"{sibling.name}: value labels not read ({exc})")
        return None
    joined = 0
    for field in fields:
        variable = program.variables.get(field["name"])
        set_name = variable.value_label if variable else vlabels.get(field["name"])
        codes = program.value_sets.get(set_name or "")
        if codes:
            field["value_labels"] = [{"code": c, "label": lab} for c, lab in codes.items()]
            field["format"] = field["format"] or set_name
            joined += 1
        if variable and variable.label and not field["label"]:
            field["label"] = variable.label
    return sibling.name if joined else None


def parse(path: Path) -> ParsedFile:
    """Read a Stata dictionary into one record layout."""
    text = read_text_mixed(path)
    body, offset, using = _body(text)
    fields, comments, errors, vlabels, settings = _entry_fields(body, offset, text)
    if not fields:
        first = f" ({errors[0]})" if errors else ""
        raise FormatError(f"the dictionary block declares no variables{first}")
    result = ParsedFile(path=path, format=NAME, errors=errors)
    title, description = _describe(comments)
    identifier = file_identifier(path)
    extra: dict[str, Any] = {}
    if using:
        extra["data_file"] = using
    if settings.get("lrecl"):
        extra["lrecl"] = settings["lrecl"]
    if settings.get("lines", 1) > 1:
        extra["records_per_case"] = settings["lines"]
    labels_from = _attach_value_labels(path, fields, vlabels, result)
    if labels_from:
        extra["value_labels_from"] = labels_from
    result.datasets.append(new_dataset(
        identifier, title,
        description=description or f"Stata dictionary for a fixed-width file ({len(fields)}"
        " variables).",
        layout=True, extra=extra, fields=fields,
    ))
    return result
