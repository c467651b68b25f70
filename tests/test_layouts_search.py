"""Concepts found only in a layout's labels or value labels are searchable, down to the field,
and the field's page shows where it sits in the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog.search.query import SearchQuery
from indexer.load import load_paths
from web.app import create_app

# A wage-record copybook in the style of state UI tax systems (hand-written: the corpus has
# no copybook). The concept "seasonal employer" appears only as an 88-level condition name.
COPYBOOK = """\
      * QUARTERLY WAGE RECORD - UNEMPLOYMENT INSURANCE TAX
       01  WAGE-REC.
           05  WR-EMPLOYER-ACCT        PIC 9(10).
           05  WR-SSN                  PIC 9(9).
           05  WR-YEAR-QTR.
               10  WR-YEAR             PIC 9(4).
               10  WR-QTR              PIC 9.
           05  WR-EMPLOYER-TYPE        PIC X.
               88  WR-SEASONAL-EMPLOYER    VALUE 'S'.
               88  WR-AGRICULTURAL-EMPLOYER VALUE 'A'.
               88  WR-REGULAR-EMPLOYER     VALUE 'R'.
           05  WR-GROSS-WAGES          PIC S9(9)V99 COMP-3.
           05  FILLER                  PIC X(5).
"""


def test_a_copybook_condition_name_finds_its_field_with_positions(
    tmp_path: Path, new_catalog: Any
) -> None:
    folder = tmp_path / "layouts"
    folder.mkdir()
    (folder / "uiwage.cpy").write_text(COPYBOOK, encoding="utf-8")
    (folder / "AGENCIES.csv").write_text(
        "path_prefix,agency,abbreviation\n,Department of Labor,DOL\n", encoding="utf-8")
    report = load_paths(new_catalog, [folder])
    assert report.totals()["created"] == 1, list(report.errors())
    hits = new_catalog.search(SearchQuery(text="seasonal employers", kind="field")).hits
    assert hits[0].payload["field"] == "WR-EMPLOYER-TYPE"
    client = create_app(new_catalog).test_client()
    page = client.get(f"/fields/{hits[0].payload['field_id']}").get_data(as_text=True)
    assert "25–25" in page  # columns: 10 + 9 + 4 + 1 bytes before it
    assert "WR-SEASONAL-EMPLOYER" in page
    wages = new_catalog.search(SearchQuery(text="gross wages", kind="field")).hits[0]
    wage_page = client.get(f"/fields/{wages.payload['field_id']}").get_data(as_text=True)
    assert "26–31" in wage_page  # S9(9)V99 COMP-3: 6 bytes


def test_a_codebook_value_label_finds_its_field_with_positions(fixtures_catalog: Any) -> None:
    catalog, _report = fixtures_catalog
    # "Armed Forces" is one of EMPSTAT's value labels in the IPUMS CPS codebook; its label
    # is only "Employment status".
    # Only its value label says so: the words reach it lexically among the first five (the
    # description of ASECWT, a weight, speaks of the armed forces and "services" too). In
    # the default hybrid ranking, fields whose own text is about serving in the armed
    # forces (SIPP's "ever served", "now serving") rightly come first.
    lexical = catalog.search(SearchQuery(text="serving in the armed forces", kind="field",
                                         per_page=5, mode="lexical")).hits
    top = [(h.payload["dataset"], h.payload["field"]) for h in lexical]
    assert ("ipums_cps_00097", "EMPSTAT") in top[:5], top
    hits = catalog.search(SearchQuery(text="serving in the armed forces", kind="field",
                                      per_page=10)).hits
    top = [(h.payload["dataset"], h.payload["field"]) for h in hits]
    assert set(top[:2]) == {("sip96w1", "eafever"), ("sip96w1", "eafnow")}, top
    client = create_app(catalog).test_client()
    field_id = next(h.payload["field_id"] for h in lexical if h.payload["field"] == "EMPSTAT")
    page = client.get(f"/fields/{field_id}").get_data(as_text=True)
    assert "68–69" in page and "Armed Forces" in page
