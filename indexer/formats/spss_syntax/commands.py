"""SPSS syntax split into commands: comments out, periods and new commands ending them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.formats.base import FormatError
from indexer.formats.statements import Scanner
from indexer.formats.text import clean_comment

_LINE_SPECIAL = re.compile(r"/\*|['\"]")

# Commands by their leading words (abbreviations as SPSS accepts them).
_COMMANDS: list[tuple[str, re.Pattern[str]]] = [
    ("DATA LIST", re.compile(r"(?i)\s*DATA\s+LIST\b")),
    ("ADD VALUE LABELS", re.compile(r"(?i)\s*ADD\s+VAL\w*\s+LAB\w*\b")),
    ("VARIABLE LABELS", re.compile(r"(?i)\s*VAR\w*\s+LAB\w*\b")),
    ("VALUE LABELS", re.compile(r"(?i)\s*VAL\w*\s+LAB\w*\b")),
    ("MISSING VALUES", re.compile(r"(?i)\s*MIS\w*\s+VAL\w*\b")),
    ("FILE HANDLE", re.compile(r"(?i)\s*FILE\s+HANDLE\b")),
    ("FILE LABEL", re.compile(r"(?i)\s*FILE\s+LABEL\b")),
    ("TITLE", re.compile(r"(?i)\s*TITLE\b")),
]
# Commands that, starting in column 1, begin a new command even when the last one was not
# ended by a period (only multi-word commands, so a variable such as "title" is not taken).
_NEW_COMMAND = re.compile(
    r"(?i)^(?:DATA\s+LIST|ADD\s+VAL\w*\s+LAB\w*|VAR\w*\s+LAB\w*|VAL\w*\s+LAB\w*"
    r"|MIS\w*\s+VAL\w*|FILE\s+HANDLE|FILE\s+LABEL|VAR\w*\s+LEV\w*|EXECUTE|SAVE\s+OUTFILE)\b"
)


@dataclass
class Command:
    """One SPSS command: its name, code (comments removed) by line, and where it starts."""

    line: int
    segments: list[tuple[int, str]] = field(default_factory=list)
    terminated: bool = False
    comments: list[str] = field(default_factory=list)  # comment commands just before it

    @property
    def text(self) -> str:
        """The command's code on one line."""
        return " ".join(text for _, text in self.segments)

    @property
    def name(self) -> str:
        """The command's name (``DATA LIST``, ``VALUE LABELS`` ...) or its first word."""
        text = self.text
        for name, pattern in _COMMANDS:
            if pattern.match(text):
                return name
        match = re.match(r"\s*(\S+)", text)
        return match.group(1).upper() if match else ""


def _strip_comments(line: str, number: int) -> tuple[str, bool]:
    """Remove ``/* */`` comments from a line; True when a block comment opens the line."""
    scan = Scanner(line, _LINE_SPECIAL)
    while (match := scan.next()) is not None:
        if match.group() == "/*":
            end = scan.comment_end(match.start())
            if end is None:
                code = scan.take()
                return code, not code.strip()
            scan.keep(" ")
        else:
            end = scan.string_end(match.start())
            if end is None:
                raise FormatError(
                    f"line {number}: quoted string is never closed (a string must end on the "
                    "line where it starts; join pieces with +)",
                    line=number,
                )
            scan.keep(line[match.start() : end])
        scan.pos = end
    return scan.take(), False


def split_commands(text: str, warnings: list[str]) -> list[Command]:
    """Split syntax into commands, dropping comments (kept with the command after them)."""
    commands: list[Command] = []
    current: Command | None = None
    comment: list[str] | None = None
    comments: list[str] = []
    block_start: int | None = None

    def finish() -> None:
        nonlocal current
        if current is not None and current.segments:
            commands.append(current)
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.expandtabs(8)
        if block_start is not None:
            end = line.find("*/")
            if end < 0:
                continue
            line, block_start = " " * (end + 2) + line[end + 2 :], None
        stripped = line.strip()
        if comment is not None:
            starts_new = not stripped or stripped.startswith("*") or _NEW_COMMAND.match(stripped)
            if not starts_new:
                comment.append(stripped)
                if stripped.endswith("."):
                    comments.append(clean_comment("\n".join(comment)))
                    comment = None
                continue
            comments.append(clean_comment("\n".join(comment)))
            comment = None
        if current is not None and line[:1] not in (" ", "") and (
            _NEW_COMMAND.match(line) or line.startswith("*")
        ):
            warnings.append(f"line {current.line}: command {current.name} is not ended by a "
                            "period")
            finish()
        if current is None:
            if not stripped:
                continue
            if (stripped.startswith("*") and not stripped.startswith("*/")) or re.match(
                r"(?i)COMMENT\b", stripped
            ):
                comment = [re.sub(r"(?i)^COMMENT\b", "", stripped)]
                if stripped.endswith("."):
                    comments.append(clean_comment(comment[0]))
                    comment = None
                continue
        code, opens_block = _strip_comments(line, number)
        if opens_block:
            block_start = number
        if not code.strip():
            continue
        if current is None:
            current = Command(line=number, comments=[c for c in comments if c])
            comments = []
        body = code.rstrip()
        if body.endswith("."):
            if body[:-1].strip():
                current.segments.append((number, body[:-1]))
            current.terminated = True
            finish()
        else:
            current.segments.append((number, code))
    if block_start is not None:
        raise FormatError(f"line {block_start}: comment '/*' is never closed by '*/'",
                          line=block_start)
    if current is not None and current.segments:
        warnings.append(f"line {current.line}: command {current.name} is not ended by a period")
        finish()
    return commands
