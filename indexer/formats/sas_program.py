"""SAS load / input programs that describe a fixed-width record layout.

Reads ``INPUT`` statements in both styles found in public load programs -- formatted input
(``@pos NAME informat.``, HCUP) and column input (``NAME $ start-end``, CDC NHIS / YRBS) --
together with ``LABEL``/``ATTRIB`` labels, ``PROC FORMAT`` ``VALUE`` code lists joined to
variables through ``FORMAT`` statements, and ``INVALUE`` informats that carry the field width.
``INFILE ... LRECL=n`` (or a comment such as ``record length 400``) is kept as the stated record
length; fields read from several lines of a case (``#n``, ``/``) are marked with their line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.formats.base import FormatError, ParsedFile, file_identifiers, read_text_mixed
from indexer.formats.layout import RECORD, complete_columns, record_length, sas_format_width
from indexer.formats.records import new_dataset, new_field, value_label
from indexer.formats.statements import (
    NAME_OR_STRING,
    QUOTED,
    LineIndex,
    Scanner,
    Statement,
    stated_lrecl,
    unquote,
)
from indexer.formats.text import clean_comment, sentence_case, tidy

NAME = "sas-program"

_SAS_EXTENSIONS = {".sas"}
_HINTS = [
    re.compile(r"(?im)^\s*proc\s+\w+"),
    re.compile(r"(?im)^\s*data\s+[\w.]+(\s*\([^;]*\))?\s*;"),
    re.compile(r"(?im)^\s*run\s*;"),
    re.compile(r"(?im)^\s*(libname|filename)\s+\w+"),
    re.compile(r"(?im)^\s*infile\s+(?!dictionary\b)\S+"),
    re.compile(r"(?im)^\s*input\b"),
]
_STATA_MARK = re.compile(r"(?im)^\s*(infile\s+dictionary|\*?\s*label\s+(variable|define)\s)")

_TOKEN = re.compile(
    r"""(?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
      |(?P<fmt>\$?[A-Za-z_][A-Za-z0-9_]*\.\d*|\$\d+\.\d*|\d+\.\d*|\.\d+)
      |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<num>\d+)
      |(?P<op>@@|\S)""",
    re.VERBOSE,
)
_SPECIAL = re.compile(r"/\*|['\";]")
_SPACE = re.compile(r"\s*")
_DATALINES = {"CARDS", "CARDS4", "DATALINES", "DATALINES4", "LINES", "LINES4", "PARMCARDS"}
_ATTRIB_OPTIONS = {"LENGTH", "FORMAT", "INFORMAT", "LABEL", "TRANSCODE"}
_INVALUE_WIDTH = re.compile(r"(?i)\bOTHER\s*=\s*\(\|\s*\$?[A-Za-z_]*?(\d+)\.(\d*)\s*\|\)")
_DATE_INFORMATS = ("DATE", "MMDDYY", "DDMMYY", "YYMMDD", "JULIAN", "ANYDTDTE", "YYQ", "MONYY")


@dataclass
class Token:
    """A lexical token inside a statement."""

    kind: str
    text: str
    start: int
    end: int


@dataclass
class Step:
    """What one DATA step says about its variables."""

    line: int
    members: list[str] = field(default_factory=list)
    infile: str | None = None
    lrecl: int | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    input_line: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    informats: dict[str, str] = field(default_factory=dict)
    char_vars: set[str] = field(default_factory=set)


@dataclass
class Program:
    """Everything read from one SAS program."""

    steps: list[Step] = field(default_factory=list)
    values: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    invalue_widths: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- detection


def detect(path: Path, head: str) -> bool:
    """True for SAS programs that contain (or look set to contain) an INPUT statement."""
    if _STATA_MARK.search(head):
        return False
    hits = sum(1 for pattern in _HINTS if pattern.search(head))
    if path.suffix.lower() in _SAS_EXTENSIONS:
        return hits >= 1
    return hits >= 3 and bool(_HINTS[5].search(head))


# ----------------------------------------------------------------------------- lexing


def _blank(text: str) -> str:
    """Replace every character but newlines by a space (keeps offsets and line numbers)."""
    return re.sub(r"[^\n]", " ", text)


def _skip_datalines(text: str, pos: int) -> int:
    """Offset just after the ``;`` line that ends in-stream data starting at ``pos``."""
    match = re.compile(r"(?m)^\s*;+\s*$").search(text, pos)
    return match.end() if match else len(text)


def split_statements(text: str, lines: LineIndex) -> tuple[list[Statement], list[str]]:
    """Split a SAS program into statements, dropping comments; also return comment texts."""
    statements: list[Statement] = []
    comments: list[str] = []
    scan = Scanner(text, _SPECIAL)
    start: int | None = None
    while not scan.done:
        if start is None:
            scan.pos = _SPACE.match(text, scan.pos).end()
            if scan.done:
                break
            if text.startswith("/*", scan.pos):
                end = _comment_end(scan, scan.pos, lines)
                comments.append(text[scan.pos + 2 : end - 2])
                scan.pos = end
                continue
            if text[scan.pos] == "*" or text.startswith("%*", scan.pos):
                end = text.find(";", scan.pos)
                end = len(text) if end < 0 else end
                comments.append(text[scan.pos : end])
                scan.pos = end + 1
                continue
            start = scan.pos
            scan.take()
        match = scan.next()
        if match is None:
            break
        if match.group() == "/*":
            end = _comment_end(scan, match.start(), lines)
            scan.keep(_blank(text[match.start() : end]))
            scan.pos = end
        elif match.group() in QUOTED:
            end = scan.string_end(match.start())
            if end is None:
                line = lines.line(match.start())
                raise FormatError(f"line {line}: quoted string is never closed", line=line)
            scan.keep(text[match.start() : end])
            scan.pos = end
        else:
            stmt = Statement(scan.take(), lines.line(start), offset=start)
            statements.append(stmt)
            start = None
            if stmt.keyword in _DATALINES:
                scan.pos = _skip_datalines(text, scan.pos)
    if start is not None:
        statements.append(Statement(scan.take(), lines.line(start), offset=start,
                                    terminated=False))
    return statements, comments


def _comment_end(scan: Scanner, opened: int, lines: LineIndex) -> int:
    """Offset just after the ``*/`` of a comment; FormatError when it is never closed."""
    end = scan.comment_end(opened)
    if end is None:
        line = lines.line(opened)
        raise FormatError(f"line {line}: comment '/*' is never closed", line=line)
    return end


def tokens(stmt: Statement) -> list[Token]:
    """Tokens of a statement after its keyword."""
    body_start = re.match(r"\s*%?[A-Za-z_][A-Za-z0-9_]*", stmt.text)
    offset = body_start.end() if body_start else 0
    return [
        Token(m.lastgroup or "op", m.group(), m.start(), m.end())
        for m in _TOKEN.finditer(stmt.text, offset)
    ]


def format_key(fmt: str) -> str:
    """Lookup key of a format reference: ``$H1S.`` -> ``$H1S``, ``SAP001X8.`` -> ``SAP001X``."""
    key = fmt.strip().upper()
    key = re.sub(r"\d*\.\d*$", "", key) if "." in key else key
    return key


# ----------------------------------------------------------------------------- statements


def _parse_value(stmt: Statement, program: Program) -> None:
    """``VALUE name range = "label" ...``: a code list for a display format."""
    toks = tokens(stmt)
    if not toks:
        return
    name_parts = []
    index = 0
    while index < len(toks) and toks[index].kind in ("op", "name") and toks[index].text != "(":
        if toks[index].text == "$" or toks[index].kind == "name":
            name_parts.append(toks[index].text)
            index += 1
            if name_parts[-1] != "$":
                break
        else:
            break
    fmt_name = "".join(name_parts).upper()
    if not fmt_name or fmt_name == "$":
        program.warnings.append(f"line {stmt.line}: VALUE statement without a format name")
        return
    if index < len(toks) and toks[index].text == "(":
        index = _skip_group(toks, index)
    labels: list[dict[str, str]] = []
    lhs_start: int | None = None
    while index < len(toks):
        tok = toks[index]
        if tok.text == "=" and lhs_start is not None and index + 1 < len(toks):
            code = stmt.text[lhs_start : tok.start].strip()
            rhs = toks[index + 1]
            if rhs.text == "[":
                close = stmt.text.find("]", rhs.end)
                text = stmt.text[rhs.start : close + 1 if close >= 0 else len(stmt.text)]
                index = next((i for i, t in enumerate(toks) if t.start >= rhs.start + len(text)),
                             len(toks)) - 1
            else:
                text = unquote(rhs.text)
                index += 1
            code = unquote(code) if _TOKEN.fullmatch(code) else tidy(code) or code
            labels.append(value_label(code, tidy(text) or ""))
            lhs_start = None
        elif lhs_start is None:
            lhs_start = tok.start
        index += 1
    program.values[fmt_name] = labels


def _skip_group(toks: list[Token], index: int) -> int:
    """Index just after the parenthesised group opening at ``index``."""
    depth = 0
    for pos in range(index, len(toks)):
        if toks[pos].text == "(":
            depth += 1
        elif toks[pos].text == ")":
            depth -= 1
            if depth == 0:
                return pos + 1
    return len(toks)


def _parse_invalue(stmt: Statement, program: Program) -> None:
    """``INVALUE name ... OTHER = (|w.d|)``: remember the width the informat reads."""
    match = re.match(r"\s*\w+\s+(\$?\s*[A-Za-z_]\w*)", stmt.text)
    width = _INVALUE_WIDTH.search(stmt.text)
    if match and width:
        decimals = int(width.group(2)) if width.group(2) else None
        program.invalue_widths[match.group(1).replace(" ", "").upper()] = (
            int(width.group(1)),
            decimals,
        )


def _parse_labels(stmt: Statement, step: Step, program: Program) -> None:
    """``LABEL name = "label" ...``."""
    toks = tokens(stmt)
    index = 0
    while index < len(toks):
        tok = toks[index]
        if tok.kind == "name" and index + 1 < len(toks) and toks[index + 1].text == "=":
            if index + 2 < len(toks) and toks[index + 2].kind == "str":
                step.labels[tok.text.upper()] = tidy(unquote(toks[index + 2].text)) or ""
                index += 3
                continue
            program.warnings.append(
                f"line {stmt.line}: label of {tok.text} is not a quoted string; skipped"
            )
        index += 1


def _parse_formats(stmt: Statement, step: Step) -> None:
    """``FORMAT var1 var2 fmt. var3 fmt.``: which display format each variable uses."""
    pending: list[str] = []
    for tok in tokens(stmt):
        if tok.kind == "name":
            pending.append(tok.text.upper())
        elif tok.kind == "fmt" and not tok.text.startswith("."):
            for name in pending:
                step.formats[name] = tok.text
            pending = []
        elif tok.text == "$":
            continue
        else:
            pending = []


def _parse_attrib(stmt: Statement, step: Step) -> None:
    """``ATTRIB var LENGTH=$n FORMAT=f. INFORMAT=f. LABEL="..."`` (several variables)."""
    toks = tokens(stmt)
    current: list[str] = []
    options_seen = False
    index = 0
    while index < len(toks):
        tok = toks[index]
        is_option = (
            tok.kind == "name"
            and tok.text.upper() in _ATTRIB_OPTIONS
            and index + 1 < len(toks)
            and toks[index + 1].text == "="
        )
        if is_option:
            index = _attrib_option(toks, index, current, step)
            options_seen = True
            continue
        if tok.kind == "name":
            if options_seen:
                current, options_seen = [], False
            current.append(tok.text.upper())
        index += 1


def _attrib_option(toks: list[Token], index: int, names: list[str], step: Step) -> int:
    """Apply one ATTRIB option to ``names``; return the index after its value."""
    option = toks[index].text.upper()
    index += 2
    if index >= len(toks):
        return index
    value = toks[index]
    if option == "LENGTH":
        if value.text == "$":
            step.char_vars.update(names)
            index += 1
        return index + 1
    if option == "LABEL" and value.kind == "str":
        for name in names:
            step.labels[name] = tidy(unquote(value.text)) or ""
    elif option in ("FORMAT", "INFORMAT") and value.kind in ("fmt", "name"):
        target = step.formats if option == "FORMAT" else step.informats
        for name in names:
            target[name] = value.text
    return index + 1


def _parse_length(stmt: Statement, step: Step) -> None:
    """``LENGTH var $ n var n``: note character variables."""
    toks = tokens(stmt)
    for index, tok in enumerate(toks[:-1]):
        if tok.kind == "name" and toks[index + 1].text == "$":
            step.char_vars.add(tok.text.upper())


def _parse_infile(stmt: Statement, step: Step) -> None:
    """``INFILE ref|'path' ... LRECL=n``."""
    match = re.match(rf"\s*\w+\s+({NAME_OR_STRING})", stmt.text)
    if match:
        step.infile = unquote(match.group(1))
    lrecl = stated_lrecl(stmt.text)
    if lrecl:
        step.lrecl = lrecl


# ----------------------------------------------------------------------------- INPUT


def _expand_range(first: str, last: str) -> list[str] | None:
    """``Q1-Q5`` -> Q1..Q5 when both names share a prefix and end in numbers."""
    a = re.fullmatch(r"(.*?)(\d+)", first)
    b = re.fullmatch(r"(.*?)(\d+)", last)
    if not a or not b or a.group(1).upper() != b.group(1).upper():
        return None
    lo, hi = int(a.group(2)), int(b.group(2))
    if hi < lo or hi - lo > 10_000:
        return None
    return [f"{a.group(1)}{n}" for n in range(lo, hi + 1)]


class _InputReader:
    """Walks the tokens of one INPUT statement, tracking the column pointer."""

    def __init__(self, stmt: Statement, lines: LineIndex, program: Program) -> None:
        self.stmt = stmt
        self.toks = tokens(stmt)
        self.lines = lines
        self.program = program
        self.index = 0
        self.pointer: int | None = 1
        self.record_line = 1
        self.items: list[dict[str, Any]] = []

    def line_of(self, tok: Token) -> int:
        """Source line of a token."""
        return self.lines.line(self.stmt.offset + tok.start)

    def peek(self, ahead: int = 0) -> Token | None:
        """The token ``ahead`` places after the current one, if any."""
        pos = self.index + ahead
        return self.toks[pos] if pos < len(self.toks) else None

    def fail(self, tok: Token, problem: str) -> FormatError:
        """A FormatError naming the line of ``tok``."""
        line = self.line_of(tok)
        return FormatError(f"line {line}: {problem} in INPUT statement", line=line)

    def read(self) -> list[dict[str, Any]]:
        """All variables the INPUT statement reads, in order."""
        while self.index < len(self.toks):
            tok = self.toks[self.index]
            if tok.text in ("@", "@@"):
                self._pointer_at(tok)
            elif tok.text == "+":
                self._pointer_plus(tok)
            elif tok.text == "#":
                self._line_pointer(tok)
            elif tok.text == "/":
                self.record_line += 1
                self.pointer = 1
                self.index += 1
            elif tok.kind == "name":
                self._variable(tok)
            elif tok.text == "(":
                self._group(tok)
            else:
                raise self.fail(tok, f"unexpected {tok.text!r}")
        return self.items

    def _group(self, tok: Token) -> None:
        """``(a b c) (informats)``: the variables are kept, their columns are not computed."""
        self.program.warnings.append(
            f"line {self.line_of(tok)}: grouped INPUT list read without column positions"
        )
        end = _skip_group(self.toks, self.index)
        inner = self.toks[self.index + 1 : end - 1]
        pos = 0
        while pos < len(inner):
            if inner[pos].kind != "name":
                pos += 1
                continue
            names = None
            if pos + 2 < len(inner) and inner[pos + 1].text == "-":
                names = _expand_range(inner[pos].text, inner[pos + 2].text)
            for name in names or [inner[pos].text]:
                self._add(name, inner[pos], is_char=False, start=None, end=None, informat=None)
            pos += 3 if names else 1
        self.index = end
        if self.peek() is not None and self.peek().text == "(":
            self.index = _skip_group(self.toks, self.index)
        self.pointer = None

    def _pointer_at(self, tok: Token) -> None:
        nxt = self.peek(1)
        self.index += 1
        if nxt is None:
            return
        if nxt.kind == "num":
            self.pointer = int(nxt.text)
            self.index += 1
        elif nxt.text == "(":
            self.index = _skip_group(self.toks, self.index)
            self.pointer = None
        elif nxt.kind == "str" or (nxt.kind == "name" and self._is_pointer_variable()):
            self.pointer = None
            self.index += 1

    def _is_pointer_variable(self) -> bool:
        """``@var`` (pointer from a variable) is followed by another variable or informat."""
        after = self.peek(1)
        return after is not None and after.kind == "name"

    def _pointer_plus(self, tok: Token) -> None:
        nxt = self.peek(1)
        if nxt is None or nxt.kind != "num":
            raise self.fail(tok, "'+' without a column count")
        if self.pointer is not None:
            self.pointer += int(nxt.text)
        self.index += 2

    def _line_pointer(self, tok: Token) -> None:
        nxt = self.peek(1)
        if nxt is None or nxt.kind != "num":
            raise self.fail(tok, "'#' without a line number")
        self.record_line = int(nxt.text)
        self.pointer = 1
        self.index += 2

    def _variable(self, tok: Token) -> None:
        self.index += 1
        nxt, after = self.peek(), self.peek(1)
        if nxt is not None and nxt.text == "-" and after is not None and after.kind == "name":
            names = _expand_range(tok.text, after.text)
            if names:
                self.index += 2
                for name in names:
                    self._add(name, tok, is_char=False, start=None, end=None, informat=None)
                self.pointer = None
                return
        is_char = False
        if nxt is not None and nxt.text == "$":
            is_char = True
            self.index += 1
        while self.peek() is not None and self.peek().text in (":", "&", "~"):
            self.index += 1
        nxt = self.peek()
        if nxt is not None and nxt.kind == "num":
            self._column_input(tok, is_char)
        elif nxt is not None and nxt.kind == "fmt" and not nxt.text.startswith("."):
            self.index += 1
            self._add(tok.text, tok, is_char=is_char, start=self.pointer, end=None,
                      informat=nxt.text)
        else:
            self._add(tok.text, tok, is_char=is_char, start=None, end=None, informat=None)
            self.pointer = None

    def _column_input(self, tok: Token, is_char: bool) -> None:
        start = int(self.peek().text)
        self.index += 1
        end = start
        if self.peek() is not None and self.peek().text == "-":
            last = self.peek(1)
            if last is None or last.kind != "num":
                raise self.fail(tok, f"column range of {tok.text} has no end column")
            end = int(last.text)
            self.index += 2
        if end < start:
            raise self.fail(tok, f"column range {start}-{end} of {tok.text} ends before it starts")
        decimals = None
        if self.peek() is not None and self.peek().kind == "fmt" and self.peek().text[0] == ".":
            decimals = int(self.peek().text[1:])
            self.index += 1
        self._add(tok.text, tok, is_char=is_char, start=start, end=end, informat=None,
                  decimals=decimals)

    def _add(self, name: str, tok: Token, *, is_char: bool, start: int | None,
             end: int | None, informat: str | None, decimals: int | None = None) -> None:
        width = None
        if informat:
            width, fmt_decimals = sas_format_width(informat)
            if width is None:
                width, fmt_decimals = self.program.invalue_widths.get(
                    format_key(informat), (None, None)
                )
            decimals = decimals if decimals is not None else fmt_decimals
            is_char = is_char or informat.startswith("$")
        start, end, width = complete_columns(start, end, width)
        self.items.append({
            "name": name, "is_char": is_char, "start": start, "end": end, "width": width,
            "informat": informat, "decimals": decimals, "line": self.line_of(tok),
            "record_line": self.record_line,
        })
        if start is not None and width is not None:
            self.pointer = start + width
        elif informat:
            self.pointer = None


def _fill_gaps(items: list[dict[str, Any]], lrecl: int | None) -> None:
    """Widths unknown from the informat: up to the next field's start (or the record end)."""
    for pos, item in enumerate(items):
        if item["start"] is None or item["width"] is not None:
            continue
        following = next(
            (later["start"] for later in items[pos + 1 :]
             if later["start"] is not None and later["record_line"] == item["record_line"]),
            None,
        )
        limit = following if following is not None else (lrecl + 1 if lrecl else None)
        if limit is not None and limit > item["start"]:
            item["start"], item["end"], item["width"] = complete_columns(
                item["start"], None, limit - item["start"]
            )


