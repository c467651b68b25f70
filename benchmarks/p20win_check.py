"""Check a catalog loaded with the P20 WIN dictionaries against the files themselves.

    catalog load ../shared/p20win
    python benchmarks/p20win_check.py ../shared/p20win

Reads the XLSX files independently with openpyxl (not with the catalog's reader) and prints,
per agency, the scorecard figures the catalog gives (``catalog scorecard --json``) beside
the same figures counted from the files, then the recall and precision of the
``personal``/``private`` suggestions (``catalog dump``) against the identifying elements
listed by hand in ``benchmarks/p20win_identifying.tsv``, and the share of fields suggested.
The catalog is the one the ``CATALOG_*`` settings name.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl

HAND_LIST = Path(__file__).with_name("p20win_identifying.tsv")
PLACEHOLDERS = {"", "not available", "n/a", "na", "none", "null", "unknown", "tbd", "-", "?",
                "not applicable", "blank"}
NO_PROGRAM = {"not available", "n/a", "na", "none", "null", "-", "tbd", "unknown",
              "not applicable", ""}
EQUITY = re.compile(r"race|ethnic|hispanic|latino|gender|\bsex\b|_sex\b|\bage\b|\bdob\b|birth"
                    r"|\byob\b|disab|special education|\biep\b|language|english learner", re.I)
COLUMNS = ("datasets", "fields", "fields_described", "fields_typed", "datasets_with_coverage",
           "equity_datasets")


def words(text: str) -> str:
    """Lower-case alphanumeric words."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def camel_words(text: str) -> str:
    """``Apprentice_FName`` -> ``apprentice f name``."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return words(re.sub(r"\([^)]*\)", " ", text))


def read_rows(path: Path) -> list[dict[str, str]]:
    """Each non-empty row under the header, as a dict of the seven P20 WIN columns."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    sheet.reset_dimensions()  # the merged workbook states A1 as its extent
    rows = [["" if c is None else str(c) for c in r] for r in sheet.iter_rows(values_only=True)]
    book.close()
    header = [c.strip() for c in rows[0]]
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if any(c.strip() for c in row):
            out.append({h: (row[i] if i < len(row) else "") for i, h in enumerate(header) if h}
                       | {"_row": str(number)})
    return out


def agency_key(text: str, known: dict[str, str]) -> str:
    """The abbreviation in parentheses, or the one the same name carries elsewhere."""
    text = " ".join(text.split())
    match = re.search(r"\(([^()]+)\)$", text)
    if match:
        return match.group(1).lower()
    return known.get(text.lower(), text.lower())


def from_files(folder: Path) -> dict[str, dict[str, int]]:
    """The scorecard figures per agency, counted from the files."""
    files = {p: read_rows(p) for p in sorted(folder.glob("*.xlsx"))}
    known = {}
    for rows in files.values():
        for r in rows:
            m = re.match(r"(.*\S)\s*\(([^()]+)\)$", " ".join(r["Agency"].split()))
            if m:
                known[m.group(1).lower()] = m.group(2).lower()
    figures: dict[str, dict[str, int]] = defaultdict(Counter)
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for path, rows in files.items():
        for r in rows:
            program = " ".join(r["Program"].split())
            program = "" if program.lower() in NO_PROGRAM else program
            groups[(path.name, agency_key(r["Agency"], known), program)].append(r)
    for (_, agency, _), rows in groups.items():
        f = figures[agency]
        f["datasets"] += 1
        f["fields"] += len(rows)
        for r in rows:
            definition, name = words(r["Data Element Definition"]), r["Data Element Name"]
            f["fields_described"] += definition not in PLACEHOLDERS and definition not in (
                words(name), camel_words(name))
            f["fields_typed"] += words(r["Data Type"]) not in PLACEHOLDERS
        f["datasets_with_coverage"] += any(re.search(r"(?:19|20)\d\d", r["Years Available"])
                                           for r in rows)
        f["equity_datasets"] += any(EQUITY.search(camel_words(r["Data Element Name"]))
                                    for r in rows)
    return figures


