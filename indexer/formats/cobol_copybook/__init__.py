"""COBOL copybooks: the record descriptions behind fixed-width (often mainframe) files.

A copybook declares a record as a tree of data items, each with a level number::

      * QUARTERLY WAGE DETAIL
       01  UI-WAGE-RECORD.
           05  EMPLOYER-ID         PIC X(10).
           05  WAGE-DATA           COMP-3.
               10  QTR-WAGES       PIC S9(7)V99 OCCURS 4 TIMES.
           05  STATUS-CODE         PIC X.
               88  STATUS-ACTIVE   VALUE 'A'.

Each 01-level record becomes one record layout (a dataset; the file name without extension
is its identifier, the record name its title); each elementary item becomes a field whose
``start_col``/``end_col`` (1-based, inclusive) and ``width`` count **bytes** in the record.
Items before any 01 level (a copybook meant to be copied under a group) form one record
named after the file.

What is read:

* **Source format**, told by content: fixed format (sequence area in columns 1-6; indicator
  in column 7 -- ``*`` and ``/`` comment lines, ``D`` debugging lines skipped, ``-``
  continuation lines, also of literals --; code in columns 8-72; the identification area
  73-80 ignored) or free format (no sequence area, ``*>`` comments, lines of any length).
  Floating ``*>`` comments are honoured in both.
* **Level numbers** 01-49 build the group tree; the group path of a field goes into its
  description (``in group EMPLOYER-INFO > ADDRESS``); the field keeps its own ``name``.
  88-level condition names become the ``value_labels`` of the item before them
  (``{"code": "A", "label": "STATUS-ACTIVE"}``; ``1 THRU 5`` ranges kept as one code).
  66-level RENAMES and 77-level items are independent of the record: skipped, with a warning.
* **PIC / PICTURE** strings with the symbols ``A X 9 S V P N G E Z B 0 / , . + - * $ CR DB``
  and repeat counts such as ``9(5)``, ``X(10)``, ``S9(7)V99``. Edited pictures take one byte
  per character position (display width). ``V`` gives ``decimals``; a leading ``P`` scales.
* **USAGE** (on the item or inherited from its group): DISPLAY (one byte a character, plus
  one with ``SIGN ... SEPARATE``); COMP / COMP-4 / COMP-5 / BINARY (2, 4 or 8 bytes for 1-4,
  5-9 and 10-18 digits); COMP-3 / PACKED-DECIMAL (``digits // 2 + 1`` bytes); COMP-6
  (unsigned packed); COMP-1 (4) and COMP-2 (8); INDEX and POINTER (4); NATIONAL and PIC N
  (2 bytes a character); DISPLAY-1 and PIC G (2); BINARY-CHAR/SHORT/LONG/DOUBLE (1/2/4/8).
* **OCCURS n TIMES** expands into one field per occurrence, named with COBOL subscripts:
  ``QTR-WAGES(1)`` .. ``QTR-WAGES(4)``, ``AMT(2,3)`` inside nested tables. An expansion that
  would make more than :data:`.layout.OCCURS_FIELD_CAP` fields is kept as one field spanning
  the table (elementary) or as its first occurrence (group), with a warning and a note.
  **OCCURS m TO n DEPENDING ON x** is laid out at its maximum; the record is marked variable
  length (``extra["variable_length"]``, ``extra["min_record_length"]``) with a warning.
* **REDEFINES**: the redefining item starts where the item it redefines starts and does not
  lengthen the record (a longer redefinition extends it, with a warning); its fields carry
  ``redefines X`` in their description. A redefining 01 record is a layout of its own.
* **FILLER** (named, or no name at all) is not listed as a field but its bytes are counted;
  its columns go into ``extra["filler"]`` (``[[start, end], ...]``) so that the layout check
  does not report them as gaps. Fields under a REDEFINES are marked as deliberate overlays.
* **VALUE** on a data item is noted in the description (``initial value 'X'``).
* Comment lines between two entries describe the entry after them (the ones before an 01
  describe the record).

The record length (sum of the bytes, redefinitions overlaid) goes into
``extra["record_length"]``. A clause that cannot be read raises :class:`FormatError` naming
the line and what was expected. SYNCHRONIZED slack bytes are not added (warning).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import (
    PROGRAM_MAX_BYTES,
    FormatError,
    ParsedFile,
    file_identifiers,
    named_by_file,
    read_text_mixed,
)
from indexer.formats.cobol_copybook.entries import Item, parse_entry
from indexer.formats.cobol_copybook.fields import emit
from indexer.formats.cobol_copybook.layout import Context, Record, build_records, layout
from indexer.formats.cobol_copybook.source import Source, read_source
from indexer.formats.cobol_copybook.tokens import Entry, split_entries, tokenize
from indexer.formats.layout import merge_ranges
from indexer.formats.records import new_dataset
from indexer.formats.text import clean_comment

NAME = "cobol-copybook"
#: File suffixes this format's files carry (a hint beside the content; see base.py).
SUFFIXES = (".cpy", ".cbl", ".cob", ".copy", ".cobol", ".cpb")
MAX_BYTES = PROGRAM_MAX_BYTES

# Possessive runs (``*+``, ``++``): a blank or a name is never given back to the lazy scan
# after it, so a line costs its length once, whatever it holds (no backtracking blow-up).
_LEVEL_PIC = re.compile(
    r"(?im)^(?:[ \t]*+|[0-9A-Za-z]{6}[ \t*-]?[ \t]*+)"  # optional sequence area
    r"(?:0?[1-9]|[1-4][0-9]|77)[ \t]++"  # level number
    r"(?:[A-Za-z0-9][\w-]*+[ \t]++)?"  # data name (absent for an implicit FILLER)
    r"[^\n]*?\bPIC(?:TURE)?[ \t]+(?:IS[ \t]+)?[-+$*SXA9NZPVGE]"
)
# A whole entry on one line: level, name, clauses, period (``05 WAGES COMP-2.``).
_LEVEL_ENTRY = re.compile(
    r"(?im)^(?:[ \t]*+|[0-9A-Za-z]{6}[ \t]++)(?:0?[1-9]|[1-4][0-9]|66|77|88)[ \t]++"
    r"[A-Za-z0-9][\w-]*+(?:[ \t]++[^\n]*)?\.[ \t]*+(?:\*>[^\n]*)?$"
)


def detect(path: Path, head: str) -> bool:
    """True for text with level-numbered entries that carry PIC clauses."""
    hits = len(_LEVEL_PIC.findall(head))
    entries = len(_LEVEL_ENTRY.findall(head))
    if path.suffix.lower() in SUFFIXES:
        return hits >= 1 or entries >= 2
    return hits >= 3 or (hits >= 2 and entries >= 3)


def _attach_comments(entries: list[Entry], items: list[Item | None], source: Source) -> None:
    """Give each item the comment lines between the entry before it and its own."""
    lines = [number for number, _ in source.comments]
    previous_end = 0
    for entry, item in zip(entries, items, strict=True):
        if item is None:
            previous_end = entry.last_line
            continue
        low = bisect.bisect_right(lines, previous_end)
        high = bisect.bisect_left(lines, entry.first_line)
        texts = [clean_comment(source.comments[i][1]) for i in range(low, high)]
        texts += [
            clean_comment(source.inline[number])
            for number in range(entry.first_line, entry.last_line + 1)
            if number in source.inline
        ]
        texts = [t for t in texts if re.search(r"[A-Za-z0-9]", t)]
        item.comment = " ".join(texts) or None
        previous_end = entry.last_line


@dataclass
class Copybook:
    """Everything read from one copybook."""

    source: Source
    records: list[Record]
    warnings: list[str]


def read_copybook(text: str) -> Copybook:
    """Read a copybook's records (trees of items with their clauses)."""
    source = read_source(text)
    entries: list[Entry] = []
    items: list[Item | None] = []
    listed = 0  # named items with a picture in the current 01 record: each makes a field
    for entry in split_entries(tokenize(source)):
        item = parse_entry(entry)
        entries.append(entry)
        items.append(item)
        if item is not None and item.level == 1:
            listed = 0
        if item is not None and item.picture is not None and item.name is not None:
            listed += 1
            if listed > MAX_FIELDS:  # stop here: the rest of the file is never read
                raise FormatError(f"line {item.line}: the record has more than {MAX_FIELDS:,} "
                                  "fields (the most a dataset holds)", line=item.line)
    warnings: list[str] = []
    if entries and not entries[-1].terminated:
        last = entries[-1]
        warnings.append(f"line {last.first_line}: the last entry is not ended by a period")
    _attach_comments(entries, items, source)
    data = [item for item in items if item is not None]
    records = build_records(data, warnings)
    for record in records:
        # The comment before the first entry of a fragment describes the whole record.
        owner = record.root.children[0] if record.implied else record.root
        if owner.comment:
            record.comments = [owner.comment]
            if record.implied:
                owner.comment = None
    return Copybook(source=source, records=records, warnings=warnings)


