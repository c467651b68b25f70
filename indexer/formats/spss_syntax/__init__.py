"""SPSS syntax (``.sps``) that reads a fixed-width file: setup files such as ICPSR's.

A setup file declares the record layout with ``DATA LIST`` and labels it::

    * Quarterly wage file.
    FILE HANDLE wages /NAME='wages.dat' LRECL=40.
    DATA LIST FILE=wages FIXED RECORDS=1
      /1 ssn 1-9 (A) quarter 10 wages 11-19 (2) q1 TO q3 20-25.
    VARIABLE LABELS ssn 'Social security number' / wages "Wages paid in the quarter".
    VALUE LABELS quarter 1 'First' 2 'Second' 3 'Third' 4 'Fourth'
      / q1 q2 q3 1 'Yes' 2 'No'.

Each ``DATA LIST`` becomes one record layout (the file name without extension is its
identifier; ``-2``, ``-3``... are added when a file holds several). What is read:

* ``DATA LIST`` options in any order -- ``FILE=``, ``FIXED`` (the default), ``FREE`` /
  ``LIST``, ``RECORDS=n``, ``SKIP=``, ``TABLE`` / ``NOTABLE``, ``ENCODING=`` -- then the
  variable definitions, record by record (``/`` or ``/n``):

  - column style: ``name start-end`` or ``name col``, optionally followed by ``(A)`` (string),
    ``(n)`` (n implied decimal places), ``(TYPE)`` or ``(TYPE,n)`` (``COMMA``, ``ADATE``...);
    several names (``v1 TO v5`` or ``a b c``) share the columns in equal widths;
  - FORTRAN-like style: ``name (F8.2)``, ``v1 TO v5 (5F2.0)``, ``(A10, 2X, T40, F3)``,
    laid out from the column after the previous variable.

  ``v1 TO v5`` in DATA LIST makes v1, v2 ... v5 (zero padding kept: q01 TO q10).
  FREE / LIST data lists give variables without columns (not a fixed-width layout).
* ``VARIABLE LABELS name 'label' / name2 "label2" ...`` (``+`` joins string pieces).
* ``VALUE LABELS a b c 1 'Yes' 2 'No' / d 'M' 'Male' ...`` and ``ADD VALUE LABELS``; a
  ``TO`` in these commands means "the variables from a to b in file order".
* ``MISSING VALUES`` (noted in the field description), ``FILE HANDLE ... NAME= LRECL=``
  (the data file and its record length), ``TITLE`` and ``FILE LABEL`` (the title).
* Comments: ``*`` and ``COMMENT`` commands, ``/* ... */`` inside commands (an unclosed
  ``/*`` runs to the end of its line, or to the next ``*/`` when it opens the line).

Keywords are case-insensitive and may be abbreviated as SPSS allows (``VAR LABELS``).
Commands end with a period at the end of a line; a line starting in column 1 with a
known command also begins a new one (with a warning). Overlapping columns are reported in
``ParsedFile.warnings`` naming both variables; a command that cannot be read raises
:class:`FormatError` with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.formats.base import (
    PROGRAM_MAX_BYTES,
    FormatError,
    ParsedFile,
    file_identifiers,
    named_by_file,
    read_text_mixed,
)
from indexer.formats.layout import OVERLAPS_REPORTED, RECORD, record_length
from indexer.formats.records import new_dataset
from indexer.formats.spss_syntax.commands import Command, split_commands
from indexer.formats.spss_syntax.data_list import DataList, read_data_list
from indexer.formats.spss_syntax.fields import field_records, overlaps
from indexer.formats.spss_syntax.labels import (
    read_missing_values,
    read_value_labels,
    read_variable_labels,
)
from indexer.formats.statements import NAME_OR_STRING, stated_lrecl, unquote

NAME = "spss-syntax"
#: File suffixes this format's files carry (a hint beside the content; see base.py).
SUFFIXES = (".sps",)
MAX_BYTES = PROGRAM_MAX_BYTES

_DATA_LIST_LINE = re.compile(r"(?im)^[ \t]*DATA[ \t]+LIST\b(?![ \t]*[;(])")
_LABELS_LINE = re.compile(r"(?im)^[ \t]*(?:ADD[ \t]+)?VAR\w*[ \t]+LAB\w*|^[ \t]*VAL\w*[ \t]+LAB\w*")
# A name read for 64 characters at most (SPSS's own limit), so that a long run of name
# characters is not rescanned from each of its positions.
_COLUMN_SPEC = re.compile(r"(?i)\b[A-Za-z@#$][\w.@#$]{0,63}+[ \t]++\d++[ \t]*+-[ \t]*+\d+\b")
_PROGRAM_WORDS = re.compile(r"(?im)^[^\S\n]*+(proc\s++\w|run\s*+;|infile\s++dictionary)")
_FIXED_WORD = re.compile(r"(?i)\bDATA[ \t]+LIST\b[^.]*\b(FIXED|RECORDS\s*=)")


def detect(path: Path, head: str) -> bool:
    """True for SPSS syntax with a DATA LIST (and labels or column specs, without .sps)."""
    if not _DATA_LIST_LINE.search(head):
        return False
    if path.suffix.lower() in SUFFIXES:
        return True
    return bool(
        _LABELS_LINE.search(head) or _FIXED_WORD.search(head) or _COLUMN_SPEC.search(head)
    ) and not _PROGRAM_WORDS.search(head)


@dataclass
class Syntax:
    """Everything read from one syntax file."""

    data_lists: list[DataList] = field(default_factory=list)
    handles: dict[str, dict[str, Any]] = field(default_factory=dict)
    title: str | None = None
    warnings: list[str] = field(default_factory=list)


def _file_handle(command: Command, syntax: Syntax) -> None:
    """``FILE HANDLE name /NAME='file' LRECL=n``."""
    text = command.text
    match = re.match(r"(?i)\s*FILE\s+HANDLE\s+([^\s/]+)", text)
    if not match:
        return
    info: dict[str, Any] = {}
    name = re.search(rf"(?i)\bNAME\s*=\s*({NAME_OR_STRING})", text)
    if name:
        info["file"] = unquote(name.group(1))
    lrecl = stated_lrecl(text, command.line)
    if lrecl:
        info["lrecl"] = lrecl
    syntax.handles[match.group(1).upper()] = info


def _title(command: Command) -> str | None:
    """The text of a TITLE or FILE LABEL command."""
    text = re.sub(r"(?i)^\s*(TITLE|FILE\s+LABEL)\b", "", command.text).strip()
    return unquote(text).strip() or None


def read_syntax(text: str) -> Syntax:
    """Read the DATA LIST layouts of a syntax file and label their variables."""
    syntax = Syntax()
    current: DataList | None = None
    comments: list[str] = []  # comments since the last DATA LIST describe the next one
    for command in split_commands(text, syntax.warnings):
        name = command.name
        comments.extend(command.comments)
        if name == "DATA LIST":
            current = read_data_list(command)
            current.comments, comments = comments, []
            syntax.data_lists.append(current)
        elif name == "FILE HANDLE":
            _file_handle(command, syntax)
        elif name in ("TITLE", "FILE LABEL"):
            syntax.title = syntax.title or _title(command)
        elif name in ("VARIABLE LABELS", "VALUE LABELS", "ADD VALUE LABELS", "MISSING VALUES"):
            if current is None:
                syntax.warnings.append(f"line {command.line}: {name} before any DATA LIST; "
                                       "ignored")
                continue
            if name == "VARIABLE LABELS":
                read_variable_labels(command, current, syntax.warnings)
            elif name == "MISSING VALUES":
                read_missing_values(command, current, syntax.warnings)
            else:
                read_value_labels(command, current, syntax.warnings)
    return syntax


def _dataset(data: DataList, syntax: Syntax, identifier: str) -> dict[str, Any]:
    """The raw dataset of one DATA LIST."""
    fields = field_records(data)
    fixed = data.mode == "FIXED"
    extra: dict[str, Any] = {"data_list_line": data.line, "arrangement": data.mode}
    handle = syntax.handles.get((data.file or "").upper(), {})
    if data.file:
        extra["data_file"] = handle.get("file", data.file)
    if handle.get("lrecl"):
        extra["lrecl"] = handle["lrecl"]
    records = max([data.records or 1, *(v.record for v in data.variables)])
    if records > 1:
        extra["records_per_case"] = records
    length = record_length(fields)
    count = len(fields)
    summary = f"SPSS syntax for a {'fixed-width' if fixed else 'delimited'} data file ({count} "
    summary += "variable" + ("s" if count != 1 else "")
    summary += f", record length {length})." if fixed and length else ")."
    header = " ".join(c for c in data.comments if c)
    description = f"{header[:2000]} {summary}".strip()
    if records > 1:  # columns count from 1 again on each record of a case
        for record, variable in zip(fields, data.variables, strict=True):
            record[RECORD] = variable.record
    dataset = new_dataset(
        identifier, syntax.title or identifier, description=description, layout=fixed,
        extra=extra, fields=fields,
    )
    dataset[OVERLAPS_REPORTED] = True  # parse() warns of them itself, naming the lines
    return dataset


def parse(path: Path) -> ParsedFile:
    """Read an SPSS setup file into one layout per DATA LIST."""
    syntax = read_syntax(read_text_mixed(path))
    lists = [data for data in syntax.data_lists if data.variables]
    if not lists:
        raise FormatError("no DATA LIST command with variables: not an SPSS record layout")
    result = ParsedFile(path=path, format=NAME, warnings=list(syntax.warnings))
    numbers = [str(number) for number in range(1, len(lists) + 1)]
    for data, identifier in zip(lists, file_identifiers(path, numbers), strict=True):
        result.datasets.append(_dataset(data, syntax, identifier))
        result.warnings.extend(overlaps(data.variables))
    named_by_file(path, result.datasets)
    return result
