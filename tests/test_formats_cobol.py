"""COBOL copybooks: hand-written edge cases of every construct the parser reads.

Every input is written inline to ``tmp_path``; positions are 1-based byte columns.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from indexer import formats
from indexer.formats import cobol_copybook
from indexer.formats.base import FormatError, ParsedFile, read_head
from indexer.load import validate_dataset


def fixed(*lines: str, ident: str = "UIWAGE01") -> str:
    """A fixed-format copybook: each line is its column-7 indicator then columns 8-72.

    Sequence numbers (000100, 000200, ...) go in columns 1-6 and ``ident`` in 73-80, so line
    ``n`` of the file is the ``n``-th argument.
    """
    out = []
    for number, line in enumerate(lines, start=1):
        indicator, area = line[:1], line[1:]
        assert len(area) <= 65, line
        out.append(f"{number * 100:06d}{indicator}{area:<65}{ident}")
    return "\n".join(out) + "\n"


def free(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write(tmp_path: Path, text: str, name: str = "rec.cpy") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def parse(tmp_path: Path, text: str, name: str = "rec.cpy") -> ParsedFile:
    path = write(tmp_path, text, name)
    assert cobol_copybook.detect(path, read_head(path)), "copybook not detected"
    parsed = cobol_copybook.parse(path)
    assert parsed.format == "cobol-copybook"
    for index, dataset in enumerate(parsed.datasets):
        record, errors = validate_dataset(dataset, index)
        assert record is not None and errors == [], errors
    return parsed


def one(tmp_path: Path, text: str, name: str = "rec.cpy") -> dict[str, Any]:
    parsed = parse(tmp_path, text, name)
    assert len(parsed.datasets) == 1
    return parsed.datasets[0]


def by_name(dataset: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in dataset["fields"]}


def cols(field: dict[str, Any]) -> tuple[int, int, int]:
    return field["start_col"], field["end_col"], field["width"]


def codes(field: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v["code"], v["label"]) for v in field["value_labels"]]


def check_layout(dataset: dict[str, Any]) -> None:
    fields = dataset["fields"]
    assert [f["position"] for f in fields] == list(range(1, len(fields) + 1))
    for f in fields:
        assert f["end_col"] == f["start_col"] + f["width"] - 1, f
    assert dataset["layout"] is True


def fails(tmp_path: Path, text: str, line: int, *words: str) -> FormatError:
    path = write(tmp_path, text)
    with pytest.raises(FormatError) as info:
        cobol_copybook.parse(path)
    assert info.value.line == line, str(info.value)
    message = str(info.value)
    assert message.startswith(f"line {line}: "), message
    for word in words:
        assert word in message, message
    return info.value


# ----------------------------------------------------------------------------- realistic

UI_WAGE_RECORD = fixed(
    "*****************************************************************",
    "*  UI-WAGE-RECORD: QUARTERLY WAGE DETAIL REPORTED BY EMPLOYERS",
    "*  STATE UNEMPLOYMENT INSURANCE TAX SYSTEM - RECORD LENGTH 150",
    "*****************************************************************",
    " 01  UI-WAGE-RECORD.",
    "*    RECORD IDENTIFICATION",
    "     05  WR-RECORD-TYPE          PIC X.",
    "         88  WR-DETAIL           VALUE 'D'.",
    "         88  WR-CORRECTION       VALUE 'C'.",
    "     05  WR-EMPLOYER.",
    "         10  WR-EMPLOYER-ACCT    PIC 9(10).",
    "         10  WR-EMPLOYER-FEIN    PIC 9(9).",
    "         10  WR-EMPLOYER-UNIT    PIC X(3).",
    "     05  WR-EMPLOYEE.",
    "         10  WR-SSN              PIC 9(9).",
    "         10  WR-SSN-X REDEFINES WR-SSN.",
    "             15  WR-SSN-AREA     PIC 9(3).",
    "             15  WR-SSN-GROUP    PIC 9(2).",
    "             15  WR-SSN-SERIAL   PIC 9(4).",
    "         10  WR-LAST-NAME        PIC X(20).",
    "         10  WR-FIRST-NAME       PIC X(15).",
    "         10  WR-MIDDLE-INIT      PIC X.",
    "     05  WR-PERIOD.",
    "         10  WR-YEAR             PIC 9(4).",
    "         10  WR-QUARTER          PIC 9.",
    "             88  WR-QTR-VALID    VALUE 1 THRU 4.",
    "     05  WR-WAGES                PIC S9(9)V99 COMP-3.",
    "     05  WR-EXCESS-WAGES         PIC S9(9)V99 COMP-3.",
    "     05  WR-TAXABLE-WAGES        PIC S9(9)V99 COMP-3.",
    "     05  WR-HOURS                PIC S9(4) COMP.",
    "     05  WR-WEEKS-WORKED         PIC 99.",
    "     05  WR-MONTHLY-EMPL         OCCURS 3 TIMES.",
    "         10  WR-EMPL-FLAG        PIC X.",
    "             88  WR-EMPLOYED     VALUE 'Y'.",
    "             88  WR-NOT-EMPLOYED VALUE 'N' SPACE.",
    "     05  WR-NAICS                PIC X(6).",
    "     05  WR-COUNTY               PIC 9(3).",
    "     05  WR-OWNERSHIP            PIC 9.",
    "         88  WR-PRIVATE          VALUE 5.",
    "         88  WR-GOVERNMENT       VALUE 1 2 3.",
    "     05  WR-PROCESS-DATE         PIC 9(8).",
    "     05  WR-STATUS               PIC X(2).",
    "     05  FILLER                  PIC X(32).",
)


def test_realistic_ui_wage_record(tmp_path: Path) -> None:
    path = write(tmp_path, UI_WAGE_RECORD, "UIWAGE01.txt")
    module = formats.detect(path)
    assert module is cobol_copybook  # by content, whatever the extension
    parsed = parse(tmp_path, UI_WAGE_RECORD, "UIWAGE01.txt")
    assert parsed.warnings == []
    dataset = parsed.datasets[0]
    check_layout(dataset)
    assert dataset["identifier"] == "UIWAGE01"
    assert dataset["title"] == "UI-WAGE-RECORD"
    assert dataset["description"].startswith(
        "UI-WAGE-RECORD: QUARTERLY WAGE DETAIL REPORTED BY EMPLOYERS STATE UNEMPLOYMENT"
    )
    assert "26 fields, record length 150 bytes" in dataset["description"]
    assert dataset["extra"]["record_length"] == 150
    assert dataset["extra"]["source_format"] == "fixed"
    assert dataset["extra"]["usages"] == ["COMP", "COMP-3"]
    names = [f["name"] for f in dataset["fields"]]
    assert len(names) == 26 and "FILLER" not in names
    assert names[18:21] == ["WR-EMPL-FLAG(1)", "WR-EMPL-FLAG(2)", "WR-EMPL-FLAG(3)"]
    f = by_name(dataset)
    expected = {
        "WR-RECORD-TYPE": (1, 1, 1),
        "WR-EMPLOYER-ACCT": (2, 11, 10),
        "WR-EMPLOYER-FEIN": (12, 20, 9),
        "WR-EMPLOYER-UNIT": (21, 23, 3),
        "WR-SSN": (24, 32, 9),
        "WR-SSN-AREA": (24, 26, 3),
        "WR-SSN-GROUP": (27, 28, 2),
        "WR-SSN-SERIAL": (29, 32, 4),
        "WR-LAST-NAME": (33, 52, 20),
        "WR-FIRST-NAME": (53, 67, 15),
        "WR-MIDDLE-INIT": (68, 68, 1),
        "WR-YEAR": (69, 72, 4),
        "WR-QUARTER": (73, 73, 1),
        "WR-WAGES": (74, 79, 6),
        "WR-EXCESS-WAGES": (80, 85, 6),
        "WR-TAXABLE-WAGES": (86, 91, 6),
        "WR-HOURS": (92, 93, 2),
        "WR-WEEKS-WORKED": (94, 95, 2),
        "WR-EMPL-FLAG(1)": (96, 96, 1),
        "WR-EMPL-FLAG(3)": (98, 98, 1),
        "WR-NAICS": (99, 104, 6),
        "WR-COUNTY": (105, 107, 3),
        "WR-OWNERSHIP": (108, 108, 1),
        "WR-PROCESS-DATE": (109, 116, 8),
        "WR-STATUS": (117, 118, 2),
    }
    for name, columns in expected.items():
        assert cols(f[name]) == columns, name
    wages = f["WR-WAGES"]
    assert (wages["data_type"], wages["decimals"], wages["format"]) == ("number", 2, "S9(9)V99")
    assert wages["source_type"] == "PIC S9(9)V99 COMP-3"
    assert f["WR-SSN"]["data_type"] == "integer" and f["WR-LAST-NAME"]["data_type"] == "string"
    assert f["WR-RECORD-TYPE"]["description"] == "RECORD IDENTIFICATION"
    assert codes(f["WR-RECORD-TYPE"]) == [("D", "WR-DETAIL"), ("C", "WR-CORRECTION")]
    assert codes(f["WR-QUARTER"]) == [("1 THRU 4", "WR-QTR-VALID")]
    assert codes(f["WR-OWNERSHIP"]) == [
        ("5", "WR-PRIVATE"), ("1", "WR-GOVERNMENT"), ("2", "WR-GOVERNMENT"),
        ("3", "WR-GOVERNMENT"),
    ]
    for k in (1, 2, 3):
        assert codes(f[f"WR-EMPL-FLAG({k})"]) == [
            ("Y", "WR-EMPLOYED"), ("N", "WR-NOT-EMPLOYED"), ("SPACE", "WR-NOT-EMPLOYED"),
        ]
        assert f[f"WR-EMPL-FLAG({k})"]["description"] == "in group WR-MONTHLY-EMPL"
    assert f["WR-SSN-AREA"]["description"] == (
        "in group WR-EMPLOYEE > WR-SSN-X; redefines WR-SSN"
    )
    assert f["WR-SSN"]["description"] == "in group WR-EMPLOYEE"
    assert f["WR-WAGES"]["description"] is None


# ----------------------------------------------------------------------------- pictures


def single(tmp_path: Path, clauses: str) -> tuple[dict[str, Any], dict[str, Any]]:
    dataset = one(tmp_path, f"       01  REC.\n           05  ITEM {clauses}.\n")
    check_layout(dataset)
    return dataset, dataset["fields"][0]


@pytest.mark.parametrize(
    ("clauses", "width", "data_type", "decimals"),
    [
        ("PIC X(10)", 10, "string", None),
        ("PIC XXX", 3, "string", None),
        ("PIC A(4)", 4, "string", None),
        ("PIC X(2)9(3)", 5, "string", None),
        ("PIC 9(5)", 5, "integer", 0),
        ("PIC S9(5)", 5, "integer", 0),  # the sign is overpunched: no byte of its own
        ("PIC S9(7)V99", 9, "number", 2),
        ("PIC 9(3)V9(2)", 5, "number", 2),
        ("PIC 9(3)V", 3, "number", 0),
        ("PIC 9(3)PP", 3, "integer", 0),
        ("PIC PPP99", 2, "number", 5),
        ("PIC S9(5) SIGN LEADING SEPARATE", 6, "integer", 0),
        ("PIC S9(3)V99 SIGN IS TRAILING SEPARATE CHARACTER", 6, "number", 2),
        ("PIC S9(3) SIGN TRAILING", 3, "integer", 0),
        ("PIC ZZ,ZZ9.99-", 10, "number", 2),
        ("PIC $$$,$$9.99CR", 12, "number", 2),
        ("PIC ZZZ9", 4, "integer", 0),
        ("PIC 99/99/9999", 10, "integer", 0),
        ("PIC XXBXX", 5, "string", None),
        ("PIC N(5)", 10, "string", None),
        ("PIC G(3)", 6, "string", None),
        ("PIC 9(4) USAGE IS DISPLAY", 4, "integer", 0),
        ("PICTURE IS X(7)", 7, "string", None),
        ("pic x(2) value 'ab'", 2, "string", None),
    ],
)
def test_display_widths(tmp_path: Path, clauses: str, width: int, data_type: str,
                        decimals: int | None) -> None:
    dataset, item = single(tmp_path, clauses)
    assert cols(item) == (1, width, width)
    assert dataset["extra"]["record_length"] == width
    assert (item["data_type"], item["decimals"]) == (data_type, decimals)


@pytest.mark.parametrize(
    ("clauses", "width"),
    [
        ("PIC 9 COMP", 2),
        ("PIC 9(4) COMP", 2),
        ("PIC S9(4) COMPUTATIONAL", 2),
        ("PIC 9(5) COMP", 4),
        ("PIC S9(9) BINARY", 4),
        ("PIC S9(7)V99 COMP-4", 4),
        ("PIC 9(10) COMP-5", 8),
        ("PIC S9(18) USAGE BINARY", 8),
        ("PIC 9 COMP-3", 1),
        ("PIC S9(2) COMP-3", 2),
        ("PIC S9(3) PACKED-DECIMAL", 2),
        ("PIC S9(7)V99 COMP-3", 5),
        ("PIC S9(9)V99 COMPUTATIONAL-3", 6),
        ("PIC 9(18) COMP-3", 10),
        ("PIC 9(4) COMP-6", 2),
        ("COMP-1", 4),
        ("USAGE COMP-2", 8),
        ("USAGE IS INDEX", 4),
        ("BINARY-LONG UNSIGNED", 4),
        ("PIC N(3) USAGE NATIONAL", 6),
        ("PIC 9(3) NATIONAL", 6),
    ],
)
def test_usage_widths(tmp_path: Path, clauses: str, width: int) -> None:
    dataset, item = single(tmp_path, clauses)
    assert cols(item) == (1, width, width)
    assert dataset["extra"]["record_length"] == width


def test_source_type_format_and_decimals_of_binary_items(tmp_path: Path) -> None:
    _, item = single(tmp_path, "PIC S9(7)V99 USAGE IS COMP-3")
    assert item["source_type"] == "PIC S9(7)V99 COMP-3"
    assert (item["format"], item["decimals"], item["data_type"]) == ("S9(7)V99", 2, "number")
    _, item = single(tmp_path, "COMP-2")
    assert (item["source_type"], item["format"], item["data_type"]) == ("COMP-2", None, "number")
    _, item = single(tmp_path, "PIC S9(5) SIGN LEADING SEPARATE")
    assert item["source_type"] == "PIC S9(5) SIGN LEADING SEPARATE"


def test_group_usage_and_sign_apply_to_children(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
            05  AMOUNTS  COMP-3.
                10  A    PIC S9(5).
                10  B    PIC S9(3)V99.
                10  C    PIC 9(4) COMP.
                10  D    PIC S9(4) DISPLAY.
            05  SIGNED   SIGN LEADING SEPARATE.
                10  E    PIC S9(3).
                10  F    PIC 9(3).
            05  G        PIC X.
    """))
    f = by_name(dataset)
    assert cols(f["A"]) == (1, 3, 3)
    assert cols(f["B"]) == (4, 6, 3) and f["B"]["decimals"] == 2
    assert cols(f["C"]) == (7, 8, 2)
    assert cols(f["D"]) == (9, 12, 4)
    assert f["A"]["source_type"] == "PIC S9(5) COMP-3"
    assert cols(f["E"]) == (13, 16, 4)  # signed: the separate sign takes a byte
    assert cols(f["F"]) == (17, 19, 3)  # unsigned: no sign byte
    assert cols(f["G"]) == (20, 20, 1)
    assert dataset["extra"]["record_length"] == 20


