"""SAS load / input programs that describe a fixed-width record layout.

Reads ``INPUT`` statements in both styles found in public load programs -- formatted input
(``@pos NAME informat.``, HCUP) and column input (``NAME $ start-end``, CDC NHIS / YRBS) --
together with ``LABEL``/``ATTRIB`` labels, ``PROC FORMAT`` ``VALUE`` code lists joined to
variables through ``FORMAT`` statements, and ``INVALUE`` informats that carry the field width.
``INFILE ... LRECL=n`` (or a comment such as ``record length 400``) is kept as the stated record
length; fields read from several lines of a case (``#n``, ``/``) are marked with their line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from indexer.formats.base import (
    PROGRAM_MAX_BYTES,
    FormatError,
    ParsedFile,
    file_identifiers,
    named_by_file,
    read_text_mixed,
)
from indexer.formats.layout import record_length
from indexer.formats.records import new_dataset
from indexer.formats.sas_program.declarations import (
    Program,
    Step,
    parse_attrib,
    parse_formats,
    parse_infile,
    parse_invalue,
    parse_labels,
    parse_length,
    parse_value,
)
from indexer.formats.sas_program.fields import field_records
from indexer.formats.sas_program.input_statement import InputReader
from indexer.formats.sas_program.lexing import split_statements
from indexer.formats.statements import LineIndex, Statement
from indexer.formats.text import clean_comment, sentence_case, tidy

NAME = "sas-program"
#: File suffixes this format's files carry (a hint beside the content; see base.py).
SUFFIXES = (".sas",)
MAX_BYTES = PROGRAM_MAX_BYTES

# Each hint starts at a line start with the blanks of that line only (``[^\S\n]*+``, not
# ``\s*``, which would rescan every later blank line from every line start); possessive
# runs give nothing back, and data-set options are read for 2,000 characters at most, so a
# search costs about one pass over the head.
_HINTS = [
    re.compile(r"(?im)^[^\S\n]*+proc\s++\w"),
    re.compile(r"(?im)^[^\S\n]*+data\s++[\w.]++\s*+"
               r"(?:\((?:[^;)]|\)(?!\s*+;)){0,2000}+\)\s*+)?;"),
    re.compile(r"(?im)^[^\S\n]*+run\s*+;"),
    re.compile(r"(?im)^[^\S\n]*+(libname|filename)\s++\w"),
    re.compile(r"(?im)^[^\S\n]*+infile\s++(?!dictionary\b)\S"),
    re.compile(r"(?im)^[^\S\n]*+input\b"),
]
_STATA_MARK = re.compile(
    r"(?im)^[^\S\n]*+(infile\s++dictionary|\*?[^\S\n]*+label\s++(variable|define)\s)")


def detect(path: Path, head: str) -> bool:
    """True for SAS programs that contain (or look set to contain) an INPUT statement."""
    if _STATA_MARK.search(head):
        return False
    hits = sum(1 for pattern in _HINTS if pattern.search(head))
    if path.suffix.lower() in SUFFIXES:
        return hits >= 1
    return hits >= 3 and bool(_HINTS[5].search(head))


def read_program(text: str) -> Program:
    """Read a SAS program's steps, code lists and informat widths."""
    lines = LineIndex(text)
    statements, comments = split_statements(text, lines)
    program = Program(comments=comments)
    step: Step | None = None
    in_proc_format = False
    for stmt in statements:
        keyword = stmt.keyword
        if keyword == "DATA":
            step = Step(line=stmt.line, members=_members(stmt))
            program.steps.append(step)
            in_proc_format = False
        elif keyword == "PROC":
            step = None
            in_proc_format = bool(re.match(r"\s*PROC\s+FORMAT\b", stmt.text, re.IGNORECASE))
        elif keyword in ("RUN", "QUIT"):
            step = None
        elif keyword == "VALUE" and in_proc_format:
            parse_value(stmt, program)
        elif keyword == "INVALUE" and in_proc_format:
            parse_invalue(stmt, program)
        elif step is not None:
            _step_statement(stmt, step, program, lines)
    return program


def _members(stmt: Statement) -> list[str]:
    """Data set names a DATA statement creates."""
    body = re.sub(r"\([^)]*\)", " ", stmt.text.strip()[4:])
    return [name for name in body.split() if name.upper() != "_NULL_"]


