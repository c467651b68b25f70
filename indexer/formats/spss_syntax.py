"""SPSS syntax (``.sps``) that reads a fixed-width file: setup files such as ICPSR's.

A setup file declares the record layout with ``DATA LIST`` and labels it::

    * Quarterly wage file.
    FILE HANDLE wages /NAME='wages.dat' LRECL=40.
    DATA LIST FILE=wages FIXED RECORDS=1
      /1 ssn 1-9 (A) quarter 10 wages 11-19 (2) q1 TO q3 20-25.
    VARIABLE LABELS ssn 'Social security number' / wages "Wages paid in the quarter".
    VALUE LABELS quarter 1 'First' 2 'Second' 3 'Third' 4 'Fourth'
      / q1 q2 q3 1 'Yes' 2 'No'.

Each ``DATA LIST`` becomes one record layout (the file name without extension is its
identifier; ``-2``, ``-3``... are added when a file holds several). What is read:

* ``DATA LIST`` options in any order -- ``FILE=``, ``FIXED`` (the default), ``FREE`` /
  ``LIST``, ``RECORDS=n``, ``SKIP=``, ``TABLE`` / ``NOTABLE``, ``ENCODING=`` -- then the
  variable definitions, record by record (``/`` or ``/n``):

  - column style: ``name start-end`` or ``name col``, optionally followed by ``(A)`` (string),
    ``(n)`` (n implied decimal places), ``(TYPE)`` or ``(TYPE,n)`` (``COMMA``, ``ADATE``...);
    several names (``v1 TO v5`` or ``a b c``) share the columns in equal widths;
  - FORTRAN-like style: ``name (F8.2)``, ``v1 TO v5 (5F2.0)``, ``(A10, 2X, T40, F3)``,
    laid out from the column after the previous variable.

  ``v1 TO v5`` in DATA LIST makes v1, v2 ... v5 (zero padding kept: q01 TO q10).
  FREE / LIST data lists give variables without columns (not a fixed-width layout).
* ``VARIABLE LABELS name 'label' / name2 "label2" ...`` (``+`` joins string pieces).
* ``VALUE LABELS a b c 1 'Yes' 2 'No' / d 'M' 'Male' ...`` and ``ADD VALUE LABELS``; a
  ``TO`` in these commands means "the variables from a to b in file order".
* ``MISSING VALUES`` (noted in the field description), ``FILE HANDLE ... NAME= LRECL=``
  (the data file and its record length), ``TITLE`` and ``FILE LABEL`` (the title).
* Comments: ``*`` and ``COMMENT`` commands, ``/* ... */`` inside commands (an unclosed
  ``/*`` runs to the end of its line, or to the next ``*/`` when it opens the line).

Keywords are case-insensitive and may be abbreviated as SPSS allows (``VAR LABELS``).
Commands end with a period at the end of a line; a line starting in column 1 with a
known command also begins a new one (with a warning). Overlapping columns are reported in
``ParsedFile.warnings`` naming both variables; a command that cannot be read raises
:class:`FormatError` with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import FormatError, ParsedFile, file_identifiers, read_text_mixed
from indexer.formats.layout import OVERLAPS_REPORTED, RECORD, record_length
from indexer.formats.records import new_dataset, new_field
from indexer.formats.statements import NAME_OR_STRING, Scanner, stated_lrecl, unquote
from indexer.formats.text import clean_comment

NAME = "spss-syntax"

_DATA_LIST_LINE = re.compile(r"(?im)^[ \t]*DATA[ \t]+LIST\b(?![ \t]*[;(])")
_LABELS_LINE = re.compile(r"(?im)^[ \t]*(?:ADD[ \t]+)?VAR\w*[ \t]+LAB\w*|^[ \t]*VAL\w*[ \t]+LAB\w*")
_COLUMN_SPEC = re.compile(r"(?i)\b[A-Za-z@#$][\w.@#$]*[ \t]+\d+[ \t]*-[ \t]*\d+\b")
_FIXED_WORD = re.compile(r"(?i)\bDATA[ \t]+LIST\b[^.]*\b(FIXED|RECORDS\s*=)")
_LINE_SPECIAL = re.compile(r"/\*|['\"]")

# Commands by their leading words (abbreviations as SPSS accepts them).
_COMMANDS: list[tuple[str, re.Pattern[str]]] = [
    ("DATA LIST", re.compile(r"(?i)\s*DATA\s+LIST\b")),
    ("ADD VALUE LABELS", re.compile(r"(?i)\s*ADD\s+VAL\w*\s+LAB\w*\b")),
    ("VARIABLE LABELS", re.compile(r"(?i)\s*VAR\w*\s+LAB\w*\b")),
    ("VALUE LABELS", re.compile(r"(?i)\s*VAL\w*\s+LAB\w*\b")),
    ("MISSING VALUES", re.compile(r"(?i)\s*MIS\w*\s+VAL\w*\b")),
    ("FILE HANDLE", re.compile(r"(?i)\s*FILE\s+HANDLE\b")),
    ("FILE LABEL", re.compile(r"(?i)\s*FILE\s+LABEL\b")),
    ("TITLE", re.compile(r"(?i)\s*TITLE\b")),
]
# Commands that, starting in column 1, begin a new command even when the last one was not
# ended by a period (only multi-word commands, so a variable such as "title" is not taken).
_NEW_COMMAND = re.compile(
    r"(?i)^(?:DATA\s+LIST|ADD\s+VAL\w*\s+LAB\w*|VAR\w*\s+LAB\w*|VAL\w*\s+LAB\w*"
    r"|MIS\w*\s+VAL\w*|FILE\s+HANDLE|FILE\s+LABEL|VAR\w*\s+LEV\w*|EXECUTE|SAVE\s+OUTFILE)\b"
)

_STRING_FORMATS = {"A", "AHEX"}
_DATE_FORMATS = {"DATE", "ADATE", "EDATE", "JDATE", "SDATE", "QYR", "MOYR", "WKYR"}
_DATETIME_FORMATS = {"DATETIME", "YMDHMS"}
_TIME_FORMATS = {"TIME", "DTIME", "MTIME"}
_NUMERIC_FORMATS = {
    "F", "N", "E", "COMMA", "DOT", "DOLLAR", "PCT", "Z", "P", "PK", "IB", "PIB", "PIBHEX",
    "RB", "RBHEX", "CCA", "CCB", "CCC", "CCD", "CCE", "WKDAY", "MONTH",
}
_DATE_TIME_FORMATS = _DATE_FORMATS | _DATETIME_FORMATS | _TIME_FORMATS
_FORMATS = _STRING_FORMATS | _DATE_TIME_FORMATS | _NUMERIC_FORMATS


# ----------------------------------------------------------------------------- detection


def detect(path: Path, head: str) -> bool:
    """True for SPSS syntax with a DATA LIST (and labels or column specs, without .sps)."""
    if not _DATA_LIST_LINE.search(head):
        return False
    if path.suffix.lower() == ".sps":
        return True
    return bool(
        _LABELS_LINE.search(head) or _FIXED_WORD.search(head) or _COLUMN_SPEC.search(head)
    ) and not re.search(r"(?im)^\s*(proc\s+\w+|run\s*;|infile\s+dictionary)", head)


# ----------------------------------------------------------------------------- commands


@dataclass
class Command:
    """One SPSS command: its name, code (comments removed) by line, and where it starts."""

    line: int
    segments: list[tuple[int, str]] = field(default_factory=list)
    terminated: bool = False
    comments: list[str] = field(default_factory=list)  # comment commands just before it

    @property
    def text(self) -> str:
        """The command's code on one line."""
        return " ".join(text for _, text in self.segments)

    @property
    def name(self) -> str:
        """The command's name (``DATA LIST``, ``VALUE LABELS`` ...) or its first word."""
        text = self.text
        for name, pattern in _COMMANDS:
            if pattern.match(text):
                return name
        match = re.match(r"\s*(\S+)", text)
        return match.group(1).upper() if match else ""


