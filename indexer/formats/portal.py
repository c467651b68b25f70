"""Small helpers shared by the open-data portal formats (Socrata, CKAN, DCAT, data packages, HTML).

Nothing here is a format of its own: the module has no ``detect``/``parse`` and is not listed in
``FORMAT_MODULES``. It gathers JSON loading with clear errors, cheap content sniffing of the 64 KiB
head, value cleaning (text, keyword lists, dates, update frequencies), access markers read so
that they fail closed (:func:`access_from_words`, :func:`private_flag`, :func:`with_access`),
and :func:`portal_dataset` / :func:`portal_field`, which hold portal values to the schema's
limits in the records :mod:`indexer.formats.records` builds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.formats.base import FormatError, normalise_type, read_text
from indexer.formats.records import new_dataset, new_field

#: The suffix and media type of the JSON formats (Socrata, CKAN, DCAT, data packages).
JSON_SUFFIXES = (".json",)
JSON_MEDIA_TYPES = {"application/json": ".json"}

FOUR_BY_FOUR = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")

# Limits of catalog.schemas.DatasetInSchema / FieldInSchema that real portal data can exceed.
MAX_FREQUENCY = 100
MAX_AGENCY = 500
MAX_SOURCE_TYPE = 200


# ------------------------------------------------------------------------------------ JSON


def load_json(path: Path) -> Any:
    """Read a whole JSON file; FormatError naming line and column when it is not valid JSON."""
    text = read_text(path)
    if not text.strip():
        raise FormatError("the file is empty; expected a JSON document")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", line=exc.lineno
        ) from exc
    except RecursionError as exc:
        raise FormatError("invalid JSON: nested too deeply to read") from exc


def head_json(head: str) -> Any:
    """Parse ``head`` as JSON when it holds the whole document; None when it is cut or invalid."""
    text = head.strip()
    if not text or text[0] not in "{[":
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def is_json_object_head(head: str) -> bool:
    """True when the head looks like the start of a JSON object."""
    return head.lstrip().startswith("{")


def has_key(head: str, key: str, opener: str = "") -> bool:
    """True when ``"key":`` (optionally followed by ``opener`` such as ``[``) occurs in the head."""
    pattern = rf'"{re.escape(key)}"\s*:\s*' + re.escape(opener)
    return re.search(pattern, head) is not None


def key_count(head: str, keys: Iterable[str]) -> int:
    """How many of ``keys`` occur as JSON keys in the head."""
    return sum(1 for key in keys if has_key(head, key))


def skipped_record(what: str, index: int, problem: str, title: str | None = None) -> str:
    """Why record number ``index`` is skipped: ``dataset #3 ('Wages'): no 'identifier', ...``."""
    return f"{what} #{index}" + (f" ({title!r})" if title else "") + f": {problem}, skipped"


def expect_object(value: Any, what: str) -> dict[str, Any]:
    """Return ``value`` when it is a JSON object, else raise FormatError naming ``what``."""
    if not isinstance(value, dict):
        kind = "an array" if isinstance(value, list) else f"a {type(value).__name__}"
        raise FormatError(f"expected {what}, found {kind}")
    return value


def dicts(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in a list (anything else in it is dropped); [] for a non-list."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


# ------------------------------------------------------------------------------- values


def text(value: Any, limit: int | None = None) -> str | None:
    """A stripped string, or None for null, blank or non-scalar values; clipped to ``limit``."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    result = str(value).strip()
    if not result:
        return None
    if limit is not None and len(result) > limit:
        result = result[: limit - 1].rstrip() + "…"
    return result


def first_text(*values: Any) -> str | None:
    """The first of ``values`` that is non-blank text."""
    for value in values:
        result = text(value)
        if result:
            return result
    return None


def string_list(value: Any, *, split: bool = True) -> list[str]:
    """Keywords from a list or a comma-separated string: stripped, blanks and repeats dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",") if split else [value]
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    return merge_keywords(word for word in map(text, items) if word)


def merge_keywords(*groups: Iterable[str]) -> list[str]:
    """Concatenate keyword lists, keeping the first spelling of each case-insensitive repeat."""
    merged: list[str] = []
    lowered: set[str] = set()
    for group in groups:
        for word in group:
            if word.lower() not in lowered:
                lowered.add(word.lower())
                merged.append(word)
    return merged


def epoch_to_iso(value: Any) -> str | None:
    """A Unix timestamp (seconds) as an ISO 8601 UTC datetime; None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        moment = datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def iso_date(value: Any) -> str | None:
    """A date as given, except ``MM/DD/YYYY`` which becomes ``YYYY-MM-DD``."""
    result = text(value, limit=40)
    if result is None:
        return None
    match = _US_DATE.match(result)
    if match:
        month, day, year = (int(part) for part in match.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return result


# DCAT-US accrualPeriodicity values (ISO 8601 repeating durations) and their words.
_FREQUENCIES = {
    "R/P10Y": "decennial",
    "R/P4Y": "quadrennial",
    "R/P3Y": "triennial",
    "R/P2Y": "biennial",
    "R/P1Y": "annual",
    "R/P6M": "semiannual",
    "R/P4M": "three times a year",
    "R/P3M": "quarterly",
    "R/P2M": "bimonthly",
    "R/P1M": "monthly",
    "R/P0.5M": "semimonthly",
    "R/P0.33M": "three times a month",
    "R/P2W": "biweekly",
    "R/P1W": "weekly",
    "R/P0.5W": "semiweekly",
    "R/P3.5D": "semiweekly",
    "R/P0.33W": "three times a week",
    "R/P1D": "daily",
    "R/PT1H": "hourly",
    "R/PT1M": "every minute",
    "R/PT1S": "continuous",
}
_UNITS = {"Y": "year", "M": "month", "W": "week", "D": "day"}
_TIME_UNITS = {"H": "hour", "M": "minute", "S": "second"}
_DURATION = re.compile(r"^R/P(?:(?P<n>\d+(?:\.\d+)?)(?P<u>[YMWD])|T(?P<tn>\d+)(?P<tu>[HMS]))$")


def frequency_word(value: Any) -> str | None:
    """An update frequency in words: ISO 8601 ``R/P1M`` -> ``monthly``; other text as given."""
    raw = text(value)
    if raw is None:
        return None
    key = raw.upper().replace(" ", "")
    if key in _FREQUENCIES:
        return _FREQUENCIES[key]
    if raw.lower() == "irregular":
        return "irregular"
    match = _DURATION.match(key)
    if match:
        number = match["n"] or match["tn"]
        unit = _UNITS[match["u"]] if match["u"] else _TIME_UNITS[match["tu"]]
        return f"every {number} {unit}s"
    return text(raw, limit=MAX_FREQUENCY)


_HTML_TAG = re.compile(r"</?(?:p|br|b|i|em|strong|a|ul|ol|li|div|span|h[1-6]|table|tr|td)\b[^>]*>",
                       re.IGNORECASE)


def html_text(value: Any) -> str | None:
    """Plain text of an HTML fragment, paragraphs kept apart; plain text passes through."""
    raw = text(value)
    if raw is None or not _HTML_TAG.search(raw):
        return raw
    from lxml import html as lxml_html  # local import: only needed for HTML-bearing values

    try:
        root = lxml_html.fragment_fromstring(raw, create_parent="div")
    except (ValueError, TypeError):
        return raw
    for block in root.iter("p", "li", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr"):
        block.tail = "\n" + (block.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line) or None


# ------------------------------------------------------------------------- access levels

#: The catalog's access levels, from the most open to the most closed.
ACCESS_ORDER = ("public", "restricted", "internal")


class Missing:
    """The marker of a key the source does not give at all (``entry.get(key, MISSING)``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()
#: What an access marker of any shape is read as: a level and, unless the marker was a
#: plain word, a note saying what was found and how it was read.
Access = tuple[str, str | None]
_TRUE_WORDS = frozenset({"true", "yes", "y", "t", "on", "1"})


def access_key(word: str) -> str:
    """An access word compared loosely: lower case, ``_`` and ``-`` read as spaces."""
    return " ".join(word.lower().replace("_", " ").replace("-", " ").split())


def most_closed(*levels: str) -> str:
    """The most closed of ``levels``; a word that is no level wins (validation rejects it)."""
    unknown = [level for level in levels if level not in ACCESS_ORDER]
    if unknown:
        return unknown[0]
    return max(levels, key=ACCESS_ORDER.index, default="public")


def marker_words(value: Any, depth: int = 0) -> list[str]:
    """Every string inside a marker of any shape (lists and objects searched 5 levels deep)."""
    if isinstance(value, str):
        return [value]
    if depth >= 5:
        return []
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [word for item in items for word in marker_words(item, depth + 1)]


def _shown(value: Any) -> str:
    """A marker as the note quotes it: JSON, cut short."""
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:79] + "…"


def access_from_words(value: Any, words: dict[str, str], what: str) -> Access:
    """Read a marker whose plain form is one word of ``words`` (keys as :func:`access_key` makes).

    Fails closed: ``MISSING`` is public (the source's default), a plain word is what ``words``
    says, an unknown word is passed through so that validation rejects the record naming it;
    anything else (blank, null, a number, a list, an object such as ``{"@value": ...}``) is
    never public: the most closed level its words name, and at least restricted.
    """
    if value is MISSING:
        return "public", None
    if isinstance(value, str) and value.strip():
        key = access_key(value)
        return (words[key], None) if key in words else (value.strip(), None)
    found = [words[access_key(word)] for word in marker_words(value) if access_key(word) in words]
    level = most_closed("restricted", *found)
    return level, f"{what} {_shown(value)} is not a plain access word: read as {level}"


def private_flag(value: Any, what: str = "private") -> Access:
    """Read a CKAN-style ``private`` flag: only ``false`` (or no flag) is public.

    ``true``, or a truthy string or number (``"true"``, ``"True"``, ``"yes"``, ``1``), is
    internal; any other value (``"false"``, ``0``, ``null``, a list) is restricted.
    """
    if value is MISSING or value is False:
        return "public", None
    if value is True:
        return "internal", None
    truthy = (isinstance(value, (int, float)) and value != 0) or (
        isinstance(value, str) and value.strip().lower() in _TRUE_WORDS)
    level = "internal" if truthy else "restricted"
    return level, f"{what} {_shown(value)} is not the JSON false: read as {level}"


def combine_access(*readings: Access) -> Access:
    """The most closed of several readings, with the notes of all of them."""
    level = most_closed(*(reading[0] for reading in readings))
    notes = [note for _, note in readings if note]
    return level, "; ".join(notes) or None


def with_access(record: dict[str, Any], reading: Access) -> dict[str, Any]:
    """Set a record's access level from a reading; its note (if any) goes to extra."""
    record["access_level"], note = reading
    if note:
        record["extra"]["access_note"] = note
    return record


# ------------------------------------------------------------------------------ records


def socrata_type(raw: Any) -> str | None:
    """Normalise a Socrata type word (``Calendar date``, ``calendar_date``, ``Point``)."""
    word = text(raw)
    if word is None:
        return None
    return normalise_type(word.lower().replace(" ", "_"))


def portal_field(
    position: int,
    name: str,
    *,
    label: str | None = None,
    description: str | None = None,
    source_type: str | None = None,
    data_type: str | None = None,
    format: str | None = None,
    width: int | None = None,
    value_labels: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A field record from portal column metadata: types and format clipped to the schema's limits.

    ``data_type`` defaults to the normalised ``source_type``.
    """
    source_type = text(source_type, limit=MAX_SOURCE_TYPE)
    return new_field(
        position,
        name,
        label=label,
        description=description,
        data_type=data_type or normalise_type(source_type),
        source_type=source_type,
        width=width,
        format=text(format, limit=200),
        value_labels=value_labels or [],
    )


def portal_dataset(identifier: str, title: str | None = None, **values: Any) -> dict[str, Any]:
    """A dataset record from portal metadata: agency clipped, empty ``extra`` values dropped."""
    record = new_dataset(identifier, title, **values)
    record["agency"] = text(record["agency"], limit=MAX_AGENCY)
    record["extra"] = {k: v for k, v in record["extra"].items() if v not in (None, "", [], {})}
    return record
