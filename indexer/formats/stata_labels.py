"""Stata label programs (``.do``): ``label variable``, ``label define``, ``label values``.

Each program becomes one dataset whose fields are the labelled variables in order of first
appearance. Value labels are joined through ``label values``. NCES IPEDS programs also carry
value labels for string variables as commented-out ``*label define`` lines (Stata cannot attach
them to strings); those are kept, as are the imputation-flag codes listed in the comments.
A program with value labels but no variable labels (the NBER SIPP ``.do`` files, whose variables
are defined in the ``.dct`` beside them) is rejected with a FormatError; the Stata dictionary
reader attaches its value labels to the dictionary's fields instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.schemas import MAX_FIELDS
from indexer.formats.base import (
    PROGRAM_MAX_BYTES,
    FormatError,
    ParsedFile,
    file_identifier,
    read_text_mixed,
)
from indexer.formats.records import new_dataset, new_field, value_label
from indexer.formats.statements import LineIndex, Scanner, Statement, unquote
from indexer.formats.text import tidy

NAME = "stata-labels"
#: File suffixes this format's files carry (a hint beside the content; see base.py).
SUFFIXES = (".do",)
MAX_BYTES = PROGRAM_MAX_BYTES

_LABEL = r"la(?:b(?:e(?:l)?)?)?"
_DETECT = re.compile(
    rf"(?m)^[ \t]*+\*?[ \t]*+{_LABEL}[ \t]++(?:var\w*|de(?:f\w*)?|val\w*)[ \t]++\S"
)
_VARIABLE = re.compile(rf"^{_LABEL}\s+var(?:i(?:a(?:b(?:l(?:e)?)?)?)?)?\s+(\S+)\s*(.*)$", re.S)
_DEFINE = re.compile(rf"^{_LABEL}\s+de(?:f(?:i(?:n(?:e)?)?)?)?\s+(\S+)\s*(.*)$", re.S)
_VALUES = re.compile(rf"^{_LABEL}\s+val(?:u(?:e(?:s)?)?)?\s+(.+)$", re.S)
_DATA = re.compile(rf"^{_LABEL}\s+da(?:t(?:a)?)?\s*(.*)$", re.S)
_USING = re.compile(r"^(?:insheet|infile|infix|import\s+delimited|use)\b.*?\busing\s+(\S+)", re.S)
_SPECIAL = re.compile(r'/\*|//+|`"|"|\n|;')
_DELIMIT_CR = re.compile(r"[ \t\r]*#d\w*[ \t]+cr[ \t\r]*(?=\n|$)")
# The pieces of a command: a compound string `"..."' (found by Pieces, which remembers where
# the next closing "' is, so that many unclosed openers cost one pass), a "string", a comma
# or a word.
_PIECE = re.compile(r'`"|"[^"\n]*"|,|[^\s,"]+')
_CLOSE = "\"'"
_FLAG_LINE = re.compile(r"^\*\s*([A-Z])\s+(\S.*)$")


@dataclass
class Variable:
    """What a label program says about one variable."""

    name: str
    line: int
    label: str | None = None
    value_label: str | None = None
    commented_value_label: str | None = None


@dataclass
class LabelProgram:
    """Everything read from one Stata label program."""

    variables: dict[str, Variable] = field(default_factory=dict)
    value_sets: dict[str, dict[str, str]] = field(default_factory=dict)
    commented_sets: dict[str, dict[str, str]] = field(default_factory=dict)
    comments: list[Statement] = field(default_factory=list)
    data_label: str | None = None
    using: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def labelled(self) -> int:
        """How many variables carry a variable label."""
        return sum(1 for v in self.variables.values() if v.label is not None)

    def codes_for(self, variable: Variable) -> list[dict[str, str]]:
        """Value labels of a variable (commented-out sets only for string variables)."""
        codes = self.value_sets.get(variable.value_label or "")
        if codes is None and variable.commented_value_label:
            codes = self.commented_sets.get(variable.commented_value_label)
        return [value_label(code, label) for code, label in (codes or {}).items()]


# ----------------------------------------------------------------------------- detection


def detect(path: Path, head: str) -> bool:
    """True for Stata programs with ``label variable`` / ``label define`` / ``label values``."""
    if head.lstrip().startswith(("{", "[", "<")):
        return False
    if re.search(r"(?im)^[^\S\n]*+(proc\s++format|data\s++[\w.]++\s*+;)", head):
        return False
    return bool(_DETECT.search(head))


# ----------------------------------------------------------------------------- lexing


def split_commands(text: str) -> Iterator[Statement]:
    """Split a do-file into commands, honouring ``#delimit``, ``///`` and the comment forms.

    Commands come one by one as they are read, so a reader may stop early.
    """
    lines = LineIndex(text)
    semicolon = False
    scan = Scanner(text, _SPECIAL)
    pieces = Pieces(text)
    start = 0

    def emit(end: int) -> Statement | None:
        nonlocal semicolon
        body = scan.take().strip()
        if not body:
            return None
        segment = text[start:end]
        line = lines.line(start + len(segment) - len(segment.lstrip()))
        directive = re.match(r"#d(?:e(?:l(?:i(?:m(?:i(?:t)?)?)?)?)?)?\s*(\S*)", body)
        if directive:
            semicolon = directive.group(1) == ";"
            return None
        commented = body.startswith("*")
        return Statement(body.lstrip("*").strip() if commented else body, line,
                         offset=start, comment=commented)

    while not scan.done:
        if semicolon and (scan.pos == 0 or text[scan.pos - 1] == "\n"):
            directive = _DELIMIT_CR.match(text, scan.pos)
            if directive:
                semicolon = False
                scan.pos = directive.end()
                continue
        match = scan.next()
        if match is None:
            break
        token = match.group()
        if token == "/*":
            end = scan.comment_end(match.start())
            scan.keep(" ")
            scan.pos = len(text) if end is None else end
        elif token.startswith("//"):
            scan.pos = _line_comment(scan, match)
        elif token in ('"', '`"'):
            string = pieces.at(match.start())
            piece = string if string and string[0] in '"`' else token
            scan.keep(piece)
            scan.pos = match.start() + len(piece)
        elif (token == "\n" and not semicolon) or (token == ";" and semicolon):
            if (command := emit(match.start())) is not None:
                yield command
            start = scan.pos
        else:
            scan.keep(token)
    if (command := emit(len(text))) is not None:
        yield command


class Pieces:
    """The pieces of a text (:data:`_PIECE`), compound strings ending at the next ``"'``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._searched = -1  # where the last search for a closing "' started
        self._close = -1  # what it found (-1: none from there on)

    def _closing(self, start: int) -> int:
        """Offset of the first ``"'`` at or after ``start``; -1 when there is none."""
        if not (0 <= self._searched <= start and (self._close < 0 or self._close >= start)):
            self._searched, self._close = start, self.text.find(_CLOSE, start)
        return self._close

    def at(self, pos: int) -> str | None:
        """The piece that starts exactly at ``pos``, if any."""
        match = _PIECE.match(self.text, pos)
        if match is None or match.group() != '`"':
            return match.group() if match else None
        close = self._closing(pos + 2)
        if close >= 0:
            return self.text[pos : close + 2]
        return "`"  # an opener never closed: its backquote is a word of its own

    def findall(self) -> list[str]:
        """Every piece of the text, left to right."""
        found: list[str] = []
        pos = 0
        while (match := _PIECE.search(self.text, pos)) is not None:
            piece = self.at(match.start()) or match.group()
            found.append(piece)
            pos = match.start() + len(piece)
        return found