def _step_statement(stmt: Statement, step: Step, program: Program, lines: LineIndex) -> None:
    """Route one statement inside a DATA step."""
    keyword = stmt.keyword
    if keyword == "INPUT":
        if not stmt.terminated:
            raise FormatError(
                f"line {stmt.line}: INPUT statement is not closed by ';' (file cut off?)",
                line=stmt.line,
            )
        items = InputReader(stmt, lines, program).read()
        if not items:
            raise FormatError(
                f"line {stmt.line}: INPUT statement lists no variables", line=stmt.line
            )
        step.inputs.extend(items)
        step.input_line = step.input_line or stmt.line
    elif keyword == "INFILE":
        parse_infile(stmt, step)
    elif keyword == "LABEL":
        parse_labels(stmt, step, program)
    elif keyword == "FORMAT":
        parse_formats(stmt, step)
    elif keyword == "INFORMAT":
        parse_formats(stmt, Step(line=0, formats=step.informats))
    elif keyword == "ATTRIB":
        parse_attrib(stmt, step)
    elif keyword == "LENGTH":
        parse_length(stmt, step)


_TITLE_PATTERNS = [
    re.compile(r"(?i)\bload\s+the\s+(.+?)\s+into\s+SAS\b"),
    re.compile(r"(?i)\bfrom\s+the\s+(.+?\bfile)\b"),
    re.compile(r"(?i)\breads\s+(.+?)\s+and\s+creates\b"),
]
_ASCII_WORDS = re.compile(r"(?i)\bASCII\b(\s+format)?(\s*\([^)]*\))?\s*")


def _title(program: Program, identifier: str) -> str:
    """A title from the program's header comment (what file it loads), else the identifier."""
    header = " ".join(clean_comment(c) for c in program.comments[:12])
    for pattern in _TITLE_PATTERNS:
        match = pattern.search(header)
        if not match:
            continue
        phrase = tidy(_ASCII_WORDS.sub("", match.group(1)))
        if not phrase or len(phrase) > 120:
            continue
        words = {w.upper() for w in re.findall(r"[A-Za-z]+|\d+", identifier) if len(w) >= 3}
        phrase = _keep_codes(sentence_case(phrase), phrase, words)
        years = re.findall(r"\d+", identifier)
        names = [w for w in words if len(w) >= 4 and not w.isdigit()]
        upper = phrase.upper()
        if years and all(y in upper for y in years) and any(w in upper for w in names):
            return phrase[:1].upper() + phrase[1:]
        return f"{identifier}: {phrase}"
    return identifier


def _keep_codes(phrase: str, original: str, codes: set[str]) -> str:
    """Undo sentence case for words that are codes from the identifier (``SEDD``, ``AHAL``)."""
    kept = [
        word if word.upper() not in codes else source
        for word, source in zip(phrase.split(" "), original.split(" "), strict=False)
    ]
    return " ".join(kept)


_STATED_LENGTH = re.compile(
    r"(?i)\b(?:record|line)\s+length\s*(?:is|of|=|:)?\s*(\d{1,3}(?:,\d{3})+|\d{1,7})\b"
    r"(?![-,.]\d|\s*-)"
)


def _stated_length(program: Program) -> int | None:
    """A record length the program's comments state (``record length 400``), if any."""
    for comment in program.comments:
        match = _STATED_LENGTH.search(clean_comment(comment))
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def _dataset(step: Step, program: Program, identifier: str) -> dict[str, Any]:
    """The raw dataset of one DATA step that reads data."""
    fields = field_records(step, program)
    unmatched = sorted(set(step.labels) - {f["name"].upper() for f in fields})
    extra: dict[str, Any] = {"sas_data_step": step.members, "input_line": step.input_line}
    if step.infile:
        extra["infile"] = step.infile
    if step.lrecl:
        extra["lrecl"] = step.lrecl
    elif len(program.steps) == 1 and (stated := _stated_length(program)) is not None:
        extra["stated_record_length"] = stated
    if program.values:
        extra["value_formats"] = len(program.values)
    if unmatched:
        extra["labels_without_input"] = unmatched
    length = record_length(fields)
    sizes = f"{len(fields)} variables" + (f", record length {length}" if length else "")
    description = f"SAS input program for a fixed-width data file ({sizes})."
    return new_dataset(
        identifier, _title(program, identifier), description=description, layout=True,
        extra=extra, fields=fields,
    )


def parse(path: Path) -> ParsedFile:
    """Read a SAS program's INPUT layouts into one dataset per DATA step that reads data."""
    program = read_program(read_text_mixed(path))
    steps = [step for step in program.steps if step.inputs]
    if not steps:
        raise FormatError("no INPUT statement in any DATA step: not a SAS record layout")
    members = [step.members[0].split(".")[-1] if step.members else str(step.line)
               for step in steps]
    datasets = [_dataset(step, program, identifier)
                for step, identifier in zip(steps, file_identifiers(path, members), strict=True)]
    result = ParsedFile(path=path, format=NAME, datasets=named_by_file(path, datasets),
                        warnings=program.warnings)
    for step in steps:
        named = {item["name"].upper() for item in step.inputs}
        missing = sorted(set(step.labels) - named)
        if missing:
            result.warnings.append(
                f"{len(missing)} LABELs name variables the INPUT does not read: "
                + ", ".join(missing[:10])
            )
    return result
