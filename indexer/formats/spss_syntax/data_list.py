"""``DATA LIST``: its options and variables, in column style or FORTRAN-like format lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import MAX_DIGITS
from indexer.formats.spss_syntax.commands import Command
from indexer.formats.spss_syntax.tokens import Token, command_error, tokens
from indexer.formats.statements import unquote

STRING_FORMATS = {"A", "AHEX"}
DATE_FORMATS = {"DATE", "ADATE", "EDATE", "JDATE", "SDATE", "QYR", "MOYR", "WKYR"}
DATETIME_FORMATS = {"DATETIME", "YMDHMS"}
TIME_FORMATS = {"TIME", "DTIME", "MTIME"}
NUMERIC_FORMATS = {
    "F", "N", "E", "COMMA", "DOT", "DOLLAR", "PCT", "Z", "P", "PK", "IB", "PIB", "PIBHEX",
    "RB", "RBHEX", "CCA", "CCB", "CCC", "CCD", "CCE", "WKDAY", "MONTH",
}
DATE_TIME_FORMATS = DATE_FORMATS | DATETIME_FORMATS | TIME_FORMATS
FORMATS = STRING_FORMATS | DATE_TIME_FORMATS | NUMERIC_FORMATS


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


#: The longest variable name SPSS accepts.
MAX_NAME = 64


def _prefix_number(name: str) -> tuple[str, str] | None:
    """``v012`` -> (``v``, ``012``): a name's prefix and the digits it ends in; None if none."""
    prefix = name.rstrip("0123456789")
    return (prefix, name[len(prefix):]) if len(prefix) < len(name) else None


def expand_to(first: Token, last: Token, command: Command) -> list[str]:
    """``v1 TO v5`` in a DATA LIST: v1, v2 ... v5 (zero padding of the first kept)."""
    for token in (first, last):
        if len(token.text) > MAX_NAME:
            raise command_error(token, command, f"variable name {token.text[:20]}... is "
                                f"{len(token.text):,} characters long; SPSS names have at most "
                                f"{MAX_NAME}")
    a, b = _prefix_number(first.text), _prefix_number(last.text)
    if (
        a is None or b is None or a[0].upper() != b[0].upper() or int(b[1]) < int(a[1])
    ):
        raise command_error(first, command,
                            f"cannot expand '{first.text} TO {last.text}': the names must share a "
                            "prefix and end in increasing numbers")
    low, high = int(a[1]), int(b[1])
    if high - low + 1 > MAX_FIELDS:
        raise command_error(first, command, f"'{first.text} TO {last.text}' makes more than "
                            f"{MAX_FIELDS} variables")
    digits = a[1]
    pad = len(digits) if digits.startswith("0") and len(digits) > 1 else 0
    return [f"{a[0]}{n:0{pad}d}" for n in range(low, high + 1)]


def _names(toks: list[Token], index: int, command: Command) -> tuple[list[tuple[str, Token]], int]:
    """Variable names (with ``a TO b`` expanded by number) from ``index``."""
    names: list[tuple[str, Token]] = []
    while index < len(toks) and toks[index].kind == "name":
        token = toks[index]
        if token.upper == "TO":
            if not names or index + 1 >= len(toks) or toks[index + 1].kind != "name":
                raise command_error(token, command, "TO must stand between two variable names")
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
                raise command_error(token, command, f"expected '=' and a value after {token.text}")
            value = toks[index + 1]
            index += 2
            if word == "FILE":
                data.file = unquote(value.text)
            elif word == "RECORDS":
                if value.kind != "num" or not value.text.isdigit():
                    raise command_error(value, command, "expected a whole number after RECORDS=")
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
    if upper not in FORMATS:
        raise command_error(token, command,
                            f"unknown format {fmt_type!r} (expected A, F, N, E, COMMA, DOLLAR, "
                            "DATE, ADATE, DATETIME, TIME ...)")
    return upper


