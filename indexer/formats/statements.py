"""Reading program text: the statement scanner of the SAS, SPSS, Stata and COBOL readers.

A :class:`Scanner` walks a text from one special token to the next (a comment opener, a
quote, the end of a statement: each language says which), gathering the code in between;
the language's reader decides what each token means. :class:`Statement` is what the SAS and
Stata readers split a program into. Also here: quoted strings (:data:`QUOTED`,
:func:`unquote`), line numbers of offsets (:class:`LineIndex`) and the ``LRECL=n`` record
length a statement may state (:func:`stated_lrecl`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from indexer.formats.base import whole_number

#: A quoted string in SAS, SPSS or COBOL, from its opening quote: doubled quotes stay inside.
QUOTED: dict[str, re.Pattern[str]] = {
    "'": re.compile(r"'(?:[^']|'')*'"),
    '"': re.compile(r'"(?:[^"]|"")*"'),
}
#: A file name or handle as a statement gives it: quoted, or one word.
NAME_OR_STRING = r"'[^']*'|\"[^\"]*\"|\S+"

_LRECL = re.compile(r"(?i)\bLRECL\s*=\s*(\d+)")


class Scanner:
    """A cursor over program text that stops at the special tokens ``special`` matches.

    :meth:`next` moves to the next token, keeping the code passed over; :meth:`keep` adds
    code of the reader's choosing (a string, a blank for a comment); :meth:`take` hands over
    what was kept and starts afresh.
    """

    def __init__(self, text: str, special: re.Pattern[str]) -> None:
        self.text = text
        self.special = special
        self.pos = 0
        self._kept: list[str] = []

    @property
    def done(self) -> bool:
        """True at the end of the text."""
        return self.pos >= len(self.text)

    def next(self) -> re.Match[str] | None:
        """The next special token (the position moves past it); None at the end of the text."""
        match = self.special.search(self.text, self.pos)
        end = match.start() if match else len(self.text)
        self._kept.append(self.text[self.pos : end])
        self.pos = match.end() if match else len(self.text)
        return match

    def keep(self, code: str) -> None:
        """Add ``code`` to what the scanner has kept."""
        self._kept.append(code)

    def take(self) -> str:
        """The code kept since the last take."""
        code = "".join(self._kept)
        self._kept.clear()
        return code

    def comment_end(self, opened: int) -> int | None:
        """Offset just after the ``*/`` closing the comment opened at ``opened``; None if none."""
        end = self.text.find("*/", opened + 2)
        return None if end < 0 else end + 2

    def string_end(self, opened: int) -> int | None:
        """Offset just after the string opened at ``opened`` (:data:`QUOTED`); None if unclosed."""
        match = QUOTED[self.text[opened]].match(self.text, opened)
        return match.end() if match else None


@dataclass
class Statement:
    """One statement of a program: its code with comments taken out, and where it starts."""

    text: str
    line: int
    offset: int = 0
    terminated: bool = True  # its end (``;``, a line end) was seen before the text ended
    comment: bool = False  # a statement commented out (Stata's ``*label define ...``)

    @property
    def keyword(self) -> str:
        """The statement's first word, upper-cased (a macro's ``%`` kept)."""
        match = re.match(r"\s*(%?[A-Za-z_][A-Za-z0-9_]*)", self.text)
        return match.group(1).upper() if match else ""


class LineIndex:
    """Map character offsets of a text to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._starts = [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        """1-based line number of ``offset``."""
        return bisect.bisect_right(self._starts, offset) + 1


def unquote(text: str, *, stata: bool = False) -> str:
    """The content of a quoted string: ``'...'`` or ``"..."`` with doubled quotes undone.

    ``stata=True`` reads Stata's strings: ``"..."`` or compound ```"..."'``, nothing undone.
    """
    if stata:
        if text.startswith('`"') and text.endswith("\"'"):
            return text[2:-2]
        if len(text) >= 2 and text[0] == text[-1] == '"':
            return text[1:-1]
        return text
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
        return text[1:-1].replace(text[0] * 2, text[0])
    return text


def stated_lrecl(text: str, line: int | None = None) -> int | None:
    """The record length a statement (at ``line``) states with ``LRECL=n``, if it does."""
    match = _LRECL.search(text)
    return whole_number(match.group(1), line, "LRECL") if match else None