def test_group_float_usage_gives_children_their_size(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
            05  RATES  USAGE COMP-2.
                10  RATE-1.
                10  RATE-2.
            05  SCALE  COMP-1.
    """))
    assert [(f["name"], cols(f)) for f in dataset["fields"]] == [
        ("RATE-1", (1, 8, 8)), ("RATE-2", (9, 16, 8)), ("SCALE", (17, 20, 4)),
    ]
    assert {f["data_type"] for f in dataset["fields"]} == {"number"}


def test_justified_blank_when_zero_global_and_sync(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  REC IS GLOBAL.
            05  A  PIC X(5) JUSTIFIED RIGHT.
            05  B  PIC 9(5) BLANK WHEN ZERO.
            05  C  PIC S9(4) COMP SYNC.
    """))
    f = by_name(parsed.datasets[0])
    assert [cols(f[n]) for n in "ABC"] == [(1, 5, 5), (6, 10, 5), (11, 12, 2)]
    assert any("line 4: C is SYNCHRONIZED" in w and "slack bytes" in w for w in parsed.warnings)


# ----------------------------------------------------------------------------- OCCURS


def test_occurs_on_an_elementary_item_expands_with_subscripts(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
            05  EMP-ID     PIC X(4).
            05  QTR-WAGES  PIC S9(7)V99 COMP-3 OCCURS 4 TIMES.
            05  FLAG       PIC X OCCURS 2.
            05  LAST       PIC X.
    """))
    check_layout(dataset)
    names = [f["name"] for f in dataset["fields"]]
    assert names == ["EMP-ID", "QTR-WAGES(1)", "QTR-WAGES(2)", "QTR-WAGES(3)", "QTR-WAGES(4)",
                     "FLAG(1)", "FLAG(2)", "LAST"]
    f = by_name(dataset)
    assert [cols(f[f"QTR-WAGES({k})"]) for k in range(1, 5)] == [
        (5, 9, 5), (10, 14, 5), (15, 19, 5), (20, 24, 5),
    ]
    assert cols(f["FLAG(2)"]) == (26, 26, 1)
    assert cols(f["LAST"]) == (27, 27, 1)
    assert dataset["extra"]["record_length"] == 27


def test_occurs_on_groups_nested(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
            05  MONTH OCCURS 3 TIMES INDEXED BY M-IDX.
                10  HOURS   PIC 9(3).
                10  FILLER  PIC X.
                10  DAY     OCCURS 2 TIMES ASCENDING KEY IS D.
                    15  D   PIC X.
            05  TAIL        PIC X(2).
    """))
    check_layout(dataset)
    names = [f["name"] for f in dataset["fields"]]
    assert names == [
        "HOURS(1)", "D(1,1)", "D(1,2)", "HOURS(2)", "D(2,1)", "D(2,2)", "HOURS(3)", "D(3,1)",
        "D(3,2)", "TAIL",
    ]
    f = by_name(dataset)
    assert cols(f["HOURS(2)"]) == (7, 9, 3)  # each MONTH is 3 + 1 + 2 = 6 bytes
    assert cols(f["D(2,2)"]) == (12, 12, 1)
    assert cols(f["D(3,2)"]) == (18, 18, 1)
    assert cols(f["TAIL"]) == (19, 20, 2)
    assert f["D(1,1)"]["description"] == "in group MONTH > DAY"