# ----------------------------------------------------------------------------- program


def read_program(text: str) -> Program:
    """Read a SAS program's steps, code lists and informat widths."""
    lines = LineIndex(text)
    statements, comments = split_statements(text, lines)
    program = Program(comments=comments)
    step: Step | None = None
    in_proc_format = False
    for stmt in statements:
        keyword = stmt.keyword
        if keyword == "DATA":
            step = Step(line=stmt.line, members=_members(stmt))
            program.steps.append(step)
            in_proc_format = False
        elif keyword == "PROC":
            step = None
            in_proc_format = bool(re.match(r"\s*PROC\s+FORMAT\b", stmt.text, re.IGNORECASE))
        elif keyword in ("RUN", "QUIT"):
            step = None
        elif keyword == "VALUE" and in_proc_format:
            _parse_value(stmt, program)
        elif keyword == "INVALUE" and in_proc_format:
            _parse_invalue(stmt, program)
        elif step is not None:
            _step_statement(stmt, step, program, lines)
    return program


def _members(stmt: Statement) -> list[str]:
    """Data set names a DATA statement creates."""
    body = re.sub(r"\([^)]*\)", " ", stmt.text.strip()[4:])
    return [name for name in body.split() if name.upper() != "_NULL_"]


def _step_statement(stmt: Statement, step: Step, program: Program, lines: LineIndex) -> None:
    """Route one statement inside a DATA step."""
    keyword = stmt.keyword
    if keyword == "INPUT":
        if not stmt.terminated:
            raise FormatError(
                f"line {stmt.line}: INPUT statement is not closed by ';' (file cut off?)",
                line=stmt.line,
            )
        items = _InputReader(stmt, lines, program).read()
        if not items:
            raise FormatError(
                f"line {stmt.line}: INPUT statement lists no variables", line=stmt.line
            )
        step.inputs.extend(items)
        step.input_line = step.input_line or stmt.line
    elif keyword == "INFILE":
        _parse_infile(stmt, step)
    elif keyword == "LABEL":
        _parse_labels(stmt, step, program)
    elif keyword == "FORMAT":
        _parse_formats(stmt, step)
    elif keyword == "INFORMAT":
        _parse_formats(stmt, Step(line=0, formats=step.informats))
    elif keyword == "ATTRIB":
        _parse_attrib(stmt, step)
    elif keyword == "LENGTH":
        _parse_length(stmt, step)