def _dataset(record: Record, identifier: str, ctx: Context,
             fixed: bool) -> dict[str, Any] | None:
    """The raw dataset of one record (None when it has no fields to list)."""
    root = record.root
    layout(root, None, None, ctx)
    if root.occurs and root.level == 1:
        ctx.warnings.append(f"line {root.line}: OCCURS on the 01-level record {root.label} "
                            "is ignored")
    if root.fields_total > MAX_FIELDS:
        raise FormatError(
            f"line {root.line}: record {root.label} would have {root.fields_total} fields "
            f"(more than {MAX_FIELDS})",
            line=root.line,
        )
    emit(root, 0, (), [], [], ctx)
    if not ctx.fields:
        ctx.warnings.append(f"line {root.line}: record {root.label} has no named elementary "
                            "items (only FILLER); skipped")
        return None
    extra: dict[str, Any] = {
        "record_length": root.size,
        "cobol_record": root.name or identifier,
        "source_format": "fixed" if fixed else "free",
    }
    if ctx.usages:
        extra["usages"] = sorted(ctx.usages)
    if ctx.filler:
        extra["filler"] = merge_ranges(ctx.filler)
    if ctx.unlisted:
        extra["unlisted"] = merge_ranges(ctx.unlisted)
    if root.redefines:
        extra["redefines"] = root.redefines
    if ctx.variable:
        extra["variable_length"] = True
        extra["min_record_length"] = root.min_size
        for item in ctx.variable:
            low, high = item.occurs or (1, 1)
            ctx.warnings.append(
                f"line {item.line}: {item.label} OCCURS {low} TO {high} TIMES DEPENDING ON "
                f"{item.depending_on}: the record is variable length ({root.min_size} to "
                f"{root.size} bytes); positions assume the maximum"
            )
    count = len(ctx.fields)
    length = f"{root.size} bytes" + (", variable" if ctx.variable else "")
    summary = (f"COBOL copybook record layout ({count} field{'s' if count != 1 else ''}, "
               f"record length {length}).")
    if root.redefines:
        summary += f" Redefines record {root.redefines}."
    description = " ".join([*record.comments, summary])
    return new_dataset(
        identifier, root.name or identifier, description=description, layout=True,
        extra=extra, fields=ctx.fields,
    )


def parse(path: Path) -> ParsedFile:
    """Read a COBOL copybook into one record layout per 01-level record."""
    book = read_copybook(read_text_mixed(path))
    if not book.records:
        raise FormatError("no data description entries (level numbers with PIC clauses): "
                          "not a COBOL copybook")
    result = ParsedFile(path=path, format=NAME, warnings=list(book.warnings))
    names = [record.root.name or str(index) for index, record in enumerate(book.records, start=1)]
    for record, identifier in zip(book.records, file_identifiers(path, names), strict=True):
        ctx = Context(warnings=result.warnings)
        dataset = _dataset(record, identifier, ctx, book.source.fixed)
        if dataset is not None:
            result.datasets.append(dataset)
    if not result.datasets:
        raise FormatError("the copybook describes no named elementary items (only FILLER)")
    named_by_file(path, result.datasets)
    return result