def _line_comment(scan: Scanner, match: re.Match[str]) -> int:
    """Handle ``//`` (comment to end of line) and ``///`` (line continuation)."""
    text = scan.text
    before = text[match.start() - 1] if match.start() else "\n"
    if before not in " \t\r\n":
        scan.keep(match.group())
        return match.end()
    eol = text.find("\n", match.end())
    eol = len(text) if eol < 0 else eol
    if len(match.group()) >= 3:
        scan.keep(" ")
        return eol + 1
    return eol


# ----------------------------------------------------------------------------- commands


def _define(body: str, command: Statement, program: LabelProgram) -> None:
    """``label define name code "label" ... [, add modify replace]``."""
    match = _DEFINE.match(body)
    if not match:
        return
    name, rest = match.group(1), match.group(2)
    pieces = Pieces(rest).findall()
    options: set[str] = set()
    if "," in pieces:
        cut = pieces.index(",")
        options = {p.lower() for p in pieces[cut + 1 :]}
        pieces = pieces[:cut]
    store = program.commented_sets if command.comment else program.value_sets
    codes = store.get(name)
    if codes is None or ("replace" in options and not {"add", "modify"} & options):
        codes = store[name] = {}
    if len(pieces) % 2:
        program.warnings.append(
            f"line {command.line}: label define {name} has a code without a label"
        )
    for code, label in zip(pieces[::2], pieces[1::2], strict=False):
        codes[code] = tidy(unquote(label, stata=True)) or ""


def _variable(program: LabelProgram, name: str, line: int) -> Variable:
    if name not in program.variables:
        program.variables[name] = Variable(name=name, line=line)
    return program.variables[name]