def _strip_comments(line: str, number: int) -> tuple[str, bool]:
    """Remove ``/* */`` comments from a line; True when a block comment opens the line."""
    scan = Scanner(line, _LINE_SPECIAL)
    while (match := scan.next()) is not None:
        if match.group() == "/*":
            end = scan.comment_end(match.start())
            if end is None:
                code = scan.take()
                return code, not code.strip()
            scan.keep(" ")
        else:
            end = scan.string_end(match.start())
            if end is None:
                raise FormatError(
                    f"line {number}: quoted string is never closed (a string must end on the "
                    "line where it starts; join pieces with +)",
                    line=number,
                )
            scan.keep(line[match.start() : end])
        scan.pos = end
    return scan.take(), False


def split_commands(text: str, warnings: list[str]) -> list[Command]:
    """Split syntax into commands, dropping comments (kept with the command after them)."""
    commands: list[Command] = []
    current: Command | None = None
    comment: list[str] | None = None
    comments: list[str] = []
    block_start: int | None = None

    def finish() -> None:
        nonlocal current
        if current is not None and current.segments:
            commands.append(current)
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.expandtabs(8)
        if block_start is not None:
            end = line.find("*/")
            if end < 0:
                continue
            line, block_start = " " * (end + 2) + line[end + 2 :], None
        stripped = line.strip()
        if comment is not None:
            starts_new = not stripped or stripped.startswith("*") or _NEW_COMMAND.match(stripped)
            if not starts_new:
                comment.append(stripped)
                if stripped.endswith("."):
                    comments.append(clean_comment("\n".join(comment)))
                    comment = None
                continue
            comments.append(clean_comment("\n".join(comment)))
            comment = None
        if current is not None and line[:1] not in (" ", "") and (
            _NEW_COMMAND.match(line) or line.startswith("*")
        ):
            warnings.append(f"line {current.line}: command {current.name} is not ended by a "
                            "period")
            finish()
        if current is None:
            if not stripped:
                continue
            if (stripped.startswith("*") and not stripped.startswith("*/")) or re.match(
                r"(?i)COMMENT\b", stripped
            ):
                comment = [re.sub(r"(?i)^COMMENT\b", "", stripped)]
                if stripped.endswith("."):
                    comments.append(clean_comment(comment[0]))
                    comment = None
                continue
        code, opens_block = _strip_comments(line, number)
        if opens_block:
            block_start = number
        if not code.strip():
            continue
        if current is None:
            current = Command(line=number, comments=[c for c in comments if c])
            comments = []
        body = code.rstrip()
        if body.endswith("."):
            if body[:-1].strip():
                current.segments.append((number, body[:-1]))
            current.terminated = True
            finish()
        else:
            current.segments.append((number, code))
    if block_start is not None:
        raise FormatError(f"line {block_start}: comment '/*' is never closed by '*/'",
                          line=block_start)
    if current is not None and current.segments:
        warnings.append(f"line {current.line}: command {current.name} is not ended by a period")
        finish()
    return commands


