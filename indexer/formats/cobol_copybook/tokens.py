"""The words, literals and separator periods of a copybook, grouped into entries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from indexer.formats.base import FormatError
from indexer.formats.cobol_copybook.source import Source

#: A whole number (a level number, a repeat count, an OCCURS bound).
WHOLE_NUMBER = re.compile(r"^\d+$")


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


def tokenize(source: Source) -> Iterator[Token]:
    """Words, literals and separator periods of the copybook's code, as they are read."""
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
                yield Token("lit", match.group("lit"), line)
                continue
            word = match.group("word")
            period = False
            while word and word[-1] in ".,;":
                period = period or word[-1] == "."
                word = word[:-1]
            if word:
                yield Token("word", word, line)
            if period:
                yield Token("period", ".", line)


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


def split_entries(tokens: Iterable[Token]) -> Iterator[Entry]:
    """Group tokens into entries ended by separator periods, each as soon as it ends."""
    current: list[Token] = []
    for token in tokens:
        if token.kind == "period":
            if current:
                yield Entry(current, True)
            current = []
        else:
            current.append(token)
    if current:
        yield Entry(current, False)