# ----------------------------------------------------------------------------- records


def _data_type(item: dict[str, Any]) -> str:
    informat = (item["informat"] or "").upper().lstrip("$")
    if item["is_char"]:
        return "string"
    if informat.startswith("DATETIME"):
        return "datetime"
    if informat.startswith(_DATE_INFORMATS):
        return "date"
    if informat.startswith("TIME"):
        return "time"
    return "number"


def _fields(step: Step, program: Program) -> list[dict[str, Any]]:
    """Raw field records for the variables a DATA step's INPUT reads."""
    _fill_gaps(step.inputs, step.lrecl)
    several_lines = len({item["record_line"] for item in step.inputs}) > 1
    fields = []
    for position, item in enumerate(step.inputs, start=1):
        key = item["name"].upper()
        is_char = item["is_char"] or key in step.char_vars
        informat = item["informat"] or step.informats.get(key)
        display = step.formats.get(key)
        codes = program.values.get(format_key(display)) if display else None
        fields.append(new_field(
            position,
            item["name"],
            label=step.labels.get(key) or None,
            data_type=_data_type({**item, "is_char": is_char, "informat": informat}),
            source_type=informat or ("$" if is_char else None),
            width=item["width"],
            start_col=item["start"],
            end_col=item["end"],
            format=informat or display,
            decimals=item["decimals"],
            value_labels=list(codes or []),
        ))
        if several_lines:  # ``#n`` or ``/``: columns count from 1 again on each line
            fields[-1][RECORD] = item["record_line"]
    return fields


