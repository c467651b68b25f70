"""A SAS program's text as statements (comments and in-stream data out) and tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from indexer.formats.base import FormatError
from indexer.formats.statements import QUOTED, LineIndex, Scanner, Statement

TOKEN = re.compile(
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
# A statement is lexed up to this many tokens (a VALUE list of every ICD-10 code has ~210,000);
# a longer one is an error naming its line, before its tokens fill the memory.
MAX_TOKENS = 250_000
_DATALINES_END = re.compile(r"(?m)^[^\S\n]*+;++[^\S\n]*+$")


@dataclass
class Token:
    """A lexical token inside a statement."""

    kind: str
    text: str
    start: int
    end: int


def _blank(text: str) -> str:
    """Replace every character but newlines by a space (keeps offsets and line numbers)."""
    return re.sub(r"[^\n]", " ", text)


def _skip_datalines(text: str, pos: int) -> int:
    """Offset just after the ``;`` line that ends in-stream data starting at ``pos``."""
    match = _DATALINES_END.search(text, pos)
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
            closed = scan.string_end(match.start())
            if closed is None:
                line = lines.line(match.start())
                raise FormatError(f"line {line}: quoted string is never closed", line=line)
            scan.keep(text[match.start() : closed])
            scan.pos = closed
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


def iter_tokens(stmt: Statement) -> Iterator[Token]:
    """Tokens of a statement after its keyword, lexed as they are asked for."""
    body_start = re.match(r"\s*%?[A-Za-z_][A-Za-z0-9_]*", stmt.text)
    offset = body_start.end() if body_start else 0
    for count, match in enumerate(TOKEN.finditer(stmt.text, offset), start=1):
        if count > MAX_TOKENS:
            raise FormatError(f"line {stmt.line}: a {stmt.keyword} statement of more than "
                              f"{MAX_TOKENS:,} words and symbols", line=stmt.line)
        yield Token(match.lastgroup or "op", match.group(), match.start(), match.end())


def tokens(stmt: Statement) -> list[Token]:
    """Tokens of a statement after its keyword."""
    return list(iter_tokens(stmt))


class TokenStream:
    """A statement's tokens, lexed only as far as a reader looks (``get``, slices)."""

    def __init__(self, stmt: Statement) -> None:
        self._source = iter_tokens(stmt)
        self._seen: list[Token] = []

    def get(self, pos: int) -> Token | None:
        """The token at ``pos``; None past the last one."""
        while len(self._seen) <= pos:
            token = next(self._source, None)
            if token is None:
                return None
            self._seen.append(token)
        return self._seen[pos]

    def between(self, start: int, end: int) -> list[Token]:
        """The tokens from ``start`` up to (not including) ``end``."""
        self.get(end - 1)
        return self._seen[start:end]


def format_key(fmt: str) -> str:
    """Lookup key of a format reference: ``$H1S.`` -> ``$H1S``, ``SAP001X8.`` -> ``SAP001X``."""
    key = fmt.strip().upper()
    key = re.sub(r"\d*\.\d*$", "", key) if "." in key else key
    return key


def skip_group(toks: list[Token] | TokenStream, index: int) -> int:
    """Index just after the parenthesised group opening at ``index``."""
    depth = 0
    pos = index
    while (tok := toks.get(pos) if isinstance(toks, TokenStream) else
           (toks[pos] if pos < len(toks) else None)) is not None:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return pos
