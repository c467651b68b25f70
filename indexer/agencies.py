"""Who published a file that names no publisher: ``AGENCIES.csv`` beside or above it.

The file maps path prefixes (relative to the folder holding the CSV) to an agency:
``path_prefix,agency,abbreviation[,note]``. The longest matching prefix wins.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

AGENCIES_FILE = "AGENCIES.csv"
UNKNOWN_AGENCY = "Unknown publisher"


@dataclass(frozen=True)
class AgencyRule:
    """One row of an agencies file."""

    prefix: str
    name: str
    abbreviation: str | None


@lru_cache(maxsize=64)
def read_rules(csv_path: Path) -> tuple[AgencyRule, ...]:
    """Read an agencies file; rows without a prefix or an agency name are ignored."""
    rules: list[AgencyRule] = []
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            prefix = (row.get("path_prefix") or "").strip()
            name = (row.get("agency") or "").strip()
            if prefix and name:
                rules.append(AgencyRule(prefix, name, (row.get("abbreviation") or "").strip()
                                        or None))
    return tuple(sorted(rules, key=lambda r: len(r.prefix), reverse=True))


def find_agencies_file(path: Path, explicit: Path | None = None) -> Path | None:
    """The agencies file that governs ``path``: the explicit one, or the nearest above it."""
    if explicit is not None:
        return explicit
    for folder in [path.parent, *path.parent.parents]:
        candidate = folder / AGENCIES_FILE
        if candidate.is_file():
            return candidate
    return None


def agency_for(path: Path, explicit: Path | None = None) -> AgencyRule | None:
    """The agency a file belongs to according to its agencies file, if any."""
    csv_path = find_agencies_file(path.resolve(), explicit)
    if csv_path is None:
        return None
    base = csv_path.resolve().parent
    full = path.resolve().as_posix()
    try:
        relative: str | None = path.resolve().relative_to(base).as_posix()
    except ValueError:  # an explicit file elsewhere: match the prefix as whole path segments
        relative = None
    for rule in read_rules(csv_path.resolve()):
        if relative is not None and relative.startswith(rule.prefix):
            return rule
        if relative is None and f"/{rule.prefix}" in full:
            return rule
    return None