def test_occurs_with_one_occurrence_still_gets_a_subscript(tmp_path: Path) -> None:
    dataset = one(tmp_path, "       01  REC.\n           05  A PIC X(2) OCCURS 1 TIMES.\n")
    assert [f["name"] for f in dataset["fields"]] == ["A(1)"]


def test_huge_elementary_occurs_is_kept_as_one_field(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  REC.
            05  ID     PIC X(2).
            05  CELLS  PIC 9(3) OCCURS 5000 TIMES.
            05  LAST   PIC X.
    """))
    dataset = parsed.datasets[0]
    f = by_name(dataset)
    assert list(f) == ["ID", "CELLS", "LAST"]
    assert cols(f["CELLS"]) == (3, 15002, 15000)
    assert "OCCURS 5000 TIMES" in f["CELLS"]["description"]
    assert "3 bytes each" in f["CELLS"]["description"]
    assert cols(f["LAST"]) == (15003, 15003, 1)
    assert dataset["extra"]["record_length"] == 15003
    assert any(w.startswith("line 3: OCCURS 5000 TIMES on CELLS would make 5000 fields")
               for w in parsed.warnings)


def test_huge_group_occurs_lists_its_first_occurrence(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  REC.
            05  ROWS OCCURS 600 TIMES.
                10  A  PIC X.
                10  B  PIC 9(2).
            05  LAST   PIC X.
    """))
    dataset = parsed.datasets[0]
    f = by_name(dataset)
    assert list(f) == ["A(1)", "B(1)", "LAST"]
    assert cols(f["B(1)"]) == (2, 3, 2)
    assert "occurrence 1 of 600 of ROWS" in f["A(1)"]["description"]
    assert "to column 1800" in f["A(1)"]["description"]
    assert cols(f["LAST"]) == (1801, 1801, 1)
    assert dataset["extra"]["record_length"] == 1801
    assert any("would make 1200 fields" in w and "first occurrence" in w for w in parsed.warnings)


