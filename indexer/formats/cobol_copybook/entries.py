"""Data description entries: level number, name and clauses (PIC, USAGE, OCCURS, VALUE)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from indexer.formats.base import FormatError, whole_number
from indexer.formats.cobol_copybook.pictures import Picture, parse_picture
from indexer.formats.cobol_copybook.tokens import WHOLE_NUMBER, Entry, Token
from indexer.formats.statements import unquote

_VALID_LEVELS = {*range(1, 50), 66, 77, 88}

# USAGE words -> (kind, fixed size in bytes or None when the picture decides).
USAGES: dict[str, tuple[str, int | None]] = {
    "DISPLAY": ("DISPLAY", None),
    "COMP": ("BINARY", None),
    "COMPUTATIONAL": ("BINARY", None),
    "COMP-4": ("BINARY", None),
    "COMPUTATIONAL-4": ("BINARY", None),
    "COMP-5": ("BINARY", None),
    "COMPUTATIONAL-5": ("BINARY", None),
    "BINARY": ("BINARY", None),
    "COMP-3": ("PACKED", None),
    "COMPUTATIONAL-3": ("PACKED", None),
    "PACKED-DECIMAL": ("PACKED", None),
    "COMP-6": ("UNSIGNED-PACKED", None),
    "COMPUTATIONAL-6": ("UNSIGNED-PACKED", None),
    "COMP-1": ("FLOAT", 4),
    "COMPUTATIONAL-1": ("FLOAT", 4),
    "FLOAT-SHORT": ("FLOAT", 4),
    "COMP-2": ("FLOAT", 8),
    "COMPUTATIONAL-2": ("FLOAT", 8),
    "FLOAT-LONG": ("FLOAT", 8),
    "INDEX": ("INDEX", 4),
    "POINTER": ("POINTER", 4),
    "PROCEDURE-POINTER": ("POINTER", 8),
    "FUNCTION-POINTER": ("POINTER", 4),
    "NATIONAL": ("NATIONAL", None),
    "DISPLAY-1": ("DBCS", None),
    "BINARY-CHAR": ("FIXED-BINARY", 1),
    "BINARY-SHORT": ("FIXED-BINARY", 2),
    "BINARY-LONG": ("FIXED-BINARY", 4),
    "BINARY-DOUBLE": ("FIXED-BINARY", 8),
}
_FIGURATIVE = {
    "ZERO", "ZEROS", "ZEROES", "SPACE", "SPACES", "HIGH-VALUE", "HIGH-VALUES", "LOW-VALUE",
    "LOW-VALUES", "QUOTE", "QUOTES", "NULL", "NULLS",
}
_CLAUSE_WORDS = {
    "PIC", "PICTURE", "USAGE", "VALUE", "VALUES", "OCCURS", "REDEFINES", "SIGN", "LEADING",
    "TRAILING", "JUSTIFIED", "JUST", "BLANK", "SYNC", "SYNCHRONIZED", "GLOBAL", "EXTERNAL",
    "RENAMES", "INDEXED", "ASCENDING", "DESCENDING", "GROUP-USAGE", "IS", *USAGES,
}
# Entries that are not data descriptions, skipped when a copybook carries them.
_SKIPPED_ENTRIES = {"FD", "SD", "RD", "CD", "COPY", "REPLACE", "TITLE", "PROCESS", "CBL",
                    "BASIS", "INSERT", "DELETE"}
_DIRECTIVES = {"EJECT", "SKIP1", "SKIP2", "SKIP3"}
_NAME = re.compile(r"^(?=[\w-]*[A-Za-z])[A-Za-z0-9][\w-]*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


@dataclass
class Item:
    """One data description entry and, after layout, its place in the record."""

    level: int
    name: str | None  # None for FILLER (named or implied)
    line: int
    picture: Picture | None = None
    usage: str | None = None  # the USAGE word as written, upper-cased
    sign: str | None = None  # "LEADING" | "TRAILING"
    sign_separate: bool = False
    occurs: tuple[int, int] | None = None
    depending_on: str | None = None
    redefines: str | None = None
    value: str | None = None
    values: list[str] = field(default_factory=list)  # an 88's values
    renames: str | None = None
    sync: bool = False
    comment: str | None = None
    conditions: list[tuple[str, list[str]]] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)
    # set by the layout pass
    offset: int = 0  # bytes from the start of the parent
    size: int = 0  # bytes of one occurrence
    min_offset: int = 0
    min_size: int = 0
    kind: str = "DISPLAY"
    usage_word: str | None = None  # effective usage as written (inherited or own)
    sign_note: str | None = None
    fields_one: int = 0  # fields one occurrence makes
    fields_total: int = 0  # fields the item makes with its OCCURS
    expand: bool = True

    @property
    def label(self) -> str:
        """The name for messages."""
        return self.name or "FILLER"


class _Cursor:
    """Walk the tokens of one entry."""

    def __init__(self, tokens: list[Token], name: str) -> None:
        self.tokens = tokens
        self.index = 0
        self.name = name

    def peek(self) -> Token | None:
        """The next token, not taken."""
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token | None:
        """Take the next token (None at the end of the entry)."""
        token = self.peek()
        if token is not None:
            self.index += 1
        return token

    def accept(self, *words: str) -> bool:
        """Take the next token when it is one of ``words``."""
        token = self.peek()
        if token is not None and token.kind == "word" and token.upper in words:
            self.index += 1
            return True
        return False

    def expect(self, what: str, line: int, test: Any = None) -> Token:
        """Take the next token; FormatError naming ``what`` when there is none or ``test`` fails."""
        token = self.take()
        if token is None or (test is not None and not test(token)):
            found = f"found {token.text!r}" if token else "the entry ends there"
            at = token.line if token else line
            raise FormatError(
                f"line {at}: expected {what} in the description of {self.name}; {found}",
                line=at,
            )
        return token


def _is_name(token: Token) -> bool:
    return token.kind == "word" and bool(_NAME.match(token.text)) and (
        token.upper not in _CLAUSE_WORDS
    )


def _is_literal(token: Token) -> bool:
    return token.kind == "lit" or (token.kind == "word" and (
        bool(_NUMBER.match(token.text)) or token.upper in _FIGURATIVE
    ))


def _literal_text(token: Token) -> str:
    """A literal as a code: quotes removed from plain strings, anything else as written."""
    return unquote(token.text) if token.kind == "lit" else token.text


def parse_entry(entry: Entry) -> Item | None:
    """Read one data description entry; None for entries that describe no data."""
    tokens = list(entry.tokens)
    while tokens and tokens[0].kind == "word" and tokens[0].upper in _DIRECTIVES:
        tokens.pop(0)
    if not tokens:
        return None
    first = tokens[0]
    if first.kind == "word" and (
        first.upper in _SKIPPED_ENTRIES or tokens[-1].upper in ("DIVISION", "SECTION")
    ):
        return None
    if not (first.kind == "word" and WHOLE_NUMBER.match(first.text) and len(first.text) <= 2):
        raise FormatError(
            f"line {first.line}: expected a level number (01-49, 66, 77 or 88) to start a "
            f"data description entry; found {first.text!r}",
            line=first.line,
        )
    level = int(first.text)
    if level not in _VALID_LEVELS:
        raise FormatError(
            f"line {first.line}: level number {first.text} is not valid (expected 01-49, 66, "
            "77 or 88)",
            line=first.line,
        )
    item = Item(level=level, name=None, line=first.line)
    cursor = _Cursor(tokens[1:], f"the level-{first.text} item")
    token = cursor.peek()
    if token is not None and token.kind == "word" and token.upper not in _CLAUSE_WORDS:
        if not _NAME.match(token.text):
            raise FormatError(
                f"line {token.line}: expected a data name after level {first.text}; found "
                f"{token.text!r}",
                line=token.line,
            )
        cursor.take()
        item.name = None if token.upper == "FILLER" else token.text
        cursor.name = token.text
    elif level in (66, 88):
        raise FormatError(
            f"line {first.line}: expected a name after level {first.text}", line=first.line
        )
    _read_clauses(cursor, item)
    if level == 88 and not item.values:
        raise FormatError(
            f"line {first.line}: condition {item.label} (level 88) needs a VALUE clause",
            line=first.line,
        )
    if level == 66 and not item.renames:
        raise FormatError(
            f"line {first.line}: {item.label} (level 66) needs a RENAMES clause",
            line=first.line,
        )
    return item


def _read_clauses(cursor: _Cursor, item: Item) -> None:
    """Read the clauses after the data name, in any order."""
    line = item.line
    while (token := cursor.peek()) is not None:
        word = token.upper if token.kind == "word" else ""
        if word in ("PIC", "PICTURE"):
            cursor.take()
            cursor.accept("IS")
            pic = cursor.expect("a picture string after PIC (such as X(10) or S9(7)V99)", line)
            item.picture = parse_picture(pic.text, pic.line)
        elif word == "USAGE":
            cursor.take()
            cursor.accept("IS")
            usage = cursor.expect(
                "a usage after USAGE (DISPLAY, COMP, COMP-3, BINARY, PACKED-DECIMAL, ...)",
                line, lambda t: t.upper in USAGES,
            )
            _set_usage(cursor, item, usage.upper)
        elif word in USAGES:
            cursor.take()
            _set_usage(cursor, item, word)
        elif word == "REDEFINES":
            cursor.take()
            item.redefines = cursor.expect("the name of the item redefined", line, _is_name).text
        elif word == "OCCURS":
            cursor.take()
            _read_occurs(cursor, item)
        elif word in ("VALUE", "VALUES"):
            cursor.take()
            cursor.accept("IS", "ARE")
            _read_values(cursor, item)
        elif word in ("SIGN", "LEADING", "TRAILING"):
            cursor.take()
            if word == "SIGN":
                cursor.accept("IS")
                word = cursor.expect(
                    "LEADING or TRAILING after SIGN", line,
                    lambda t: t.upper in ("LEADING", "TRAILING"),
                ).upper
            item.sign = word
            if cursor.accept("SEPARATE"):
                item.sign_separate = True
                cursor.accept("CHARACTER")
        elif word in ("JUSTIFIED", "JUST"):
            cursor.take()
            cursor.accept("RIGHT")
        elif word == "BLANK":
            cursor.take()
            cursor.accept("WHEN")
            cursor.expect("ZERO after BLANK WHEN", line,
                          lambda t: t.upper in ("ZERO", "ZEROS", "ZEROES"))
        elif word in ("SYNC", "SYNCHRONIZED"):
            cursor.take()
            cursor.accept("LEFT", "RIGHT")
            item.sync = True
        elif word in ("GLOBAL", "EXTERNAL", "IS"):
            cursor.take()
        elif word == "GROUP-USAGE":
            cursor.take()
            cursor.accept("IS")
            cursor.expect("NATIONAL after GROUP-USAGE", line, lambda t: t.upper == "NATIONAL")
        elif word == "RENAMES":
            cursor.take()
            start = cursor.expect("the name of the item renamed", line, _is_name).text
            if cursor.accept("THRU", "THROUGH"):
                start += " THRU " + cursor.expect("a name after THRU", line, _is_name).text
            item.renames = start
        else:
            raise FormatError(
                f"line {token.line}: unexpected {token.text!r} in the description of "
                f"{cursor.name}; expected a clause such as PIC, USAGE, OCCURS, REDEFINES or "
                "VALUE",
                line=token.line,
            )


def _set_usage(cursor: _Cursor, item: Item, word: str) -> None:
    item.usage = word
    if USAGES[word][0] == "FIXED-BINARY":
        cursor.accept("SIGNED", "UNSIGNED")


def _read_occurs(cursor: _Cursor, item: Item) -> None:
    """``OCCURS n [TIMES]`` or ``OCCURS m TO n [TIMES] DEPENDING ON x``, keys and indexes."""
    line = item.line

    def whole(token: Token) -> bool:
        return token.kind == "word" and bool(WHOLE_NUMBER.match(token.text))

    low = whole_number(cursor.expect("a whole number after OCCURS", line, whole).text, line,
                       "OCCURS count")
    high = low
    if cursor.accept("TO"):
        high = whole_number(cursor.expect("a whole number after OCCURS m TO", line,
                                          whole).text, line, "OCCURS count")
    cursor.accept("TIMES")
    if cursor.accept("DEPENDING"):
        cursor.accept("ON")
        item.depending_on = cursor.expect("a name after DEPENDING ON", line, _is_name).text
    elif high != low:
        raise FormatError(
            f"line {line}: OCCURS {low} TO {high} of {cursor.name} needs DEPENDING ON",
            line=line,
        )
    if high < low or high == 0:
        raise FormatError(
            f"line {line}: OCCURS {low} TO {high} of {cursor.name}: expected a maximum of at "
            "least 1 and not below the minimum",
            line=line,
        )
    while True:
        if cursor.accept("ASCENDING", "DESCENDING"):
            cursor.accept("KEY")
            cursor.accept("IS")
        elif cursor.accept("INDEXED"):
            cursor.accept("BY")
        else:
            break
        cursor.expect("a name", line, _is_name)
        while (token := cursor.peek()) is not None and _is_name(token):
            cursor.take()
    item.occurs = (low, high)


def _read_values(cursor: _Cursor, item: Item) -> None:
    """Literals after VALUE (several, and ``a THRU b`` ranges, for an 88 level)."""
    line = item.line
    values: list[str] = []
    while (token := cursor.peek()) is not None:
        if token.kind == "word" and token.upper == "ALL":
            cursor.take()
            value = "ALL " + _literal_text(cursor.expect("a literal after ALL", line,
                                                         _is_literal))
        elif _is_literal(token):
            cursor.take()
            value = _literal_text(token)
        else:
            break
        if cursor.accept("THRU", "THROUGH"):
            high = cursor.expect("a literal after THRU", line, _is_literal)
            value = f"{value} THRU {_literal_text(high)}"
        values.append(value)
    if not values:
        cursor.expect("a literal after VALUE", line, _is_literal)
    if cursor.accept("WHEN"):
        cursor.accept("SET")
        cursor.accept("TO")
        cursor.expect("FALSE after WHEN SET TO", line, lambda t: t.upper == "FALSE")
        cursor.accept("IS")
        cursor.expect("a literal after WHEN SET TO FALSE", line, _is_literal)
    elif cursor.accept("FALSE"):
        cursor.accept("IS")
        cursor.expect("a literal after WHEN SET TO FALSE", line, _is_literal)
    if item.level == 88:
        item.values.extend(values)
    else:
        item.value = values[0]
