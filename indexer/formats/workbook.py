"""XLSX workbooks read as a stream, within budgets: the sheets' cells, nothing else.

Not a format of its own (:mod:`indexer.formats.dictionary_table` reads workbooks with it). Only
the parts that hold data are opened: ``xl/workbook.xml`` and its relationships (which sheets,
in which parts), ``xl/sharedStrings.xml``, ``xl/styles.xml`` (which number formats are dates)
and each sheet's XML, parsed with lxml ``iterparse`` as it is inflated. Drawings, comments,
printer settings, themes and document properties are never opened, so a workbook whose
non-data parts are missing or broken (a drawing the sheet refers to but the archive lacks)
still gives its rows; a data part that is missing or broken is an error naming the part.

Budgets: every part is inflated through a counter that stops at :data:`MAX_PART_BYTES` (the
declared sizes of a zip may lie, so what is actually inflated is bounded), the archive's parts
together at :data:`MAX_INFLATED_BYTES`; shared strings at :data:`MAX_SHARED_STRINGS`; a sheet
is read up to ``max_rows`` rows (the rest is not inflated; the sheet says it was ``cut``) and
:data:`MAX_CELLS` cells. Entities are never expanded and no DTD is loaded.

Cell values are what openpyxl's read-only mode gives (``data_only``): numbers as int or
float, dates and times (by the cell's number format) as ``datetime``/``time``/``timedelta``,
booleans, shared and inline strings (rich text runs joined, phonetic runs left out), cached
formula results, error codes as text. Rows come numbered as the sheet numbers them, missing
rows as empty ones, each padded to the widest of the sheet's stated dimension and its cells.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601

from indexer.formats.base import FormatError

MB = 1024 * 1024
#: The most bytes any one part of a workbook is inflated to.
MAX_PART_BYTES = 128 * MB
#: The most bytes all the parts read from one workbook are inflated to together.
MAX_INFLATED_BYTES = 256 * MB
#: The most shared strings a workbook may hold.
MAX_SHARED_STRINGS = 1_000_000
#: The most cells (empty styled ones included) read from one sheet.
MAX_CELLS = 2_000_000
#: The widest column read (Excel's own limit is 16,384, column XFD).
MAX_COLUMNS = 16_384
#: The most digits a number cell is read with (longer: an error naming the cell).
MAX_NUMBER_DIGITS = 400

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_STRICT_MAIN = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"


@dataclass
class Sheet:
    """One worksheet: its name and its rows of cell values."""

    name: str
    rows: list[list[Any]] = field(default_factory=list)
    cut: bool = False  # more rows follow than were read


class _Budget:
    """Bytes inflated so far from one archive, against the limits."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, part: str, count: int, part_total: int) -> None:
        self.total += count
        if part_total > MAX_PART_BYTES:
            raise FormatError(f"workbook part {part} inflates to more than "
                              f"{MAX_PART_BYTES // MB} MB; the limit is {MAX_PART_BYTES // MB} MB")
        if self.total > MAX_INFLATED_BYTES:
            raise FormatError(f"workbook inflates to more than {MAX_INFLATED_BYTES // MB} MB "
                              f"(at part {part}); the limit is {MAX_INFLATED_BYTES // MB} MB")


