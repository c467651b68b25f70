"""SPSS syntax (DATA LIST setup files): hand-written edge cases of every construct read.

Every input is written inline to ``tmp_path``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from indexer import formats
from indexer.formats import sas_program, spss_syntax
from indexer.formats.base import FormatError, ParsedFile, read_head
from indexer.load import validate_dataset


def write(tmp_path: Path, text: str, name: str = "setup.sps") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def parse(tmp_path: Path, text: str, name: str = "setup.sps") -> ParsedFile:
    path = write(tmp_path, text, name)
    assert spss_syntax.detect(path, read_head(path)), "SPSS syntax not detected"
    parsed = spss_syntax.parse(path)
    assert parsed.format == "spss-syntax"
    for index, dataset in enumerate(parsed.datasets):
        record, errors = validate_dataset(dataset, index)
        assert record is not None and errors == [], errors
    return parsed


def one(tmp_path: Path, text: str, name: str = "setup.sps") -> dict[str, Any]:
    parsed = parse(tmp_path, text, name)
    assert len(parsed.datasets) == 1
    return parsed.datasets[0]


def by_name(dataset: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in dataset["fields"]}


def cols(field: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    return field["start_col"], field["end_col"], field["width"]


def codes(field: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v["code"], v["label"]) for v in field["value_labels"]]


def fails(tmp_path: Path, text: str, line: int, *words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(FormatError) as info:
        spss_syntax.parse(path)
    message = str(info.value)
    assert info.value.line == line, message
    assert message.startswith(f"line {line}: "), message
    for word in words:
        assert word in message, message


# ----------------------------------------------------------------------------- realistic

SETUP = """
* ICPSR 9999: Quarterly Census of Unemployment Insurance Wages, 2015.
* SPSS setup file: reads the fixed-width data file and labels it.

FILE HANDLE wages /NAME='uiwages2015.dat' LRECL=64.
TITLE 'UI wage records, 2015'.

DATA LIST FILE=wages FIXED RECORDS=1 /
   EMPID 1-10 (A)   SSN 11-19 (A)   YEAR 20-23   QTR 24
   WAGES 25-33 (2)  /* total wages, two implied decimals */
   M1 TO M3 34-39
   PAYDATE 40-49 (ADATE)   HOURS 50-55 (F,1)
   OWNER 56   COUNTY 57-59   STATUS 60-61 (A)   FLAG1 TO FLAG3 62-64 (A)
.

VARIABLE LABELS
   EMPID   "Employer account number" /
   SSN     'Social security number' /
   WAGES   "Total wages paid in the quarter, " + "in dollars"
   QTR     'Calendar quarter'
   M1      "Employed in month 1 of the quarter"
.

VALUE LABELS
   QTR     1 'First quarter' 2 'Second quarter' 3 'Third quarter' 4 'Fourth quarter' /
   M1 M2 M3  0 'Not employed' 1 'Employed' /
   OWNER   1 'Federal government' 2 'State government' 3 'Local government'
           5 'Private' /
   STATUS  'AC' "Active" 'IN' 'Inactive' 'X''Y' 'Quoted'
.

MISSING VALUES WAGES (-1, 999999999) / COUNTY ('999').

