"""Every real record layout and codebook in the corpus, checked against what it states itself.

For each file the numbers the parser produces (fields read, record length, positions) are
compared with numbers taken from the document's own text by a small regex written here, not
with numbers copied from the parser's output:

* SAS load programs: ``INFILE ... LRECL=n`` is the stated record length; the INPUT statement's
  ``@pos NAME informat.`` and ``NAME [$] start-end`` entries give the fields and positions.
* Stata dictionaries: they state no total (no ``_lrecl``/``_lines``); the ``_column(n) ...
  %wf`` entries give count and positions, and the last entry's end column the record length.
* Stata label programs: no positions; the ``label variable`` lines give the count.
* Fixed-width tables (Texas PUDF): one row per field with POSITION and LENGTH; the row count
  and the largest POSITION + LENGTH - 1 are the totals.
* DDI codebooks: they would state ``varQnty``/``logRecL`` in ``fileDscr``; the IPUMS extracts
  do not, so the count of ``<var`` elements and the largest ``EndPos`` are the totals.

The record length checked is the one :func:`indexer.formats.layout.check_layout` computes,
the function ``catalog load`` runs on every layout.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from indexer import formats
from indexer.formats import stata_labels
from indexer.formats.base import FormatError, read_text
from indexer.formats.layout import check_layout
from tests.catalog_fixtures import CORPUS

LAYOUTS = CORPUS / "record_layouts"
DDI = CORPUS / "ddi"

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CATALOG_REQUIRE_SERVICES") != "1",
    reason=f"corpus not found at {CORPUS}",
)


def corpus_files(folder: Path, pattern: str) -> list[Path]:
    """Files of the corpus under ``folder`` (empty when the corpus is absent)."""
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def parse_layout(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Detect and parse ``path`` as ``catalog load`` does; its one dataset and layout warnings."""
    parsed = formats.parse(path)
    assert not parsed.errors, parsed.errors
    assert len(parsed.datasets) == 1
    dataset = parsed.datasets[0]
    return dataset, check_layout(dataset)


def columns(dataset: dict[str, Any]) -> list[tuple[str, int | None, int | None, int | None]]:
    return [(f["name"], f["start_col"], f["end_col"], f["width"]) for f in dataset["fields"]]