def test_occurs_depending_on_uses_the_maximum_and_warns(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  CLAIM-REC.
            05  CLAIM-ID    PIC X(5).
            05  WEEK-COUNT  PIC 9(2).
            05  WEEKS OCCURS 1 TO 10 TIMES DEPENDING ON WEEK-COUNT.
                10  WEEK-AMT  PIC 9(3).
    """))
    dataset = parsed.datasets[0]
    check_layout(dataset)
    assert len(dataset["fields"]) == 12
    f = by_name(dataset)
    assert cols(f["WEEK-AMT(1)"]) == (8, 10, 3)
    assert cols(f["WEEK-AMT(10)"]) == (35, 37, 3)
    assert "DEPENDING ON WEEK-COUNT" in f["WEEK-AMT(10)"]["description"]
    extra = dataset["extra"]
    assert extra["record_length"] == 37
    assert extra["variable_length"] is True and extra["min_record_length"] == 10
    assert any(w.startswith("line 4: WEEKS OCCURS 1 TO 10 TIMES DEPENDING ON WEEK-COUNT")
               and "variable length (10 to 37 bytes)" in w for w in parsed.warnings)


def test_elementary_occurs_depending_on(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
            05  N  PIC 9.
            05  X  PIC X(2) OCCURS 0 TO 3 DEPENDING N.
    """))
    assert [f["name"] for f in dataset["fields"]] == ["N", "X(1)", "X(2)", "X(3)"]
    assert dataset["extra"]["min_record_length"] == 1
    assert dataset["extra"]["record_length"] == 7