class _Counted:
    """A readable part of the archive that counts the bytes it inflates against a budget."""

    def __init__(self, raw: IO[bytes], part: str, budget: _Budget) -> None:
        self.raw, self.part, self.budget, self.seen = raw, part, budget, 0

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` more inflated bytes (64 KiB when unbounded)."""
        data = self.raw.read(size if 0 < size <= 1 << 20 else 1 << 16)
        self.seen += len(data)
        self.budget.add(self.part, len(data), self.seen)
        return data


class Workbook:
    """An open XLSX archive; :meth:`sheets` reads its worksheets one by one."""

    def __init__(self, path: Path) -> None:
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise FormatError(f"not a valid XLSX workbook: {exc}") from None
        self.names = set(self.archive.namelist())
        self.budget = _Budget()
        for info in self.archive.infolist():
            if info.file_size > MAX_PART_BYTES and self._is_data_part(info.filename):
                raise FormatError(
                    f"workbook part {info.filename} declares {info.file_size:,} bytes "
                    f"inflated; the limit is {MAX_PART_BYTES // MB} MB per part")
        self.epoch = WINDOWS_EPOCH
        self.strings: list[str] = []
        self.date_styles: set[int] = set()
        self.timedelta_styles: set[int] = set()

    def close(self) -> None:
        """Close the archive."""
        self.archive.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @staticmethod
    def _is_data_part(name: str) -> bool:
        return name.startswith("xl/") and name.endswith(".xml") and (
            "/worksheets/" in name or name in ("xl/sharedStrings.xml", "xl/styles.xml",
                                                "xl/workbook.xml"))

    # --------------------------------------------------------------------------- parts

    def _open(self, part: str) -> _Counted:
        try:
            return _Counted(self.archive.open(part), part, self.budget)
        except KeyError:
            raise FormatError(f"workbook part {part} is missing from the archive") from None
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            raise FormatError(f"workbook part {part} cannot be read: {exc}") from None

    def _elements(self, part: str, tags: tuple[str, ...]) -> Iterator[Any]:
        """The elements named ``tags`` (local names) in a part, each when it ends."""
        for _, element in self._events(part, tags):
            yield element

    def _events(self, part: str, tags: tuple[str, ...],
                starts: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
        """(event, element) for the ends of ``tags`` and the starts of ``starts`` in a part,
        parsed as it is inflated."""
        wanted = {f"{ns}{tag}" for tag in tags for ns in (_MAIN, _STRICT_MAIN, _PKG_REL, "")}
        source = self._open(part)
        events = ("start", "end") if starts else ("end",)
        try:
            for event, element in etree.iterparse(
                source, events=events, tag=wanted, resolve_entities=False, no_network=True,
                load_dtd=False, huge_tree=True, remove_comments=True, remove_pis=True,
            ):
                if event == "end" or etree.QName(element).localname in starts:
                    yield event, element
        except etree.XMLSyntaxError as exc:
            line = exc.lineno or (exc.position[0] if exc.position else None)
            raise FormatError(f"workbook part {part} is not well-formed XML (line {line}): "
                              f"{exc.msg}") from None
        except (zipfile.BadZipFile, EOFError, OSError) as exc:  # zlib errors are OSErrors
            raise FormatError(f"workbook part {part} cannot be inflated: {exc}") from None

    def _relationships(self, part: str) -> dict[str, str]:
        """Relationship id -> target part name, for the part ``part``."""
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", f"{name}.rels")
        if rels not in self.names:
            return {}
        found = {}
        for element in self._elements(rels, ("Relationship",)):
            target = element.get("Target") or ""
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            found[element.get("Id") or ""] = target
            element.clear()
        return found

    def _read_workbook(self) -> list[tuple[str, str]]:
        """(sheet name, part) of every worksheet, in the workbook's order."""
        part = "xl/workbook.xml"
        if part not in self.names:
            raise FormatError("not an XLSX workbook: the archive has no xl/workbook.xml")
        rels = self._relationships(part)
        sheets = []
        for element in self._elements(part, ("sheet", "workbookPr")):
            if element.tag.endswith("workbookPr"):
                if (element.get("date1904") or "").lower() in ("1", "true"):
                    self.epoch = CALENDAR_MAC_1904
                continue
            target = rels.get(element.get(f"{_REL}id") or element.get(
                "{http://purl.oclc.org/ooxml/officeDocument/relationships}id") or "")
            sheets.append((element.get("name") or "", target or ""))
            element.clear()
        return sheets

    def _read_strings(self) -> None:
        part = "xl/sharedStrings.xml"
        if part not in self.names:
            return
        for element in self._elements(part, ("si",)):
            if len(self.strings) >= MAX_SHARED_STRINGS:
                raise FormatError(f"workbook part {part} holds more than "
                                  f"{MAX_SHARED_STRINGS:,} shared strings")
            self.strings.append(_string_text(element).replace("x005F_", ""))
            element.clear()

    def _read_styles(self) -> None:
        """Which cell styles show dates (and durations), as openpyxl decides."""
        part = "xl/styles.xml"
        if part not in self.names:
            return
        custom: dict[int, str] = {}
        styles: list[int] = []
        for element in self._elements(part, ("numFmt", "xf", "cellXfs", "cellStyleXfs")):
            tag = etree.QName(element).localname
            if tag == "numFmt":
                custom[_int(element.get("numFmtId"))] = element.get("formatCode") or ""
            elif tag == "xf":
                parent = element.getparent()
                if parent is not None and parent.tag.endswith("cellXfs"):
                    styles.append(_int(element.get("numFmtId")))
                continue  # cleared with its list
            element.clear()
        for index, format_id in enumerate(styles):
            code = custom.get(format_id, BUILTIN_FORMATS.get(format_id))
            if code and is_date_format(code):
                self.date_styles.add(index)
            if code and is_timedelta_format(code):
                self.timedelta_styles.add(index)

    # --------------------------------------------------------------------------- sheets

    def sheets(self, max_rows: int) -> Iterator[Sheet]:
        """Each worksheet with its first ``max_rows`` rows."""
        listed = self._read_workbook()
        self._read_strings()
        try:
            self._read_styles()
        except FormatError:
            self.date_styles, self.timedelta_styles = set(), set()  # dates read as numbers
        for name, part in listed:
            if not part:
                raise FormatError(f"sheet {name!r}: the workbook does not say which part "
                                  "holds it")
            yield self._sheet(name, part, max_rows)

    def _sheet(self, name: str, part: str, max_rows: int) -> Sheet:
        """One sheet's rows, cells counted as they are parsed (a huge row cannot pile up)."""
        by_number: list[tuple[int, list[Any]]] = []
        stated_width = widest = cells = row_number = column = 0
        values: list[Any] = []
        cut = False
        for event, element in self._events(part, ("dimension", "row", "c"), starts=("row",)):
            tag = etree.QName(element).localname
            if event == "start":
                row_number = _int(element.get("r"), row_number + 1)
                if row_number > max_rows:
                    cut = True
                    break
                values, column = [], 0
            elif tag == "c":
                cells += 1
                if cells > MAX_CELLS:
                    raise FormatError(f"sheet {name!r}: more than {MAX_CELLS:,} cells (row "
                                      f"{row_number:,}); the limit is {MAX_CELLS:,} per sheet",
                                      line=row_number)
                column = _column(element.get("r"), column + 1, name, row_number)
                if column > len(values):
                    values.extend([None] * (column - len(values)))
                values[column - 1] = self._value(element, name, row_number)
                element.clear()
            elif tag == "row":
                widest = max(widest, len(values))
                by_number.append((row_number, values))
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
            else:
                stated_width = _dimension_width(element.get("ref"))
        # Padded as openpyxl pads to a stated dimension (widened when cells lie beyond it).
        width = max(stated_width, widest) if stated_width else 0
        sheet = Sheet(name, cut=cut)
        expected = 1
        for number, row in by_number:
            sheet.rows.extend([None] * width for _ in range(expected, number))
            expected = max(expected, number + 1)
            sheet.rows.append(row + [None] * (width - len(row)))
        return sheet

    def _value(self, cell: Any, sheet: str, row: int) -> Any:
        """A cell's value as openpyxl's read-only, data-only mode gives it."""
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = _child(cell, "is")
            return _string_text(inline) if inline is not None else None
        value = _child_text(cell, "v") or None
        if value is None:
            return None
        where = f"sheet {sheet!r}, cell {cell.get('r') or f'row {row}'}"
        if kind == "n":
            number = _number(value, where, row)
            style = _int(cell.get("s"))
            if style in self.date_styles:
                try:
                    return from_excel(number, self.epoch,
                                      timedelta=style in self.timedelta_styles)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if kind == "s":
            index = _int(value, -1)
            if not 0 <= index < len(self.strings):
                raise FormatError(f"{where}: shared string {value[:20]} is not in "
                                  "xl/sharedStrings.xml", line=row)
            return self.strings[index]
        if kind == "b":
            return bool(_int(value))
        if kind == "d":
            try:
                return from_ISO8601(value)
            except (ValueError, TypeError):
                return value
        return value  # "str" (a formula's text), "e" (an error code)


def _child(element: Any, name: str) -> Any | None:
    for child in element:
        if isinstance(child.tag, str) and child.tag.endswith("}" + name):
            return child
    return None


def _child_text(element: Any, name: str) -> str | None:
    child = _child(element, name)
    return child.text if child is not None else None


def _string_text(element: Any) -> str:
    """The text of a string item: its ``t``, or its rich-text runs' ``t``, phonetics left out."""
    own = _child(element, "t")
    parts = [own.text or ""] if own is not None else []
    for run in element:
        if isinstance(run.tag, str) and run.tag.endswith("}r"):
            text = _child(run, "t")
            if text is not None and text.text is not None:
                parts.append(text.text)
    return "".join(parts)


def _int(text: str | None, default: int = 0) -> int:
    if text is None or not text.strip().isdigit() or len(text.strip()) > 18:
        return default
    return int(text)


def _number(text: str, where: str, row: int) -> int | float:
    """A number cell's value (as openpyxl casts it); FormatError naming the cell when absurd."""
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_NUMBER_DIGITS:
        raise FormatError(f"{where}: a number of {digits:,} digits", line=row)
    try:
        if "." in text or "E" in text or "e" in text:
            return float(text)
        return int(text)
    except ValueError:
        raise FormatError(f"{where}: {text[:40]!r} is not a number", line=row) from None


def _column(ref: str | None, default: int, sheet: str, row: int) -> int:
    """The column number of a cell reference such as ``C12`` (the next column without one)."""
    if not ref:
        column = default
    else:
        try:
            letters, _ = coordinate_from_string(ref)
            column = column_index_from_string(letters)
        except ValueError:
            raise FormatError(f"sheet {sheet!r}: cell reference {ref[:20]!r} is not valid",
                              line=row) from None
    if column > MAX_COLUMNS:
        raise FormatError(f"sheet {sheet!r}: a cell in column {column:,} (row {row:,}); "
                          f"sheets have at most {MAX_COLUMNS:,} columns", line=row)
    return column


def _dimension_width(ref: str | None) -> int:
    """The last column of a ``dimension`` reference (``A1:H1594`` -> 8); 0 if unreadable."""
    last = (ref or "").split(":")[-1]
    try:
        letters, _ = coordinate_from_string(last)
        return min(column_index_from_string(letters), MAX_COLUMNS)
    except ValueError:
        return 0
