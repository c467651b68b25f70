"""Record layouts of the corpus: what the parsers read against what each document states.

For every file under ``record_layouts/`` and ``ddi/`` of the corpus, prints one Markdown row:
the format detected, datasets, fields parsed, the record length the layout check computes
(:func:`indexer.formats.layout.check_layout`, as ``catalog load`` runs it), the total the
document itself states, whether they match, and how many layout warnings the check gives.

The stated total is read from the document's text by a plain regex here, not from the parser:

* SAS program: ``LRECL=n`` (a record length);
* Stata dictionary: ``_lrecl(n)`` if present, else the last ``_column(n) ... %wf`` entry's end
  column, marked "(last entry)" since the file states no total;
* fixed-width table: the largest POSITION + LENGTH - 1 of its rows, "(last row)";
* DDI codebook: ``<logRecL>`` if present, else the largest ``EndPos``, "(max EndPos)";
* Stata label program: the number of ``label variable`` lines ("vars"), having no positions.

    python benchmarks/layout_totals.py [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import formats  # noqa: E402
from indexer.formats.base import FormatError, read_text  # noqa: E402
from indexer.formats.layout import check_layout  # noqa: E402

CORPUS = Path(os.environ.get("CATALOG_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))


def stated_total(path: Path, fmt: str | None) -> tuple[int | None, str, str]:
    """(value, unit, where) of the total the document states, by a plain regex."""
    text = read_text(path)
    if fmt == "sas-program":
        match = re.search(r"(?i)\bLRECL\s*=\s*(\d+)", text)
        return (int(match.group(1)), "length", "LRECL") if match else (None, "", "")
    if fmt == "stata-dictionary":
        match = re.search(r"_lrecl\(\s*(\d+)\s*\)", text)
        if match:
            return int(match.group(1)), "length", "_lrecl"
        entries = re.findall(r"(?m)^_column\(\s*(\d+)\s*\)\s+\w+\s+\w+\s+%-?(\d+)", text)
        if entries:
            column, width = entries[-1]
            return int(column) + int(width) - 1, "length", "last entry"
        return None, "", ""
    if fmt == "dictionary-table":
        rows = re.findall(r"(?m)\t\s*(\d+)\s*\t\s*(\d+)\s*\t[A-Za-z ]+\s*$", text)
        ends = [int(start) + int(width) - 1 for start, width in rows]
        return (max(ends), "length", "last row") if ends else (None, "", "")
    if fmt == "ddi-codebook":
        match = re.search(r"<logRecL>\s*(\d+)", text)
        if match:
            return int(match.group(1)), "length", "logRecL"
        ends = [int(n) for n in re.findall(r'<location\s[^>]*\bEndPos="(\d+)"', text)]
        return (max(ends), "length", "max EndPos") if ends else (None, "", "")
    if fmt == "stata-labels":
        names = set(re.findall(r"(?im)^[ \t]*label[ \t]+var(?:iable)?[ \t]+(\w+)", text))
        return len(names), "vars", "label variable lines"
    return None, "", ""


def row(path: Path, corpus: Path) -> list[str]:
    """One table row for one file."""
    name = path.relative_to(corpus).as_posix()
    module = formats.detect(path)
    fmt = module.NAME if module else None
    stated, unit, where = stated_total(path, fmt)
    try:
        parsed = formats.parse(path)
    except FormatError as exc:
        reason = str(exc).split(":", 1)[-1].strip()
        return [name, fmt or "?", "0", "0", "—", "—", f"refused ({reason[:70]}…)", "—"]
    datasets: list[dict[str, Any]] = parsed.datasets
    warnings = [w for d in datasets for w in check_layout(d)]
    fields = sum(len(d["fields"]) for d in datasets)
    lengths = [d["extra"].get("record_length") for d in datasets]
    computed = max((n for n in lengths if n), default=None)
    got = fields if unit == "vars" else computed
    match = "n/a" if stated is None else ("yes" if got == stated else "no")
    stated_text = "—" if stated is None else f"{stated} {unit} ({where})"
    return [name, fmt or "?", str(len(datasets)), str(fields),
            "—" if computed is None else str(computed), stated_text, match,
            str(len(warnings) + len(parsed.warnings))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    files = sorted(
        p for folder in ("record_layouts", "ddi") for p in (corpus / folder).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
    header = ["file", "format", "datasets", "fields parsed", "record length (computed)",
              "stated", "match", "warnings"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for path in files:
        print("| " + " | ".join(row(path, corpus)) + " |")


if __name__ == "__main__":
    main()