# ----------------------------------------------------------------------------- REDEFINES


def test_redefines_overlays_without_lengthening_the_record(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  REC.
            05  PAY-DATE        PIC 9(8).
            05  PAY-DATE-PARTS  REDEFINES PAY-DATE.
                10  PAY-YYYY    PIC 9(4).
                10  PAY-MM      PIC 99.
                10  PAY-DD      PIC 99.
            05  PAY-DATE-X      REDEFINES PAY-DATE PIC X(8).
            05  AMOUNT          PIC S9(5)V99 COMP-3.
            05  AMOUNT-X        REDEFINES AMOUNT PIC X(4).
            05  LAST            PIC X.
    """))
    assert parsed.warnings == []
    dataset = parsed.datasets[0]
    f = by_name(dataset)
    assert cols(f["PAY-DATE"]) == (1, 8, 8)
    assert cols(f["PAY-YYYY"]) == (1, 4, 4)
    assert cols(f["PAY-MM"]) == (5, 6, 2)
    assert cols(f["PAY-DD"]) == (7, 8, 2)
    assert cols(f["PAY-DATE-X"]) == (1, 8, 8)
    assert cols(f["AMOUNT"]) == (9, 12, 4)
    assert cols(f["AMOUNT-X"]) == (9, 12, 4)
    assert cols(f["LAST"]) == (13, 13, 1)
    assert dataset["extra"]["record_length"] == 13
    assert f["PAY-MM"]["description"] == "in group PAY-DATE-PARTS; redefines PAY-DATE"
    assert f["AMOUNT-X"]["description"] == "redefines AMOUNT"
    assert f["AMOUNT"]["description"] is None


def test_a_longer_redefinition_extends_the_record_with_a_warning(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  REC.
            05  A   PIC X(2).
            05  B   REDEFINES A PIC X(5).
            05  C   PIC X.
    """))
    f = by_name(parsed.datasets[0])
    assert cols(f["B"]) == (1, 5, 5) and cols(f["C"]) == (6, 6, 1)
    assert parsed.warnings == ["line 3: B (5 bytes) is longer than A (2 bytes), which it "
                               "redefines"]


def test_redefines_of_an_unknown_item(tmp_path: Path) -> None:
    fails(tmp_path, free("""
        01  REC.
            05  A   PIC X(2).
            05  B   REDEFINES NOPE PIC X(2).
    """), 3, "B REDEFINES NOPE", "no earlier item")


def test_redefining_01_records_are_layouts_of_their_own(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  HEADER-REC.
            05  REC-TYPE   PIC X.
            05  RUN-DATE   PIC 9(8).
        01  DETAIL-REC REDEFINES HEADER-REC.
            05  REC-TYPE   PIC X.
            05  SSN        PIC 9(9).
    """), "wagefile.cpy")
    header, detail = parsed.datasets
    assert (header["identifier"], header["title"]) == ("wagefile-HEADER-REC", "HEADER-REC")
    assert (detail["identifier"], detail["title"]) == ("wagefile-DETAIL-REC", "DETAIL-REC")
    assert {header["extra"]["source_identifier"], detail["extra"]["source_identifier"]} == {
        "wagefile"}
    assert header["extra"]["record_length"] == 9
    assert detail["extra"]["record_length"] == 10
    assert detail["extra"]["redefines"] == "HEADER-REC"
    assert "Redefines record HEADER-REC" in detail["description"]
    assert cols(by_name(detail)["SSN"]) == (2, 10, 9)


# ----------------------------------------------------------------------------- FILLER, 88


def test_filler_bytes_are_counted_but_not_listed(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
            05  A        PIC X(2).
            05  FILLER   PIC X(3).
            05           PIC X(4).
            05  filler   PIC 9(2) COMP-3.
            05  FILLER.
                10  B    PIC X.
            05  C        PIC X.
    """))
    check_layout(dataset)
    f = by_name(dataset)
    assert list(f) == ["A", "B", "C"]
    assert cols(f["B"]) == (12, 12, 1)
    assert cols(f["C"]) == (13, 13, 1)
    assert f["B"]["description"] is None  # an unnamed group adds nothing to the path
    assert dataset["extra"]["record_length"] == 13


