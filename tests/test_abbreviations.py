"""Abbreviations mined from field names and labels, the table search loads, the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from catalog import text
from catalog.abbreviations import alignments, definition_head, mine, write
from catalog.models import Dataset
from catalog.service import Catalog
from indexer.load import load_paths
from web.cli import main


def test_names_are_read_off_their_labels() -> None:
    assert alignments("CLNT_DOB", "Client date of birth") == [
        ("clnt", "client"), ("dob", "date of birth")]
    # Initials with the stopwords skipped, and a contraction of one word.
    assert alignments("INC_FPL_PCT", "Income as a share of the federal poverty level") == [
        ("inc", "income"), ("fpl", "federal poverty level")]
    assert alignments("APPLCN", "Applicants total") == [("applcn", "applicants")]
    # A token that is a word of its own label, or matches nothing, yields nothing.
    assert alignments("AGE_GRP", "Age group") == [("grp", "group")]
    assert alignments("XQZ", "Client identifier") == []
    # Two letters inside a word are chance, not an abbreviation ("TA" in "total").
    assert alignments("TA_CASES", "Total cases") == []


def test_a_field_without_a_label_is_read_off_its_definition() -> None:
    # P20 WIN's dictionaries: an element name and a definition, no label.
    assert definition_head("Indicator (Y/N) showing whether Mental Health was found. More "
                           "text.") == "Indicator (Y/N) showing whether Mental Health was found"
    assert len(definition_head("word " * 40).split()) == 12
    assert definition_head(None) == definition_head("  ") == ""
    assert alignments("JuvDtnEpsd", "Juvenile detention episode number",
                      initials=False) == [
        ("juv", "juvenile"), ("dtn", "detention"), ("epsd", "episode")]
    # A definition yields contractions only: initials in its looser words are chance.
    assert alignments("PO_Name", "Name of the period officer", initials=False) == []
    assert alignments("PO_Name", "Period officer name") == [("po", "period officer")]
    # A word the name spells out in full is not what one of its tokens abbreviates.
    assert alignments("PowerLinkSpan", "The name PowerLink will use in Spanish",
                      initials=False) == [("span", "spanish")]
    triples = [
        ("JuvDtnEpsdID", None, "Juvenile detention episode identifier. Assigned by CSSD."),
        ("JuvDtnStart", None, "Date the juvenile detention began"),
        ("DtnRsn", "", "Reason for the detention"),
        # A label, where there is one, is what the name is read off.
        ("JUV_CNT", "Count of juvenile clients", "Number of youths"),
    ]
    mined = {e.abbreviation: e for e in mine(triples)}
    assert mined["dtn"].expansion == "detention" and mined["dtn"].support == 3
    assert mined["juv"].expansion == "juvenile" and mined["juv"].support == 3
    assert "epsd" not in mined  # one definition only
    labels_only = [(name, label) for name, label, _ in triples]
    assert "juv" not in {e.abbreviation for e in mine(labels_only)}


def test_mining_keeps_what_the_catalog_agrees_on() -> None:
    pairs = [
        ("PRTCP_ID", "Participant identifier"), ("PRTCP_NM", "Participant name"),
        ("PRTCP_ADDR", "Participant address"),
        ("LOS", "Length of stay"), ("LOS_X", "Length of stay (as received)"),
        # Ambiguous: RSN is "reason" twice and "resident" twice, in four names.
        ("RSN1", "Reason for leaving"), ("RSN2", "Reason for moving"),
        ("RSN_CNT", "Resident count"), ("RSN_TYP", "Resident type"),
        # A word that labels use on their own is not an abbreviation of anything.
        ("MOVE_FLAG", "Move flag"), ("MOVE_DT", "Date of move"),
        ("MOVE_CD", "Move code"), ("MV", "Move"), ("MVMT", "Movement"),
        # Two letters need one pair more than longer tokens.
        ("PL_CNTY", "Patient location county"), ("PL_ST", "Patient location state"),
        # Seen once only.
        ("GRDPRNT", "Grandparent"),
    ]
    mined = {e.abbreviation: e for e in mine(pairs)}
    assert mined["prtcp"].expansion == "participant"
    entry = mined["prtcp"]
    assert (entry.support, entry.occurrences, entry.share) == (3, 3, 1.0)
    assert "los" not in mined  # written by hand already, and the hand wins
    assert text.ABBREVIATIONS["los"] == "length of stay"
    assert "rsn" not in mined  # two meanings, neither a majority of its names
    assert "move" not in mined and "pl" not in mined and "grdprnt" not in mined
    assert "pl" in {e.abbreviation for e in mine([*pairs, ("PL_ZIP", "Patient location zip")])}
    assert mine(pairs, min_support=1)[0].abbreviation == "prtcp"


def test_the_mined_table_feeds_the_analysis(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    table = tmp_path / "abbreviations.tsv"
    assert write(mine([("PRTCP_ID", "Participant identifier"), ("PRTCP_NM", "Participant name")]),
                 table) == 1
    assert table.read_text().splitlines() == ["abbreviation\texpansion\tsupport\toccurrences",
                                              "prtcp\tparticipant\t2\t2"]
    monkeypatch.setenv("CATALOG_ABBREVIATIONS", str(table))
    assert text.read_mined() == {"prtcp": "participant"}
    monkeypatch.setenv("CATALOG_ABBREVIATIONS", str(tmp_path / "missing.tsv"))
    assert text.read_mined() == {}
    # The packaged table is there, holds only mined entries, and the hand's win over it.
    monkeypatch.delenv("CATALOG_ABBREVIATIONS")
    packaged = text.read_mined()
    assert packaged and not set(packaged) & set(text.HAND_ABBREVIATIONS)
    token, meaning = next(iter(packaged.items()))
    assert text.ABBREVIATIONS[token] == meaning
    assert meaning.split()[0] in text.expand_name(f"{token.upper()}_FLAG")


def test_an_index_analysed_with_another_table_is_rebuilt() -> None:
    """Both engines' index formats carry the table's digest: an index built with another
    table (a new release's, or $CATALOG_ABBREVIATIONS's) records another format and is
    rebuilt, so that documents and queries are never analysed with different tables."""
    from catalog.search.documents import DOCUMENTS_FORMAT
    from catalog.search.embedded import INDEX_FORMAT

    digest = text.table_digest(text.ABBREVIATIONS)
    assert digest == text.ABBREVIATIONS_DIGEST and len(digest) == 8
    assert DOCUMENTS_FORMAT.endswith(f".{digest}") and INDEX_FORMAT.endswith(f".{digest}")
    changed = {**text.ABBREVIATIONS, "prtcp": "participant"}
    assert text.table_digest(changed) != digest
    assert text.table_digest({**text.ABBREVIATIONS, "dob": "date of birth (changed)"}) != digest
    assert text.table_digest(dict(reversed(list(text.ABBREVIATIONS.items())))) == digest


def _package(folder: Path, name: str, fields: list[tuple[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    package = {"name": name, "title": name.replace("-", " ").title(), "resources": [
        {"name": name, "path": f"{name}.csv", "schema": {
            "fields": [{"name": n, "title": t, "type": "string"} for n, t in fields]}}]}
    (folder / "datapackage.json").write_text(json.dumps(package))


def test_the_command_mines_public_fields_only(
    new_catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(tmp_path / "open", "participants", [("PRTCP_ID", "Participant identifier"),
                                                 ("PRTCP_NM", "Participant name")])
    _package(tmp_path / "closed", "secret-layout", [("SCRT_ID", "Secret identifier"),
                                                    ("SCRT_NM", "Secret name")])
    report = load_paths(new_catalog, [tmp_path / "open", tmp_path / "closed"], index=False)
    assert report.totals()["failed"] == 0
    with new_catalog.transaction() as session:
        session.scalar(select(Dataset).where(Dataset.identifier == "secret-layout")
                       ).access_level = "restricted"
    monkeypatch.setenv("CATALOG_DATA_DIR", str(new_catalog.settings.data_dir))
    monkeypatch.delenv("CATALOG_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["abbreviations", "--json"])
    assert result.exit_code == 0, result.output
    assert [e["abbreviation"] for e in json.loads(result.output)] == ["prtcp"]
    out = tmp_path / "mined.tsv"
    written = runner.invoke(main, ["abbreviations", "--output", str(out)])
    assert written.exit_code == 0 and "1 abbreviations from 2 fields" in written.output
    assert "scrt" not in out.read_text() and "prtcp\tparticipant" in out.read_text()
    shown = runner.invoke(main, ["abbreviations", "--min-support", "3"])
    assert shown.exit_code == 0 and "prtcp" not in shown.output