# ----------------------------------------------------------------------------- tokens


@dataclass
class Token:
    """One token of a command: string, range, parenthesised group, number, name or sign."""

    kind: str  # "str" | "range" | "paren" | "num" | "name" | "op"
    text: str
    line: int

    @property
    def upper(self) -> str:
        """The token upper-cased."""
        return self.text.upper()


_TOKEN_PARTS = {
    "str": r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"",
    "range": r"\d+\s*-\s*\d+(?![\w.])",
    "paren": r"\([^()]*\)",
    "num": r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_@#$])",
    "name": r"[A-Za-z@#$][\w.@#$]*",
    "op": r"\S",
}
_TOKENS = {
    ranges: re.compile("|".join(
        f"(?P<{kind}>{pattern})" for kind, pattern in _TOKEN_PARTS.items()
        if ranges or kind != "range"
    ))
    for ranges in (True, False)
}


def tokens(command: Command, *, skip: int, ranges: bool = False) -> list[Token]:
    """The tokens of a command after its first ``skip`` words."""
    out: list[Token] = []
    for number, text in command.segments:
        for match in _TOKENS[ranges].finditer(text):
            kind = match.lastgroup or "op"
            value = match.group()
            if kind == "name":
                value = value.rstrip(".")
            out.append(Token(kind, value, number))
    return out[skip:]


def _read_string(toks: list[Token], index: int) -> tuple[str, int]:
    """A string at ``index`` and any ``+ 'more'`` pieces; returns it and the next index."""
    parts = [unquote(toks[index].text)]
    index += 1
    while (
        index + 1 < len(toks) and toks[index].text == "+" and toks[index + 1].kind == "str"
    ):
        parts.append(unquote(toks[index + 1].text))
        index += 2
    return "".join(parts), index


def _error(token: Token | None, command: Command, message: str) -> FormatError:
    line = token.line if token is not None else command.segments[-1][0]
    return FormatError(f"line {line}: {message}", line=line)


# ----------------------------------------------------------------------------- DATA LIST


