"""The contract every metadata-file format module implements.

A format module (one per file format, e.g. ``indexer/formats/socrata_view.py``) exposes:

``NAME: str``
    Short format name, e.g. ``"socrata-view"``; stored as the dataset's provenance format.
``SUFFIXES: tuple[str, ...]``
    The file suffixes of the format's files, lower-case with the dot (``(".cpy", ".cbl")``):
    a hint for ``detect`` and the names a harvester keeps for fetched documents.
``MEDIA_TYPES: dict[str, str]`` (optional)
    Media types its documents are served as, each with the suffix it is read under
    (``{"text/csv": ".csv"}``).
``MAX_BYTES: int``
    The largest file the format reads; a larger one is refused before parsing, naming the
    limit (:func:`indexer.formats.read`).
``detect(path: Path, head: str) -> bool``
    True when the file is in this format. ``head`` is the first 64 KiB of the file decoded
    as UTF-8 with ``errors="replace"``. Detection is by content; the extension is only a hint.
``parse(path: Path) -> ParsedFile``
    Read the whole file into raw dataset records (plain dicts, see below). Raise
    :class:`FormatError` when the file as a whole cannot be read (malformed JSON, no
    recognisable header, ...). A problem in a single record goes into ``ParsedFile.errors``
    (or is left for schema validation) so that the valid records beside it still load.

Raw dataset record (dict) — validated later by ``catalog.schemas.DatasetInSchema``:

    identifier        str, required: the identifier the source gives (Socrata 4x4, CKAN name,
                      DCAT identifier, data package name); a file that carries none uses its file
                      name without extension (``path.stem``, or the part before the first '.'
                      for names such as ``x.datapackage.json`` / ``x.view.json`` only when the
                      source itself has no identifier).
    title             str, required (fall back to the identifier)
    description       str | None
    agency            str | None   publisher / organisation name as the source gives it
    agency_abbreviation str | None
    keywords          list[str]
    update_frequency  str | None
    last_modified     str | None   ISO 8601 date or datetime as given
    access_level      "public" | "restricted" | "internal"   (default public; map DCAT
                      accessLevel "non-public" -> "internal", "restricted public" -> "restricted")
    landing_page      str | None
    layout            bool  True for record layouts / codebooks (positions matter)
    extra             dict  anything else worth keeping (license, category, source url...)
    fields            list of raw field records:
        position      int (1-based order in the source; required)
        name          str, required: exactly as the source spells it
        label         str | None   short human label
        description   str | None   longer text
        data_type     str | None   normalised: string|integer|number|boolean|date|datetime|
                                   time|geometry|code|other
        source_type   str | None   the type exactly as the source gives it
        width         int | None
        start_col     int | None   1-based first column in a fixed-width record
        end_col       int | None   1-based last column (inclusive)
        format        str | None   informat / display format / pattern
        decimals      int | None
        value_labels  list of {"code": str, "label": str}
        sensitivity   "public"|"protected"|"personal"|"private" (default public)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class FormatError(Exception):
    """A whole file cannot be read as its format; the message names the problem."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class ParsedFile:
    """What a format module read from one file."""

    path: Path
    format: str
    datasets: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


HEAD_BYTES = 64 * 1024
MB = 1024 * 1024
#: Size limits (``MAX_BYTES``) the formats share: portal JSON and XML codebooks, and the
#: program text of record layouts (the largest real layouts are a few hundred KB).
DOCUMENT_MAX_BYTES = 50 * MB
PROGRAM_MAX_BYTES = 8 * MB


#: The most digits a column position, width, count or record length is read with: more
#: than any record has, and more than the database's 64-bit integers hold.
MAX_DIGITS = 18


def whole_number(digits: str, line: int | None = None, what: str = "number") -> int:
    """The value of a run of digits a reader matched; FormatError naming the line past MAX_DIGITS.

    Python itself refuses numbers of more than 4,300 digits with a message that names no line;
    a layout's numbers are far shorter, so a longer one is reported where it stands.
    """
    text = digits.strip()
    if len(text) > MAX_DIGITS:
        where = f"line {line}: " if line else ""
        raise FormatError(f"{where}{what} {text[:12]}... has {len(text):,} digits; at most "
                          f"{MAX_DIGITS} are read", line=line)
    return int(text)


