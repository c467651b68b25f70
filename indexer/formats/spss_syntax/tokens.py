"""The tokens of an SPSS command: strings, column ranges, formats, numbers, names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.formats.base import FormatError
from indexer.formats.spss_syntax.commands import Command
from indexer.formats.statements import unquote


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


def tokens(command: Command, *, skip: int, ranges: bool = False,
           limit: int | None = None) -> list[Token]:
    """The tokens of a command after its first ``skip`` words (FormatError past ``limit``)."""
    out: list[Token] = []
    for number, text in command.segments:
        if limit is not None and len(out) > limit + skip:
            raise FormatError(f"line {number}: {command.name} has more than {limit:,} words "
                              "and symbols", line=number)
        for match in _TOKENS[ranges].finditer(text):
            kind = match.lastgroup or "op"
            value = match.group()
            if kind == "name":
                value = value.rstrip(".")
            out.append(Token(kind, value, number))
    return out[skip:]


def read_string(toks: list[Token], index: int) -> tuple[str, int]:
    """A string at ``index`` and any ``+ 'more'`` pieces; returns it and the next index."""
    parts = [unquote(toks[index].text)]
    index += 1
    while (
        index + 1 < len(toks) and toks[index].text == "+" and toks[index + 1].kind == "str"
    ):
        parts.append(unquote(toks[index + 1].text))
        index += 2
    return "".join(parts), index


def command_error(token: Token | None, command: Command, message: str) -> FormatError:
    """A FormatError naming the line of ``token`` (of the command's last line without one)."""
    line = token.line if token is not None else command.segments[-1][0]
    return FormatError(f"line {line}: {message}", line=line)