@dataclass
class Variable:
    """One variable a DATA LIST defines."""

    name: str
    line: int
    record: int = 1
    start: int | None = None
    end: int | None = None
    fmt_type: str = "F"
    decimals: int | None = 0
    source: str | None = None  # the format as written
    label: str | None = None
    value_labels: list[dict[str, str]] = field(default_factory=list)
    missing: str | None = None

    @property
    def width(self) -> int | None:
        """Columns the variable takes."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start + 1


@dataclass
class DataList:
    """A DATA LIST command: its options and the variables it defines."""

    line: int
    mode: str = "FIXED"
    records: int | None = None
    file: str | None = None
    variables: list[Variable] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def find(self, name: str) -> Variable | None:
        """The variable of that name (SPSS names are case-insensitive)."""
        upper = name.upper()
        return next((v for v in self.variables if v.name.upper() == upper), None)


_TO_NAME = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def expand_to(first: Token, last: Token, command: Command) -> list[str]:
    """``v1 TO v5`` in a DATA LIST: v1, v2 ... v5 (zero padding of the first kept)."""
    a, b = _TO_NAME.match(first.text), _TO_NAME.match(last.text)
    if (
        a is None or b is None or a.group("prefix").upper() != b.group("prefix").upper()
        or int(b.group("number")) < int(a.group("number"))
    ):
        raise _error(first, command,
                     f"cannot expand '{first.text} TO {last.text}': the names must share a "
                     "prefix and end in increasing numbers")
    low, high = int(a.group("number")), int(b.group("number"))
    if high - low + 1 > MAX_FIELDS:
        raise _error(first, command, f"'{first.text} TO {last.text}' makes more than "
                     f"{MAX_FIELDS} variables")
    digits = a.group("number")
    pad = len(digits) if digits.startswith("0") and len(digits) > 1 else 0
    return [f"{a.group('prefix')}{n:0{pad}d}" for n in range(low, high + 1)]


def _names(toks: list[Token], index: int, command: Command) -> tuple[list[tuple[str, Token]], int]:
    """Variable names (with ``a TO b`` expanded by number) from ``index``."""
    names: list[tuple[str, Token]] = []
    while index < len(toks) and toks[index].kind == "name":
        token = toks[index]
        if token.upper == "TO":
            if not names or index + 1 >= len(toks) or toks[index + 1].kind != "name":
                raise _error(token, command, "TO must stand between two variable names")
            last = toks[index + 1]
            expanded = expand_to(names[-1][1], last, command)
            names.extend((name, last) for name in expanded[1:])
            index += 2
            continue
        names.append((token.text, token))
        index += 1
    return names, index


_OPTION_WORDS = {"FILE", "FIXED", "FREE", "LIST", "RECORDS", "SKIP", "TABLE", "NOTABLE",
                 "ENCODING", "END"}


def _options(toks: list[Token], data: DataList, command: Command) -> int:
    """Read DATA LIST options up to the variable definitions; return where they start."""
    index = 0
    while index < len(toks):
        token = toks[index]
        word = token.upper if token.kind == "name" else ""
        if token.text == "/" or word not in _OPTION_WORDS:
            return index
        index += 1
        if word in ("FILE", "RECORDS", "SKIP", "ENCODING", "END"):
            if index + 1 >= len(toks) or toks[index].text != "=":
                raise _error(token, command, f"expected '=' and a value after {token.text}")
            value = toks[index + 1]
            index += 2
            if word == "FILE":
                data.file = unquote(value.text)
            elif word == "RECORDS":
                if value.kind != "num" or not value.text.isdigit():
                    raise _error(value, command, "expected a whole number after RECORDS=")
                data.records = int(value.text)
        elif word in ("FIXED", "FREE", "LIST"):
            data.mode = word
            if index < len(toks) and toks[index].kind == "paren":
                index += 1  # delimiters of FREE / LIST
    return index


_COLUMN_FORMAT = re.compile(
    r"^(?P<type>[A-Za-z]+)?\s*(?P<w>\d+)?(?:\s*[.,]\s*(?P<d>\d+))?$"
)
_ELEMENT = re.compile(r"^(?P<rep>\d+)?(?P<type>[A-Za-z]+)(?P<w>\d+)?(?:\.(?P<d>\d+))?$")


def _check_type(fmt_type: str, token: Token, command: Command) -> str:
    upper = fmt_type.upper()
    if upper not in _FORMATS:
        raise _error(token, command,
                     f"unknown format {fmt_type!r} (expected A, F, N, E, COMMA, DOLLAR, DATE, "
                     "ADATE, DATETIME, TIME ...)")
    return upper


def _decimals(fmt_type: str, written: str | None) -> int | None:
    """Decimals of a format: none for strings, only when written for dates and times."""
    if fmt_type in _STRING_FORMATS:
        return None
    if fmt_type in _DATE_TIME_FORMATS:
        return int(written) if written else None
    return int(written or 0)


def _column_format(token: Token, variables: list[Variable], command: Command) -> None:
    """Apply ``(A)``, ``(2)``, ``(ADATE)`` or ``(COMMA,2)`` to column-style variables."""
    inner = token.text[1:-1].strip()
    match = _COLUMN_FORMAT.match(inner)
    if match is None or not inner:
        raise _error(token, command,
                     f"cannot read the format {token.text}: expected (A), (n) for n decimal "
                     "places, or (TYPE) / (TYPE,n)")
    fmt_type = match.group("type")
    decimals = match.group("d") or (match.group("w") if not fmt_type else None)
    upper = _check_type(fmt_type, token, command) if fmt_type else "F"
    for variable in variables:
        variable.fmt_type = upper
        variable.source = token.text
        variable.decimals = _decimals(upper, decimals)


def _fortran_formats(token: Token, names: list[tuple[str, Token]], pointer: int, record: int,
                     command: Command) -> tuple[list[Variable], int]:
    """Lay out ``names`` by a format list such as ``(5F2.0)`` or ``(A10, 2X, F3.1)``."""
    elements = [e for e in re.split(r"[\s,]+", token.text[1:-1].strip()) if e]
    if not elements:
        raise _error(token, command, "empty format list '()'")
    parsed = []
    for element in elements:
        match = _ELEMENT.match(element)
        if match is None:
            raise _error(token, command,
                         f"cannot read {element!r} in the format list {token.text} (expected "
                         "formats such as F8.2, A10, 5F2.0, 2X or T20)")
        parsed.append(match)
    if all(m.group("type").upper() in ("X", "T") for m in parsed):
        raise _error(token, command, f"the format list {token.text} has no variable formats")
    out: list[Variable] = []
    queue = list(names)
    while queue:
        for match in parsed:
            if not queue:
                break
            kind = match.group("type").upper()
            repeat = int(match.group("rep") or 1)
            width = int(match.group("w")) if match.group("w") else None
            if kind == "X":
                pointer += repeat * (width or 1)
                continue
            if kind == "T":
                if width is None:
                    raise _error(token, command, "T needs a column number, as in T20")
                pointer = width
                continue
            upper = _check_type(kind, token, command)
            if width is None:
                raise _error(token, command, f"the format {match.group()} needs a width")
            for _ in range(repeat):
                if not queue:
                    break
                name, name_token = queue.pop(0)
                decimals = _decimals(upper, match.group("d"))
                out.append(Variable(
                    name, name_token.line, record, pointer, pointer + width - 1, upper,
                    decimals, match.group()[len(match.group("rep") or ""):],
                ))
                pointer += width
    return out, pointer


def read_data_list(command: Command) -> DataList:
    """Read the options and variable definitions of a DATA LIST command."""
    data = DataList(line=command.line)
    toks = tokens(command, skip=2, ranges=True)
    index = _options(toks, data, command)
    record, pointer, seen_slash = 1, 1, False
    while index < len(toks):
        token = toks[index]
        if token.text == "/":
            index += 1
            nxt = toks[index] if index < len(toks) else None
            if nxt is not None and nxt.kind == "num" and nxt.text.isdigit():
                record = int(nxt.text)
                index += 1
            elif seen_slash:
                record += 1
            seen_slash, pointer = True, 1
            continue
        names, index = _names(toks, index, command)
        if not names:
            raise _error(token, command,
                         f"expected a variable name in DATA LIST; found {token.text!r}")
        spec = toks[index] if index < len(toks) else None
        if data.mode != "FIXED":
            fmt = None
            if spec is not None and spec.kind == "paren":
                fmt = spec
                index += 1
            data.variables.extend(_free_variables(names, fmt, command))
            continue
        if spec is not None and spec.kind in ("range", "num"):
            index += 1
            if index < len(toks) and toks[index].text == "-":
                raise _error(spec, command,
                             f"the columns of {names[-1][0]} ({spec.text}-) are cut off: "
                             "expected start-end")
            variables = _column_variables(names, spec, record, command)
            if index < len(toks) and toks[index].kind == "paren":
                _column_format(toks[index], variables, command)
                index += 1
            pointer = (variables[-1].end or pointer) + 1
        elif spec is not None and spec.kind == "paren":
            index += 1
            variables, pointer = _fortran_formats(spec, names, pointer, record, command)
        else:
            raise _error(spec, command,
                         f"expected columns (start-end) or a format in parentheses after "
                         f"{names[-1][0]}; found "
                         + (repr(spec.text) if spec is not None else "the end of the command"))
        data.variables.extend(variables)
    if len(data.variables) > MAX_FIELDS:
        raise _error(None, command, f"DATA LIST defines more than {MAX_FIELDS} variables")
    return data


def _column_variables(names: list[tuple[str, Token]], spec: Token, record: int,
                      command: Command) -> list[Variable]:
    """Variables of ``name start-end``: several names share the columns in equal widths."""
    if spec.kind == "range":
        start_text, end_text = (part.strip() for part in spec.text.split("-"))
        start, end = int(start_text), int(end_text)
    else:
        if not spec.text.isdigit():
            raise _error(spec, command, f"expected a column number, found {spec.text!r}")
        start = end = int(spec.text)
    if start < 1 or end < start:
        raise _error(spec, command,
                     f"columns {spec.text} of {names[0][0]}: expected start >= 1 and end >= "
                     "start")
    total = end - start + 1
    if total % len(names):
        listed = ", ".join(name for name, _ in names)
        raise _error(spec, command,
                     f"columns {start}-{end} ({total}) cannot be divided equally among "
                     f"{len(names)} variables ({listed})")
    width = total // len(names)
    return [
        Variable(name, token.line, record, start + i * width, start + (i + 1) * width - 1)
        for i, (name, token) in enumerate(names)
    ]


def _free_variables(names: list[tuple[str, Token]], fmt: Token | None,
                    command: Command) -> list[Variable]:
    """Variables of a FREE / LIST data list: formats (F8.2 by default), no columns."""
    fmt_type, decimals, source = "F", 2, None
    if fmt is not None:
        match = _ELEMENT.match(fmt.text[1:-1].strip())
        if match is None:
            raise _error(fmt, command, f"cannot read the format {fmt.text}")
        fmt_type = _check_type(match.group("type"), fmt, command)
        decimals = _decimals(fmt_type, match.group("d"))
        source = fmt.text[1:-1].strip()
    return [
        Variable(name, token.line, fmt_type=fmt_type, decimals=decimals, source=source)
        for name, token in names
    ]


# ----------------------------------------------------------------------------- labels


def _dictionary_names(toks: list[Token], index: int, data: DataList, command: Command,
                      warnings: list[str]) -> tuple[list[Variable], int]:
    """Variable names in a labelling command; ``a TO b`` means a through b in file order."""
    found: list[Variable] = []
    while index < len(toks) and toks[index].kind == "name":
        token = toks[index]
        if token.upper == "TO" and found and index + 1 < len(toks):
            last = data.find(toks[index + 1].text)
            if last is None:
                warnings.append(f"line {token.line}: {toks[index + 1].text} is not defined by "
                                "the DATA LIST")
            else:
                first, end = data.variables.index(found[-1]), data.variables.index(last)
                found.extend(data.variables[first + 1 : end + 1])
            index += 2
            continue
        variable = data.find(token.text)
        if variable is None:
            warnings.append(f"line {token.line}: {command.name} names {token.text}, which the "
                            "DATA LIST does not define")
        else:
            found.append(variable)
        index += 1
    return found, index


def read_variable_labels(command: Command, data: DataList, warnings: list[str]) -> None:
    """``VARIABLE LABELS name 'label' / name "label" ...``."""
    toks = tokens(command, skip=2)
    index = 0
    while index < len(toks):
        token = toks[index]
        if token.text == "/":
            index += 1
            continue
        if token.kind != "name":
            raise _error(token, command,
                         f"expected a variable name in VARIABLE LABELS; found {token.text!r}")
        if index + 1 >= len(toks) or toks[index + 1].kind != "str":
            raise _error(token, command, f"expected a quoted label after {token.text} in "
                         "VARIABLE LABELS")
        label, index = _read_string(toks, index + 1)
        variable = data.find(token.text)
        if variable is None:
            warnings.append(f"line {token.line}: VARIABLE LABELS names {token.text}, which the "
                            "DATA LIST does not define")
        else:
            variable.label = label


def read_value_labels(command: Command, data: DataList, warnings: list[str]) -> None:
    """``[ADD] VALUE LABELS vars value 'label' ... / vars ...`` (several variables share)."""
    adding = command.name == "ADD VALUE LABELS"
    toks = tokens(command, skip=3 if adding else 2)
    index = 0
    while index < len(toks):
        token = toks[index]
        if token.text == "/":
            index += 1
            continue
        if token.kind != "name":
            raise _error(token, command,
                         f"expected variable names in VALUE LABELS; found {token.text!r}")
        variables, index = _dictionary_names(toks, index, data, command, warnings)
        listed = token.text
        pairs: list[dict[str, str]] = []
        while index < len(toks) and toks[index].kind in ("num", "str"):
            value = toks[index]
            if index + 1 >= len(toks) or toks[index + 1].kind != "str":
                raise _error(value, command,
                             f"value {value.text} of {listed} has no quoted label after it")
            label, index = _read_string(toks, index + 1)
            code = unquote(value.text) if value.kind == "str" else value.text
            pairs.append({"code": code, "label": label})
        if not pairs:
            found = toks[index].text if index < len(toks) else "the end of the command"
            raise _error(toks[index] if index < len(toks) else None, command,
                         f"expected values and quoted labels after {listed} in VALUE LABELS; "
                         f"found {found!r}")
        for variable in variables:
            if adding:
                codes = {p["code"] for p in pairs}
                kept = [v for v in variable.value_labels if v["code"] not in codes]
                variable.value_labels = kept + [dict(p) for p in pairs]
            else:
                variable.value_labels = [dict(p) for p in pairs]


def read_missing_values(command: Command, data: DataList, warnings: list[str]) -> None:
    """``MISSING VALUES vars (values) / ...``: noted on each variable."""
    toks = tokens(command, skip=2)
    index = 0
    while index < len(toks):
        if toks[index].text == "/":
            index += 1
            continue
        variables, index = _dictionary_names(toks, index, data, command, warnings)
        if index >= len(toks) or toks[index].kind != "paren" or not variables:
            where = toks[index] if index < len(toks) else None
            warnings.append(f"line {(where or toks[-1]).line}: MISSING VALUES not read past "
                            "this point")
            return
        values = toks[index].text[1:-1].strip()
        for variable in variables:
            variable.missing = values
        index += 1


# ----------------------------------------------------------------------------- fields


def _data_type(variable: Variable) -> str:
    kind = variable.fmt_type
    if kind in _STRING_FORMATS:
        return "string"
    if kind in _DATE_FORMATS:
        return "date"
    if kind in _DATETIME_FORMATS:
        return "datetime"
    if kind in _TIME_FORMATS:
        return "time"
    if kind == "N" and not variable.decimals:
        return "integer"
    return "number"


def _print_format(variable: Variable) -> str:
    width = variable.width
    if width is None:
        return variable.source or "F8.2"
    if variable.fmt_type in _STRING_FORMATS:
        return f"{variable.fmt_type}{width}"
    if variable.decimals:
        return f"{variable.fmt_type}{width}.{variable.decimals}"
    return f"{variable.fmt_type}{width}" + (".0" if variable.fmt_type in ("F", "N") else "")


def overlaps(variables: list[Variable]) -> list[str]:
    """Warnings for variables whose columns overlap on the same record."""
    found: list[str] = []
    placed = sorted(
        (v for v in variables if v.start is not None and v.end is not None),
        key=lambda v: (v.record, v.start or 0),
    )
    widest: Variable | None = None
    for variable in placed:
        if (
            widest is not None and widest.record == variable.record
            and (variable.start or 0) <= (widest.end or 0)
        ):
            where = f" on record {variable.record}" if variable.record > 1 else ""
            found.append(
                f"line {variable.line}: columns of {widest.name} ({widest.start}-{widest.end}) "
                f"and {variable.name} ({variable.start}-{variable.end}) overlap{where}"
            )
        if widest is None or widest.record != variable.record or (
            (variable.end or 0) > (widest.end or 0)
        ):
            widest = variable
    return found


def _fields(data: DataList) -> list[dict[str, Any]]:
    records = max((v.record for v in data.variables), default=1)
    records = max(records, data.records or 1)
    fields = []
    for position, variable in enumerate(data.variables, start=1):
        notes = []
        if records > 1:
            notes.append(f"record {variable.record} of {records}")
        if variable.missing:
            notes.append(f"missing values: {variable.missing}")
        fields.append(new_field(
            position,
            variable.name,
            label=variable.label,
            description="; ".join(notes) or None,
            data_type=_data_type(variable),
            source_type=variable.source,
            width=variable.width,
            start_col=variable.start,
            end_col=variable.end,
            format=_print_format(variable),
            decimals=variable.decimals,
            value_labels=variable.value_labels,
        ))
    return fields


# ----------------------------------------------------------------------------- parse


@dataclass
class Syntax:
    """Everything read from one syntax file."""

    data_lists: list[DataList] = field(default_factory=list)
    handles: dict[str, dict[str, Any]] = field(default_factory=dict)
    title: str | None = None
    warnings: list[str] = field(default_factory=list)


def _file_handle(command: Command, syntax: Syntax) -> None:
    """``FILE HANDLE name /NAME='file' LRECL=n``."""
    text = command.text
    match = re.match(r"(?i)\s*FILE\s+HANDLE\s+([^\s/]+)", text)
    if not match:
        return
    info: dict[str, Any] = {}
    name = re.search(rf"(?i)\bNAME\s*=\s*({NAME_OR_STRING})", text)
    if name:
        info["file"] = unquote(name.group(1))
    lrecl = stated_lrecl(text)
    if lrecl:
        info["lrecl"] = lrecl
    syntax.handles[match.group(1).upper()] = info


def _title(command: Command) -> str | None:
    """The text of a TITLE or FILE LABEL command."""
    text = re.sub(r"(?i)^\s*(TITLE|FILE\s+LABEL)\b", "", command.text).strip()
    return unquote(text).strip() or None


def read_syntax(text: str) -> Syntax:
    """Read the DATA LIST layouts of a syntax file and label their variables."""
    syntax = Syntax()
    current: DataList | None = None
    comments: list[str] = []  # comments since the last DATA LIST describe the next one
    for command in split_commands(text, syntax.warnings):
        name = command.name
        comments.extend(command.comments)
        if name == "DATA LIST":
            current = read_data_list(command)
            current.comments, comments = comments, []
            syntax.data_lists.append(current)
        elif name == "FILE HANDLE":
            _file_handle(command, syntax)
        elif name in ("TITLE", "FILE LABEL"):
            syntax.title = syntax.title or _title(command)
        elif name in ("VARIABLE LABELS", "VALUE LABELS", "ADD VALUE LABELS", "MISSING VALUES"):
            if current is None:
                syntax.warnings.append(f"line {command.line}: {name} before any DATA LIST; "
                                       "ignored")
                continue
            if name == "VARIABLE LABELS":
                read_variable_labels(command, current, syntax.warnings)
            elif name == "MISSING VALUES":
                read_missing_values(command, current, syntax.warnings)
            else:
                read_value_labels(command, current, syntax.warnings)
    return syntax


def _dataset(data: DataList, syntax: Syntax, identifier: str) -> dict[str, Any]:
    """The raw dataset of one DATA LIST."""
    fields = _fields(data)
    fixed = data.mode == "FIXED"
    extra: dict[str, Any] = {"data_list_line": data.line, "arrangement": data.mode}
    handle = syntax.handles.get((data.file or "").upper(), {})
    if data.file:
        extra["data_file"] = handle.get("file", data.file)
    if handle.get("lrecl"):
        extra["lrecl"] = handle["lrecl"]
    records = max([data.records or 1, *(v.record for v in data.variables)])
    if records > 1:
        extra["records_per_case"] = records
    length = record_length(fields)
    count = len(fields)
    summary = f"SPSS syntax for a {'fixed-width' if fixed else 'delimited'} data file ({count} "
    summary += "variable" + ("s" if count != 1 else "")
    summary += f", record length {length})." if fixed and length else ")."
    header = " ".join(c for c in data.comments if c)
    description = f"{header[:2000]} {summary}".strip()
    if records > 1:  # columns count from 1 again on each record of a case
        for record, variable in zip(fields, data.variables, strict=True):
            record[RECORD] = variable.record
    dataset = new_dataset(
        identifier, syntax.title or identifier, description=description, layout=fixed,
        extra=extra, fields=fields,
    )
    dataset[OVERLAPS_REPORTED] = True  # parse() warns of them itself, naming the lines
    return dataset


def parse(path: Path) -> ParsedFile:
    """Read an SPSS setup file into one layout per DATA LIST."""
    syntax = read_syntax(read_text_mixed(path))
    lists = [data for data in syntax.data_lists if data.variables]
    if not lists:
        raise FormatError("no DATA LIST command with variables: not an SPSS record layout")
    result = ParsedFile(path=path, format=NAME, warnings=list(syntax.warnings))
    numbers = [str(number) for number in range(1, len(lists) + 1)]
    for data, identifier in zip(lists, file_identifiers(path, numbers), strict=True):
        result.datasets.append(_dataset(data, syntax, identifier))
        result.warnings.extend(overlaps(data.variables))
    return result
