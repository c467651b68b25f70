"""Record layouts: column arithmetic, widths from format strings, and the layout checks.

:func:`check_layout` runs on every raw layout a parser returns (``catalog load`` and the
harvesters): it computes the record length and warns of gaps, overlaps and bad widths.
"""

from __future__ import annotations

import re
from typing import Any

from indexer.formats.base import whole_number

# SAS informats / formats: ``$CHAR4.``, ``4.2``, ``$8.``, ``COMMA10.2``, ``N3PF.`` (no width).
_SAS_WIDTH = re.compile(r"^\$?[A-Za-z_]*?(\d+)\.(\d*)$")
# Stata display formats: ``%5f``, ``%10.4f``, ``%-12s``, ``%9.0g``, ``%12.0fc``.
_STATA_WIDTH = re.compile(r"^%-?0?(\d+)(?:\.(\d+))?[a-z]+$", re.IGNORECASE)


def _format_width(pattern: re.Pattern[str], fmt: str | None) -> tuple[int | None, int | None]:
    """Width and decimals a format string gives by ``pattern`` (None for what it does not)."""
    match = pattern.match(fmt.strip()) if fmt else None
    if not match:
        return None, None
    decimals = whole_number(match.group(2), None, "decimals") if match.group(2) else None
    width = whole_number(match.group(1), None, f"the width of format {fmt.strip()[:12]!r}")
    return width or None, decimals


def sas_format_width(fmt: str | None) -> tuple[int | None, int | None]:
    """Width and decimals of a SAS informat such as ``$CHAR4.`` or ``6.2`` (None if not given)."""
    return _format_width(_SAS_WIDTH, fmt)


def stata_format_width(fmt: str | None) -> tuple[int | None, int | None]:
    """Width and decimals of a Stata format such as ``%5f``, ``%10.4f`` or ``%12s``."""
    return _format_width(_STATA_WIDTH, fmt)


def complete_columns(
    start: int | None, end: int | None, width: int | None
) -> tuple[int | None, int | None, int | None]:
    """Derive the third of start/end/width when two are known (1-based, inclusive end)."""
    if start is not None and width is not None and end is None:
        end = start + width - 1
    elif start is not None and end is not None and width is None:
        width = end - start + 1
    elif end is not None and width is not None and start is None:
        start = end - width + 1
    if start is not None and start < 1:
        start = None
    if width is not None and width < 0:
        width = None
    return start, end, width


def record_length(fields: list[dict[str, Any]]) -> int | None:
    """The largest end column among fields, or None when no field has one."""
    ends = [f["end_col"] for f in fields if f.get("end_col")]
    return max(ends) if ends else None


# ----------------------------------------------------------------------------- layout checks

#: Most warnings :func:`check_layout` returns for one dataset (then one "and N more" line).
MAX_LAYOUT_WARNINGS = 20

# Optional marks a parser may put on a raw record for the layout checks. Field keys outside the
# contract are dropped by schema validation, so none of these reach the database:
#
# field["record"]    which physical record the field is on when a case spans several records or
#                    record types (SAS ``#n`` / ``/``, SPSS ``/n``, Stata ``_line(n)``, DDI
#                    ``rectype``): an int or str, or a list of them for a field found on several
#                    record types. Fields without it are on every record.
# field["overlay"]   True when the field shares its columns with others on purpose (COBOL
#                    REDEFINES); it takes no part in the overlap check.
# dataset["_overlaps_reported"]  True when the parser already warned about overlapping columns.
#
# Dataset ``extra`` keys that are kept:
#
# extra["filler"]    [[start, end], ...] columns the source leaves unnamed on purpose (COBOL FILLER)
# extra["unlisted"]  [[start, end], ...] columns of fields not listed one by one (COBOL tables
#                    kept as their first occurrence)
# extra["lrecl"] / extra["stated_record_length"]   the record length the source itself states
# extra["stated_variables"]   the number of variables the source itself states (DDI varQnty)
OVERLAY = "overlay"
RECORD = "record"
OVERLAPS_REPORTED = "_overlaps_reported"


def merge_ranges(ranges: list[tuple[int, int]]) -> list[list[int]]:
    """Sorted, merged ``[[start, end], ...]`` of inclusive column ranges (adjacent ones joined)."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _column(value: Any) -> int | None:
    """A column number as an int (None for anything else, bools included)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _records_of(field: dict[str, Any]) -> frozenset[str] | None:
    """The records a field is on (None: every record)."""
    value = field.get(RECORD)
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        keys = frozenset(str(v) for v in value if v is not None and str(v) != "")
        return keys or None
    keys = frozenset(str(value).split())
    return keys or None


def _ranges(value: Any) -> list[tuple[int, int]]:
    """``[[start, end], ...]`` from a dataset's extra, malformed entries skipped."""
    out = []
    for item in value or []:
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            start, end = _column(item[0]), _column(item[1])
            if start is not None and end is not None and 1 <= start <= end:
                out.append((start, end))
    return out


def _span(start: int, end: int) -> str:
    return f"column {start}" if start == end else f"columns {start}-{end}"


def _stated_length(extra: dict[str, Any]) -> tuple[int | None, str]:
    """The record length the source states, and where it says so."""
    for key, where in (("stated_record_length", "stated in the source"), ("lrecl", "LRECL")):
        value = extra.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, where
    return None, ""


def _sort_key(record: str) -> tuple[int, int | str]:
    return (0, int(record)) if record.isdigit() else (1, record)