_TITLE_PATTERNS = [
    re.compile(r"(?i)\bload\s+the\s+(.+?)\s+into\s+SAS\b"),
    re.compile(r"(?i)\bfrom\s+the\s+(.+?\bfile)\b"),
    re.compile(r"(?i)\breads\s+(.+?)\s+and\s+creates\b"),
]
_ASCII_WORDS = re.compile(r"(?i)\bASCII\b(\s+format)?(\s*\([^)]*\))?\s*")


def _title(program: Program, identifier: str) -> str:
    """A title from the program's header comment (what file it loads), else the identifier."""
    header = " ".join(clean_comment(c) for c in program.comments[:12])
    for pattern in _TITLE_PATTERNS:
        match = pattern.search(header)
        if not match:
            continue
        phrase = tidy(_ASCII_WORDS.sub("", match.group(1)))
        if not phrase or len(phrase) > 120:
            continue
        words = {w.upper() for w in re.findall(r"[A-Za-z]+|\d+", identifier) if len(w) >= 3}
        phrase = _keep_codes(sentence_case(phrase), phrase, words)
        years = re.findall(r"\d+", identifier)
        names = [w for w in words if len(w) >= 4 and not w.isdigit()]
        upper = phrase.upper()
        if years and all(y in upper for y in years) and any(w in upper for w in names):
            return phrase[:1].upper() + phrase[1:]
        return f"{identifier}: {phrase}"
    return identifier


