"""Dictionary tables whose rows say whose they are: agency, program, category and years.

Some dictionaries (Connecticut's P20 WIN dictionaries among them) document several programs,
or several agencies, in one sheet, with per-row columns such as ``Agency``, ``Program``,
``Data Category`` and ``Years Available``. The columns are recognised by their header
wording (:data:`SYNONYMS`, merged into :mod:`indexer.formats.dictionary_table`'s), not by
one file's layout. Rows are then grouped into one dataset per (agency, program), titled by
the program, with an identifier made from the file, the agency and the program, so that it
is the same on every reload. The category becomes the field's group and the years its
temporal coverage (and, over its fields, the dataset's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from indexer.formats.records import new_dataset
from indexer.formats.text import tidy

SYNONYMS: dict[str, tuple[str, ...]] = {
    "agency": ("agency", "agency name", "organization", "organisation", "publisher",
               "owning agency", "source agency", "data owner"),
    "program": ("program", "program name", "programme", "program area", "data system",
                "source system"),
    "category": ("data category", "category", "element category", "field category",
                 "field group", "element group", "data group", "group"),
    "years": ("years available", "years", "year range", "years of data", "available years",
              "time period", "temporal coverage", "date range", "data years", "coverage"),
}
ROLES = tuple(SYNONYMS)
_YEAR = r"(?:19|20)\d\d"
_ONGOING = re.compile(r"\b(?:current|present|ongoing|to date|now|today)\b|[-–]\s*$", re.I)
#: Program cells that name none.
_NONE = {"not available", "n/a", "na", "none", "null", "-", "tbd", "unknown", "not applicable"}
_ABBREVIATION = re.compile(r"^(.*\S)\s*\(\s*([A-Za-z][\w&.\-/]{0,19})\s*\)$")


def clean(text: str | None) -> str:
    """Text with spaces, non-breaking spaces and line breaks collapsed to single spaces."""
    return tidy(text) or ""


def split_agency(text: str) -> tuple[str, str | None]:
    """``Department of Labor (DOL)`` -> (``Department of Labor``, ``DOL``)."""
    text = clean(text)
    match = _ABBREVIATION.match(text)
    if match:
        return match.group(1).strip(" -,"), match.group(2)
    return text, None


def parse_years(text: str | None) -> tuple[int | None, int | None]:
    """Years covered, from ``2003-``, ``2010 to 2021``, ``2006-07 to Present``, ``N/A``.

    Returns (start, end); end None with a start means up to the present. A school year
    ``2006-07`` counts as 2006 to 2007.
    """
    text = clean(text)
    years: list[int] = []
    for match in re.finditer(rf"({_YEAR})(?:\s*[-/]\s*(\d\d)(?!\d))?", text):
        years.append(int(match.group(1)))
        if match.group(2):
            years.append(int(match.group(1)[:2] + match.group(2)))
    if not years:
        return None, None
    if _ONGOING.search(text):
        return min(years), None
    return min(years), max(years)


def coverage(ranges: list[tuple[int | None, int | None]]) -> tuple[int | None, int | None]:
    """The span of several fields' years: earliest start, latest end (None if any is open)."""
    starts = [start for start, _ in ranges if start is not None]
    if not starts:
        return None, None
    ends = [end for start, end in ranges if start is not None]
    return min(starts), (None if any(end is None for end in ends) else max(e for e in ends if e))


def row_values(row: list[str], header: Any) -> dict[str, Any]:
    """The per-row agency, program, category and years of one aligned row."""
    values: dict[str, str] = {}
    for role in ROLES:
        columns = header.columns(role)
        values[role] = row[columns[0]] if columns else ""
    start, end = parse_years(values["years"])
    return {
        "category": clean(values["category"]) or None,
        "years": clean(values["years"]) or None,
        "coverage_start": start,
        "coverage_end": end,
        "_agency": clean(values["agency"]),
        "_program": "" if clean(values["program"]).lower() in _NONE else clean(values["program"]),
    }


def normalised_name(raw: str) -> tuple[str, str | None]:
    """A field name for display and search, and the source's spelling when it differs."""
    name = clean(raw)
    return name, (raw if raw != name else None)