def _gaps(members: list[dict[str, Any]], covered: list[tuple[int, int]], length: int,
          ) -> list[tuple[int, int, str | None, str | None]]:
    """Columns 1..length covered by neither a field nor a known filler, with the neighbours."""
    spans = sorted(
        [(f["start_col"], f["end_col"], f["name"]) for f in members]
        + [(start, end, None) for start, end in covered]
    )
    holes = []
    reach, before = 0, None
    for start, end, name in spans:
        if start > reach + 1:
            holes.append((reach + 1, start - 1, before, name))
        if end > reach:
            reach = end
            before = name if name is not None else before
    if reach < length:
        holes.append((reach + 1, length, before, None))
    return holes


def _gap_text(ident: str, hole: tuple[int, int, str | None, str | None], where: str) -> str:
    start, end, before, after = hole
    if before and after:
        place = f" (between {before} and {after})"
    elif after:
        place = f" (before {after})"
    elif before:
        place = f" (after {before})"
    else:
        place = ""
    verb = "is" if start == end else "are"
    return f"{ident}: {_span(start, end)}{where} {verb} covered by no field{place}"


def check_layout(dataset: dict[str, Any]) -> list[str]:
    """Compute a raw layout's record length into ``extra``; warn of gaps, overlaps, bad widths."""
    if not isinstance(dataset, dict) or not dataset.get("layout"):
        return []
    fields = [f for f in dataset.get("fields") or [] if isinstance(f, dict)]
    extra = dataset.get("extra")
    if not isinstance(extra, dict):
        extra = dataset["extra"] = {}
    ident = str(dataset.get("identifier") or "layout")
    warnings: list[str] = []
    placed: list[dict[str, Any]] = []
    for field in fields:
        start, end = _column(field.get("start_col")), _column(field.get("end_col"))
        width, name = _column(field.get("width")), field.get("name") or "?"
        if start is None or end is None:
            continue
        if end < start:
            warnings.append(f"{ident}: field {name}: end column {end} is before start {start}")
            continue
        if width is not None and width != end - start + 1:
            span = end - start + 1
            warnings.append(
                f"{ident}: field {name}: width {width} does not match columns {start}-{end}"
                f" ({span} column{'s' if span != 1 else ''})"
            )
        placed.append({"start_col": start, "end_col": end, "name": str(name),
                       "records": _records_of(field), "overlay": bool(field.get(OVERLAY))})
    covered = _ranges(extra.get("filler")) + _ranges(extra.get("unlisted"))
    if not placed:
        return _capped(ident, warnings)
    computed = max([f["end_col"] for f in placed] + [end for _, end in covered])
    previous = extra.get("record_length")
    stated, where = _stated_length(extra)
    if stated is not None and stated != computed:
        if stated > computed:
            warnings.insert(0, (
                f"{ident}: the fields end at column {computed}, short of the stated record "
                f"length {stated} ({where}): {_span(computed + 1, stated)} covered by no field"
            ))
        else:
            warnings.insert(0, (
                f"{ident}: the fields run to column {computed}, past the stated record length "
                f"{stated} ({where})"
            ))
    elif _column(previous) is not None and previous != computed:
        warnings.insert(0, (
            f"{ident}: the parser counted a record length of {previous}; the field positions "
            f"give {computed}"
        ))
    stated_vars = _column(extra.get("stated_variables"))
    if stated_vars is not None and stated_vars != len(fields):
        warnings.append(
            f"{ident}: the source states {stated_vars} variables; {len(fields)} were read"
        )
    extra["record_length"] = computed
    records = sorted({r for f in placed for r in (f["records"] or ())}, key=_sort_key)
    if len(records) < 2:  # one record type named: a plain single-record layout
        records = []
        for f in placed:
            f["records"] = None
    if records:
        extra["record_lengths"] = {}
    reported: set[tuple[int, int]] = set()
    overlaps: list[str] = []
    gaps: list[str] = []
    for record in records or [None]:
        members = [f for f in placed
                   if record is None or f["records"] is None or record in f["records"]]
        where = f" of record {record}" if record is not None else ""
        if record is not None:
            extra["record_lengths"][record] = max(f["end_col"] for f in members)
        if not dataset.get(OVERLAPS_REPORTED):
            overlaps.extend(_overlaps(ident, members, reported, where))
        length = max(f["end_col"] for f in members)
        if record is None:
            length = max(length, computed)
        holes = _gaps(members, covered if record is None else [], length)
        gaps.extend(_gap_text(ident, hole, where) for hole in holes)
    return _capped(ident, warnings + overlaps + gaps)


def _overlaps(ident: str, members: list[dict[str, Any]], reported: set[tuple[int, int]],
              where: str) -> list[str]:
    """Warnings for fields sharing columns (each against the widest field before it)."""
    found = []
    widest: dict[str, Any] | None = None
    ordered = sorted((f for f in members if not f["overlay"]),
                     key=lambda f: (f["start_col"], -f["end_col"]))
    for field in ordered:
        if widest is not None and field["start_col"] <= widest["end_col"]:
            pair = (id(widest), id(field))
            if pair not in reported:
                reported.add(pair)
                found.append(
                    f"{ident}: columns of {widest['name']} ({widest['start_col']}-"
                    f"{widest['end_col']}) and {field['name']} ({field['start_col']}-"
                    f"{field['end_col']}) overlap{where.replace(' of ', ' on ')}"
                )
        if widest is None or field["end_col"] > widest["end_col"]:
            widest = field
    return found


def _capped(ident: str, warnings: list[str]) -> list[str]:
    if len(warnings) <= MAX_LAYOUT_WARNINGS:
        return warnings
    more = len(warnings) - MAX_LAYOUT_WARNINGS
    return [*warnings[:MAX_LAYOUT_WARNINGS], f"{ident}: … and {more} more layout warnings"]