def _keep_codes(phrase: str, original: str, codes: set[str]) -> str:
    """Undo sentence case for words that are codes from the identifier (``SEDD``, ``AHAL``)."""
    kept = [
        word if word.upper() not in codes else source
        for word, source in zip(phrase.split(" "), original.split(" "), strict=False)
    ]
    return " ".join(kept)


_STATED_LENGTH = re.compile(
    r"(?i)\b(?:record|line)\s+length\s*(?:is|of|=|:)?\s*(\d{1,3}(?:,\d{3})+|\d{1,7})\b"
    r"(?![-,.]\d|\s*-)"
)


def _stated_length(program: Program) -> int | None:
    """A record length the program's comments state (``record length 400``), if any."""
    for comment in program.comments:
        match = _STATED_LENGTH.search(clean_comment(comment))
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def _dataset(step: Step, program: Program, identifier: str) -> dict[str, Any]:
    """The raw dataset of one DATA step that reads data."""
    fields = _fields(step, program)
    unmatched = sorted(set(step.labels) - {f["name"].upper() for f in fields})
    extra: dict[str, Any] = {"sas_data_step": step.members, "input_line": step.input_line}
    if step.infile:
        extra["infile"] = step.infile
    if step.lrecl:
        extra["lrecl"] = step.lrecl
    elif len(program.steps) == 1 and (stated := _stated_length(program)) is not None:
        extra["stated_record_length"] = stated
    if program.values:
        extra["value_formats"] = len(program.values)
    if unmatched:
        extra["labels_without_input"] = unmatched
    length = record_length(fields)
    sizes = f"{len(fields)} variables" + (f", record length {length}" if length else "")
    description = f"SAS input program for a fixed-width data file ({sizes})."
    return new_dataset(
        identifier, _title(program, identifier), description=description, layout=True,
        extra=extra, fields=fields,
    )


def parse(path: Path) -> ParsedFile:
    """Read a SAS program's INPUT layouts into one dataset per DATA step that reads data."""
    program = read_program(read_text_mixed(path))
    steps = [step for step in program.steps if step.inputs]
    if not steps:
        raise FormatError("no INPUT statement in any DATA step: not a SAS record layout")
    members = [step.members[0].split(".")[-1] if step.members else str(step.line)
               for step in steps]
    datasets = [_dataset(step, program, identifier)
                for step, identifier in zip(steps, file_identifiers(path, members), strict=True)]
    result = ParsedFile(path=path, format=NAME, datasets=datasets, warnings=program.warnings)
    for step in steps:
        named = {item["name"].upper() for item in step.inputs}
        missing = sorted(set(step.labels) - named)
        if missing:
            result.warnings.append(
                f"{len(missing)} LABELs name variables the INPUT does not read: "
                + ", ".join(missing[:10])
            )
    return result