def catalog_json(*args: str) -> object:
    """Run a ``catalog`` command and read its JSON."""
    done = subprocess.run(["catalog", *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def scorecard_table(folder: Path) -> int:
    """Print the catalog's figures beside the files'; the number of differences."""
    cards = {c["agency_name"]: c for c in catalog_json("scorecard", "--json")}
    counted = from_files(folder)
    differences = 0
    print(f"{'agency':<10}" + "".join(f"{c:>26}" for c in COLUMNS))
    for name, card in sorted(cards.items()):
        key = (card["agency"] if card["agency"] in counted
               else next((k for k in counted if k in name.lower()), card["agency"]))
        files = counted.get(key, Counter())
        cells = []
        for column in COLUMNS:
            same = card[column] == files[column]
            differences += not same
            cells.append(f"{card[column]:>6} / {files[column]:<6}{'' if same else ' DIFF':<5}")
        print(f"{card['agency']:<10}" + "".join(f"{c:>26}" for c in cells))
    print("(each cell: catalog / files; DIFF where they disagree)")
    return differences


def sensitivity(folder: Path) -> None:
    """Recall and precision of personal/private against the hand list; share suggested."""
    dump = catalog_json("dump", "--without-times")
    per_file = {p.name: {r["_row"]: r for r in read_rows(p)} for p in folder.glob("*.xlsx")}
    hand: Counter[tuple[str, str, str]] = Counter()
    strict: Counter[tuple[str, str, str]] = Counter()
    with open(HAND_LIST, encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    for item in csv.DictReader(lines, delimiter="\t"):
        row = per_file[item["file"]][item["row"]]
        program = " ".join(row["Program"].split())
        program = "" if program.lower() in NO_PROGRAM else program
        key = (item["file"], program, " ".join(row["Data Element Name"].split()))
        hand[key] += 1
        if item["kind"] in ("ssn", "name", "dob", "state-id"):
            strict[key] += 1
    flagged: Counter[tuple[str, str, str]] = Counter()
    suggested = total = 0
    agency_files = {name for name in per_file if name != "P20WIN_Data_Dictionary.xlsx"}
    for dataset in dump["datasets"]:
        file = Path(dataset["provenance"].get("file", "")).name
        if file not in agency_files:
            continue
        program = (dataset.get("extra") or {}).get("program") or ""
        for field in dataset["fields"]:
            total += 1
            s = field.get("sensitivity_suggestion")
            suggested += s is not None
            if s and s["level"] in ("personal", "private"):
                flagged[(file, program, field["name"])] += 1
    for label, wanted in (("identifying elements (all kinds)", hand),
                          ("SSN, name, date of birth, state student id", strict)):
        found = sum(min(n, flagged[k]) for k, n in wanted.items())
        right = sum(min(n, wanted[k]) for k, n in flagged.items())
        print(f"{label}: {sum(wanted.values())} listed; recall {found}/{sum(wanted.values())}"
              f" = {found / sum(wanted.values()):.3f}; precision {right}/{sum(flagged.values())}"
              f" = {right / max(1, sum(flagged.values())):.3f}")
    missed = [k for k, n in hand.items() if flagged[k] < n]
    extra = [k for k, n in flagged.items() if hand[k] < n]
    print("missed:", missed or "none")
    print("flagged but not listed:", extra or "none")
    print(f"fields with a suggestion: {suggested}/{total} = {suggested / max(1, total):.3f}")


def load_summary(dump: dict) -> None:
    """Distinct agencies, datasets without one, and datasets and elements per (agency, program)."""
    agencies = {a["id"]: a for a in dump["agencies"]}
    used = {d["agency_id"] for d in dump["datasets"]}
    unknown = [d for d in dump["datasets"]
               if agencies[d["agency_id"]]["name"] == "Unknown publisher"]
    print(f"distinct agencies with datasets: {len(used)}; datasets: {len(dump['datasets'])}; "
          f"datasets without an agency: {len(unknown)}")
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for d in dump["datasets"]:
        key = (agencies[d["agency_id"]]["slug"], d["title"])
        pairs[key].append(len(d["fields"]))
    print(f"(agency, program) pairs: {len(pairs)}; datasets and elements of each "
          "(one dataset per file that documents it):")
    for (slug, title), counts in sorted(pairs.items()):
        print(f"  {slug:<8} {title[:56]:<56} {len(counts)} datasets, "
              f"{' + '.join(map(str, counts))} elements")


def main() -> int:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/p20win")
    load_summary(catalog_json("dump", "--without-times"))
    print()
    differences = scorecard_table(folder)
    print()
    sensitivity(folder)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