def _interpret(command: Statement, program: LabelProgram) -> None:
    """Apply one command (or commented-out label command) to the program record."""
    body = command.text
    if command.comment:
        if _DEFINE.match(body):
            _define(body, command, program)
        elif (values := _VALUES.match(body)) and len(names := values.group(1).split()) >= 2:
            for name in names[:-1]:
                if name in program.variables:
                    program.variables[name].commented_value_label = names[-1]
        return
    if match := _VARIABLE.match(body):
        label = tidy(unquote(match.group(2).strip(), stata=True)) or ""
        _variable(program, match.group(1), command.line).label = label
    elif _DEFINE.match(body):
        _define(body, command, program)
    elif match := _VALUES.match(body):
        _values(match.group(1), command, program)
    elif match := _DATA.match(body):
        program.data_label = tidy(unquote(match.group(1).strip(), stata=True))
    elif (match := _USING.match(body)) and program.using is None:
        program.using = unquote(match.group(1).rstrip(","), stata=True)


def _values(rest: str, command: Statement, program: LabelProgram) -> None:
    """``label values varlist lblname`` (``.`` or nothing detaches)."""
    names = rest.replace(",", " ").split()
    if len(names) < 2:
        program.warnings.append(f"line {command.line}: label values without a label name")
        return
    for name in names[:-1]:
        if name.lower() == "nofix":
            continue
        _variable(program, name, command.line).value_label = (
            None if names[-1] == "." else names[-1]
        )


def read_label_program(text: str) -> LabelProgram:
    """Read the variable labels, value-label sets and their attachments of a do-file."""
    program = LabelProgram()
    for command in split_commands(text):
        if command.comment:
            program.comments.append(command)
        _interpret(command, program)
        if len(program.variables) > MAX_FIELDS:  # stop here: the rest is never read
            raise FormatError(f"line {command.line}: more than {MAX_FIELDS:,} variables (the "
                              "most a dataset holds)", line=command.line)
    return program


# ----------------------------------------------------------------------------- records


def _imputation_codes(program: LabelProgram) -> dict[str, str]:
    """``*A Not applicable`` lines after a comment about imputation field values."""
    codes: dict[str, str] = {}
    collecting = False
    for comment in program.comments:
        text = "*" + comment.text
        if "imputation" in comment.text.lower() and "value" in comment.text.lower():
            collecting = True
            continue
        match = _FLAG_LINE.match(text)
        if collecting and match:
            codes[match.group(1)] = match.group(2).strip()
        elif collecting and codes:
            break
    return codes


def _header_title(program: LabelProgram, identifier: str) -> str | None:
    """A header comment that names the file or survey, if any."""
    first_line = min((v.line for v in program.variables.values()), default=None)
    for comment in program.comments:
        if first_line is not None and comment.line > first_line:
            break
        text = tidy(comment.text) or ""
        if identifier.lower() in text.lower() or re.search(r"(?i)\bsurvey\b", text):
            return text[:200]
        match = re.search(r"(?i)\b(?:reads|labels|loads)\s+the\s+(.+)", text)
        if match:
            return match.group(1).rstrip(". ")[:200]
    return None


def build_fields(program: LabelProgram) -> list[dict[str, Any]]:
    """Raw field records for the program's variables, in order of first appearance."""
    flags = _imputation_codes(program)
    fields = []
    for position, variable in enumerate(program.variables.values(), start=1):
        codes = program.codes_for(variable)
        if not codes and flags and (variable.label or "").lower().startswith("imputation field"):
            codes = [value_label(code, label) for code, label in flags.items()]
        fields.append(new_field(
            position, variable.name, label=variable.label or None,
            format=variable.value_label or variable.commented_value_label,
            data_type="code" if codes else None, value_labels=codes,
        ))
    return fields


def parse(path: Path) -> ParsedFile:
    """Read a Stata label program into one dataset named after the file."""
    program = read_label_program(read_text_mixed(path))
    if not program.variables and not program.value_sets:
        raise FormatError(
            f"no variable labels in {path.name}: no 'label variable', 'label define' or"
            " 'label values' commands found"
        )
    if program.labelled == 0:
        attached = sum(1 for v in program.variables.values() if v.value_label)
        raise FormatError(
            f"no variable labels in {path.name}: it defines {len(program.value_sets)} value-label"
            f" sets for {attached} variables but labels no variable (a driver program; the"
            " variables are defined by the Stata dictionary it reads)"
        )
    identifier = file_identifier(path)
    fields = build_fields(program)
    coded = sum(1 for f in fields if f["value_labels"])
    source = f" of {Path(program.using.replace(chr(92), '/')).name}" if program.using else ""
    description = (
        f"Stata label program{source}: labels for {len(fields)} variables,"
        f" value labels for {coded}."
    )
    extra: dict[str, Any] = {"value_label_sets": len(program.value_sets)}
    if program.data_label:
        extra["stata_data_label"] = program.data_label
    if program.using:
        extra["data_file"] = program.using
    flags = _imputation_codes(program)
    if flags:
        extra["imputation_flag_codes"] = flags
    dataset = new_dataset(
        identifier, _header_title(program, identifier), description=description, layout=True,
        extra=extra, fields=fields,
    )
    return ParsedFile(path=path, format=NAME, datasets=[dataset], warnings=program.warnings)