def read_head(path: Path, size: int = HEAD_BYTES) -> str:
    """Return the first ``size`` bytes of a file decoded leniently."""
    with open(path, "rb") as handle:
        data = handle.read(size)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def read_text(path: Path) -> str:
    """Read a whole text file: UTF-8 (BOM stripped) with a cp1252 fallback."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_text_mixed(path: Path) -> str:
    """Read text whose lines may mix UTF-8 and cp1252 (each line decoded on its own)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = []
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("cp1252", errors="replace"))
    return "\n".join(lines)


def file_identifier(path: Path) -> str:
    """Identifier for a file that carries none of its own: its name without extension."""
    return path.stem


def named_by_file(path: Path, datasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each dataset whose identifier a file's name made (``<name>-<part>``, or
    ``<name>-<agency>-<program>`` for a dictionary split by program) the file's own
    identifier, its name, as ``extra["source_identifier"]``: the source names only the
    file (../shared/eval/README.md), and search says so beside the catalog's identifier."""
    stem = file_identifier(path)
    for raw in datasets:
        if raw["identifier"] != stem:
            raw.setdefault("extra", {})["source_identifier"] = stem
    return datasets


def file_identifiers(path: Path, parts: list[str]) -> list[str]:
    """Identifiers of the datasets one file describes, one per part of it.

    A file of one part gives its name without extension (:func:`file_identifier`); a file of
    several gives ``<name>-<part>`` for each (``wages-EMPLOYER-REC``, ``survey-2``).
    """
    stem = file_identifier(path)
    return [stem] if len(parts) == 1 else [f"{stem}-{part}" for part in parts]


_TYPE_WORDS: list[tuple[tuple[str, ...], str]] = [
    (
        ("datetime", "timestamp", "calendar_date", "floating_timestamp", "fixed_timestamp"),
        "datetime",
    ),
    (("date",), "date"),
    (("time",), "time"),
    (("bool", "checkbox", "flag"), "boolean"),
    (("int", "long", "byte", "short", "smallint", "bigint"), "integer"),
    (("number", "numeric", "num", "float", "double", "decimal", "money", "percent", "real",
      "comp-3", "packed"), "number"),
    (("point", "polygon", "line", "geo", "location", "multipolygon", "multiline"), "geometry"),
    (("text", "str", "char", "alpha", "varchar", "string", "url", "email", "phone", "$"), "string"),
]


# A date written as its pattern ("MM/DD/YYYY", "YYYYMMDD", "CCYYMMDD", "Date(MMDDYYYY)"):
# runs of m, d, y (or cc for the century), with or without separators, naming a month and
# a year.
_DATE_PATTERN = re.compile(
    r"(?:date\s*\(?)?((?:cc|[mdy]{2,4})(?:[/.\- ]?(?:cc|[mdy]{2,4})){1,3})\)?")
# Type codes of width-based layouts: "IN 2" (integer), "DT 8" (date), "DE 8.2" (decimal).
_CODED_TYPE = re.compile(r"(in|dt|de)\s*\d+(?:\.\d+)?")
_CODED_KIND = {"in": "integer", "dt": "date", "de": "number"}
_SQL_TYPES = {"tinyint": "integer", "mediumint": "integer", "bit": "boolean",
              "clob": "string", "nvarchar": "string", "nchar": "string"}
_NO_TYPE = frozenset({"not available", "n/a", "na", "unknown", "none", "-", "?"})


def normalise_type(raw: str | None) -> str | None:
    """Map a source's own type word (``Alphanumeric``, ``calendar_date``, ``N3PF.``,
    ``MM/DD/YYYY``, ``DT 8``) to ours; a type the source says it does not know is None."""
    if raw is None:
        return None
    word = str(raw).strip().lower()
    if not word or word in _NO_TYPE:
        return None
    pattern = _DATE_PATTERN.fullmatch(word)
    if pattern and "m" in pattern.group(1) and "y" in pattern.group(1):
        return "date"
    coded = _CODED_TYPE.fullmatch(word)
    if coded:
        return _CODED_KIND[coded.group(1)]
    head = re.split(r"[^a-z]", word, maxsplit=1)[0]
    if head in _SQL_TYPES:
        return _SQL_TYPES[head]
    for needles, kind in _TYPE_WORDS:
        if any(word == n or word.startswith(n) for n in needles):
            return kind
    for needles, kind in _TYPE_WORDS:
        if any(n in word for n in needles if len(n) > 3):
            return kind
    return "other"
