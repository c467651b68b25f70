"""PICTURE strings (``X(10)``, ``S9(7)V99``, ``ZZ,ZZ9.99-``): category, size, decimals."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.formats.base import FormatError, whole_number
from indexer.formats.cobol_copybook.tokens import WHOLE_NUMBER


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
            if not WHOLE_NUMBER.match(count) or whole_number(count, line, "repeat count") == 0:
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
            out[-1] = (symbol, times + whole_number(count, line) - 1)
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
