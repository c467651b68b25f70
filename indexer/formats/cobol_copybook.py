"""COBOL copybooks: the record descriptions behind fixed-width (often mainframe) files.

A copybook declares a record as a tree of data items, each with a level number::

      * QUARTERLY WAGE DETAIL
       01  UI-WAGE-RECORD.
           05  EMPLOYER-ID         PIC X(10).
           05  WAGE-DATA           COMP-3.
               10  QTR-WAGES       PIC S9(7)V99 OCCURS 4 TIMES.
           05  STATUS-CODE         PIC X.
               88  STATUS-ACTIVE   VALUE 'A'.

Each 01-level record becomes one record layout (a dataset; the file name without extension
is its identifier, the record name its title); each elementary item becomes a field whose
``start_col``/``end_col`` (1-based, inclusive) and ``width`` count **bytes** in the record.
Items before any 01 level (a copybook meant to be copied under a group) form one record
named after the file.

What is read:

* **Source format**, told by content: fixed format (sequence area in columns 1-6; indicator
  in column 7 -- ``*`` and ``/`` comment lines, ``D`` debugging lines skipped, ``-``
  continuation lines, also of literals --; code in columns 8-72; the identification area
  73-80 ignored) or free format (no sequence area, ``*>`` comments, lines of any length).
  Floating ``*>`` comments are honoured in both.
* **Level numbers** 01-49 build the group tree; the group path of a field goes into its
  description (``in group EMPLOYER-INFO > ADDRESS``); the field keeps its own ``name``.
  88-level condition names become the ``value_labels`` of the item before them
  (``{"code": "A", "label": "STATUS-ACTIVE"}``; ``1 THRU 5`` ranges kept as one code).
  66-level RENAMES and 77-level items are independent of the record: skipped, with a warning.
* **PIC / PICTURE** strings with the symbols ``A X 9 S V P N G E Z B 0 / , . + - * $ CR DB``
  and repeat counts such as ``9(5)``, ``X(10)``, ``S9(7)V99``. Edited pictures take one byte
  per character position (display width). ``V`` gives ``decimals``; a leading ``P`` scales.
* **USAGE** (on the item or inherited from its group): DISPLAY (one byte a character, plus
  one with ``SIGN ... SEPARATE``); COMP / COMP-4 / COMP-5 / BINARY (2, 4 or 8 bytes for 1-4,
  5-9 and 10-18 digits); COMP-3 / PACKED-DECIMAL (``digits // 2 + 1`` bytes); COMP-6
  (unsigned packed); COMP-1 (4) and COMP-2 (8); INDEX and POINTER (4); NATIONAL and PIC N
  (2 bytes a character); DISPLAY-1 and PIC G (2); BINARY-CHAR/SHORT/LONG/DOUBLE (1/2/4/8).
* **OCCURS n TIMES** expands into one field per occurrence, named with COBOL subscripts:
  ``QTR-WAGES(1)`` .. ``QTR-WAGES(4)``, ``AMT(2,3)`` inside nested tables. An expansion that
  would make more than :data:`OCCURS_FIELD_CAP` fields is kept as one field spanning the
  table (elementary) or as its first occurrence (group), with a warning and a note.
  **OCCURS m TO n DEPENDING ON x** is laid out at its maximum; the record is marked variable
  length (``extra["variable_length"]``, ``extra["min_record_length"]``) with a warning.
* **REDEFINES**: the redefining item starts where the item it redefines starts and does not
  lengthen the record (a longer redefinition extends it, with a warning); its fields carry
  ``redefines X`` in their description. A redefining 01 record is a layout of its own.
* **FILLER** (named, or no name at all) is not listed as a field but its bytes are counted;
  its columns go into ``extra["filler"]`` (``[[start, end], ...]``) so that the layout check
  does not report them as gaps. Fields under a REDEFINES are marked as deliberate overlays.
* **VALUE** on a data item is noted in the description (``initial value 'X'``).
* Comment lines between two entries describe the entry after them (the ones before an 01
  describe the record).

The record length (sum of the bytes, redefinitions overlaid) goes into
``extra["record_length"]``. A clause that cannot be read raises :class:`FormatError` naming
the line and what was expected. SYNCHRONIZED slack bytes are not added (warning).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import FormatError, ParsedFile, file_identifiers, read_text_mixed
from indexer.formats.layout import OVERLAY, merge_ranges
from indexer.formats.records import new_dataset, new_field
from indexer.formats.statements import Scanner, unquote
from indexer.formats.text import clean_comment

NAME = "cobol-copybook"

#: Most fields one OCCURS clause may expand into before it is kept as a single field.
OCCURS_FIELD_CAP = 1000

_EXTENSIONS = {".cpy", ".cbl", ".cob", ".copy", ".cpb", ".cobol"}
_LEVEL_PIC = re.compile(
    r"(?im)^(?:[ \t]*|[0-9A-Za-z]{6}[ \t*-]?[ \t]*)"  # optional sequence area
    r"(?:0?[1-9]|[1-4][0-9]|77)[ \t]+"  # level number
    r"(?:[A-Za-z0-9][\w-]*[ \t]+)?"  # data name (absent for an implicit FILLER)
    r"[^\n]*?\bPIC(?:TURE)?[ \t]+(?:IS[ \t]+)?[-+$*SXA9NZPVGE]"
)
# A whole entry on one line: level, name, clauses, period (``05 WAGES COMP-2.``).
_LEVEL_ENTRY = re.compile(
    r"(?im)^(?:[ \t]*|[0-9A-Za-z]{6}[ \t]+)(?:0?[1-9]|[1-4][0-9]|66|77|88)[ \t]+"
    r"[A-Za-z0-9][\w-]*(?:[ \t]+[^\n]*)?\.[ \t]*(?:\*>[^\n]*)?$"
)

# ----------------------------------------------------------------------------- vocabulary

_VALID_LEVELS = {*range(1, 50), 66, 77, 88}

# USAGE words -> (kind, fixed size in bytes or None when the picture decides).
_USAGES: dict[str, tuple[str, int | None]] = {
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
    "RENAMES", "INDEXED", "ASCENDING", "DESCENDING", "GROUP-USAGE", "IS", *_USAGES,
}
# Entries that are not data descriptions, skipped when a copybook carries them.
_SKIPPED_ENTRIES = {"FD", "SD", "RD", "CD", "COPY", "REPLACE", "TITLE", "PROCESS", "CBL",
                    "BASIS", "INSERT", "DELETE"}
_DIRECTIVES = {"EJECT", "SKIP1", "SKIP2", "SKIP3"}
_NAME = re.compile(r"^(?=[\w-]*[A-Za-z])[A-Za-z0-9][\w-]*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_INTEGER = re.compile(r"^\d+$")

# ----------------------------------------------------------------------------- detection


def detect(path: Path, head: str) -> bool:
    """True for text with level-numbered entries that carry PIC clauses."""
    hits = len(_LEVEL_PIC.findall(head))
    entries = len(_LEVEL_ENTRY.findall(head))
    if path.suffix.lower() in _EXTENSIONS:
        return hits >= 1 or entries >= 2
    return hits >= 3 or (hits >= 2 and entries >= 3)


# ----------------------------------------------------------------------------- source lines


@dataclass
class Source:
    """The code of a copybook with comments and reference-format columns taken out."""

    fixed: bool
    parts: list[tuple[str, int]] = field(default_factory=list)  # (code text, first line)
    comments: list[tuple[int, str]] = field(default_factory=list)  # whole comment lines
    inline: dict[int, str] = field(default_factory=dict)  # '*>' comments after code


_SEQUENCE = re.compile(r"^(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{6}$")
_QUOTE = re.compile(r"['\"]")
_INLINE_COMMENT = re.compile(r"\*>|['\"]")
_CODE_WIDTH = 65  # columns 8-72


def _is_fixed(lines: list[str]) -> bool:
    """Whether lines follow the fixed reference format (sequence area, column-7 indicator)."""
    fixed = free = 0
    for line in lines:
        if not line.strip():
            continue
        if len(line) > 80:
            free += 1
            continue
        seq, ind = line[:6], line[6:7]
        if not seq.strip():
            if ind in ("", " "):
                # Code in column 8 or later reads the same in both formats, unless it runs
                # on past column 72: through the boundary, or to an entry's period.
                tail = line[72:]
                if tail and ((line[71] != " " and tail[0] != " ") or tail.endswith(".")):
                    free += 1
                continue
            if (ind in "*/" and line[7:8] != ">") or ind == "-":
                fixed += 1
            elif ind not in "Dd":
                free += 1  # code that starts in column 7
        elif _SEQUENCE.match(seq) and ind in ("", " ", "*", "/", "-", "D", "d"):
            fixed += 1
        else:
            free += 1
    return free <= fixed


def _open_quote(text: str) -> str | None:
    """The quote character of a literal left open at the end of ``text``, if any."""
    scan = Scanner(text, _QUOTE)
    while (match := scan.next()) is not None:
        end = scan.string_end(match.start())
        if end is None:
            return match.group()
        scan.pos = end
    return None


def _split_inline(text: str) -> tuple[str, str | None]:
    """Split a floating ``*>`` comment (outside literals) off a line of code."""
    scan = Scanner(text, _INLINE_COMMENT)
    while (match := scan.next()) is not None:
        if match.group() == "*>":
            return scan.take(), text[match.end() :]
        end = scan.string_end(match.start())
        if end is None:
            break
        scan.keep(text[match.start() : end])
        scan.pos = end
    return text, None


def read_source(text: str) -> Source:
    """Strip sequence numbers, indicators and comments; join continuation lines."""
    lines = [raw.expandtabs(8).rstrip() for raw in text.splitlines()]
    source = Source(fixed=_is_fixed(lines))
    for number, line in enumerate(lines, start=1):
        if source.fixed:
            if len(line) <= 7 and not line[6:].strip():
                continue
            indicator, area = line[6], line[7:72]
            if indicator in "*/":
                source.comments.append((number, area))
                continue
            if indicator in "Dd$":
                continue  # debugging line or compiler directive
            if indicator not in " -":
                raise FormatError(
                    f"line {number}: column 7 holds {indicator!r}; a fixed-format copybook "
                    "expects ' ', '*', '/', '-' or 'D' there",
                    line=number,
                )
        else:
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("*"):
                source.comments.append((number, stripped.lstrip("*>")))
                continue
            indicator, area = " ", line
        area, comment = _split_inline(area)
        if comment is not None and comment.strip():
            source.inline[number] = comment
        if indicator == "-":
            _continue_line(source, area, number)
        elif area.strip():
            source.parts.append((area, number))
    return source


def _continue_line(source: Source, area: str, number: int) -> None:
    """Join a continuation line (indicator ``-``) to the line of code before it."""
    if not source.parts:
        raise FormatError(
            f"line {number}: continuation line ('-' in column 7) with no line to continue",
            line=number,
        )
    previous, first = source.parts[-1]
    rest = area.lstrip()
    quote = _open_quote(previous)
    if quote is not None:
        if not rest.startswith(quote):
            raise FormatError(
                f"line {number}: a continued literal must go on with {quote} as the first "
                "character of the continuation line",
                line=number,
            )
        source.parts[-1] = (previous.ljust(_CODE_WIDTH) + rest[1:], first)
    else:
        source.parts[-1] = (previous.rstrip() + rest, first)


# ----------------------------------------------------------------------------- tokens


@dataclass
class Token:
    """One COBOL word, literal or separator period, with its line."""

    kind: str  # "word" | "lit" | "period"
    text: str
    line: int

    @property
    def upper(self) -> str:
        """The token upper-cased (COBOL words are case-insensitive)."""
        return self.text.upper()


_TOKEN = re.compile(
    r"""(?P<lit>(?:(?<![\w-])(?:[XNGZBU]|NX))?(?:'(?:[^']|'')*'|"(?:[^"]|"")*"))
      |(?P<open>['"])
      |(?P<word>[^\s'"]+)""",
    re.VERBOSE | re.IGNORECASE,
)


def tokenize(source: Source) -> list[Token]:
    """Words, literals and separator periods of the copybook's code."""
    out: list[Token] = []
    for text, line in source.parts:
        for match in _TOKEN.finditer(text):
            if match.group("open"):
                snippet = text[match.start() : match.start() + 20].strip()
                raise FormatError(
                    f"line {line}: literal {snippet}... is never closed (expected a closing "
                    f"{match.group('open')}, or a continuation line)",
                    line=line,
                )
            if match.group("lit"):
                out.append(Token("lit", match.group("lit"), line))
                continue
            word = match.group("word")
            period = False
            while word and word[-1] in ".,;":
                period = period or word[-1] == "."
                word = word[:-1]
            if word:
                out.append(Token("word", word, line))
            if period:
                out.append(Token("period", ".", line))
    return out


@dataclass
class Entry:
    """The tokens of one data description entry (up to its period)."""

    tokens: list[Token]
    terminated: bool

    @property
    def first_line(self) -> int:
        """Line of the entry's first token."""
        return self.tokens[0].line

    @property
    def last_line(self) -> int:
        """Line of the entry's last token."""
        return self.tokens[-1].line


def split_entries(tokens: list[Token]) -> list[Entry]:
    """Group tokens into entries ended by separator periods."""
    entries: list[Entry] = []
    current: list[Token] = []
    for token in tokens:
        if token.kind == "period":
            if current:
                entries.append(Entry(current, True))
            current = []
        else:
            current.append(token)
    if current:
        entries.append(Entry(current, False))
    return entries


# ----------------------------------------------------------------------------- pictures


@dataclass
class Picture:
    """What a PICTURE string says: category, character positions, digits, decimals."""

    text: str
    category: str  # numeric | numeric-edited | alphanumeric | alphabetic | national | dbcs
    chars: int  # character positions (S, V and P take none)
    digits: int  # digit positions of a numeric item (9s)
    decimals: int | None
    signed: bool
    scaled: bool  # has V or leading P: a fractional number


_PIC_SYMBOLS = set("AXSVP9NGEZB0/,.+-*$")


def _picture_symbols(text: str, line: int) -> list[tuple[str, int]]:
    """The symbols of a picture string with their repeat counts."""
    out: list[tuple[str, int]] = []
    upper = text.upper()
    index = 0
    while index < len(upper):
        char = upper[index]
        if char == "(":
            close = upper.find(")", index)
            if close < 0:
                raise FormatError(
                    f"line {line}: PIC {text!r} is cut off: expected a repeat count and ')' "
                    "after '('",
                    line=line,
                )
            count = upper[index + 1 : close].strip()
            if not _INTEGER.match(count) or int(count) == 0:
                raise FormatError(
                    f"line {line}: PIC {text!r}: expected a repeat count (a positive whole "
                    f"number) in parentheses, found {count!r}",
                    line=line,
                )
            if not out:
                raise FormatError(
                    f"line {line}: PIC {text!r}: a repeat count needs a symbol before it",
                    line=line,
                )
            symbol, times = out[-1]
            out[-1] = (symbol, times + int(count) - 1)
            index = close + 1
            continue
        if upper.startswith(("CR", "DB"), index):
            out.append((upper[index : index + 2], 1))
            index += 2
            continue
        if char not in _PIC_SYMBOLS:
            raise FormatError(
                f"line {line}: PIC {text!r} holds {text[index]!r}; expected picture symbols "
                "such as X, A, 9, S, V, P, Z or a repeat count like 9(5)",
                line=line,
            )
        out.append((char, 1))
        index += 1
    return out


def parse_picture(text: str, line: int) -> Picture:
    """Read a PICTURE string such as ``S9(7)V99``, ``X(10)`` or ``ZZ,ZZ9.99-``."""
    symbols = _picture_symbols(text, line)
    kinds = {s for s, _ in symbols}
    if kinds & {"S"} and symbols[0][0] != "S":
        raise FormatError(f"line {line}: PIC {text!r}: S must come first", line=line)
    if sum(c for s, c in symbols if s == "S") > 1 or sum(1 for s, _ in symbols if s == "V") > 1:
        raise FormatError(f"line {line}: PIC {text!r}: S and V may appear once", line=line)
    chars = sum(c * len(s) for s, c in symbols if s not in ("S", "V", "P"))
    digits = sum(c for s, c in symbols if s == "9")
    if kinds & {"N"}:
        category = "national"
    elif kinds & {"G"}:
        category = "dbcs"
    elif kinds & {"X"} or (kinds & {"A"} and kinds & {"9"}):
        category = "alphanumeric"
    elif kinds & {"A"}:
        category = "alphabetic"
    elif kinds <= {"9", "S", "V", "P"}:
        category = "numeric"
    else:
        category = "numeric-edited"
    decimals: int | None = None
    scaled = False
    if category == "numeric":
        body = [s for s, _ in symbols if s != "S"]
        after_v = symbols[[s for s, _ in symbols].index("V") + 1 :] if "V" in kinds else []
        decimals = sum(c for s, c in after_v if s in ("9", "P"))
        if body and body[0] in ("P", "V") and "P" in kinds and "V" not in kinds:
            decimals = sum(c for s, c in symbols if s in ("9", "P"))
        scaled = "V" in kinds or (bool(body) and body[0] == "P")
    elif category == "numeric-edited":
        names = [s for s, _ in symbols]
        point = "." if "." in names else ("V" if "V" in names else None)
        if point:
            tail = symbols[names.index(point) + 1 :]
            decimals = sum(c for s, c in tail if s in ("9", "Z", "*"))
        else:
            decimals = 0
        scaled = bool(point)
    if category not in ("numeric", "numeric-edited") and kinds & {"S", "V", "P"}:
        raise FormatError(
            f"line {line}: PIC {text!r}: S, V and P belong to numeric pictures only", line=line
        )
    if chars == 0 and digits == 0:
        raise FormatError(
            f"line {line}: PIC {text!r} describes no character positions", line=line
        )
    return Picture(text, category, chars, digits, decimals, "S" in kinds, scaled)


# ----------------------------------------------------------------------------- entries


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
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token | None:
        token = self.peek()
        if token is not None:
            self.index += 1
        return token

    def accept(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.upper in words:
            self.index += 1
            return True
        return False

    def expect(self, what: str, line: int, test: Any = None) -> Token:
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
    if not (first.kind == "word" and _INTEGER.match(first.text) and len(first.text) <= 2):
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
                line, lambda t: t.upper in _USAGES,
            )
            _set_usage(cursor, item, usage.upper)
        elif word in _USAGES:
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
    if _USAGES[word][0] == "FIXED-BINARY":
        cursor.accept("SIGNED", "UNSIGNED")


def _read_occurs(cursor: _Cursor, item: Item) -> None:
    """``OCCURS n [TIMES]`` or ``OCCURS m TO n [TIMES] DEPENDING ON x``, keys and indexes."""
    line = item.line

    def whole(token: Token) -> bool:
        return token.kind == "word" and bool(_INTEGER.match(token.text))

    low = int(cursor.expect("a whole number after OCCURS", line, whole).text)
    high = low
    if cursor.accept("TO"):
        high = int(cursor.expect("a whole number after OCCURS m TO", line, whole).text)
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


# ----------------------------------------------------------------------------- records


@dataclass
class Record:
    """One record description: an 01 item (or the implied root of a fragment)."""

    root: Item
    comments: list[str] = field(default_factory=list)
    implied: bool = False


@dataclass
class _Context:
    """What the layout and field passes share: warnings and the fields made so far."""

    warnings: list[str]
    fields: list[dict[str, Any]] = field(default_factory=list)
    variable: list[Item] = field(default_factory=list)
    usages: set[str] = field(default_factory=set)
    filler: list[tuple[int, int]] = field(default_factory=list)  # 1-based FILLER columns
    unlisted: list[tuple[int, int]] = field(default_factory=list)  # occurrences not listed
    overlay: int = 0  # how many REDEFINES (below the 01 level) enclose the item being emitted


def build_records(items: list[Item], warnings: list[str]) -> list[Record]:
    """Arrange items into record trees by level number; attach 88s to their items."""
    records: list[Record] = []
    stack: list[Item] = []
    last: Item | None = None
    for item in items:
        if item.level == 88:
            if last is None:
                raise FormatError(
                    f"line {item.line}: condition {item.label} (level 88) follows no data item",
                    line=item.line,
                )
            last.conditions.append((item.label, item.values))
            continue
        if item.level == 66:
            warnings.append(f"line {item.line}: 66-level {item.label} RENAMES {item.renames} "
                            "is an alternative name, not kept as a field")
            last = None
            continue
        if item.level == 77:
            warnings.append(f"line {item.line}: 77-level item {item.label} is not part of a "
                            "record; skipped")
            last = item
            continue
        last = item
        if item.level == 1:
            records.append(Record(root=item, comments=[]))
            stack = [item]
            continue
        if not stack:
            root = Item(level=0, name=None, line=item.line)
            records.append(Record(root=root, implied=True))
            stack = [root]
        while stack[-1].level >= item.level:
            stack.pop()
        parent = stack[-1]
        if parent.picture is not None:
            raise FormatError(
                f"line {item.line}: {item.label} (level {item.level:02d}) is subordinate to "
                f"{parent.label}, which has a PIC clause; expected a group item (no PIC) "
                "above it",
                line=item.line,
            )
        parent.children.append(item)
        stack.append(item)
    return records


def _elementary_size(item: Item, kind: str, fixed: int | None, sign_separate: bool) -> int:
    """Bytes one occurrence of an elementary item takes."""
    pic = item.picture
    if fixed is not None:
        return fixed
    if pic is None:
        raise FormatError(
            f"line {item.line}: {item.label} has no PIC clause and no subordinate items; "
            "expected PIC (or USAGE COMP-1, COMP-2, INDEX or POINTER)",
            line=item.line,
        )
    if kind in ("BINARY", "PACKED", "UNSIGNED-PACKED") and pic.category != "numeric":
        raise FormatError(
            f"line {item.line}: {item.label}: USAGE {item.usage_word} needs a numeric PIC "
            f"(9, S, V, P); found {pic.text!r}",
            line=item.line,
        )
    if kind == "BINARY":
        if pic.digits > 18:
            raise FormatError(
                f"line {item.line}: {item.label}: a binary item holds at most 18 digits; "
                f"PIC {pic.text} has {pic.digits}",
                line=item.line,
            )
        return 2 if pic.digits <= 4 else 4 if pic.digits <= 9 else 8
    if kind == "PACKED":
        return pic.digits // 2 + 1
    if kind == "UNSIGNED-PACKED":
        return (pic.digits + 1) // 2
    per_char = 2 if kind in ("NATIONAL", "DBCS") or pic.category in ("national", "dbcs") else 1
    extra = 1 if sign_separate and pic.signed else 0
    return (pic.chars + extra) * per_char


def layout(item: Item, usage: str | None, sign: tuple[str, bool] | None, ctx: _Context) -> None:
    """Work out offsets and sizes below ``item`` (usage and SIGN inherited from groups)."""
    own_usage = item.usage or usage
    item.usage_word = own_usage
    kind, fixed = _USAGES[own_usage] if own_usage else ("DISPLAY", None)
    item.kind = kind
    own_sign = (item.sign, item.sign_separate) if item.sign else sign
    if item.sync:
        ctx.warnings.append(f"line {item.line}: {item.label} is SYNCHRONIZED; slack bytes the "
                            "compiler may add for alignment are not counted")
    if item.depending_on:
        ctx.variable.append(item)
    if not item.children:
        item.size = _elementary_size(item, kind, fixed, bool(own_sign and own_sign[1]))
        item.min_size = item.size
        if own_sign and item.picture is not None and item.picture.signed:
            item.sign_note = f"SIGN {own_sign[0]}" + (" SEPARATE" if own_sign[1] else "")
        if kind != "DISPLAY" and own_usage:
            ctx.usages.add(own_usage)
        item.fields_one = 0 if item.name is None else 1
    else:
        cursor = cursor_min = 0
        seen: dict[str, Item] = {}
        for child in item.children:
            layout(child, own_usage, own_sign, ctx)
            span, min_span = _span(child)
            if child.redefines:
                target = seen.get(child.redefines.upper())
                if target is None:
                    raise FormatError(
                        f"line {child.line}: {child.label} REDEFINES {child.redefines}, but no "
                        f"earlier item of that name at level {child.level:02d} in "
                        f"{item.label if item.level else 'the record'}",
                        line=child.line,
                    )
                child.offset, child.min_offset = target.offset, target.min_offset
                if span > _span(target)[0]:
                    ctx.warnings.append(
                        f"line {child.line}: {child.label} ({span} bytes) is longer than "
                        f"{target.label} ({_span(target)[0]} bytes), which it redefines"
                    )
            else:
                child.offset, child.min_offset = cursor, cursor_min
            cursor = max(cursor, child.offset + span)
            cursor_min = max(cursor_min, child.min_offset + min_span)
            if child.name:
                seen[child.name.upper()] = child
        item.size, item.min_size = cursor, cursor_min
        item.fields_one = sum(child.fields_total for child in item.children)
    _count_fields(item, ctx)


def _span(item: Item) -> tuple[int, int]:
    """Bytes an item takes with its OCCURS: at the maximum and at the minimum."""
    if item.occurs is None:
        return item.size, item.min_size
    return item.size * item.occurs[1], item.min_size * item.occurs[0]


def _count_fields(item: Item, ctx: _Context) -> None:
    """How many fields the item makes; decide whether its OCCURS is expanded."""
    if item.occurs is None or item.level == 1:
        item.fields_total = item.fields_one
        return
    count = item.occurs[1]
    if count * item.fields_one > OCCURS_FIELD_CAP:
        item.expand = False
        item.fields_total = item.fields_one
        kept = "one field spanning the table" if not item.children else "its first occurrence"
        ctx.warnings.append(
            f"line {item.line}: OCCURS {count} TIMES on {item.label} would make "
            f"{count * item.fields_one} fields (more than {OCCURS_FIELD_CAP}); kept as {kept}"
        )
    else:
        item.fields_total = count * item.fields_one


# ----------------------------------------------------------------------------- fields


def _data_type(item: Item) -> str:
    pic = item.picture
    if item.kind == "FLOAT":
        return "number"
    if item.kind in ("INDEX", "FIXED-BINARY"):
        return "integer"
    if item.kind == "POINTER" or pic is None:
        return "other"
    if pic.category in ("numeric", "numeric-edited"):
        return "number" if pic.scaled or (pic.decimals or 0) > 0 else "integer"
    return "string"


def _source_type(item: Item) -> str:
    parts = []
    if item.picture is not None and item.kind not in ("FLOAT", "INDEX", "POINTER"):
        parts.append(f"PIC {item.picture.text}")
    if item.usage_word:
        parts.append(item.usage_word)
    if item.sign_note:
        parts.append(item.sign_note)
    return " ".join(parts)


def _occurs_note(item: Item) -> str:
    low, high = item.occurs or (1, 1)
    if item.depending_on:
        return (f"OCCURS {low} TO {high} TIMES DEPENDING ON {item.depending_on} "
                "(variable length; laid out at the maximum)")
    return f"OCCURS {high} TIMES"


def _add_field(item: Item, start: int, width: int, subscripts: tuple[int, ...],
               path: list[str], notes: list[str], ctx: _Context) -> None:
    """Append the raw field record of one elementary item (one occurrence)."""
    name = item.name or "FILLER"
    if subscripts:
        name += "(" + ",".join(str(s) for s in subscripts) + ")"
    parts = [item.comment] if item.comment else []
    if path:
        parts.append("in group " + " > ".join(path))
    parts.extend(notes)
    if item.value is not None:
        parts.append(f"initial value {item.value}")
    pic = item.picture
    decimals = pic.decimals if pic is not None and item.kind not in ("FLOAT",) else None
    codes = [
        {"code": value, "label": condition}
        for condition, values in item.conditions
        for value in values
    ]
    record = new_field(
        len(ctx.fields) + 1,
        name,
        description="; ".join(parts) or None,
        data_type=_data_type(item),
        source_type=_source_type(item) or None,
        width=width,
        start_col=start + 1,
        end_col=start + width,
        format=pic.text if pic is not None and item.kind not in ("FLOAT",) else None,
        decimals=decimals,
        value_labels=codes,
    )
    if ctx.overlay:
        record[OVERLAY] = True  # shares its bytes with the item it redefines, on purpose
    ctx.fields.append(record)


def emit(item: Item, start: int, subscripts: tuple[int, ...], path: list[str],
         notes: list[str], ctx: _Context) -> None:
    """Make the fields of ``item`` placed at byte ``start`` (0-based) of the record."""
    overlaid = bool(item.redefines) and item.level > 1
    ctx.overlay += overlaid
    try:
        _emit(item, start, subscripts, path, notes, ctx)
    finally:
        ctx.overlay -= overlaid


def _emit(item: Item, start: int, subscripts: tuple[int, ...], path: list[str],
          notes: list[str], ctx: _Context) -> None:
    notes = list(notes)
    if item.redefines:
        notes.append(f"redefines {item.redefines}")
    table = item.occurs is not None and item.level != 1
    count = item.occurs[1] if item.occurs is not None and table else 1
    if table and (item.depending_on or not item.expand):
        notes.append(_occurs_note(item))
    if not item.children:
        if item.name is None:
            if not item.redefines:
                ctx.filler.append((start + 1, start + item.size * count))
            return
        if table and item.expand:
            for index in range(count):
                _add_field(item, start + index * item.size, item.size,
                           (*subscripts, index + 1), path, notes, ctx)
        elif table:
            note = f"{item.size} bytes each; the occurrences are not listed one by one"
            _add_field(item, start, item.size * count, subscripts, path, [*notes, note], ctx)
        else:
            _add_field(item, start, item.size, subscripts, path, notes, ctx)
        return
    if item.conditions:
        ctx.warnings.append(
            f"line {item.line}: conditions {', '.join(c for c, _ in item.conditions)} on group "
            f"{item.label} are not kept (value labels belong to elementary items)"
        )
    if item.level > 1 and item.name:
        path = [*path, item.name + (f" ({item.comment})" if item.comment else "")]
    repeats = count if item.expand else 1
    if table and not item.expand:
        notes.append(
            f"occurrence 1 of {count} of {item.label} ({item.size} bytes each, to column "
            f"{start + item.size * count}); the others are not listed"
        )
        if count > 1:
            ctx.unlisted.append((start + item.size + 1, start + item.size * count))
    for index in range(repeats):
        where = (*subscripts, index + 1) if table else subscripts
        for child in item.children:
            emit(child, start + index * item.size + child.offset, where, path, notes, ctx)


# ----------------------------------------------------------------------------- comments


def _attach_comments(entries: list[Entry], items: list[Item | None], source: Source) -> None:
    """Give each item the comment lines between the entry before it and its own."""
    lines = [number for number, _ in source.comments]
    previous_end = 0
    for entry, item in zip(entries, items, strict=True):
        if item is None:
            previous_end = entry.last_line
            continue
        low = bisect.bisect_right(lines, previous_end)
        high = bisect.bisect_left(lines, entry.first_line)
        texts = [clean_comment(source.comments[i][1]) for i in range(low, high)]
        texts += [
            clean_comment(source.inline[number])
            for number in range(entry.first_line, entry.last_line + 1)
            if number in source.inline
        ]
        texts = [t for t in texts if re.search(r"[A-Za-z0-9]", t)]
        item.comment = " ".join(texts) or None
        previous_end = entry.last_line


# ----------------------------------------------------------------------------- parse


@dataclass
class Copybook:
    """Everything read from one copybook."""

    source: Source
    records: list[Record]
    warnings: list[str]


def read_copybook(text: str) -> Copybook:
    """Read a copybook's records (trees of items with their clauses)."""
    source = read_source(text)
    entries = split_entries(tokenize(source))
    warnings: list[str] = []
    if entries and not entries[-1].terminated:
        last = entries[-1]
        warnings.append(f"line {last.first_line}: the last entry is not ended by a period")
    items = [parse_entry(entry) for entry in entries]
    _attach_comments(entries, items, source)
    data = [item for item in items if item is not None]
    records = build_records(data, warnings)
    for record in records:
        # The comment before the first entry of a fragment describes the whole record.
        owner = record.root.children[0] if record.implied else record.root
        if owner.comment:
            record.comments = [owner.comment]
            if record.implied:
                owner.comment = None
    return Copybook(source=source, records=records, warnings=warnings)


def _dataset(record: Record, identifier: str, ctx: _Context,
             fixed: bool) -> dict[str, Any] | None:
    """The raw dataset of one record (None when it has no fields to list)."""
    root = record.root
    layout(root, None, None, ctx)
    if root.occurs and root.level == 1:
        ctx.warnings.append(f"line {root.line}: OCCURS on the 01-level record {root.label} "
                            "is ignored")
    if root.fields_total > MAX_FIELDS:
        raise FormatError(
            f"line {root.line}: record {root.label} would have {root.fields_total} fields "
            f"(more than {MAX_FIELDS})",
            line=root.line,
        )
    emit(root, 0, (), [], [], ctx)
    if not ctx.fields:
        ctx.warnings.append(f"line {root.line}: record {root.label} has no named elementary "
                            "items (only FILLER); skipped")
        return None
    extra: dict[str, Any] = {
        "record_length": root.size,
        "cobol_record": root.name or identifier,
        "source_format": "fixed" if fixed else "free",
    }
    if ctx.usages:
        extra["usages"] = sorted(ctx.usages)
    if ctx.filler:
        extra["filler"] = merge_ranges(ctx.filler)
    if ctx.unlisted:
        extra["unlisted"] = merge_ranges(ctx.unlisted)
    if root.redefines:
        extra["redefines"] = root.redefines
    if ctx.variable:
        extra["variable_length"] = True
        extra["min_record_length"] = root.min_size
        for item in ctx.variable:
            low, high = item.occurs or (1, 1)
            ctx.warnings.append(
                f"line {item.line}: {item.label} OCCURS {low} TO {high} TIMES DEPENDING ON "
                f"{item.depending_on}: the record is variable length ({root.min_size} to "
                f"{root.size} bytes); positions assume the maximum"
            )
    count = len(ctx.fields)
    length = f"{root.size} bytes" + (", variable" if ctx.variable else "")
    summary = (f"COBOL copybook record layout ({count} field{'s' if count != 1 else ''}, "
               f"record length {length}).")
    if root.redefines:
        summary += f" Redefines record {root.redefines}."
    description = " ".join([*record.comments, summary])
    return new_dataset(
        identifier, root.name or identifier, description=description, layout=True,
        extra=extra, fields=ctx.fields,
    )


def parse(path: Path) -> ParsedFile:
    """Read a COBOL copybook into one record layout per 01-level record."""
    book = read_copybook(read_text_mixed(path))
    if not book.records:
        raise FormatError("no data description entries (level numbers with PIC clauses): "
                          "not a COBOL copybook")
    result = ParsedFile(path=path, format=NAME, warnings=list(book.warnings))
    names = [record.root.name or str(index) for index, record in enumerate(book.records, start=1)]
    for record, identifier in zip(book.records, file_identifiers(path, names), strict=True):
        ctx = _Context(warnings=result.warnings)
        dataset = _dataset(record, identifier, ctx, book.source.fixed)
        if dataset is not None:
            result.datasets.append(dataset)
    if not result.datasets:
        raise FormatError("the copybook describes no named elementary items (only FILLER)")
    return result
