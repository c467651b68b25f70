"""A copybook's source lines: fixed or free reference format, comments, continuations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.formats.base import FormatError
from indexer.formats.statements import Scanner


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