def test_88_levels_become_value_labels(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
            05  STATUS   PIC X.
                88  ACTIVE       VALUE 'A'.
                88  INACTIVE     VALUES ARE 'I' "X" 'Z'.
                88  BLANK-STATUS VALUE SPACES.
            05  RATING   PIC 99.
                88  LOW          VALUE 0 THRU 49.
                88  HIGH         VALUE IS 50 THROUGH 99.
            05  QUOTED   PIC X(3).
                88  ITS          VALUE 'IT''S'.
                88  HEX-FF       VALUE X'FF'.
                88  ON-FLAG      VALUE 'Y' WHEN SET TO FALSE IS 'N'.
    """))
    f = by_name(dataset)
    assert codes(f["STATUS"]) == [
        ("A", "ACTIVE"), ("I", "INACTIVE"), ("X", "INACTIVE"), ("Z", "INACTIVE"),
        ("SPACES", "BLANK-STATUS"),
    ]
    assert codes(f["RATING"]) == [("0 THRU 49", "LOW"), ("50 THRU 99", "HIGH")]
    assert codes(f["QUOTED"]) == [("IT'S", "ITS"), ("X'FF'", "HEX-FF"), ("Y", "ON-FLAG")]


def test_88_level_errors(tmp_path: Path) -> None:
    fails(tmp_path, "       88  ORPHAN VALUE 'A'.\n", 1, "ORPHAN", "follows no data item")
    fails(tmp_path, free("""
        01  REC.
            05  A  PIC X.
                88  NO-VALUE.
    """), 3, "NO-VALUE", "needs a VALUE clause")


def test_88_on_a_group_is_reported(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  REC.
            05  G.
                88  G-EMPTY VALUE SPACES.
                10  A  PIC X.
    """))
    assert by_name(parsed.datasets[0])["A"]["value_labels"] == []
    assert any("G-EMPTY on group G are not kept" in w for w in parsed.warnings)