def sample(items: list[Any]) -> list[Any]:
    """First, last and a spread of items between (all of them for short lists)."""
    if len(items) <= 12:
        return items
    step = max(1, len(items) // 10)
    return [*items[::step], items[-1]]


# ----------------------------------------------------------------------------- SAS

SAS_FILES = corpus_files(LAYOUTS / "sas", "*/*.sas")
_LRECL = re.compile(r"(?i)\bLRECL\s*=\s*(\d+)")
_INPUT = re.compile(r"(?ims)^\s*INPUT\b(.*?);")
_COMMENT = re.compile(r"(?s)/\*.*?\*/")
_AT_ENTRY = re.compile(r"@\s*(\d+)\s+([A-Za-z_]\w*)\s+(\$?[A-Za-z0-9]*\.\d*)")
_RANGE_ENTRY = re.compile(r"\b([A-Za-z_]\w*)\s+(?:\$\s*)?(\d+)\s*-\s*(\d+)")
# Widths of the informats these programs use: $CHAR7., $8., 4.2, 15., and HCUP's own
# N5PF. / N12P2F. (width, then P and the decimals, by HCUP's naming convention).
_INFORMAT_WIDTH = re.compile(r"^(?:\$?(?:CHAR)?(\d+)\.\d*|N(\d+)P\d*F\.)$", re.IGNORECASE)


def sas_entries(text: str) -> list[tuple[str, int, int | None]]:
    """(name, start, end or None) of every INPUT entry, in the order the program reads them."""
    body = _COMMENT.sub(" ", _INPUT.search(_COMMENT.sub(" ", text)).group(1))
    found: list[tuple[int, str, int, int | None]] = []
    for match in _AT_ENTRY.finditer(body):
        width = _INFORMAT_WIDTH.match(match.group(3))
        size = int(width.group(1) or width.group(2)) if width else None
        start = int(match.group(1))
        found.append((match.start(), match.group(2), start,
                      start + size - 1 if size else None))
    for match in _RANGE_ENTRY.finditer(body):
        found.append((match.start(), match.group(1), int(match.group(2)), int(match.group(3))))
    return [(name, start, end) for _, name, start, end in sorted(found)]


@pytest.mark.parametrize("path", SAS_FILES, ids=ids(SAS_FILES))
def test_sas_program_matches_its_input_statement_and_lrecl(path: Path) -> None:
    text = read_text(path)
    stated = int(_LRECL.search(text).group(1))
    entries = sas_entries(text)
    dataset, warnings = parse_layout(path)
    assert len(dataset["fields"]) == len(entries)
    assert [f["name"] for f in dataset["fields"]] == [name for name, _, _ in entries]
    by_name = {f["name"]: f for f in dataset["fields"]}
    for name, start, end in sample(entries):
        field = by_name[name]
        assert field["start_col"] == start, name
        if end is not None:
            assert field["end_col"] == end, name
            assert field["width"] == end - start + 1, name
    ends = [end for _, _, end in entries if end is not None]
    length = dataset["extra"]["record_length"]
    assert dataset["extra"]["lrecl"] == stated
    if max(ends) == stated:
        # The positions fill the record the program states: no gap, overlap or mismatch.
        assert length == stated
        assert warnings == []
    else:
        # LRECL only bounds the record: the fields end earlier, and the load says so.
        assert length == max(ends) < stated
        assert any(f"stated record length {stated} (LRECL)" in w for w in warnings)


def test_hcup_widths_come_from_the_invalue_informats() -> None:
    """HCUP reads numbers with N3PF.-style informats whose width only INVALUE states."""
    path = LAYOUTS / "sas" / "hcup" / "AR_SID_2013_CORE.sas"
    text = read_text(path)
    other = dict(re.findall(r"(?is)INVALUE\s+(\w+)\s.*?OTHER\s*=\s*\(\|(\d+)\.\d*\|\)", text))
    dataset, _ = parse_layout(path)
    numeric = [f for f in dataset["fields"] if (f["format"] or "").upper().startswith("N")]
    assert numeric
    for field in numeric:
        assert field["width"] == int(other[field["format"].rstrip(".").upper()])


def test_yrbs_gaps_are_reported_where_the_program_reads_nothing() -> None:
    path = LAYOUTS / "sas" / "cdc_yrbs" / "YRBS_2011_SAS_Input_Program.sas"
    entries = sas_entries(read_text(path))
    covered = {col for _, start, end in entries for col in range(start, (end or start) + 1)}
    first_gap_end = min(covered) - 1
    _, warnings = parse_layout(path)
    assert first_gap_end > 0
    assert any(f"columns 1-{first_gap_end} are covered by no field" in w for w in warnings)


# ----------------------------------------------------------------------------- Stata

DCT_FILES = corpus_files(LAYOUTS / "stata_dct", "*/*.dct")
_DCT_ENTRY = re.compile(r"(?m)^_column\(\s*(\d+)\s*\)\s+(\w+)\s+(\w+)\s+%-?(\d+)")


@pytest.mark.parametrize("path", DCT_FILES, ids=ids(DCT_FILES))
def test_stata_dictionary_matches_its_column_entries(path: Path) -> None:
    text = read_text(path)
    # The NBER dictionaries state no _lrecl or _lines: the totals come from the entries.
    assert "_lrecl" not in text and "_lines" not in text
    entries = [(name, int(col), int(col) + int(width) - 1)
               for col, _type, name, width in _DCT_ENTRY.findall(text)]
    dataset, warnings = parse_layout(path)
    assert len(dataset["fields"]) == len(entries)
    assert [(n, s, e) for n, s, e, _ in columns(dataset)] == entries
    assert dataset["extra"]["record_length"] == entries[-1][2]
    assert warnings == []


def test_stata_dictionary_takes_value_labels_from_the_label_program_beside_it() -> None:
    path = LAYOUTS / "stata_dct" / "nber_sipp1996" / "sip96t1.dct"
    program = read_text(path.with_suffix(".do"))
    labelled = set(re.findall(r"(?m)^\s*label\s+values\s+(\w+)\s+\w+", program))
    dataset, _ = parse_layout(path)
    names = {f["name"] for f in dataset["fields"]}
    coded = {f["name"] for f in dataset["fields"] if f["value_labels"]}
    assert coded == labelled & names
    # The label program on its own labels no variable: it is refused with the reason.
    with pytest.raises(FormatError, match="labels no variable"):
        formats.parse(path.with_suffix(".do"))


DO_FILES = corpus_files(LAYOUTS / "stata_do", "*/*.do")


@pytest.mark.parametrize("path", DO_FILES, ids=ids(DO_FILES))
def test_stata_label_program_matches_its_label_variable_lines(path: Path) -> None:
    text = read_text(path)
    # A label program has no positions: the count of `label variable` lines is its total.
    labelled = re.findall(r"(?im)^[ \t]*label[ \t]+var(?:iable)?[ \t]+(\w+)", text)
    dataset, warnings = parse_layout(path)
    assert formats.detect(path) is stata_labels
    names = [f["name"] for f in dataset["fields"]]
    assert len(names) == len(set(labelled))
    assert set(names) == set(labelled)
    assert all(f["start_col"] is None for f in dataset["fields"])
    assert "record_length" not in dataset["extra"]
    assert warnings == []


# ----------------------------------------------------------------------------- tables

TABLE_FILES = corpus_files(LAYOUTS / "fixed_width_tables", "*/*.txt")
_TABLE_ROW = re.compile(r"\t\s*(\d+)\s*\t\s*(\d+)\s*\t[A-Za-z ]+\s*$")


@pytest.mark.parametrize("path", TABLE_FILES, ids=ids(TABLE_FILES))
def test_layout_table_matches_its_rows(path: Path) -> None:
    lines = read_text(path).splitlines()
    rows = [_TABLE_ROW.search(line) for line in lines[1:] if line.strip()]
    assert all(rows)
    spans = [(int(m.group(1)), int(m.group(1)) + int(m.group(2)) - 1) for m in rows]
    dataset, warnings = parse_layout(path)
    assert len(dataset["fields"]) == len(spans)
    assert [(s, e) for _, s, e, _ in columns(dataset)] == spans
    assert dataset["extra"]["record_length"] == max(end for _, end in spans)
    # Where the table declares sub-fields inside a field (SPEC_UNIT 76-80 and SPEC_UNIT_1..5
    # in the 2010 base file), each shared column is an overlap warning naming both.
    shared = sum(
        1 for i, (start, end) in enumerate(spans)
        if any(s <= end and start <= e for s, e in spans[:i])
    )
    assert len([w for w in warnings if "overlap" in w]) == shared
    assert [w for w in warnings if "overlap" not in w] == []


# ----------------------------------------------------------------------------- DDI

DDI_FILES = corpus_files(DDI, "*.xml")
_VAR = re.compile(r"<var\s[^>]*>(.*?)</var>", re.S)
_LOCATION = re.compile(r"<location\s[^>]*>")


def location(var_body: str) -> tuple[int, int, int]:
    """StartPos, EndPos and width of a <var>'s <location> (attributes in any order)."""
    tag = _LOCATION.search(var_body).group()
    return tuple(  # type: ignore[return-value]
        int(re.search(rf'\b{name}="(\d+)"', tag).group(1))
        for name in ("StartPos", "EndPos", "width")
    )


@pytest.mark.parametrize("path", DDI_FILES, ids=ids(DDI_FILES))
def test_ddi_codebook_matches_its_var_elements(path: Path) -> None:
    text = read_text(path)
    variables = _VAR.findall(text)
    locations = [location(v) for v in variables]
    dataset, warnings = parse_layout(path)
    stated_vars = re.search(r"<varQnty>\s*(\d+)", text)
    stated_length = re.search(r"<logRecL>\s*(\d+)", text)
    if stated_vars:
        assert len(dataset["fields"]) == int(stated_vars.group(1))
    if stated_length:
        assert dataset["extra"]["record_length"] == int(stated_length.group(1))
    # IPUMS extracts state neither: the <var> elements themselves are the totals.
    assert len(dataset["fields"]) == text.count("<var ") == len(variables)
    assert [(s, e, w) for _, s, e, w in columns(dataset)] == locations
    assert dataset["extra"]["record_length"] == max(e for _, e, _ in locations)
    categories = text.count("<catgry")
    assert sum(len(f["value_labels"]) for f in dataset["fields"]) == categories
    assert warnings == []


def test_hierarchical_ddi_is_checked_record_type_by_record_type() -> None:
    """ATUS: household, person and activity records reuse columns 21 on; no false overlaps."""
    path = DDI / "ipums_atus_00025.xml"
    text = read_text(path)
    lengths: dict[str, int] = {}
    for attributes, body in re.findall(r"<var\s([^>]*)>(.*?)</var>", text, re.S):
        end = location(body)[1]
        for record in re.search(r'rectype="([^"]*)"', attributes).group(1).split():
            lengths[record] = max(lengths.get(record, 0), end)
    dataset, warnings = parse_layout(path)
    assert dataset["extra"]["record_lengths"] == lengths
    assert dataset["extra"]["record_length"] == max(lengths.values())
    assert warnings == []
