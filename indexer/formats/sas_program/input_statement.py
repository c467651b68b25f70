"""The INPUT statement: variables with their columns, informats and lines of a case."""

from __future__ import annotations

from typing import Any

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import FormatError, whole_number
from indexer.formats.layout import complete_columns, sas_format_width
from indexer.formats.sas_program.declarations import Program
from indexer.formats.sas_program.lexing import Token, TokenStream, format_key, skip_group
from indexer.formats.statements import LineIndex, Statement


def _prefix_number(name: str) -> tuple[str, str] | None:
    """``Q012`` -> (``Q``, ``012``): a name's prefix and the digits it ends in; None if none."""
    prefix = name.rstrip("0123456789")
    return (prefix, name[len(prefix):]) if len(prefix) < len(name) else None


def _expand_range(first: str, last: str) -> list[str] | None:
    """``Q1-Q5`` -> Q1..Q5 when both names share a prefix and end in numbers."""
    a, b = _prefix_number(first), _prefix_number(last)
    if not a or not b or a[0].upper() != b[0].upper() or max(len(a[1]), len(b[1])) > 9:
        return None
    lo, hi = int(a[1]), int(b[1])
    if hi < lo or hi - lo > 10_000:
        return None
    return [f"{a[0]}{n}" for n in range(lo, hi + 1)]


class InputReader:
    """Walks the tokens of one INPUT statement, tracking the column pointer."""

    def __init__(self, stmt: Statement, lines: LineIndex, program: Program) -> None:
        self.stmt = stmt
        self.toks = TokenStream(stmt)
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
        return self.toks.get(self.index + ahead)

    def fail(self, tok: Token, problem: str) -> FormatError:
        """A FormatError naming the line of ``tok``."""
        line = self.line_of(tok)
        return FormatError(f"line {line}: {problem} in INPUT statement", line=line)

    def read(self) -> list[dict[str, Any]]:
        """All variables the INPUT statement reads, in order."""
        while (tok := self.toks.get(self.index)) is not None:
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
        end = skip_group(self.toks, self.index)
        inner = self.toks.between(self.index + 1, end - 1)
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
            self.index = skip_group(self.toks, self.index)
        self.pointer = None

    def _pointer_at(self, tok: Token) -> None:
        nxt = self.peek(1)
        self.index += 1
        if nxt is None:
            return
        if nxt.kind == "num":
            self.pointer = whole_number(nxt.text, self.line_of(nxt), "column")
            self.index += 1
        elif nxt.text == "(":
            self.index = skip_group(self.toks, self.index)
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
            self.pointer += whole_number(nxt.text, self.line_of(nxt), "column count")
        self.index += 2

    def _line_pointer(self, tok: Token) -> None:
        nxt = self.peek(1)
        if nxt is None or nxt.kind != "num":
            raise self.fail(tok, "'#' without a line number")
        self.record_line = whole_number(nxt.text, self.line_of(nxt), "line number")
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
        start = whole_number(self.peek().text, self.line_of(self.peek()), "column")
        self.index += 1
        end = start
        if self.peek() is not None and self.peek().text == "-":
            last = self.peek(1)
            if last is None or last.kind != "num":
                raise self.fail(tok, f"column range of {tok.text} has no end column")
            end = whole_number(last.text, self.line_of(last), "column")
            self.index += 2
        if end < start:
            raise self.fail(tok, f"column range {start}-{end} of {tok.text} ends before it starts")
        decimals = None
        if self.peek() is not None and self.peek().kind == "fmt" and self.peek().text[0] == ".":
            decimals = whole_number(self.peek().text[1:], self.line_of(self.peek()), "decimals")
            self.index += 1
        self._add(tok.text, tok, is_char=is_char, start=start, end=end, informat=None,
                  decimals=decimals)

    def _add(self, name: str, tok: Token, *, is_char: bool, start: int | None,
             end: int | None, informat: str | None, decimals: int | None = None) -> None:
        width = None
        if informat:
            try:
                width, fmt_decimals = sas_format_width(informat)
            except FormatError as exc:
                raise self.fail(tok, str(exc)) from None
            if width is None:
                width, fmt_decimals = self.program.invalue_widths.get(
                    format_key(informat), (None, None)
                )
            decimals = decimals if decimals is not None else fmt_decimals
            is_char = is_char or informat.startswith("$")
        start, end, width = complete_columns(start, end, width)
        if len(self.items) >= MAX_FIELDS:  # stop here: the rest of the statement is not read
            raise self.fail(tok, f"more than {MAX_FIELDS:,} variables (the most a dataset "
                            "holds)")
        self.items.append({
            "name": name, "is_char": is_char, "start": start, "end": end, "width": width,
            "informat": informat, "decimals": decimals, "line": self.line_of(tok),
            "record_line": self.record_line,
        })
        if start is not None and width is not None:
            self.pointer = start + width
        elif informat:
            self.pointer = None


def fill_gaps(items: list[dict[str, Any]], lrecl: int | None) -> None:
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