def test_initial_values_are_noted(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
            05  REC-TYPE  PIC X(2) VALUE 'WR'.
            05  COUNT     PIC 9(3) VALUE ZERO.
            05  RATE      PIC 9V99 VALUE 1.25.
    """))
    f = by_name(dataset)
    assert f["REC-TYPE"]["description"] == "initial value WR"
    assert f["COUNT"]["description"] == "initial value ZERO"
    assert f["RATE"]["description"] == "initial value 1.25"


# ----------------------------------------------------------------------------- source format


def test_fixed_format_columns_comments_and_identification_area(tmp_path: Path) -> None:
    text = fixed(
        "* A COMMENT LINE WITH PIC X(99) THAT IS NOT CODE",
        "/ A PAGE-EJECT COMMENT",
        " 01  REC.",
        "     05  A   PIC X(2).",
        "D    05  DEBUG-ONLY PIC X(50).",
        "     05  B   PIC 9(3).",
        ident="X(99).Z ",  # columns 73-80 are ignored, whatever they hold
    )
    dataset = one(tmp_path, text)
    assert [f["name"] for f in dataset["fields"]] == ["A", "B"]
    assert dataset["extra"]["record_length"] == 5
    assert dataset["description"].startswith("A COMMENT LINE WITH PIC X(99)")
    assert dataset["extra"]["source_format"] == "fixed"


def test_fixed_format_without_sequence_numbers(tmp_path: Path) -> None:
    text = (
        "      * HEADER\n"
        "       01  REC.\n"
        f"{'           05  A   PIC X(2).':<72}IDENT001\n"
        "           05  B   PIC 9(3).\n"
    )
    dataset = one(tmp_path, text)
    assert [cols(f) for f in dataset["fields"]] == [(1, 2, 2), (3, 5, 3)]
    assert dataset["description"].startswith("HEADER")


def test_continuation_lines(tmp_path: Path) -> None:
    opening = "     05  TITLE-TEXT   PIC X(70) VALUE 'WAGES REPORTED"
    text = fixed(
        " 01  REC.",
        opening,
        "-    ' FOR THE QUARTER'.",
        "     05  AMOUNT       PIC S9(7)V9",
        "-    9 COMP-3.",
        "     05  CO",
        "-        DE PIC X(3).",
    )
    dataset = one(tmp_path, text)
    f = by_name(dataset)
    # a continued literal runs to column 72, then goes on after the quote
    value = f["TITLE-TEXT"]["description"].removeprefix("initial value ")
    quote_column = 7 + opening.index("'")  # the indicator is column 7
    assert value == "WAGES REPORTED".ljust(72 - quote_column) + " FOR THE QUARTER"
    assert cols(f["AMOUNT"]) == (71, 75, 5)  # S9(7)V99 COMP-3 joined from two lines
    assert cols(f["CODE"]) == (76, 78, 3)


def test_free_format_with_floating_comments(tmp_path: Path) -> None:
    long_name = "A-VERY-LONG-DATA-NAME-THAT-PUSHES-THE-LINE-PAST-COLUMN-EIGHTY-IN-FREE"
    dataset = one(tmp_path, free(f"""
        *> Claimant master record
        01 claimant-rec.
           05 claimant-ssn pic 9(9). *> social security number
           *> the benefit year
           05 benefit-year pic 9(4).
           05 {long_name} pic x(3).
        """))
    assert dataset["extra"]["source_format"] == "free"
    assert dataset["title"] == "claimant-rec"
    assert dataset["description"].startswith("Claimant master record")
    f = by_name(dataset)
    assert f["claimant-ssn"]["description"] == "social security number"
    assert f["benefit-year"]["description"] == "the benefit year"
    assert cols(f[long_name]) == (14, 16, 3)


def test_indented_free_format_with_lines_past_column_72(tmp_path: Path) -> None:
    long_line = "           05  EMPLOYER-LEGAL-NAME-AS-REGISTERED-WITH-THE-STATE   PIC X(40)."
    assert 72 < len(long_line) <= 80
    dataset = one(tmp_path, f"       01  REC.\n{long_line}\n           05  B PIC X.\n")
    assert dataset["extra"]["source_format"] == "free"
    assert [cols(f) for f in dataset["fields"]] == [(1, 40, 40), (41, 41, 1)]


def test_free_format_star_comment_lines_and_tabs(tmp_path: Path) -> None:
    dataset = one(tmp_path, "* header\n01 REC.\n\t05 A PIC X.\n\t05 B PIC X(2).\n")
    assert [cols(f) for f in dataset["fields"]] == [(1, 1, 1), (2, 3, 2)]


def test_fragment_without_01_level(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        * Employer address block, copied under 05 levels
            05  EMP-NAME     PIC X(30).
            05  EMP-ADDRESS.
                10  STREET   PIC X(30).
                10  ZIP      PIC 9(5).
    """), "empaddr.cpy")
    assert (dataset["identifier"], dataset["title"]) == ("empaddr", "empaddr")
    assert dataset["description"].startswith("Employer address block")
    f = by_name(dataset)
    assert f["EMP-NAME"]["description"] is None
    assert cols(f["ZIP"]) == (61, 65, 5)
    assert f["ZIP"]["description"] == "in group EMP-ADDRESS"


def test_group_comment_joins_the_group_path(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        01  REC.
        *   Employer identification
            05  EMPLOYER.
                10  EMP-ID  PIC X(9).
    """))
    assert dataset["fields"][0]["description"] == (
        "in group EMPLOYER (Employer identification)"
    )


def test_66_and_77_levels_are_skipped_with_warnings(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        77  WS-COUNT  PIC 9(4) COMP.
            88  WS-NONE VALUE 0.
        01  REC.
            05  A  PIC X(2).
            05  B  PIC X(3).
        66  A-AND-B RENAMES A THRU B.
    """))
    dataset = parsed.datasets[0]
    assert [f["name"] for f in dataset["fields"]] == ["A", "B"]
    assert any(w.startswith("line 1: 77-level item WS-COUNT") for w in parsed.warnings)
    assert any(w.startswith("line 6: 66-level A-AND-B RENAMES A THRU B") for w in parsed.warnings)


def test_division_section_and_fd_entries_are_skipped(tmp_path: Path) -> None:
    dataset = one(tmp_path, free("""
        DATA DIVISION.
        FILE SECTION.
        FD  WAGE-FILE RECORDING MODE IS F RECORD CONTAINS 12 CHARACTERS.
        01  WAGE-REC.
            EJECT
            05  A  PIC X(12).
        WORKING-STORAGE SECTION.
    """))
    assert [cols(f) for f in dataset["fields"]] == [(1, 12, 12)]


def test_last_entry_without_a_period(tmp_path: Path) -> None:
    parsed = parse(tmp_path, "01 REC.\n   05 A PIC X(2).\n   05 B PIC X(3)\n")
    assert cols(by_name(parsed.datasets[0])["B"]) == (3, 5, 3)
    assert parsed.warnings == ["line 3: the last entry is not ended by a period"]