def _decimals(fmt_type: str, written: str | None) -> int | None:
    """Decimals of a format: none for strings, only when written for dates and times."""
    if fmt_type in STRING_FORMATS:
        return None
    if fmt_type in DATE_TIME_FORMATS:
        return int(written) if written else None
    return int(written or 0)


def _column_format(token: Token, variables: list[Variable], command: Command) -> None:
    """Apply ``(A)``, ``(2)``, ``(ADATE)`` or ``(COMMA,2)`` to column-style variables."""
    inner = token.text[1:-1].strip()
    match = _COLUMN_FORMAT.match(inner)
    if match is None or not inner:
        raise command_error(token, command,
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
        raise command_error(token, command, "empty format list '()'")
    parsed = []
    for element in elements:
        match = _ELEMENT.match(element)
        if match is None:
            raise command_error(token, command,
                                f"cannot read {element!r} in the format list {token.text} "
                                "(expected formats such as F8.2, A10, 5F2.0, 2X or T20)")
        parsed.append(match)
    if all(m.group("type").upper() in ("X", "T") for m in parsed):
        raise command_error(token, command, f"the format list {token.text} has no variable formats")
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
                    raise command_error(token, command, "T needs a column number, as in T20")
                pointer = width
                continue
            upper = _check_type(kind, token, command)
            if width is None:
                raise command_error(token, command, f"the format {match.group()} needs a width")
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
    # A variable takes a few tokens (name, columns, format): more than 8 a variable on
    # average means more variables than a dataset may hold, and lexing stops there.
    toks = tokens(command, skip=2, ranges=True, limit=8 * MAX_FIELDS)
    for token in toks:  # positions, widths and counts: none longer than MAX_DIGITS
        if token.kind in ("num", "range", "paren") and (
                digits := max((len(run) for run in re.findall(r"\d+", token.text)), default=0)
        ) > MAX_DIGITS:
            raise command_error(token, command, f"a number of {digits:,} digits in "
                                f"{token.text[:12]!r}...; at most {MAX_DIGITS} are read")
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
            raise command_error(token, command,
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
                raise command_error(spec, command,
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
            found = repr(spec.text) if spec is not None else "the end of the command"
            raise command_error(spec, command,
                                f"expected columns (start-end) or a format in parentheses after "
                                f"{names[-1][0]}; found {found}")
        data.variables.extend(variables)
        if len(data.variables) > MAX_FIELDS:
            raise command_error(token, command,
                                f"DATA LIST defines more than {MAX_FIELDS} variables")
    if len(data.variables) > MAX_FIELDS:
        raise command_error(None, command, f"DATA LIST defines more than {MAX_FIELDS} variables")
    return data


def _column_variables(names: list[tuple[str, Token]], spec: Token, record: int,
                      command: Command) -> list[Variable]:
    """Variables of ``name start-end``: several names share the columns in equal widths."""
    if spec.kind == "range":
        start_text, end_text = (part.strip() for part in spec.text.split("-"))
        start, end = int(start_text), int(end_text)
    else:
        if not spec.text.isdigit():
            raise command_error(spec, command, f"expected a column number, found {spec.text!r}")
        start = end = int(spec.text)
    if start < 1 or end < start:
        raise command_error(spec, command,
                            f"columns {spec.text} of {names[0][0]}: expected start >= 1 and end >= "
                            "start")
    total = end - start + 1
    if total % len(names):
        listed = ", ".join(name for name, _ in names)
        raise command_error(spec, command,
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
            raise command_error(fmt, command, f"cannot read the format {fmt.text}")
        fmt_type = _check_type(match.group("type"), fmt, command)
        decimals = _decimals(fmt_type, match.group("d"))
        source = fmt.text[1:-1].strip()
    return [
        Variable(name, token.line, fmt_type=fmt_type, decimals=decimals, source=source)
        for name, token in names
    ]