EXECUTE.
"""


def test_realistic_setup_file(tmp_path: Path) -> None:
    path = write(tmp_path, SETUP, "ui_wages_2015.sps")
    assert formats.detect(path) is spss_syntax
    parsed = parse(tmp_path, SETUP, "ui_wages_2015.sps")
    assert parsed.warnings == []
    dataset = parsed.datasets[0]
    assert dataset["identifier"] == "ui_wages_2015"
    assert "source_identifier" not in dataset["extra"]  # the file's name is its identifier
    assert dataset["title"] == "UI wage records, 2015"
    assert dataset["layout"] is True
    assert dataset["description"].startswith(
        "ICPSR 9999: Quarterly Census of Unemployment Insurance Wages, 2015. SPSS setup file"
    )
    assert dataset["description"].endswith(
        "SPSS syntax for a fixed-width data file (16 variables, record length 64)."
    )
    extra = dataset["extra"]
    assert extra["record_length"] == 64
    assert extra["data_file"] == "uiwages2015.dat"
    assert extra["lrecl"] == 64
    fields = dataset["fields"]
    assert [f["position"] for f in fields] == list(range(1, 17))
    assert [f["name"] for f in fields] == [
        "EMPID", "SSN", "YEAR", "QTR", "WAGES", "M1", "M2", "M3", "PAYDATE", "HOURS", "OWNER",
        "COUNTY", "STATUS", "FLAG1", "FLAG2", "FLAG3",
    ]
    f = by_name(dataset)
    expected = {
        "EMPID": (1, 10, 10), "SSN": (11, 19, 9), "YEAR": (20, 23, 4), "QTR": (24, 24, 1),
        "WAGES": (25, 33, 9), "M1": (34, 35, 2), "M2": (36, 37, 2), "M3": (38, 39, 2),
        "PAYDATE": (40, 49, 10), "HOURS": (50, 55, 6), "OWNER": (56, 56, 1),
        "COUNTY": (57, 59, 3), "STATUS": (60, 61, 2), "FLAG1": (62, 62, 1),
        "FLAG3": (64, 64, 1),
    }
    for name, columns in expected.items():
        assert cols(f[name]) == columns, name
    assert (f["EMPID"]["data_type"], f["EMPID"]["format"], f["EMPID"]["decimals"]) == (
        "string", "A10", None)
    assert f["EMPID"]["source_type"] == "(A)"
    assert (f["WAGES"]["data_type"], f["WAGES"]["format"], f["WAGES"]["decimals"]) == (
        "number", "F9.2", 2)
    assert (f["YEAR"]["format"], f["YEAR"]["decimals"], f["YEAR"]["source_type"]) == (
        "F4.0", 0, None)
    assert (f["PAYDATE"]["data_type"], f["PAYDATE"]["format"]) == ("date", "ADATE10")
    assert (f["HOURS"]["format"], f["HOURS"]["decimals"]) == ("F6.1", 1)
    assert f["FLAG2"]["data_type"] == "string"
    assert f["EMPID"]["label"] == "Employer account number"
    assert f["WAGES"]["label"] == "Total wages paid in the quarter, in dollars"
    assert f["QTR"]["label"] == "Calendar quarter"  # no slash needed between pairs
    assert f["M2"]["label"] is None
    assert codes(f["QTR"])[0] == ("1", "First quarter") and len(codes(f["QTR"])) == 4
    for name in ("M1", "M2", "M3"):
        assert codes(f[name]) == [("0", "Not employed"), ("1", "Employed")]
    assert codes(f["OWNER"])[-1] == ("5", "Private")
    assert codes(f["STATUS"]) == [("AC", "Active"), ("IN", "Inactive"), ("X'Y", "Quoted")]
    assert f["WAGES"]["description"] == "missing values: -1, 999999999"
    assert f["COUNTY"]["description"] == "missing values: '999'"


# ----------------------------------------------------------------------------- DATA LIST


def test_minimal_data_list_and_case_insensitive_keywords(tmp_path: Path) -> None:
    dataset = one(tmp_path, """
        data list fixed /id 1-3 Name 4-13 (a) score 14-16 (1).
        var labels id 'Identifier' /Name 'Name'.
        value lab score 1 'low'.
        variable labels SCORE "Score".
    """)
    f = by_name(dataset)
    assert [cols(x) for x in dataset["fields"]] == [(1, 3, 3), (4, 13, 10), (14, 16, 3)]
    assert f["Name"]["data_type"] == "string"
    assert f["score"]["decimals"] == 1
    assert f["score"]["label"] == "Score"  # names are matched case-insensitively
    assert codes(f["score"]) == [("1", "low")]
    assert f["id"]["label"] == "Identifier"


def test_data_list_without_slash_and_default_fixed(tmp_path: Path) -> None:
    dataset = one(tmp_path, "DATA LIST a 1-2 b 3.\n")
    assert [cols(x) for x in dataset["fields"]] == [(1, 2, 2), (3, 3, 1)]
    dataset = one(tmp_path, "DATA LIST FILE='C:\\data\\x.dat' /a 1-2 b 3.\n")
    assert dataset["extra"]["data_file"] == "C:\\data\\x.dat"


def test_to_ranges_share_the_columns_equally(tmp_path: Path) -> None:
    dataset = one(tmp_path, """
        DATA LIST FIXED / v1 TO v5 1-10 q01 TO q10 11-20 (A) a b c 21 - 26.
    """)
    names = [f["name"] for f in dataset["fields"]]
    assert names[:5] == ["v1", "v2", "v3", "v4", "v5"]
    assert names[5:15] == [f"q{n:02d}" for n in range(1, 11)]
    assert names[15:] == ["a", "b", "c"]
    f = by_name(dataset)
    assert cols(f["v1"]) == (1, 2, 2) and cols(f["v5"]) == (9, 10, 2)
    assert cols(f["q10"]) == (20, 20, 1) and f["q10"]["data_type"] == "string"
    assert cols(f["c"]) == (25, 26, 2)


@pytest.mark.parametrize(
    ("spec", "data_type", "decimals", "fmt"),
    [
        ("(A)", "string", None, "A6"),
        ("(3)", "number", 3, "F6.3"),
        ("(F,2)", "number", 2, "F6.2"),
        ("(F6.2)", "number", 2, "F6.2"),
        ("(COMMA,2)", "number", 2, "COMMA6.2"),
        ("(DOLLAR)", "number", 0, "DOLLAR6"),
        ("(N)", "integer", 0, "N6.0"),
        ("(ADATE)", "date", None, "ADATE6"),
        ("(DATETIME)", "datetime", None, "DATETIME6"),
        ("(time)", "time", None, "TIME6"),
        ("", "number", 0, "F6.0"),
    ],
)
def test_column_style_formats(tmp_path: Path, spec: str, data_type: str,
                              decimals: int | None, fmt: str) -> None:
    field = one(tmp_path, f"DATA LIST FIXED / x 5-10 {spec}.\n")["fields"][0]
    assert cols(field) == (5, 10, 6)
    assert (field["data_type"], field["decimals"], field["format"]) == (data_type, decimals, fmt)
    assert field["source_type"] == (spec or None)


def test_fortran_like_formats(tmp_path: Path) -> None:
    dataset = one(tmp_path, """
        DATA LIST FIXED
          / id (F5) name (A10) x1 TO x3 (3F2.1) y (2X, A3) z (T40, F4.2) w (a2)
          / c1 TO c4 (2F1, A2).
    """)
    f = by_name(dataset)
    assert cols(f["id"]) == (1, 5, 5) and f["id"]["format"] == "F5.0"
    assert cols(f["name"]) == (6, 15, 10) and f["name"]["data_type"] == "string"
    assert cols(f["x1"]) == (16, 17, 2) and cols(f["x3"]) == (20, 21, 2)
    assert f["x2"]["decimals"] == 1 and f["x2"]["source_type"] == "F2.1"
    assert cols(f["y"]) == (24, 26, 3)  # 2X skips columns 22-23
    assert cols(f["z"]) == (40, 43, 4) and f["z"]["decimals"] == 2  # T40 tabs to column 40
    assert cols(f["w"]) == (44, 45, 2)
    # the format list is reused for the variables left over: F1 F1 A2 F1
    assert [cols(f[n]) for n in ("c1", "c2", "c3", "c4")] == [
        (1, 1, 1), (2, 2, 1), (3, 4, 2), (5, 5, 1),
    ]
    assert f["c3"]["data_type"] == "string" and f["c4"]["data_type"] == "number"
    assert f["c1"]["description"] == "record 2 of 2"


def test_several_records_per_case(tmp_path: Path) -> None:
    parsed = parse(tmp_path, """
        DATA LIST FILE=x RECORDS=3
          /1 a 1-5 b 6-10
          /3 c 1-5 d 3-4.
    """)
    dataset = parsed.datasets[0]
    f = by_name(dataset)
    assert cols(f["c"]) == (1, 5, 5)
    assert f["a"]["description"] == "record 1 of 3"
    assert f["c"]["description"] == "record 3 of 3"
    assert dataset["extra"]["records_per_case"] == 3
    # a and c share columns 1-5 on different records: only c and d overlap
    assert parsed.warnings == ["line 3: columns of c (1-5) and d (3-4) overlap on record 3"]
    dataset = one(tmp_path, "DATA LIST / a 1-5 / b 1-5 / c 1-2.\n")
    assert [f["description"] for f in dataset["fields"]] == [
        "record 1 of 3", "record 2 of 3", "record 3 of 3",
    ]


def test_overlapping_columns_are_warnings_naming_both(tmp_path: Path) -> None:
    parsed = parse(tmp_path, """
        DATA LIST FIXED / whole 1-8 year 1-4 month 5-6 day 7-8
           next 9-10 late 10-12.
    """)
    assert parsed.warnings == [
        "line 1: columns of whole (1-8) and year (1-4) overlap",
        "line 1: columns of whole (1-8) and month (5-6) overlap",
        "line 1: columns of whole (1-8) and day (7-8) overlap",
        "line 2: columns of next (9-10) and late (10-12) overlap",
    ]
    assert parsed.datasets[0]["extra"]["record_length"] == 12


def test_free_data_list_is_not_a_fixed_layout(tmp_path: Path) -> None:
    dataset = one(tmp_path, "DATA LIST FREE (',') / id name (A20) score (F5.1) w.\n")
    assert dataset["layout"] is False
    assert "record_length" not in dataset["extra"]
    f = by_name(dataset)
    assert cols(f["name"]) == (None, None, None)
    # a format applies to every name before it: id and name are both A20
    assert (f["id"]["data_type"], f["name"]["format"]) == ("string", "A20")
    assert (f["score"]["decimals"], f["score"]["format"]) == (1, "F5.1")
    assert (f["w"]["data_type"], f["w"]["format"], f["w"]["decimals"]) == ("number", "F8.2", 2)
    assert "delimited" in dataset["description"]


def test_several_data_lists_label_their_own_variables(tmp_path: Path) -> None:
    parsed = parse(tmp_path, """
        DATA LIST FIXED / a 1-2.
        VARIABLE LABELS a 'first file'.
        DATA LIST FIXED / a 1-3 b 4.
        VARIABLE LABELS a 'second file'.
    """, "two.sps")
    first, second = parsed.datasets
    assert (first["identifier"], second["identifier"]) == ("two-1", "two-2")
    # The source names only the file: search gives its name as the source's identifier.
    assert first["extra"]["source_identifier"] == second["extra"]["source_identifier"] == "two"
    assert first["fields"][0]["label"] == "first file"
    assert second["fields"][0]["label"] == "second file"


# ----------------------------------------------------------------------------- labels


def test_value_labels_forms(tmp_path: Path) -> None:
    dataset = one(tmp_path, """
        DATA LIST / a 1 b 2 c 3 d 4 s 5-6 (A) n 7-8.
        VALUE LABELS a b c 1 'Yes' 2 'No' / d -1 "Refused" 1.5 'Half'
          s 'M' 'Male' 'F' "Fe" + 'male'.
        VALUE LABELS b TO c 9 'Unknown'.
        ADD VALUE LABELS a 3 'Maybe' 1 'Yes!'.
        VALUE LABELS n 1 'a'
        / n 2 'b'.
    """)
    f = by_name(dataset)
    assert codes(f["a"]) == [("2", "No"), ("3", "Maybe"), ("1", "Yes!")]
    assert codes(f["b"]) == [("9", "Unknown")]  # VALUE LABELS replaces the earlier set
    assert codes(f["c"]) == [("9", "Unknown")]
    assert codes(f["d"]) == [("-1", "Refused"), ("1.5", "Half")]
    assert codes(f["s"]) == [("M", "Male"), ("F", "Female")]
    assert codes(f["n"]) == [("2", "b")]


def test_labels_for_unknown_variables_are_warnings(tmp_path: Path) -> None:
    parsed = parse(tmp_path, """
        VARIABLE LABELS early 'before the data list'.
        DATA LIST / a 1.
        VARIABLE LABELS nope 'x' / a 'A'.
        VALUE LABELS ghost 1 'x'.
    """)
    assert parsed.datasets[0]["fields"][0]["label"] == "A"
    assert parsed.warnings == [
        "line 1: VARIABLE LABELS before any DATA LIST; ignored",
        "line 3: VARIABLE LABELS names nope, which the DATA LIST does not define",
        "line 4: VALUE LABELS names ghost, which the DATA LIST does not define",
    ]


# ----------------------------------------------------------------------------- comments


def test_comments_of_every_kind(tmp_path: Path) -> None:
    parsed = parse(tmp_path, """
        * A comment command
          that runs over two lines.
        *  A comment line with no period
        DATA LIST FIXED / a 1-2 /* inline comment with 'quote */ b 3-4
        /*
           a block comment: c 5-6 is not a variable
        */
           c 5-6 /* comment to the end of the line
        .
        COMMENT Labels follow; don't mind the apostrophe.
        VARIABLE LABELS a 'A' /* trailing */.
        EXECUTE.
    """)
    dataset = parsed.datasets[0]
    assert [f["name"] for f in dataset["fields"]] == ["a", "b", "c"]
    assert by_name(dataset)["a"]["label"] == "A"
    assert dataset["description"].startswith(
        "A comment command that runs over two lines. A comment line with no period"
    )
    assert parsed.warnings == []


def test_command_without_a_period_before_the_next_command(tmp_path: Path) -> None:
    parsed = parse(tmp_path, "DATA LIST / a 1-2 b 3-4\nVARIABLE LABELS a 'A'\n")
    dataset = parsed.datasets[0]
    assert by_name(dataset)["a"]["label"] == "A"
    assert parsed.warnings == [
        "line 1: command DATA LIST is not ended by a period",
        "line 2: command VARIABLE LABELS is not ended by a period",
    ]


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("DATA LIST / a 1-2\n  b 5-.\n", 2, ("columns of b (5-) are cut off",)),
        ("DATA LIST / a 1-2\n  b 9-5.\n", 2, ("columns 9-5 of b", "end >= start")),
        ("DATA LIST / a 1-2\n  b c d 3-7.\n", 2,
         ("columns 3-7 (5) cannot be divided equally among 3 variables (b, c, d)",)),
        ("DATA LIST / a 1-2\n  b.\n", 2, ("expected columns (start-end) or a format", "after b")),
        ("DATA LIST / a 1-2\n  b (Q).\n", 2, ("unknown format 'Q'",)),
        ("DATA LIST / a 1-2\n  b 3-4 (Q).\n", 2, ("unknown format 'Q'",)),
        ("DATA LIST / a 1-2\n  b 3-4 (A B).\n", 2, ("cannot read the format (A B)",)),
        ("DATA LIST / a 1-2\n  b (2(F1,A1)).\n", 2, ("expected columns",)),
        ("DATA LIST / a 1-2\n  b (F).\n", 2, ("the format F needs a width",)),
        ("DATA LIST / a 1-2\n  b (2X).\n", 2, ("has no variable formats",)),
        ("DATA LIST / a 1-2\n  x1 TO y3 3-5.\n", 2, ("cannot expand 'x1 TO y3'",)),
        ("DATA LIST / a 1-2\n  x3 TO x1 3-5.\n", 2, ("cannot expand 'x3 TO x1'",)),
        ("DATA LIST / a 1-2\n  TO b 3.\n", 2, ("TO must stand between two variable names",)),
        ("DATA LIST / a 1-2 '3'.\n", 1, ("expected a variable name in DATA LIST",)),
        ("DATA LIST RECORDS=two / a 1-2.\n", 1, ("expected a whole number after RECORDS=",)),
        ("DATA LIST FILE / a 1-2.\n", 1, ("expected '=' and a value after FILE",)),
        ("DATA LIST / a 1-2.\nVARIABLE LABELS a 'open.\n", 2, ("quoted string is never closed",)),
        ("DATA LIST / a 1-2.\nVARIABLE LABELS\n a 'A'\n b.\n", 4,
         ("expected a quoted label after b",)),
        ("DATA LIST / a 1-2.\nVARIABLE LABELS 'A'.\n", 2, ("expected a variable name",)),
        ("DATA LIST / a 1-2.\nVALUE LABELS a 1 'x'\n 2.\n", 3,
         ("value 2 of a has no quoted label",)),
        ("DATA LIST / a 1-2.\nVALUE LABELS a\n.\n", 2, ("expected values and quoted labels",)),
        ("DATA LIST / a 1-2.\n/* never closed\nVALUE LABELS a 1 'x'.\n", 2,
         ("comment '/*' is never closed",)),
    ],
)
def test_errors_name_the_line(tmp_path: Path, text: str, line: int,
                              words: tuple[str, ...]) -> None:
    fails(tmp_path, text, line, *words)


def test_no_data_list(tmp_path: Path) -> None:
    path = write(tmp_path, "VALUE LABELS a 1 'x'.\n")
    with pytest.raises(FormatError, match="no DATA LIST command"):
        spss_syntax.parse(path)


# ----------------------------------------------------------------------------- detection


def test_detection_is_by_content(tmp_path: Path) -> None:
    setup = "DATA LIST FIXED / a 1-3 b 4-6.\nVARIABLE LABELS a 'A'.\n"
    for name in ("x.sps", "x.txt", "x.syntax", "x"):
        path = write(tmp_path, setup, name)
        assert spss_syntax.detect(path, read_head(path)), name
        assert formats.detect(path) is spss_syntax, name
    others = {
        "sas.sas": "DATA list;\n  INFILE 'x.dat';\n  INPUT a 1-3 b 4-6;\nRUN;\n",
        "sas.txt": "data list (keep=a);\n  set x;\nrun;\n",
        "copy.cpy": "       01  REC.\n           05  A  PIC X.\n",
        "prose.txt": "The data list below gives the codes.\n",
        "freq.sps": "FREQUENCIES VARIABLES=a.\n",
    }
    for name, text in others.items():
        path = write(tmp_path, text, name)
        assert not spss_syntax.detect(path, read_head(path)), name
    sas = write(tmp_path, others["sas.sas"], "sas.sas")
    assert formats.detect(sas) is sas_program
    # without the .sps extension a bare DATA LIST needs labels or column specs beside it
    path = write(tmp_path, "DATA LIST FREE / a b.\n", "free.txt")
    assert not spss_syntax.detect(path, read_head(path))
    path = write(tmp_path, "DATA LIST FREE / a b.\n", "free.sps")
    assert spss_syntax.detect(path, read_head(path))