def test_several_records_and_a_filler_only_record(tmp_path: Path) -> None:
    parsed = parse(tmp_path, free("""
        01  A-REC.
            05  X  PIC X.
        01  PAD-REC.
            05  FILLER  PIC X(10).
        01  C-REC  PIC X(5).
    """), "multi.cpy")
    assert [d["identifier"] for d in parsed.datasets] == ["multi-A-REC", "multi-C-REC"]
    assert cols(parsed.datasets[1]["fields"][0]) == (1, 5, 5)
    assert parsed.datasets[1]["fields"][0]["name"] == "C-REC"
    assert any("PAD-REC has no named elementary items" in w for w in parsed.warnings)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("clause", "words"),
    [
        ("PIC 9(", ("PIC '9('", "cut off", "repeat count and ')'")),
        ("PIC S9(7)V9(", ("cut off",)),
        ("PIC X(A)", ("expected a repeat count", "'A'")),
        ("PIC X(0)", ("expected a repeat count",)),
        ("PIC (5)", ("needs a symbol before it",)),
        ("PIC X#", ("'#'", "expected picture symbols")),
        ("PIC 9S9", ("S must come first",)),
        ("PIC XV9", ("numeric pictures only",)),
        ("PIC", ("expected a picture string after PIC", "the entry ends there")),
        ("PIC X(3) COLOUR RED", ("unexpected 'COLOUR'", "expected a clause")),
        ("PIC X(3) USAGE IS FANCY", ("expected a usage after USAGE", "'FANCY'")),
        ("PIC X(3) COMP-3", ("USAGE COMP-3 needs a numeric PIC", "'X(3)'")),
        ("PIC 9(19) COMP", ("at most 18 digits",)),
        ("PIC X OCCURS MANY TIMES", ("expected a whole number after OCCURS", "'MANY'")),
        ("PIC X OCCURS 5 TO 2 DEPENDING ON N", ("OCCURS 5 TO 2",)),
        ("PIC X OCCURS 1 TO 3", ("needs DEPENDING ON",)),
        ("PIC X VALUE", ("expected a literal after VALUE",)),
        ("PIC X SIGN IS UP", ("LEADING or TRAILING",)),
        ("VALUE 'A'", ("no PIC clause and no subordinate items",)),
    ],
)
def test_clause_errors_name_the_line(tmp_path: Path, clause: str, words: tuple[str, ...]) -> None:
    text = f"       01  REC.\n           05  OK  PIC X.\n           05  BAD {clause}.\n"
    fails(tmp_path, text, 3, *words)


def test_picture_cut_off_at_the_end_of_the_file(tmp_path: Path) -> None:
    fails(tmp_path, "       01  REC.\n           05  A  PIC 9(5\n", 2, "cut off")


def test_structural_errors(tmp_path: Path) -> None:
    fails(tmp_path, "01 REC.\n   55 A PIC X.\n", 2, "level number 55 is not valid")
    fails(tmp_path, "01 REC.\n   05 A PIC X.\n   MOVE A TO B.\n", 3,
          "expected a level number", "'MOVE'")
    fails(tmp_path, "01 REC.\n   05 A PIC X.\n      10 B PIC X.\n", 3,
          "B (level 10) is subordinate to A", "PIC clause")
    fails(tmp_path, "01 REC.\n   05 A PIC X VALUE 'OPEN.\n", 2, "never closed")
    fails(tmp_path, "01 REC.\n   05 123 PIC X.\n", 2, "expected a data name", "'123'")


def test_fixed_format_errors(tmp_path: Path) -> None:
    text = fixed(" 01  REC.", "     05  A   PIC X(2).", "X    05  B   PIC X.")
    fails(tmp_path, text, 3, "column 7 holds 'X'")
    text = fixed("-    05  A   PIC X(2).", " 01  REC.")
    fails(tmp_path, text, 1, "continuation line", "no line to continue")
    text = fixed(" 01  REC.", "     05  A   PIC X(10) VALUE 'ABC", "-    DEF'.")
    fails(tmp_path, text, 3, "continued literal")


def test_not_a_copybook_at_all(tmp_path: Path) -> None:
    path = write(tmp_path, "* only a comment\n")
    with pytest.raises(FormatError, match="not a COBOL copybook"):
        cobol_copybook.parse(path)


# ----------------------------------------------------------------------------- detection


SAS_TEXT = "DATA x;\n  INFILE 'x.dat';\n  INPUT @1 A $CHAR2. @3 B 4.;\nRUN;\n"
SPSS_TEXT = "DATA LIST FIXED / a 1-3 b 4-6.\nVARIABLE LABELS a 'A'.\n"
PROSE = "1 The PIC clause gives the width.\nIt is described in chapter 5.\n"


def test_detection_is_by_content(tmp_path: Path) -> None:
    copybook = "       01  REC.\n           05  A  PIC X.\n           05  B  PIC 9(2).\n"
    for name in ("a.cpy", "a.cbl", "a.cob", "a.txt", "a"):
        path = write(tmp_path, copybook, name)
        assert cobol_copybook.detect(path, read_head(path)), name
        assert formats.detect(path) is cobol_copybook, name
    for text in (SAS_TEXT, SPSS_TEXT, PROSE, "x,y\n1,2\n"):
        path = write(tmp_path, text, "other.txt")
        assert not cobol_copybook.detect(path, read_head(path)), text
    # one PIC line is enough with a COBOL extension, not without one
    path = write(tmp_path, "01 A PIC X.\n", "one.txt")
    assert not cobol_copybook.detect(path, read_head(path))
    path = write(tmp_path, "01 A PIC X.\n", "one.cpy")
    assert cobol_copybook.detect(path, read_head(path))
    assert formats.FORMAT_MODULES.index("cobol_copybook") < formats.FORMAT_MODULES.index(
        "socrata_markdown"
    )