def constant_columns(rows: list[list[Any]], header: Any, cell: Any) -> dict[str, str]:
    """Unrecognised columns holding one value in every row, kept once (not in each field).

    Their role becomes ``constant``, so that no field's description repeats them.
    """
    found: dict[str, str] = {}
    rows = [r for r in rows if any(str(c).strip() for c in r if c is not None)]
    for i, role in enumerate(header.roles):
        if role is None and header.cells[i] and len(rows) > 2:
            values = {clean(cell(r[i])) if i < len(r) else "" for r in rows}
            if len(values) == 1:
                header.roles[i] = "constant"
                found[header.cells[i]] = values.pop()
    return found


def grouped(header: Any) -> bool:
    """Whether rows name their agency or program, so that they make several datasets."""
    return bool(header.columns("agency") or header.columns("program"))


def slug(text: str) -> str:
    """A lower-case identifier part: ``PIRL (JVSG, TAA)`` -> ``pirl-jvsg-taa``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "all"


def _hints(path: Path) -> list[str]:
    """Agency abbreviations a file's folder or name gives (``DSS/`` or ``DSS_Data...``)."""
    found = []
    for text in (path.parent.name, re.split(r"[_\-\s.]+", path.stem)[0]):
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9&]{1,11}", text or "") and any(
                c.isupper() for c in text):
            found.append(text)
    return found


def _names_agency(hint: str, name: str, abbreviation: str | None) -> bool:
    hint = hint.lower()
    parts = re.split(r"[-/ &]+", (abbreviation or "").lower())
    return hint in parts or hint == (abbreviation or "").lower() or hint == name.lower()


def agency_warning(path: Path, agencies: list[str]) -> str | None:
    """A warning when all rows name one agency that the file's folder or name contradicts."""
    if len(agencies) != 1:
        return None
    name, abbreviation = split_agency(agencies[0])
    hints = _hints(path)
    if not hints or any(_names_agency(h, name, abbreviation) for h in hints):
        return None
    return (f"rows name {agencies[0]!r}, not {hints[0]!r} that the file's folder or name "
            f"gives; its datasets are attributed to {agencies[0]!r}")


def group_datasets(path: Path, base: str, fields: list[dict[str, Any]],
                   extra: dict[str, Any], label: str) -> tuple[list[dict[str, Any]], list[str]]:
    """One raw dataset per (agency, program) of a table's fields, and the warnings."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for raw in fields:
        key = (raw.pop("_agency", ""), raw.pop("_program", ""))
        groups.setdefault(key, []).append(raw)
    warnings = []
    agencies = sorted({agency for agency, _ in groups if agency})
    warning = agency_warning(path, agencies)
    if warning:
        warnings.append(warning)
    datasets = []
    for (agency, program), members in groups.items():
        name, abbreviation = split_agency(agency) if agency else (None, None)
        parts = [base] + ([slug(abbreviation or name)] if name else []) + [slug(program)]
        for position, member in enumerate(members, start=1):
            member["position"] = position
        start, end = coverage([(f["coverage_start"], f["coverage_end"]) for f in members])
        categories = list(dict.fromkeys(f["category"] for f in members if f["category"]))
        title = program or (f"{name} data dictionary" if name else base)
        who = f" of {agency}" if agency else ""
        count = f"{len(members)} data element{'' if len(members) == 1 else 's'}"
        description = (f"{title}: {count}{who}, from {label}."
                       + (f" Categories: {', '.join(categories)}." if categories else ""))
        group_extra = {**extra, "program": program or None, "agency_text": agency or None,
                       # Rows of several agencies: a compilation (P20 WIN's merged
                       # dictionary), whose copies of a dataset yield to the agency's own.
                       **({"compilation": True} if len(agencies) > 1 else {}),
                       "categories": categories,
                       "years": list(dict.fromkeys(f["years"] for f in members if f["years"]))}
        datasets.append(new_dataset(
            "-".join(parts), title=title, description=description, agency=name,
            agency_abbreviation=abbreviation, keywords=categories, extra=group_extra,
            coverage_start=start, coverage_end=end, fields=members))
    return datasets, warnings
